"""Recomputing a store's chain and judging it: what `mageguard audit verify` reports.

Each kind of tampering leaves its own trace: a changed record fails its MAC; a removed one
leaves a gap in the sequence numbers; a cut tail leaves the head row, a checkpoint or a
witness line vouching for more records than there are; a forged checkpoint fails its own
MAC; a replaced database has another store id than the witness file; a wrong key fails the
key fingerprint. A problem names sequence numbers and never an event's content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mageguard.audit import chain
from mageguard.audit.witness import Checkpoint, Witness

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    records: int
    checkpoints: int
    problems: tuple[str, ...]
    first_bad_seq: int | None


@dataclass
class _Problems:
    found: list[tuple[int | None, str]] = field(default_factory=list)

    def add(self, seq: int | None, message: str) -> None:
        self.found.append((seq, message))

    def report(self, records: int, checkpoints: int) -> VerifyReport:
        messages = [message for _, message in self.found[:MAX_PROBLEMS]]
        if len(self.found) > MAX_PROBLEMS:
            messages.append(f"... and {len(self.found) - MAX_PROBLEMS} more problems")
        seqs = [seq for seq, _ in self.found if seq is not None]
        return VerifyReport(
            ok=not self.found,
            records=records,
            checkpoints=checkpoints,
            problems=tuple(messages),
            first_bad_seq=min(seqs) if seqs else None,
        )


@dataclass(frozen=True)
class StoreState:
    """What the store says about itself, read in the same snapshot as its records."""

    store_id: str
    key_id: str
    head_seq: int
    head_mac: bytes
    checkpoints: tuple[Checkpoint, ...]


def check(
    key: bytes,
    state: StoreState,
    records: Iterable[tuple[int, bytes, bytes]],
    witness: Witness,
) -> VerifyReport:
    """Judge `records` ((seq, body, mac) in seq order) against the key, the store's own
    head and checkpoints, and the witness file."""
    problems = _Problems()
    if not chain.same(chain.key_id(key).encode(), state.key_id.encode()):
        count = sum(1 for _ in records)
        problems.add(
            1 if count else None,
            "the key file is not the key this store was written with: nothing can be verified",
        )
        return problems.report(count, len(state.checkpoints))

    wanted = {c.seq for c in state.checkpoints} | {c.seq for _, c in witness.checkpoints}
    macs: dict[int, bytes] = {}
    count, last_seq, prev = 0, 0, chain.genesis(key, state.store_id)
    for seq, body, mac in records:
        count += 1
        if seq != last_seq + 1:
            gone = last_seq + 1
            span = f"record {gone}" if seq == gone + 1 else f"records {gone} to {seq - 1}"
            problems.add(last_seq + 1, f"{span} missing (deleted?); record {seq} cannot be chained")
        elif not chain.same(chain.link(key, prev, seq, body), mac):
            problems.add(seq, f"record {seq} was changed: its MAC does not match")
        prev, last_seq = mac, seq
        if seq in wanted:
            macs[seq] = mac

    _check_head(problems, state, last_seq, prev)
    stored = {c.seq: c for c in state.checkpoints}
    for cp in state.checkpoints:
        _check_checkpoint(problems, key, state.store_id, cp, last_seq, macs, "checkpoint")
    _check_witness(problems, key, state.store_id, witness, stored, last_seq, macs)
    return problems.report(count, len(state.checkpoints))


def _check_head(problems: _Problems, state: StoreState, last_seq: int, last_mac: bytes) -> None:
    if state.head_seq > last_seq:
        problems.add(
            last_seq + 1,
            f"the head says seq {state.head_seq} but records end at {last_seq}: "
            f"records {last_seq + 1} to {state.head_seq} were removed",
        )
    elif state.head_seq < last_seq:
        problems.add(state.head_seq + 1, f"records after the head ({state.head_seq}) were added")
    elif not chain.same(state.head_mac, last_mac):
        problems.add(last_seq or None, f"the head does not match record {last_seq}")


def _check_checkpoint(
    problems: _Problems,
    key: bytes,
    store_id: str,
    cp: Checkpoint,
    last_seq: int,
    macs: dict[int, bytes],
    where: str,
) -> None:
    if not chain.same(chain.checkpoint_mac(key, store_id, cp.seq, cp.head, cp.ts), cp.mac):
        problems.add(cp.seq, f"{where} at seq {cp.seq} is forged or was changed")
    elif cp.seq > last_seq:
        problems.add(
            last_seq + 1,
            f"{where} vouches for seq {cp.seq} but records end at {last_seq}: "
            f"records {last_seq + 1} to {cp.seq} were removed (truncated)",
        )
    elif cp.seq not in macs:
        problems.add(cp.seq, f"{where} at seq {cp.seq} points at a missing record")
    elif not chain.same(macs[cp.seq], cp.head):
        problems.add(cp.seq, f"{where} at seq {cp.seq} does not match record {cp.seq}")


def _check_witness(
    problems: _Problems,
    key: bytes,
    store_id: str,
    witness: Witness,
    stored: dict[int, Checkpoint],
    last_seq: int,
    macs: dict[int, bytes],
) -> None:
    if not witness.exists:
        if stored:
            problems.add(None, "the witness file is missing: a cut tail cannot be ruled out")
        return
    for line in witness.bad_lines:
        problems.add(None, f"witness line {line} is not a checkpoint")
    for line, cp in witness.checkpoints:
        where = f"witness line {line}"
        if cp.store != store_id:
            problems.add(None, f"{where} belongs to another store (was the database replaced?)")
            continue
        before = len(problems.found)
        _check_checkpoint(problems, key, store_id, cp, last_seq, macs, where)
        mine = stored.get(cp.seq)
        if len(problems.found) == before and (mine is None or mine.head != cp.head):
            problems.add(cp.seq, f"{where}: the store lost its checkpoint at seq {cp.seq}")
