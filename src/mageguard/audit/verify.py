"""`mageguard audit verify`: exit 0 when the chain is intact, 1 when it shows tampering
(a finding, as for scan), 2 when the store or key cannot be read (the tool could not
judge). The CLI only prints the message."""

from __future__ import annotations

from pathlib import Path

from mageguard.audit.errors import AuditError
from mageguard.audit.store import AuditStore


def verify_command(config_store: str, key_file: Path, witness_file: Path) -> tuple[int, str]:
    try:
        with AuditStore.open(config_store, key_file, witness_file, create=False) as store:
            location = store.location
            report = store.verify()
    except AuditError as exc:
        return 2, f"audit verify: {exc}"
    summary = f"{report.records} records, {report.checkpoints} checkpoints"
    if report.ok:
        return 0, f"audit store {location}: {summary}; the chain is intact"
    lines = [
        f"audit store {location}: {summary}; TAMPERED: {len(report.problems)} problem(s), "
        f"first bad record {report.first_bad_seq if report.first_bad_seq is not None else '-'}",
        *(f"  - {problem}" for problem in report.problems),
    ]
    return 1, "\n".join(lines)
