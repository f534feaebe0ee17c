"""Which files hold Magento's logs.

Under a Magento root (a directory with `var/`, or `var/` itself):
- `var/log/*.log` and their rotations (`system.log.1`, `debug.log.2.gz`);
- `var/report/**` (exception reports: a JSON array on one line, or serialized PHP in
  older releases; the file name is the report id, without an extension);
- `var/debug/db.log` (the DB query log: SQL and bound values, customer rows included).
Any other directory is searched for log-named files; a file named explicitly is always
taken. mageguard's own outputs (redacted copies, manifests) are never taken, nor anything
under an excluded directory (the scrub backup directory).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mageguard.errors import InputError

REDACTED_SUFFIX = ".mageguard-redacted"
MANIFEST_SUFFIX = ".mageguard-redacted.json"
LATE_SUFFIX = ".mageguard-late"
_OWN = re.compile(r"\.mageguard-(?:redacted|late)(?:\.json)?(?:\.tmp)?\Z")
# system.log, system.log.1, system.log.2.gz, system.log.gz, system.log-20240501
LOG_NAME = re.compile(r"\.log(?:[.-]\d[\w.-]*?)?(?:\.gz)?\Z")


@dataclass(frozen=True, slots=True)
class LogFile:
    """A file to scan or scrub. `kind`: log (var/log), report (var/report), db
    (var/debug/db.log) or file (named explicitly, or found outside a Magento layout)."""

    path: Path
    kind: str


def is_own_output(path: Path) -> bool:
    return _OWN.search(path.name) is not None


def _magento_var(directory: Path) -> Path | None:
    if directory.name == "var" and any((directory / d).is_dir() for d in ("log", "report")):
        return directory
    var = directory / "var"
    return var if var.is_dir() else None


def _files(directory: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names):
            yield Path(root) / name


def _in_var(var: Path) -> Iterator[LogFile]:
    log_dir = var / "log"
    if log_dir.is_dir():
        for path in sorted(log_dir.iterdir()):
            if LOG_NAME.search(path.name):
                yield LogFile(path, "log")
    report_dir = var / "report"
    if report_dir.is_dir():
        for path in _files(report_dir):
            yield LogFile(path, "report")
    debug = var / "debug"
    if debug.is_dir():
        for path in sorted(debug.iterdir()):
            if path.name.startswith("db.log"):
                yield LogFile(path, "db")


def _kind(path: Path) -> str:
    parts = path.parts
    if "report" in parts[-4:-1]:
        return "report"
    if path.name.startswith("db.log") and len(parts) > 1 and parts[-2] == "debug":
        return "db"
    if len(parts) > 1 and parts[-2] == "log":
        return "log"
    return "file"


def _under(path: Path, excluded: Iterable[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(e) for e in excluded)


def discover(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> list[LogFile]:
    """The log files at or under `paths`, each once, in a stable order. A path that does
    not exist is an InputError; symbolic links to files are followed, but only regular
    files are returned."""
    excluded = [e.resolve() for e in exclude]
    seen: set[Path] = set()
    found: list[LogFile] = []

    def take(candidate: LogFile, explicit: bool = False) -> None:
        path = candidate.path
        if not path.is_file() or (not explicit and is_own_output(path)):
            return
        if _under(path, excluded):
            return
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(candidate)

    for given in paths:
        if not given.exists():
            raise InputError(f"{given}: no such file or directory")
        if given.is_file():
            if is_own_output(given):
                continue  # a glob like var/log/* also names our own copies
            take(LogFile(given, _kind(given)), explicit=True)
            continue
        var = _magento_var(given)
        if var is not None:
            for item in _in_var(var):
                take(item)
            continue
        for path in _files(given):
            in_reports = "report" in path.relative_to(given.parent).parts[:-1]
            if in_reports or LOG_NAME.search(path.name):
                take(LogFile(path, _kind(path)))
    return found
