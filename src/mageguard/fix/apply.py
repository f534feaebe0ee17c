"""`fix --apply` and `fix --rollback`: carry a Plan out on the live store, and undo it.

Order of apply: check the store still holds what the plan was made from (rows and file
hashes), write the backup bundle (old rows with their updated_at, old files, checksums,
the table's AUTO_INCREMENT) and fsync it, change the rows inside one transaction, write
the files, then commit. Anything failing before the commit restores the files already
written and rolls the transaction back: the store is left as it was.

Rollback checks that the store still holds what apply wrote (a later hand edit is not
silently overwritten), then restores every row, file, file mode and created directory
exactly, and the AUTO_INCREMENT, so a dump before apply and after rollback are identical.

The bundle holds the provider keys the plan replaced: it is written 0600 in a 0700
directory and must be kept like env.php.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

from mageguard.errors import MageguardError
from mageguard.fix.model import FileChange, Plan, RowChange
from mageguard.magento_db import Dsn, connect, failure, is_dsn, parse_dsn

BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
CONFIG_TABLE = "core_config_data"


class DriftError(MageguardError):
    """The store is not in the state the plan (or the bundle) expects."""


@dataclass(frozen=True)
class Outcome:
    bundle: Path
    rows: int
    files: int


def _sha(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _database(db: str | None, needed: bool) -> Dsn | None:
    if db is None or not is_dsn(db):
        if needed:
            raise MageguardError(
                "this plan changes core_config_data: --apply needs the live database "
                "(--db mysql://user:pass@host/db), not a dump"
            )
        return None
    return parse_dsn(db)


@contextlib.contextmanager
def _transaction(dsn: Dsn) -> Iterator[Any]:
    conn = connect(dsn, read_only=False, autocommit=False)
    try:
        conn.begin()
        yield conn
    except BaseException:
        with contextlib.suppress(pymysql.MySQLError):
            conn.rollback()
        raise
    finally:
        with contextlib.suppress(pymysql.MySQLError):
            conn.close()


def _row(cur: Any, table: str, scope: str, scope_id: int, path: str) -> dict[str, Any] | None:
    cur.execute(
        f"SELECT config_id, value, updated_at FROM `{table}` "
        "WHERE scope=%s AND scope_id=%s AND path=%s FOR UPDATE",
        (scope, scope_id, path),
    )
    found = cur.fetchone()
    if found is None:
        return None
    cid, value, updated = found
    return {"config_id": cid, "value": value, "updated_at": _when(updated)}


def _when(value: Any) -> str | None:
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value


def _auto_increment(cur: Any, dsn: Dsn, table: str) -> int | None:
    cur.execute(
        "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s",
        (dsn.database, table),
    )
    found = cur.fetchone()
    return int(found[0]) if found and found[0] is not None else None


def _reset_auto_increment(dsn: Dsn, table: str, value: int) -> None:
    conn = connect(dsn, read_only=False)
    try:
        with conn.cursor() as cur:
            cur.execute(f"ALTER TABLE `{table}` AUTO_INCREMENT = %s", (value,))
    finally:
        conn.close()


# --- apply ----------------------------------------------------------------------------


def apply_plan(plan: Plan, root: Path, db: str | None, bundle: Path) -> Outcome:
    rows, files = plan.rows, plan.files
    dsn = _database(db, needed=bool(rows))
    _check_files(root, [(f.path, f.old_sha256) for f in files], "the plan was made")
    if bundle.exists():
        raise MageguardError(f"{bundle} exists: choose a new --backup directory")
    table = f"{dsn.prefix}{CONFIG_TABLE}" if dsn else CONFIG_TABLE
    conn_cm = _transaction(dsn) if dsn else contextlib.nullcontext(None)
    auto_inc: int | None = None
    try:
        with conn_cm as conn:
            saved_rows: list[dict[str, Any]] = []
            if conn is not None:
                with conn.cursor() as cur:
                    auto_inc = _auto_increment(cur, dsn, table)  # type: ignore[arg-type]
                    for change in rows:
                        saved_rows.append(_check_row(cur, table, change))
            _write_bundle(bundle, plan, root, saved_rows, auto_inc, table)
            if conn is not None:
                with conn.cursor() as cur:
                    for change, saved in zip(rows, saved_rows, strict=True):
                        _apply_row(cur, table, change, saved)
            written = _write_files(root, files, bundle)
            try:
                if conn is not None:
                    conn.commit()
            except pymysql.MySQLError:
                _restore_files(root, written)
                raise
    except BaseException as exc:
        if dsn is not None and auto_inc is not None:
            # InnoDB does not give back ids a rolled-back INSERT took: the table is only
            # "as it was" with its counter reset too
            _reset_auto_increment(dsn, table, auto_inc)
        if isinstance(exc, pymysql.MySQLError) and dsn is not None:
            raise failure(dsn, "apply the plan to", exc) from None
        raise
    _mark(bundle, applied=True)
    return Outcome(bundle, len(rows), len(files))


def _check_row(cur: Any, table: str, change: RowChange) -> dict[str, Any]:
    current = _row(cur, table, change.scope, change.scope_id, change.path)
    have = current["value"] if current else None
    if (current is None) != (change.old is None) or have != change.old:
        raise DriftError(
            f"core_config_data {change.path} at {change.scope}/{change.scope_id} changed since "
            "the plan was made: run fix again"
        )
    return {
        "scope": change.scope,
        "scope_id": change.scope_id,
        "path": change.path,
        "existed": current is not None,
        "config_id": current["config_id"] if current else None,
        "old": change.old,
        "old_updated_at": current["updated_at"] if current else None,
        "new": change.new,
    }


def _apply_row(cur: Any, table: str, change: RowChange, saved: dict[str, Any]) -> None:
    if change.new is None:
        cur.execute(f"DELETE FROM `{table}` WHERE config_id=%s", (saved["config_id"],))
    elif saved["existed"]:
        cur.execute(
            f"UPDATE `{table}` SET value=%s WHERE config_id=%s", (change.new, saved["config_id"])
        )
    else:
        cur.execute(
            f"INSERT INTO `{table}` (scope, scope_id, path, value) VALUES (%s, %s, %s, %s)",
            (change.scope, change.scope_id, change.path, change.new),
        )
        saved["config_id"] = cur.lastrowid


def _check_files(root: Path, expected: Sequence[tuple[str, str | None]], since: str) -> None:
    moved = [p for p, sha in expected if _sha(_read(root / p)) != sha]
    if moved:
        raise DriftError(
            f"{len(moved)} file(s) changed since {since}: {', '.join(moved[:5])}"
            + (" ..." if len(moved) > 5 else "")
        )


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _write_bundle(
    bundle: Path,
    plan: Plan,
    root: Path,
    rows: list[dict[str, Any]],
    auto_increment: int | None,
    table: str,
) -> None:
    bundle.mkdir(mode=0o700, parents=True)
    (bundle / "files").mkdir(mode=0o700)
    files = []
    for i, change in enumerate(plan.files):
        target = root / change.path
        entry: dict[str, Any] = {
            "path": change.path,
            "old_sha256": change.old_sha256,
            "new_sha256": change.new_sha256,
            "mode": stat.S_IMODE(target.stat().st_mode) if change.old is not None else None,
            "created_dirs": [str(d.relative_to(root)) for d in _missing_dirs(root, change.path)],
            "backup": None,
        }
        if change.old is not None:
            name = f"files/{i:04d}"
            _write_private(bundle / name, change.old)
            entry["backup"] = name
        files.append(entry)
    manifest = {
        "version": BUNDLE_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "root": str(root.resolve()),
        "database": plan.database,
        "table": table,
        "auto_increment": auto_increment,
        "applied": False,
        "rows": rows,
        "files": files,
    }
    _write_private(bundle / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
    fd = os.open(bundle, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _missing_dirs(root: Path, rel: str) -> list[Path]:
    out = []
    parent = (root / rel).parent
    while parent != root and not parent.exists():
        out.append(parent)
        parent = parent.parent
    return out


def _write_files(root: Path, files: Sequence[FileChange], bundle: Path) -> list[FileChange]:
    written: list[FileChange] = []
    try:
        for change in files:
            target = root / change.path
            if change.new is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
                _atomic_write(target, change.new, mode)
            written.append(change)
    except OSError as exc:
        _restore_files(root, written)
        raise MageguardError(
            f"cannot write {change.path}: {exc.strerror}; the store is unchanged "
            f"(backup kept in {bundle})"
        ) from None
    return written


def _atomic_write(target: Path, data: bytes, mode: int) -> None:
    tmp = target.with_name(f".{target.name}.mageguard-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.chmod(mode)
    tmp.replace(target)


def _restore_files(root: Path, written: Sequence[FileChange]) -> None:
    for change in reversed(written):
        target = root / change.path
        with contextlib.suppress(OSError):
            if change.old is None:
                target.unlink(missing_ok=True)
                for d in _empty_parents(root, target.parent):
                    d.rmdir()
            else:
                mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
                _atomic_write(target, change.old, mode)


def _empty_parents(root: Path, start: Path) -> Iterator[Path]:
    d = start
    while d != root and d.is_dir() and not any(d.iterdir()):
        yield d
        d = d.parent


def _mark(bundle: Path, *, applied: bool) -> None:
    path = bundle / MANIFEST
    manifest = json.loads(path.read_bytes())
    manifest["applied"] = applied
    _atomic_write(path, json.dumps(manifest, indent=2).encode("utf-8"), 0o600)


# --- rollback -------------------------------------------------------------------------


def rollback(bundle: Path, root: Path, db: str | None, *, force: bool = False) -> Outcome:
    try:
        manifest = json.loads((bundle / MANIFEST).read_bytes())
    except (OSError, ValueError) as exc:
        raise MageguardError(f"{bundle} is not a mageguard backup bundle: {exc}") from None
    if manifest.get("version") != BUNDLE_VERSION:
        raise MageguardError(f"{bundle}: unsupported bundle version {manifest.get('version')}")
    if not manifest.get("applied"):
        raise MageguardError(f"{bundle}: this plan was never applied; nothing to roll back")
    rows, files = manifest["rows"], manifest["files"]
    dsn = _database(db, needed=bool(rows))
    if not force:
        _check_files(root, [(f["path"], f["new_sha256"]) for f in files], "apply")
    table = manifest["table"]
    try:
        if dsn is not None and rows:
            with _transaction(dsn) as conn:
                with conn.cursor() as cur:
                    for saved in reversed(rows):
                        _restore_row(cur, table, saved, force)
                _restore_bundle_files(root, bundle, files)
                conn.commit()
            if manifest.get("auto_increment"):
                _reset_auto_increment(dsn, table, int(manifest["auto_increment"]))
        else:
            _restore_bundle_files(root, bundle, files)
    except pymysql.MySQLError as exc:
        assert dsn is not None
        raise failure(dsn, "roll back", exc) from None
    _mark(bundle, applied=False)
    return Outcome(bundle, len(rows), len(files))


def _restore_row(cur: Any, table: str, saved: dict[str, Any], force: bool) -> None:
    current = _row(cur, table, saved["scope"], saved["scope_id"], saved["path"])
    have = current["value"] if current else None
    if not force and have != saved["new"]:
        raise DriftError(
            f"core_config_data {saved['path']} at {saved['scope']}/{saved['scope_id']} was "
            "changed after apply; rollback would overwrite it (use --force to restore anyway)"
        )
    if not saved["existed"]:
        if current is not None:
            cur.execute(f"DELETE FROM `{table}` WHERE config_id=%s", (current["config_id"],))
        return
    if current is None:
        cur.execute(
            f"INSERT INTO `{table}` (config_id, scope, scope_id, path, value, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (
                saved["config_id"],
                saved["scope"],
                saved["scope_id"],
                saved["path"],
                saved["old"],
                saved["old_updated_at"],
            ),
        )
        return
    cur.execute(
        f"UPDATE `{table}` SET value=%s, updated_at=%s WHERE config_id=%s",
        (saved["old"], saved["old_updated_at"], current["config_id"]),
    )


def _restore_bundle_files(root: Path, bundle: Path, files: list[dict[str, Any]]) -> None:
    for entry in reversed(files):
        target = root / entry["path"]
        if entry["backup"] is None:
            target.unlink(missing_ok=True)
            for rel in entry["created_dirs"]:
                d = root / rel
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()
            continue
        data = (bundle / entry["backup"]).read_bytes()
        if _sha(data) != entry["old_sha256"]:
            raise MageguardError(f"{bundle}: the backup of {entry['path']} is corrupt")
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(target, data, entry["mode"] or 0o644)


__all__ = ["DriftError", "Outcome", "apply_plan", "rollback"]
