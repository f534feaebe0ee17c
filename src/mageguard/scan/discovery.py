"""Find the files of a Magento tree and the units (modules, packages) they belong to.

A unit is the grain of analysis: a module or composer package with any AI token anywhere
is analysed whole, because in real AI modules the host sits in etc/config.xml, a di.xml
argument or a config path, not at the call site.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import NamedTuple

from mageguard.errors import InputError

# Directories that never hold the store's own running code: VCS data, build output,
# deployed static copies, caches, and tests (tests reference hosts and fake keys on
# purpose). `include_tests` in the config brings tests back.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".idea",
        ".vscode",
        "node_modules",
        "generated",
        "var",
        ".mageguard-cache",
        "__pycache__",
    }
)
TEST_DIRS = frozenset({"Test", "Tests", "test", "tests", "dev"})
EXCLUDED_REL_DIRS = ("pub/static", "pub/media")

_KIND_BY_EXT = {
    ".php": "php",
    ".phtml": "phtml",
    ".js": "js",
    ".mjs": "js",
    ".xml": "xml",
    ".html": "html",
}


class SourceFile(NamedTuple):
    """A NamedTuple, not a dataclass: a Magento tree has ~60k of them and a frozen
    dataclass's __init__ costs four times as much."""

    rel: str
    size: int
    mtime_ns: int
    kind: str
    unit: str


@dataclass(frozen=True)
class Unit:
    """A Magento module/theme (has registration.php), a composer package, or the project
    itself (id "")."""

    id: str
    kind: str  # project | module | package


@dataclass(frozen=True)
class Tree:
    root: Path
    files: tuple[SourceFile, ...]
    units: dict[str, Unit]
    is_magento: bool
    skipped: tuple[tuple[str, str], ...] = ()  # (rel path, reason)


DEPLOYMENT_CONFIG = frozenset({"app/etc/env.php", "app/etc/config.php"})


def file_kind(rel: str) -> str | None:
    """The kind of a file by its path (the walk in `discover` inlines the same logic)."""
    name = rel.rsplit("/", 1)[-1]
    if rel in DEPLOYMENT_CONFIG:
        return "deployment-config"
    if name == "composer.lock":
        return "composer-lock"
    if name == "composer.json":
        return "composer-json"
    if name.endswith(".min.js"):
        return None
    dot = name.rfind(".")
    return _KIND_BY_EXT.get(name[dot:].lower()) if dot > 0 else None


def looks_like_magento(root: Path) -> bool:
    return any(
        (root / p).exists()
        for p in ("app/etc/env.php", "app/etc/config.php", "bin/magento", "app/etc/di.xml")
    )


def discover(root: Path, *, include_tests: bool = False, exclude: Iterable[str] = ()) -> Tree:
    """Walk `root` once with scandir (stat comes with the entry on Linux); unreadable
    directories are recorded and skipped, never fatal. This loop runs once per file of a
    60k-file tree on every scan, so it is written for speed: no calls it can avoid."""
    if not root.exists():
        raise InputError(f"{root}: no such file or directory")
    if not root.is_dir():
        raise InputError(f"{root}: not a directory (scan takes the root of a Magento tree)")
    patterns = tuple(exclude)
    excluded_dirs = DEFAULT_EXCLUDED_DIRS if include_tests else DEFAULT_EXCLUDED_DIRS | TEST_DIRS
    kinds = _KIND_BY_EXT
    files: list[SourceFile] = []
    append = files.append
    units: dict[str, Unit] = {"": Unit("", "project")}
    skipped: list[tuple[str, str]] = []
    stack: list[tuple[str, str, str]] = [(str(root), "", "")]  # (abs dir, rel dir, unit id)
    while stack:
        abs_dir, rel_dir, unit = stack.pop()
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError as exc:
            skipped.append((rel_dir or ".", exc.strerror or str(exc)))
            continue
        prefix = f"{rel_dir}/" if rel_dir else ""
        if rel_dir:
            names = {e.name for e in entries}
            if "registration.php" in names or (
                "composer.json" in names
                and rel_dir.count("/") == 2
                and rel_dir.startswith("vendor/")
            ):
                unit = rel_dir
                units[unit] = Unit(unit, "module" if "registration.php" in names else "package")
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    rel = prefix + name
                    if name in excluded_dirs or rel in EXCLUDED_REL_DIRS:
                        continue
                    if patterns and _excluded(rel, patterns):
                        continue
                    stack.append((entry.path, rel, unit))
                    continue
                dot = name.rfind(".")
                if dot <= 0:
                    continue
                ext = name[dot:]
                kind = kinds.get(ext) or kinds.get(ext.lower())
                if kind is None:
                    if name != "composer.lock" and name != "composer.json":
                        continue
                    kind = "composer-lock" if name == "composer.lock" else "composer-json"
                elif kind == "js" and name.endswith(".min.js"):
                    continue
                rel = prefix + name
                if prefix == "app/etc/" and rel in DEPLOYMENT_CONFIG:
                    kind = "deployment-config"
                if patterns and _excluded(rel, patterns):
                    continue
                st = entry.stat(follow_symlinks=False)
                if not S_ISREG(st.st_mode):
                    continue
            except OSError as exc:
                skipped.append((prefix + name, exc.strerror or str(exc)))
                continue
            append(SourceFile(rel, st.st_size, st.st_mtime_ns, kind, unit))
    files.sort()
    return Tree(
        root=root,
        files=tuple(files),
        units=units,
        is_magento=looks_like_magento(root),
        skipped=tuple(skipped),
    )


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    return any(
        fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(rel, p.rstrip("/") + "/*")
        for p in patterns
    )
