"""Reading logs: byte-exact pieces, bounded memory on endless lines, gzip, invalid UTF-8."""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path

import pytest

from mageguard.logs.reader import LogReader, Piece, encode, pieces, sniff


def _join(ps: list[Piece]) -> bytes:
    return b"".join(encode(p.text + p.ending) for p in ps)


def test_pieces_give_back_every_byte_whatever_the_endings_and_encoding() -> None:
    data = b"one\r\ntwo\n\xff\xfe broken \xc3 utf-8\n\nlast without newline"
    ps = list(pieces(io.BytesIO(data)))
    assert [(p.line, p.ending) for p in ps] == [
        (1, "\r\n"),
        (2, "\n"),
        (3, "\n"),
        (4, "\n"),
        (5, ""),
    ]
    assert ps[0].text == "one"
    assert _join(ps) == data


def test_a_line_longer_than_a_piece_is_cut_after_a_space_and_keeps_its_line_number() -> None:
    data = b"a@b.io " * 100 + b"\nnext\n"
    ps = list(pieces(io.BytesIO(data), max_piece=64))
    assert _join(ps) == data
    assert {p.line for p in ps[:-1]} == {1} and ps[-1] == Piece(2, "next", "\n")
    assert all(len(encode(p.text)) <= 64 for p in ps)
    # cut only between values: every piece of line 1 but the last ends with the space
    assert all(p.text.endswith(" ") for p in ps[:-2])


def test_a_long_line_without_any_separator_is_cut_hard_and_still_round_trips() -> None:
    data = ("é" * 100).encode() + b"\n"  # 2-byte characters: cuts fall inside them
    ps = list(pieces(io.BytesIO(data), max_piece=33))
    assert len(ps) > 3 and _join(ps) == data


def test_the_reader_decompresses_gzip_and_hashes_the_bytes_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "system.log.1.gz"
    path.write_bytes(gzip.compress(b"first\nsecond\n"))
    with LogReader(path) as log:
        texts = [p.text for p in log.pieces()]
        after = log.finish()
        assert log.compressed
        assert log.raw.sha256.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
        assert log.raw.size == after.st_size
    assert texts == ["first", "second"]


@pytest.mark.parametrize(
    ("content", "binary"),
    [
        (b"[2024-05-01] main.INFO: ok\n", False),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", True),
        (gzip.compress(b"text\n", mtime=0), False),
        (gzip.compress(b"\x00\x01\x02", mtime=0), True),
    ],
)
def test_binaries_are_recognised_also_inside_gzip(
    tmp_path: Path, content: bytes, binary: bool
) -> None:
    path = tmp_path / "f"
    path.write_bytes(content)
    assert sniff(path) is binary


def test_a_truncated_gzip_raises_instead_of_passing_for_empty(tmp_path: Path) -> None:
    path = tmp_path / "system.log.2.gz"
    path.write_bytes(gzip.compress(b"x" * 10_000)[:20])
    with pytest.raises((OSError, EOFError)):
        sniff(path)
