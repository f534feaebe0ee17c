"""The audit store's errors, all under mageguard's one hierarchy (mageguard.errors).

Every message names a field, a record's sequence number or a store's location, never an
event's content: an error that lands in a log or a ticket must not leak what the
audit log is careful not to hold.
"""

from __future__ import annotations

from mageguard.errors import ConfigError, MageguardError


class AuditError(MageguardError):
    """Base of the audit store's errors."""


class AuditEventError(AuditError, ValueError):
    """An event holds something other than metadata (free text, a negative count, NaN):
    it is refused, nothing is written. The gateway only passes machine codes."""


class AuditStoreError(AuditError):
    """The store cannot be opened, read or written: unreachable, locked past its
    timeout, corrupt, or not an audit store."""


class AuditUnavailable(AuditError):  # noqa: N818 -- reads as a state, like TimeoutError's kin
    """The writer cannot take or write an event (queue full, closed, store down): the
    gateway refuses the request rather than serve it unaudited (fail closed)."""


class AuditKeyError(AuditError, ConfigError):
    """A key file is missing, unreadable, of the wrong size or writable by others."""
