"""Magento's logs as a leak: prompts, model responses, personal data and secrets written
to var/log/*.log, var/report and var/debug/db.log.

    redactor = Redactor(dictionary=Dictionary.load("catalog.csv"))
    result = scan_logs([Path("/var/www/magento")], redactor)       # counts, masked examples
    scrub_logs([Path("/var/www/magento")], redactor)               # <file>.mageguard-redacted
    confirm_logs([Path("/var/www/magento")], backup_dir=Path("/root/log-backup"))

`scan` reads; `scrub` writes a redacted copy and a manifest next to each file and changes
nothing else; only `confirm` replaces originals, and only those still exactly as they were
scrubbed. `RedactingFilter` / `install()` do the same redaction for mageguard's own logs.
"""

from __future__ import annotations

from mageguard.logs.confirm import ConfirmResult, ConfirmStatus, confirm_file, confirm_logs
from mageguard.logs.discovery import LogFile, discover
from mageguard.logs.filter import UNREDACTABLE, RedactingFilter, install, uninstall
from mageguard.logs.formats import LogFormat, render
from mageguard.logs.markers import AiTrafficDetector
from mageguard.logs.redaction import redact_line, redact_text, token
from mageguard.logs.scan import Example, FileReport, LogScanResult, scan_file, scan_logs
from mageguard.logs.scrub import (
    AiLines,
    ScrubOptions,
    ScrubResult,
    ScrubStatus,
    scrub_file,
    scrub_logs,
)

__all__ = [
    "UNREDACTABLE",
    "AiLines",
    "AiTrafficDetector",
    "ConfirmResult",
    "ConfirmStatus",
    "Example",
    "FileReport",
    "LogFile",
    "LogFormat",
    "LogScanResult",
    "RedactingFilter",
    "ScrubOptions",
    "ScrubResult",
    "ScrubStatus",
    "confirm_file",
    "confirm_logs",
    "discover",
    "install",
    "redact_line",
    "redact_text",
    "render",
    "scan_file",
    "scan_logs",
    "scrub_file",
    "scrub_logs",
    "token",
    "uninstall",
]
