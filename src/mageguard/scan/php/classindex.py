"""Find and parse project classes on demand, by PSR-4 path.

Only the merchant's own code (app/code) and AI-gated packages are indexed: Magento core
and libraries are described by the catalog instead of being analysed, which keeps a scan
of a 58k-file tree from parsing the framework.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from mageguard.scan.php.parser import parse
from mageguard.scan.php.symbols import ClassInfo, FileSymbols, MethodInfo, read_file_symbols

Reader = Callable[[str], bytes | None]


class ClassIndex:
    def __init__(self, reader: Reader, psr4: Iterable[tuple[str, str]] = ()) -> None:
        self._read = reader
        self._psr4 = sorted(
            ((p.lower().strip("\\") + "\\", d) for p, d in psr4), key=lambda x: -len(x[0])
        )
        self._classes: dict[str, ClassInfo] = {}
        self._files: dict[str, FileSymbols | None] = {}
        self._ancestors: dict[str, list[str]] = {}
        self.parse_errors: list[str] = []

    @staticmethod
    def psr4_for_units(units: Iterable[str], reader: Reader) -> list[tuple[str, str]]:
        """app/code/Vendor/Module -> Vendor\\Module\\; packages from their composer.json."""
        out: list[tuple[str, str]] = []
        for unit in units:
            parts = unit.split("/")
            if len(parts) == 4 and parts[0] == "app" and parts[1] == "code":
                out.append((f"{parts[2]}\\{parts[3]}", unit))
                continue
            raw = reader(f"{unit}/composer.json") if unit and unit.startswith("vendor/") else None
            if not raw:
                continue
            try:
                auto = json.loads(raw).get("autoload", {}).get("psr-4", {})
            except (ValueError, AttributeError):
                continue
            for prefix, dirs in auto.items() if isinstance(auto, dict) else ():
                for d in dirs if isinstance(dirs, list) else [dirs]:
                    if isinstance(d, str):
                        out.append((prefix, f"{unit}/{d}".rstrip("/").replace("//", "/")))
        return out

    def load_file(self, rel: str) -> FileSymbols | None:
        if rel in self._files:
            return self._files[rel]
        data = self._read(rel)
        if data is None:
            self._files[rel] = None
            return None
        tree = parse(data)
        if tree.root_node.has_error:
            self.parse_errors.append(rel)
        symbols = read_file_symbols(rel, tree)
        self._files[rel] = symbols
        for cls in symbols.classes:
            self._classes.setdefault(cls.key, cls)
        return symbols

    def get(self, fqcn: str) -> ClassInfo | None:
        key = fqcn.lower().lstrip("\\")
        found = self._classes.get(key)
        if found is not None:
            return found
        for prefix, directory in self._psr4:
            if key.startswith(prefix):
                rest = fqcn.lstrip("\\")[len(prefix) :].replace("\\", "/")
                self.load_file(f"{directory}/{rest}.php")
                found = self._classes.get(key)
                if found is not None:
                    return found
        return None

    def ancestors(self, fqcn: str) -> list[str]:
        """The class, its parents, interfaces and traits (FQCNs, nearest first)."""
        key = fqcn.lower()
        cached = self._ancestors.get(key)
        if cached is None:
            cached = self._ancestors[key] = self._find_ancestors(fqcn)
        return cached

    def _find_ancestors(self, fqcn: str) -> list[str]:
        out: list[str] = []
        todo = [fqcn.lstrip("\\")]
        while todo and len(out) < 24:
            name = todo.pop(0)
            if name.lower() in (o.lower() for o in out):
                continue
            out.append(name)
            info = self.get(name)
            if info is not None:
                todo += [p for p in (info.parent, *info.interfaces, *info.traits) if p]
        return out

    def find_method(self, fqcn: str, method: str) -> tuple[ClassInfo, MethodInfo] | None:
        low = method.lower()
        for name in self.ancestors(fqcn):
            info = self.get(name)
            if info is not None and low in info.methods:
                return info, info.methods[low]
        return None

    def find_const(self, fqcn: str, const: str) -> tuple[ClassInfo, object] | None:
        for name in self.ancestors(fqcn):
            info = self.get(name)
            if info is not None and const in info.consts:
                return info, info.consts[const]
        return None

    def find_prop_type(self, fqcn: str, prop: str) -> tuple[ClassInfo, str] | None:
        for name in self.ancestors(fqcn):
            info = self.get(name)
            if info is not None and prop in info.prop_types:
                return info, info.prop_types[prop]
        return None

    def files(self) -> list[FileSymbols]:
        return [f for f in self._files.values() if f is not None]
