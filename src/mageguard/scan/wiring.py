"""How Magento wires a module's classes: di.xml, events.xml, crontab.xml and layouts.

The surface of an AI call is decided by wiring more than by code: a plugin on
Magento\\Checkout\\Model\\PaymentInformationManagement is checkout whatever its class is
called, an observer's event says where it runs, cron and console mean batch exports.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from mageguard.scan.xmlfile import Element

_AREA_DIR = re.compile(r"/etc/(frontend|adminhtml|crontab|webapi_rest|webapi_soap|graphql)/")


@dataclass(frozen=True)
class Argument:
    name: str
    kind: str  # object | string | array | const | init_parameter | boolean | number
    value: str
    items: tuple[tuple[str, Argument], ...] = ()


@dataclass
class VirtualType:
    name: str
    base: str
    args: dict[str, Argument]
    path: str
    line: int
    column: int


@dataclass
class Wiring:
    preferences: dict[str, str] = field(default_factory=dict)
    virtual_types: dict[str, VirtualType] = field(default_factory=dict)
    type_args: dict[str, dict[str, Argument]] = field(default_factory=dict)
    plugins: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    observers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    areas: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    templates: dict[str, str] = field(default_factory=dict)  # Module::file.phtml -> block

    def resolve_type(self, name: str, depth: int = 0) -> str:
        """Interface -> preference, virtual type -> its base, until a real class."""
        key = name.lower().lstrip("\\")
        if depth > 8:
            return name
        if key in self.virtual_types:
            return self.resolve_type(self.virtual_types[key].base, depth + 1)
        if key in self.preferences:
            return self.resolve_type(self.preferences[key], depth + 1)
        return name.lstrip("\\")

    def arg_type(self, cls: str, arg: str) -> str | None:
        """The object di.xml injects as constructor argument `arg` of `cls`, if any."""
        found = self.type_args.get(cls.lower().lstrip("\\"), {}).get(arg)
        return found.value if found is not None and found.kind == "object" else None

    def discards(self, logger: str, discard_handlers: frozenset[str]) -> bool:
        """A logger wired in di.xml whose every handler drops records writes nothing to
        disk: what a prompt-logging handler looks like once it is switched off."""
        vt = self.virtual_types.get(logger.lower().lstrip("\\"))
        handlers = vt.args.get("handlers") if vt is not None else None
        if handlers is None or not handlers.items:
            return False
        return all(
            item.kind == "object"
            and self.resolve_type(item.value).lower().lstrip("\\") in discard_handlers
            for _, item in handlers.items
        )

    def area_of(self, rel: str) -> str:
        m = _AREA_DIR.search("/" + rel)
        return m.group(1) if m else "global"


def _argument(el: Element) -> Argument:
    kind = el.attrs.get("type", "string")
    items = tuple((i.attrs.get("name", ""), _argument(i)) for i in el.findall("item"))
    return Argument(name=el.attrs.get("name", ""), kind=kind, value=el.text.strip(), items=items)


def _arguments(el: Element) -> dict[str, Argument]:
    args = el.find("arguments")
    if args is None:
        return {}
    return {a.attrs.get("name", ""): _argument(a) for a in args.findall("argument")}


def read_di(wiring: Wiring, root: Element, rel: str) -> None:
    area = wiring.area_of(rel)
    for pref in root.findall("preference"):
        if pref.attrs.get("for") and pref.attrs.get("type"):
            wiring.preferences[pref.attrs["for"].lower().lstrip("\\")] = pref.attrs["type"]
    for vt in root.findall("virtualType"):
        name, base = vt.attrs.get("name"), vt.attrs.get("type")
        if name and base:
            wiring.virtual_types[name.lower().lstrip("\\")] = VirtualType(
                name=name,
                base=base.lstrip("\\"),
                args=_arguments(vt),
                path=rel,
                line=vt.line,
                column=vt.column,
            )
    for t in root.findall("type"):
        name = t.attrs.get("name", "").lstrip("\\")
        if not name:
            continue
        args = _arguments(t)
        if args:
            wiring.type_args.setdefault(name.lower(), {}).update(args)
        for plugin in t.findall("plugin"):
            ptype = plugin.attrs.get("type")
            if ptype and plugin.attrs.get("disabled") != "true":
                wiring.plugins[ptype.lower().lstrip("\\")].add(name)
                if area != "global":
                    wiring.areas[ptype.lower().lstrip("\\")].add(area)
        commands = args.get("commands")
        if name.lower().endswith("commandlistinterface") or name.lower().endswith("commandlist"):
            for _, item in commands.items if commands else ():
                if item.kind == "object":
                    wiring.areas[item.value.lower().lstrip("\\")].add("console")


def read_events(wiring: Wiring, root: Element, rel: str) -> None:
    area = wiring.area_of(rel)
    for event in root.findall("event"):
        for obs in event.findall("observer"):
            inst = obs.attrs.get("instance")
            if inst and obs.attrs.get("disabled") != "true":
                key = inst.lower().lstrip("\\")
                wiring.observers[key].add(event.attrs.get("name", ""))
                wiring.areas[key].add(area if area != "global" else "global")


def read_crontab(wiring: Wiring, root: Element) -> None:
    for job in root.iter("job"):
        inst = job.attrs.get("instance")
        if inst:
            wiring.areas[inst.lower().lstrip("\\")].add("crontab")


def read_layout(wiring: Wiring, root: Element, rel: str) -> None:
    module = _module_name(rel)
    for block in root.iter("block"):
        cls, template = block.attrs.get("class"), block.attrs.get("template")
        if cls and template:
            name = template if "::" in template else f"{module}::{template}"
            wiring.templates[name.lower()] = cls.lstrip("\\")


def _module_name(rel: str) -> str:
    m = re.search(r"(?:^|/)app/code/([^/]+)/([^/]+)/", rel)
    return f"{m.group(1)}_{m.group(2)}" if m else ""


def flatten_config_defaults(root: Element) -> dict[str, tuple[str, int]]:
    """etc/config.xml `<default><section><group><field>` -> {"section/group/field": value}."""
    out: dict[str, tuple[str, int]] = {}
    default = root.find("default")
    if default is None:
        return out

    def walk(el: Element, prefix: str) -> None:
        for c in el.children:
            path = f"{prefix}/{c.tag}" if prefix else c.tag
            if c.children:
                walk(c, path)
            elif path.count("/") >= 2:
                out[path] = (c.text.strip(), c.line)

    walk(default, "")
    return out
