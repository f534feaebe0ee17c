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
from array import array
from dataclasses import dataclass
from pathlib import Path

from mageguard import __version__
from mageguard.scan.facts import Fact, UnitFacts


@dataclass
class FileIndex:
    """Per file (same order as `rels`): size, mtime and gate mask; content hashes only for
    files the gate flagged. Parallel arrays, because a warm scan of a 60k-file tree loads
    and compares this in milliseconds where a dict of tuples took a quarter of a second."""

    rels: list[str]
    sizes: array[int]
    mtimes: array[int]
    masks: array[int]
    hashes: dict[str, str]


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

    def load_files(self, header: str) -> FileIndex | None:
        if self.dir is None:
            return None
        try:
            doc = marshal.loads((self.dir / "files.marshal").read_bytes())
            if not isinstance(doc, dict) or doc.get("header") != f"{__version__}:{header}":
                return None
            rels = doc["rels"].split("\n") if doc["rels"] else []
            nums = [array("q") for _ in range(3)]
            for arr, raw in zip(nums, (doc["sizes"], doc["mtimes"], doc["masks"]), strict=True):
                arr.frombytes(raw)
            if not all(len(a) == len(rels) for a in nums) or not isinstance(doc["hashes"], dict):
                return None
            return FileIndex(rels, nums[0], nums[1], nums[2], doc["hashes"])
        except (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def save_files(self, header: str, index: FileIndex) -> None:
        if self.dir is None:
            return
        doc = {
            "header": f"{__version__}:{header}",
            "rels": "\n".join(index.rels),
            "sizes": index.sizes.tobytes(),
            "mtimes": index.mtimes.tobytes(),
            "masks": index.masks.tobytes(),
            "hashes": index.hashes,
        }
        self._write(self.dir / "files.marshal", marshal.dumps(doc))

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
