"""The logging filter for mageguard's own logs: messages, args, exceptions and extras
redacted before any handler sees them; any failure gives a fixed message (fail closed)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from mageguard.logs.filter import UNREDACTABLE, RedactingFilter, install, uninstall
from mageguard.redact.engine import Redactor
from mageguard.redact.spans import Span
from tests.logs.conftest import StandIns, stand_in_redactor


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, Capture]]:
    logger = logging.getLogger("mageguard.test_filter")
    handler = Capture()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)
    logger.filters.clear()


class Broken:
    name = "broken"
    entities = frozenset({"EMAIL"})

    def detect(self, text: str) -> Iterator[Span]:
        raise RuntimeError("detector bug")


def test_message_and_args_are_redacted_and_args_dropped(
    captured: tuple[logging.Logger, Capture],
) -> None:
    logger, out = captured
    logger.addFilter(RedactingFilter(stand_in_redactor()))
    logger.info("login %s from %s (%d tries)", "ana@example.com", "203.0.113.9", 3)
    assert out.lines == ["mageguard.test_filter login [EMAIL] from [IP] (3 tries)"]
    assert out.records[0].args is None


def test_exceptions_are_formatted_redacted_and_the_raw_exc_info_dropped(
    captured: tuple[logging.Logger, Capture],
) -> None:
    logger, out = captured
    logger.addFilter(RedactingFilter(stand_in_redactor()))
    try:
        raise ValueError("no customer ana@example.com")
    except ValueError:
        logger.exception("save failed")
    assert "ana@example.com" not in out.lines[0]
    assert "ValueError: no customer [EMAIL]" in out.lines[0]
    assert out.records[0].exc_info is None


def test_extras_are_redacted_when_the_filter_is_on_the_handler(
    captured: tuple[logging.Logger, Capture],
) -> None:
    logger, out = captured
    out.addFilter(RedactingFilter(stand_in_redactor()))
    logger.warning("refused", extra={"customer": "ana@example.com", "count": 2})
    assert vars(out.records[0])["customer"] == "[EMAIL]" and vars(out.records[0])["count"] == 2


def test_a_failing_redactor_gives_the_fixed_message_and_never_raises(
    captured: tuple[logging.Logger, Capture],
) -> None:
    logger, out = captured
    logger.addFilter(RedactingFilter(Redactor(detectors=[Broken()])))
    try:
        raise ValueError("ana@example.com")
    except ValueError:
        logger.exception("login %s", "ana@example.com", extra={"who": "ana@example.com"})
    assert out.lines == [f"mageguard.test_filter {UNREDACTABLE}"]
    assert vars(out.records[0])["who"] == UNREDACTABLE and out.records[0].exc_text is None


def test_a_message_whose_args_do_not_fit_is_unredactable(
    captured: tuple[logging.Logger, Capture],
) -> None:
    logger, out = captured
    logger.addFilter(RedactingFilter(stand_in_redactor()))
    logger.info("login %s %s", "ana@example.com")
    assert out.lines == [f"mageguard.test_filter {UNREDACTABLE}"]


class LogsWhileDetecting(StandIns):
    def detect(self, text: str) -> Iterator[Span]:
        logging.getLogger("mageguard.redact.debug").warning("looking at %s", text)
        yield from super().detect(text)


def test_install_covers_child_loggers_and_handlers_anywhere_and_uninstall_restores() -> None:
    root_handler = Capture()
    logging.getLogger().addHandler(root_handler)
    factory = logging.getLogRecordFactory()
    redacting = install("mageguard", Redactor(detectors=[LogsWhileDetecting()]))
    try:
        logging.getLogger("mageguard.gateway.proxy").warning("upstream %s", "ana@example.com")
        logging.getLogger("otherlib").warning("untouched %s", "ana@example.com")
    finally:
        uninstall(redacting)
        logging.getLogger().removeHandler(root_handler)
    assert logging.getLogRecordFactory() is factory
    assert "mageguard.gateway.proxy upstream [EMAIL]" in root_handler.lines
    assert "otherlib untouched ana@example.com" in root_handler.lines
    # the redactor's own logging came back to the filter: fixed message, no recursion
    assert f"mageguard.redact.debug {UNREDACTABLE}" in root_handler.lines
    assert not [line for line in root_handler.lines if "ana@" in line and "mageguard" in line]


def test_after_uninstall_nothing_is_redacted(captured: tuple[logging.Logger, Capture]) -> None:
    logger, out = captured
    redacting = install("mageguard.test_filter", stand_in_redactor())
    uninstall(redacting)
    logger.info("x %s", "ana@example.com")
    assert out.lines == ["mageguard.test_filter x ana@example.com"]
