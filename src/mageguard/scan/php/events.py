"""What the interpreter observes at a sink: a request, an SDK call, a log line, a write,
or a template echo. Events are joined per call site over every context that reaches it."""

from __future__ import annotations

from dataclasses import dataclass, field

from mageguard.catalog import Sdk
from mageguard.scan.php.values import EMPTY, Value


@dataclass
class RequestState:
    """What stateful clients (curl handles, Laminas clients, `$this->curl`) accumulate
    between their setters and the call that sends."""

    url: Value = EMPTY
    body: Value = EMPTY
    headers: Value = EMPTY

    def join(self, other: RequestState) -> RequestState:
        return RequestState(
            self.url.join(other.url), self.body.join(other.body), self.headers.join(other.headers)
        )


@dataclass
class Event:
    kind: str  # http | sdk | log | write | echo
    path: str
    start_byte: int
    line: int
    column: int
    end_line: int
    end_column: int
    matched: str
    method: str
    client: str = ""
    url: Value = EMPTY
    body: Value = EMPTY
    headers: Value = EMPTY
    sdk: Sdk | None = None
    object_storage: bool = False
    logger_types: frozenset[str] = frozenset()
    stacks: set[tuple[str, ...]] = field(default_factory=set)
    validated: bool = False

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.path, self.start_byte, self.kind)

    def merge(self, other: Event) -> None:
        self.url = self.url.join(other.url)
        self.body = self.body.join(other.body)
        self.headers = self.headers.join(other.headers)
        self.stacks |= other.stacks
        self.logger_types |= other.logger_types
        self.validated = self.validated or other.validated
