"""Classes of a PHP file: names resolved the way PHP resolves them, constants, property
types, methods and the constructor's injected dependencies.

Magento wires objects by constructor injection, so a property's declared type is usually
all we need to know what `$this->x->call()` talks to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mageguard.scan.php.parser import Node, Tree, first, named, text

_BUILTIN_TYPES = {
    "array",
    "string",
    "int",
    "float",
    "bool",
    "mixed",
    "callable",
    "iterable",
    "object",
    "void",
    "null",
    "false",
    "true",
    "never",
    "self",
    "static",
    "parent",
}


@dataclass
class FileContext:
    """Namespace and `use` imports of one file: the name-resolution scope."""

    namespace: str = ""
    uses: dict[str, str] = field(default_factory=dict)  # alias (lower) -> FQCN

    def resolve(self, name: str) -> str:
        """Resolve a class name as PHP does; returns the FQCN without a leading backslash."""
        name = name.strip()
        if name.startswith("\\"):
            return name[1:]
        if name.lower().startswith("namespace\\"):
            return f"{self.namespace}\\{name[10:]}".strip("\\")
        head, _, rest = name.partition("\\")
        alias = self.uses.get(head.lower())
        if alias is not None:
            return f"{alias}\\{rest}" if rest else alias
        return f"{self.namespace}\\{name}" if self.namespace else name


@dataclass
class MethodInfo:
    name: str
    node: Node
    params: list[tuple[str, str | None]]  # ($name, declared type FQCN or None)
    is_static: bool = False
    visibility: str = "public"


@dataclass
class ClassInfo:
    fqcn: str
    path: str
    node: Node
    ctx: FileContext
    kind: str = "class"  # class | interface | trait | enum
    parent: str | None = None
    interfaces: list[str] = field(default_factory=list)
    traits: list[str] = field(default_factory=list)
    consts: dict[str, Node] = field(default_factory=dict)
    prop_types: dict[str, str] = field(default_factory=dict)  # name -> FQCN
    prop_defaults: dict[str, Node] = field(default_factory=dict)
    methods: dict[str, MethodInfo] = field(default_factory=dict)  # lower name -> info

    @property
    def key(self) -> str:
        return self.fqcn.lower()


@dataclass
class FileSymbols:
    path: str
    tree: Tree
    ctx: FileContext
    classes: list[ClassInfo]


def type_name(node: Node | None, ctx: FileContext) -> str | None:
    """The class named by a type declaration (`?Curl`, `Curl|null`), if it names one."""
    if node is None:
        return None
    if node.type in ("optional_type", "union_type", "intersection_type", "nullable_type"):
        for c in node.named_children:
            found = type_name(c, ctx)
            if found:
                return found
        return None
    if node.type == "named_type":
        inner = node.named_children[0] if node.named_children else node
        raw = text(inner)
    elif node.type in ("name", "qualified_name"):
        raw = text(node)
    else:
        return None
    if raw.lower() in _BUILTIN_TYPES:
        return None
    return ctx.resolve(raw)


def read_file_symbols(path: str, tree: Tree) -> FileSymbols:
    ctx = FileContext()
    classes: list[ClassInfo] = []
    _collect(tree.root_node, path, ctx, classes)
    return FileSymbols(path=path, tree=tree, ctx=ctx, classes=classes)


def _collect(root: Node, path: str, ctx: FileContext, classes: list[ClassInfo]) -> None:
    for node in root.named_children:
        t = node.type
        if t == "namespace_definition":
            name = node.child_by_field_name("name")
            ctx.namespace = text(name) if name is not None else ""
            body = node.child_by_field_name("body")
            if body is not None:  # braced namespace
                _collect(body, path, ctx, classes)
        elif t == "namespace_use_declaration":
            _read_use(node, ctx)
        elif t in (
            "class_declaration",
            "interface_declaration",
            "trait_declaration",
            "enum_declaration",
        ):
            classes.append(_read_class(node, path, ctx))
        elif t in ("compound_statement", "declare_statement"):
            _collect(node, path, ctx, classes)


def _read_use(node: Node, ctx: FileContext) -> None:
    kind = node.child_by_field_name("type")
    if kind is not None and text(kind) in ("function", "const"):
        return
    prefix = ""
    group = first(node, "namespace_use_group")
    if group is not None:
        pre = first(node, "namespace_name", "qualified_name", "name")
        prefix = text(pre).strip("\\") + "\\" if pre is not None else ""
        clauses = named(group, "namespace_use_clause") + named(group, "namespace_use_group_clause")
    else:
        clauses = named(node, "namespace_use_clause")
    for clause in clauses:
        alias_node = clause.child_by_field_name("alias")
        names = [
            c
            for c in clause.named_children
            if c.type in ("qualified_name", "name", "namespace_name") and c != alias_node
        ]
        if not names:
            continue
        full = (prefix + text(names[0]).strip("\\")).strip("\\")
        alias = text(alias_node) if alias_node is not None else full.rsplit("\\", 1)[-1]
        ctx.uses[alias.lower()] = full


def _read_class(node: Node, path: str, ctx: FileContext) -> ClassInfo:
    name = text(node.child_by_field_name("name"))
    fqcn = f"{ctx.namespace}\\{name}" if ctx.namespace else name
    kind = node.type.split("_")[0]
    info = ClassInfo(
        fqcn=fqcn, path=path, node=node, ctx=FileContext(ctx.namespace, dict(ctx.uses)), kind=kind
    )
    base = first(node, "base_clause")
    if base is not None and base.named_children:
        info.parent = ctx.resolve(text(base.named_children[0]))
        if kind == "interface":
            info.interfaces = [ctx.resolve(text(c)) for c in base.named_children]
    impl = first(node, "class_interface_clause")
    if impl is not None:
        info.interfaces += [ctx.resolve(text(c)) for c in impl.named_children]
    body = node.child_by_field_name("body")
    if body is None:
        return info
    for member in body.named_children:
        if member.type == "use_declaration":
            info.traits += [
                ctx.resolve(text(c))
                for c in member.named_children
                if c.type in ("name", "qualified_name")
            ]
        elif member.type == "const_declaration":
            for el in named(member, "const_element"):
                cname = first(el, "name")
                value = el.named_children[-1] if el.named_child_count > 1 else None
                if cname is not None and value is not None:
                    info.consts[text(cname)] = value
        elif member.type == "property_declaration":
            ptype = type_name(member.child_by_field_name("type"), ctx)
            for el in named(member, "property_element"):
                pname = text(el.child_by_field_name("name")).lstrip("$")
                if ptype:
                    info.prop_types[pname] = ptype
                default = el.child_by_field_name("default_value")
                if default is not None:
                    info.prop_defaults[pname] = default
        elif member.type == "method_declaration":
            method = _read_method(member, ctx)
            info.methods[method.name.lower()] = method
            if method.name.lower() == "__construct":
                _read_promoted(member, ctx, info)
    _read_docblock_props(node, info)
    return info


def _read_method(node: Node, ctx: FileContext) -> MethodInfo:
    params: list[tuple[str, str | None]] = []
    plist = node.child_by_field_name("parameters")
    if plist is not None:
        for p in plist.named_children:
            pname = p.child_by_field_name("name")
            if pname is None:
                continue
            params.append((text(pname).lstrip("$"), type_name(p.child_by_field_name("type"), ctx)))
    mods = {
        text(c) for c in node.named_children if c.type in ("static_modifier", "visibility_modifier")
    }
    vis = next((m for m in mods if m in ("public", "protected", "private")), "public")
    return MethodInfo(
        name=text(node.child_by_field_name("name")),
        node=node,
        params=params,
        is_static="static" in mods,
        visibility=vis,
    )


def _read_promoted(node: Node, ctx: FileContext, info: ClassInfo) -> None:
    """Constructor property promotion, and the classic `$this->x = $x` assignment of an
    injected dependency: both give the property the parameter's type."""
    plist = node.child_by_field_name("parameters")
    param_types: dict[str, str] = {}
    if plist is not None:
        for p in plist.named_children:
            pname = p.child_by_field_name("name")
            ptype = type_name(p.child_by_field_name("type"), ctx)
            if pname is None or ptype is None:
                continue
            param_types[text(pname).lstrip("$")] = ptype
            if p.type == "property_promotion_parameter":
                info.prop_types[text(pname).lstrip("$")] = ptype
    body = node.child_by_field_name("body")
    if body is None:
        return
    for stmt in body.named_children:
        expr = (
            stmt.named_children[0]
            if stmt.type == "expression_statement" and stmt.named_children
            else None
        )
        if expr is None or expr.type != "assignment_expression":
            continue
        left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
        if left is None or right is None or left.type != "member_access_expression":
            continue
        obj = left.child_by_field_name("object")
        if obj is None or text(obj) != "$this" or right.type != "variable_name":
            continue
        prop = text(left.child_by_field_name("name"))
        ptype = param_types.get(text(right).lstrip("$"))
        if ptype and prop not in info.prop_types:
            info.prop_types[prop] = ptype


def _read_docblock_props(node: Node, info: ClassInfo) -> None:
    """`@var Type` docblocks above untyped properties (pre-PHP 7.4 Magento code)."""
    body = node.child_by_field_name("body")
    if body is None:
        return
    prev: Node | None = None
    for member in body.named_children:
        if member.type == "property_declaration" and prev is not None and prev.type == "comment":
            doc = text(prev)
            marker = doc.find("@var")
            if marker >= 0:
                words = doc[marker + 4 :].split()
                if words:
                    tname = words[0].split("|")[0].lstrip("?")
                    if tname and tname.lower() not in _BUILTIN_TYPES and not tname.startswith("$"):
                        for el in named(member, "property_element"):
                            pname = text(el.child_by_field_name("name")).lstrip("$")
                            info.prop_types.setdefault(pname, info.ctx.resolve(tname))
        prev = member
