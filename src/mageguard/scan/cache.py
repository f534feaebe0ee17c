"""The scan cache: an unchanged tree re-scans at once.

Per file it keeps (size, mtime, gate mask, content hash): a file whose stat is unchanged
is not read again. Per analysed unit it keeps the Facts, keyed by the content hashes of
the unit's files and of everything the analysis depends on. A cache that cannot be read
is ignored and rebuilt: the cache can make a scan fast, never wrong or failing.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
from pathlib import Path

from mageguard import __version__
from mageguard.scan.facts import Fact, UnitFacts

FileEntry = tuple[int, int, int, str]  # size, mtime_ns, mask, sha256 hex ("" if unknown)


def default_dir(root: Path) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return base / "mageguard" / digest


class ScanCache:
    def __init__(self, directory: Path | None) -> None:
        self.dir = directory
        self._used_units: set[str] = set()

    @property
    def enabled(self) -> bool:
        return self.dir is not None

    def load_files(self, header: str) -> dict[str, FileEntry]:
        if self.dir is None:
            return {}
        try:
            with (self.dir / "files.marshal").open("rb") as fh:
                doc = marshal.load(fh)
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        if not isinstance(doc, dict) or doc.get("header") != f"{__version__}:{header}":
            return {}
        files = doc.get("files")
        return files if isinstance(files, dict) else {}

    def save_files(self, header: str, files: dict[str, FileEntry]) -> None:
        if self.dir is None:
            return
        self._write(
            self.dir / "files.marshal",
            marshal.dumps({"header": f"{__version__}:{header}", "files": files}),
        )

    def get_unit(self, key: str) -> UnitFacts | None:
        if self.dir is None:
            return None
        try:
            raw = json.loads((self.dir / "units" / f"{key}.json").read_text("utf-8"))
            result = UnitFacts(
                facts=[Fact.from_json(f) for f in raw["facts"]],
                parse_errors=list(raw.get("parse_errors", [])),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._used_units.add(key)
        return result

    def put_unit(self, key: str, unit: UnitFacts) -> None:
        if self.dir is None:
            return
        self._used_units.add(key)
        doc = {"facts": [f.to_json() for f in unit.facts], "parse_errors": unit.parse_errors}
        self._write(self.dir / "units" / f"{key}.json", json.dumps(doc).encode())

    def prune_units(self) -> None:
        """Drop unit entries this scan did not use, so the cache does not grow forever."""
        if self.dir is None:
            return
        try:
            for entry in os.scandir(self.dir / "units"):
                if entry.name.endswith(".json") and entry.name[:-5] not in self._used_units:
                    Path(entry.path).unlink()
        except OSError:
            pass

    def _write(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError:
            pass  # a read-only or full cache directory must not fail the scan
