"""Redacting mageguard's own logs: a `logging.Filter` that rewrites each record before any
handler formats it.

The record's message is formatted (msg % args) and redacted, then stored back with no args;
an exception's and a stack's text are formatted and redacted too, and `exc_info` dropped so
that no handler (a JSON formatter, an error tracker) can format the raw exception again.
String values passed through `extra=` are redacted as well when the filter sees the record
after they were set: on a handler, or on the logger the record was made by. Tokens are the
same unnumbered typed tokens as in scrubbed Magento logs ([EMAIL], see redaction.py).

Fail closed: whatever goes wrong (a message whose args do not match its format, a detector
that raises, a redactor that logs and so comes back here), the record's message becomes
"[unredactable log message]" and the record is still emitted; the filter never raises.

A filter on a logger sees only records created by that very logger, not its children's
that propagate to it, so `install()` also hooks the log record factory for every record
of the named logger's tree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from mageguard.logs.redaction import SURFACE, redact_text
from mageguard.redact.engine import Redactor

UNREDACTABLE = "[unredactable log message]"
_DONE = "_mageguard_redacted"
# Attributes every LogRecord has; anything else on a record came through `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", _DONE}


class RedactingFilter(logging.Filter):
    def __init__(
        self, redactor: Redactor | None = None, name: str = "", surface: str = SURFACE
    ) -> None:
        super().__init__(name)
        self.redactor = redactor if redactor is not None else Redactor()
        self.surface = surface
        self._busy = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            if getattr(self._busy, "active", False):
                raise RecursionError("the redactor logged while redacting")
            self._busy.active = True
            try:
                self._redact(record)
            finally:
                self._busy.active = False
        except BaseException:  # fail closed, and never into the caller's code
            _unredactable(record)
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        redact = self._text
        # `extra=` values are set on a record after the record factory ran, so they are
        # looked at on every pass; the message only once.
        extras = {k: redact(v) for k, v in _extras(record).items()}
        if not getattr(record, _DONE, False):
            message = redact(record.getMessage())
            exc_text = record.exc_text
            if record.exc_info and not exc_text:
                exc_text = logging.Formatter().formatException(record.exc_info)
            exc_text = redact(exc_text) if exc_text else None
            stack = redact(record.stack_info) if record.stack_info else None
            # Only now, when everything above worked, change the record.
            record.msg, record.args = message, None
            record.exc_info, record.exc_text, record.stack_info = None, exc_text, stack
            setattr(record, _DONE, True)
        for k, v in extras.items():
            setattr(record, k, v)

    def _text(self, text: str) -> str:
        return redact_text(self.redactor, text, self.surface)


def _extras(record: logging.LogRecord) -> dict[str, str]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and isinstance(v, str)}


def _unredactable(record: logging.LogRecord) -> None:
    record.msg, record.args = UNREDACTABLE, None
    record.exc_info, record.exc_text, record.stack_info = None, None, None
    for k in _extras(record):
        setattr(record, k, UNREDACTABLE)
    setattr(record, _DONE, True)


class _Hook:
    """The record factory wrapper `install()` puts in place."""

    def __init__(
        self,
        logger_name: str,
        redacting: RedactingFilter,
        previous: Callable[..., logging.LogRecord],
    ) -> None:
        self.logger_name = logger_name
        self.prefix = f"{logger_name}."
        self.redacting = redacting
        self.previous = previous
        self.active = True

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        if self.active and (record.name == self.logger_name or record.name.startswith(self.prefix)):
            self.redacting.filter(record)
        return record


_lock = threading.Lock()
_hooks: dict[int, _Hook] = {}


def install(
    logger_name: str = "mageguard",
    redactor: Redactor | None = None,
    surface: str = SURFACE,
) -> RedactingFilter:
    """Redact every record of `logger_name` and its children, whichever handler emits it.
    Returns the filter; `uninstall(filter)` undoes this."""
    redacting = RedactingFilter(redactor, surface=surface)
    with _lock:
        hook = _Hook(logger_name, redacting, logging.getLogRecordFactory())
        _hooks[id(redacting)] = hook
        logging.setLogRecordFactory(hook)
    logging.getLogger(logger_name).addFilter(redacting)
    return redacting


def uninstall(redacting: RedactingFilter) -> None:
    """Undo `install()`. The previous record factory comes back when no later factory
    wraps this hook; otherwise the hook only stops redacting."""
    with _lock:
        hook = _hooks.pop(id(redacting), None)
        if hook is None:
            return
        hook.active = False
        logging.getLogger(hook.logger_name).removeFilter(redacting)
        if logging.getLogRecordFactory() is hook:
            logging.setLogRecordFactory(hook.previous)
