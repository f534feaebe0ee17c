"""The gateway's own audit store as a log: which AI calls went through mageguard.

It is read with the audit store's code (database.connect, canonical.decode), not from an
export, so there is no second format to keep in step; its chain is not checked here
(`mageguard audit verify` does that, with the key). Events hold metadata only, so the
evidence text is a summary of fields, never content. What becomes a flow, all marked as
through the gateway:
- a forward-proxy decision (kind proxy): the Magento host, the host it asked for, and
  whether the proxy refused it;
- an intercepted call (a module that hard-codes api.openai.com, sent to the gateway by
  DNS/hosts): the tenant, and the host the module asked for;
- a request the gateway sent to an external backend: the gateway, and the backend.
"""

from __future__ import annotations

from collections.abc import Iterator

from mageguard.audit.canonical import decode
from mageguard.audit.database import connect
from mageguard.audit.errors import AuditError
from mageguard.audit.events import AuditEvent
from mageguard.audit.ingest.record import FLOW, Record, host_name
from mageguard.errors import InputError

SQLITE_MAGIC = b"SQLite format 3\x00"
_PAGE = 5000


def is_store(location: str, head: bytes) -> bool:
    return location.startswith(("postgresql://", "postgres://")) or head.startswith(SQLITE_MAGIC)


def events(location: str, after: int) -> Iterator[tuple[int, AuditEvent]]:
    """(seq, event) after `after`, oldest first, a page at a time."""
    try:
        db = connect(location, create=False, schema=None, timeout=5.0)
    except AuditError as exc:
        raise InputError(f"{location}: not a readable gateway audit store ({exc})") from None
    try:
        while True:
            with db.transaction(write=False) as cur:
                if not db.has_store(cur):
                    raise InputError(f"{location}: not a mageguard audit store")
                cur.execute(
                    "SELECT seq, body FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after, _PAGE),
                )
                rows = cur.fetchall()
            for seq, body in rows:
                yield int(seq), decode(int(seq), body)
            if len(rows) < _PAGE:
                return
            after = int(rows[-1][0])
    except AuditError as exc:
        raise InputError(f"{location}: {exc}") from None
    finally:
        db.close()


def records(seq: int, event: AuditEvent, gateway: str) -> list[Record]:
    detail = event.detail
    summary = (
        f"seq={seq} kind={event.kind} tenant={event.tenant or '-'} backend={event.backend or '-'} "
        f"decision={event.decision or '-'}"
    )
    if event.kind == "proxy":
        host = host_name(detail.get("host", ""))
        src = detail.get("source", "")
        if host is None or not src:
            return []
        blocked = event.decision != "allowed"
        text = f"{summary} source={src} host={host}"
        return [_flow(seq, event, src, host, blocked, text)]
    if event.kind != "request":
        return []
    intercepted = host_name(detail.get("intercepted", ""))
    if intercepted is not None:
        text = f"{summary} intercepted={intercepted}"
        return [_flow(seq, event, f"tenant:{event.tenant}", intercepted, False, text)]
    if event.locality == "external" and event.backend:
        text = f"{summary} locality=external"
        return [_flow(seq, event, gateway, event.backend.lower(), False, text)]
    return []


def _flow(seq: int, event: AuditEvent, src: str, host: str, blocked: bool, text: str) -> Record:
    return Record(
        FLOW,
        seq,
        event.ts,
        src,
        host=host,
        bytes_out=event.bytes_in,
        blocked=blocked,
        via_gateway=True,
        text=text,
    )
