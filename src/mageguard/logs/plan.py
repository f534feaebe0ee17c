"""What `scrub` did and what `scrub --confirm` would do, and what it did: text for the
operator. Counts and paths only, like the scan report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from mageguard.logs.confirm import ConfirmResult, ConfirmStatus, backup_path
from mageguard.logs.scan import LogScanResult, printable
from mageguard.logs.scrub import ScrubResult, ScrubStatus


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _p(path: Path) -> str:
    return printable(str(path))


def describe_scrub(results: Sequence[ScrubResult], backup_dir: Path | None, no_backup: bool) -> str:
    out: list[str] = []
    written = [r for r in results if r.status is ScrubStatus.WRITTEN]
    for r in results:
        kept = r.ai_lines - r.ai_lines_removed
        ai = f"; {kept} line(s) of AI traffic kept, redacted (--ai-lines remove drops them)"
        ai = ai if kept else ""
        if r.status is ScrubStatus.WRITTEN:
            removed = f", {r.ai_lines_removed} AI line(s) removed" if r.ai_lines_removed else ""
            out.append(
                f"{_p(r.path)}: {r.total} redaction(s) ({_counts(r.redactions)}){removed}{ai}"
            )
            out.append(f"    redacted copy: {_p(r.copy or r.path)}")
        elif r.status is ScrubStatus.CLEAN:
            out.append(f"{_p(r.path)}: nothing to redact{ai}")
        else:
            out.append(f"{_p(r.path)}: {r.status.value}: {r.message or ''}".rstrip(": "))
    out.append("")
    if not written:
        out.append("Nothing to confirm: no redacted copy was written.")
        return "\n".join(out) + "\n"
    out.append(
        f"No original was changed. Review the {len(written)} redacted copy file(s); "
        "`mageguard logs scrub --confirm` would then:"
    )
    for r in written:
        if backup_dir is not None:
            keep = f"keeping the original as {_p(backup_path(backup_dir, r.path))}"
        elif no_backup:
            keep = "WITHOUT a backup (--no-backup): the original would be gone"
        else:
            keep = "keeping the original under --backup-dir DIR"
        out.append(f"  - replace {_p(r.path)} by its redacted copy, {keep}")
    out.append(
        "each only if the original has not changed since now (size, mtime, SHA-256); "
        "a file that grew meanwhile is reported and skipped."
    )
    return "\n".join(out) + "\n"


def describe_confirm(results: Sequence[ConfirmResult]) -> str:
    out: list[str] = []
    for r in results:
        if r.status is ConfirmStatus.NO_COPY:
            continue
        if r.status is ConfirmStatus.REPLACED:
            where = f", original kept as {_p(r.backup)}" if r.backup else ", no backup"
            out.append(f"{_p(r.path)}: replaced by its redacted copy{where}")
            if r.late_bytes:
                out.append(
                    f"    warning: {r.late_bytes} byte(s) were written while it was replaced; "
                    f"they are unredacted, in {_p(r.late_path or r.path)}"
                )
            if r.message:
                out.append(f"    warning: {r.message}")
            continue
        out.append(f"{_p(r.path)}: not replaced ({r.status.value}): {r.message or ''}")
    replaced = sum(1 for r in results if r.status is ConfirmStatus.REPLACED)
    skipped = sum(
        1 for r in results if r.status not in (ConfirmStatus.REPLACED, ConfirmStatus.NO_COPY)
    )
    out.append("")
    out.append(f"{replaced} file(s) replaced, {skipped} not replaced.")
    if skipped:
        out.append("Originals that were not replaced are untouched; scrub them again.")
    return "\n".join(out) + "\n"


def scan_exit_code(result: LogScanResult) -> int:
    """2 when a file could not be read (the report is still complete for the others),
    1 when something was found, 0 when clean."""
    if result.errors:
        return 2
    return 1 if result.findings else 0


def scrub_exit_code(results: Sequence[ScrubResult]) -> int:
    """2 on an error, 1 when a file changed while it was read (scrub it again), else 0."""
    if any(r.status is ScrubStatus.ERROR for r in results):
        return 2
    return 1 if any(r.status is ScrubStatus.CHANGED for r in results) else 0


def confirm_exit_code(results: Sequence[ConfirmResult]) -> int:
    """2 on an error, 1 when an original was not replaced (changed, growing, damaged
    copy), else 0."""
    if any(r.status is ConfirmStatus.ERROR for r in results):
        return 2
    kept = (ConfirmStatus.CHANGED, ConfirmStatus.GROWING, ConfirmStatus.COPY_DAMAGED)
    return 1 if any(r.status in kept for r in results) else 0
