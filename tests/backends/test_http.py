"""What the HTTP backends share: reading server-sent events however the network splits
them, and turning upstream statuses into retryable or final errors."""

from __future__ import annotations

import pytest

from mageguard.backends._http import SSEEvent, SSEParser, status_error
from mageguard.backends.base import BackendError

STREAM = (
    ": keep-alive comment\n"
    "\n"
    "event: content_block_delta\n"
    'data: {"text": "Grüße ✓ 🎉"}\n'
    "\n"
    "id: 7\n"
    "retry: 1000\n"
    "data: first line\n"
    "data: second line\n"
    "\n"
    "data: [DONE]\n"
    "\n"
).encode()
EVENTS = [
    SSEEvent("content_block_delta", '{"text": "Grüße ✓ 🎉"}'),
    SSEEvent("", "first line\nsecond line"),
    SSEEvent("", "[DONE]"),
]


def parse(*chunks: bytes) -> list[SSEEvent]:
    parser = SSEParser()
    events = [e for chunk in chunks for e in parser.feed(chunk)]
    return events + parser.close()


def test_events_are_the_same_wherever_the_network_splits_the_bytes() -> None:
    for cut in range(len(STREAM) + 1):
        assert parse(STREAM[:cut], STREAM[cut:]) == EVENTS, cut


def test_events_arriving_one_byte_at_a_time_are_whole() -> None:
    assert parse(*(STREAM[i : i + 1] for i in range(len(STREAM)))) == EVENTS


def test_crlf_line_endings_read_like_lf() -> None:
    assert parse(STREAM.replace(b"\n", b"\r\n")) == EVENTS


def test_a_last_event_without_its_blank_line_still_counts() -> None:
    assert parse(b"data: [DONE]") == [SSEEvent("", "[DONE]")]


def test_the_space_after_the_colon_is_optional() -> None:
    assert parse(b"data:{}\n\n") == [SSEEvent("", "{}")]


def test_invalid_utf8_is_a_backend_error() -> None:
    with pytest.raises(BackendError, match="not UTF-8"):
        parse(b"data: \xff\xfe\n\n")


def test_an_endless_line_is_refused_instead_of_buffered() -> None:
    parser = SSEParser()
    with pytest.raises(BackendError, match="too long"):
        for _ in range(1100):
            parser.feed(b"x" * 1024)


@pytest.mark.parametrize(
    ("upstream", "status", "retryable"),
    [
        (429, 429, True),  # rate limited here, maybe not there
        (408, 408, True),
        (500, 502, True),  # the upstream broke, not the gateway
        (503, 502, True),
        (529, 502, True),
        (400, 400, False),  # the request itself is wrong
        (401, 401, False),
        (404, 404, False),
        (422, 422, False),
        (302, 502, True),  # a redirect is a misconfigured base URL
    ],
)
def test_upstream_status_maps_to_retryable_or_final(
    upstream: int, status: int, retryable: bool
) -> None:
    error = status_error("up", upstream, b'{"error": {"message": "model not found"}}')
    assert (error.status, error.retryable) == (status, retryable)
    assert "model not found" in str(error)


def test_an_unreadable_error_body_still_gives_the_status() -> None:
    assert str(status_error("up", 500, b"<html>oops</html>")) == "up: upstream answered 500"
