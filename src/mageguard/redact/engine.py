"""The redaction engine: run the detectors, keep one span per stretch of text, apply the
policy's operators, and say whether the request must be refused.

    redactor = Redactor(dictionary=Dictionary.from_csv("catalog.csv"))
    vault = Vault()
    result = redactor.redact(prompt, vault, surface="content_generation")
    if result.blocked: refuse
    answer = vault.restore(model(result.text))
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from mageguard.redact.detectors.amounts import AmountDetector
from mageguard.redact.detectors.base import Detector
from mageguard.redact.dictionary import Dictionary
from mageguard.redact.operators import Operator, apply
from mageguard.redact.policy import Policy
from mageguard.redact.spans import Span, resolve_overlaps
from mageguard.redact.vault import Vault

DEFAULT_HASH_KEY = b"mageguard-redaction-v1"
REMEMBERED = 4096  # texts whose spans a redactor keeps (twice this at most, see analyze)
# an enum member read off its class costs ~120 ns; redact() reads these twice a span
_BLOCK, _PLACEHOLDER = Operator.BLOCK, Operator.PLACEHOLDER


@dataclass(frozen=True)
class Redaction:
    """The redacted text and what was done. `spans` are offsets into the ORIGINAL text;
    nothing here holds a detected value, so a Redaction can go to the audit log."""

    text: str
    spans: tuple[Span, ...]
    blocked: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.spans)


class DictionaryDetector:
    """A tenant dictionary as a detector."""

    def __init__(self, dictionary: Dictionary) -> None:
        self.dictionary = dictionary
        self.name = f"dictionary:{dictionary.name}"
        self.entities = frozenset(t.entity for t in dictionary.terms)

    def detect(self, text: str) -> Iterable[Span]:
        return self.dictionary.find(text)


def default_detectors() -> tuple[Detector, ...]:
    """The built-in personal-data and secret detectors (see detectors/builtin.py)."""
    from mageguard.redact.detectors.builtin import builtin_detectors

    return tuple(builtin_detectors())


class Redactor:
    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        dictionary: Dictionary | None = None,
        policy: Policy | None = None,
        hash_key: bytes = DEFAULT_HASH_KEY,
    ) -> None:
        self.policy = policy or Policy.load()
        found: list[Detector] = list(default_detectors() if detectors is None else detectors)
        if dictionary is not None:
            found.append(DictionaryDetector(dictionary))  # its terms include the cost values
        found.append(AmountDetector())
        self.detectors: tuple[Detector, ...] = tuple(found)
        self.hash_key = hash_key
        # surface -> (the policy it was made for, entity -> operator)
        self._operator_cache: dict[str | None, tuple[Policy, dict[str, Operator]]] = {}
        # blake2b of a text -> its spans, newest generation first (see analyze)
        self._seen: tuple[Policy, dict[bytes, tuple[Span, ...]], dict[bytes, tuple[Span, ...]]]
        self._seen = (self.policy, {}, {})

    def analyze(self, text: str) -> list[Span]:
        """Spans at or above the policy's minimum score, one per stretch of text.

        Remembered per text: a module sends the same system prompt with every request,
        and a chat sends its whole history with every turn, so most texts a gateway
        redacts it has redacted before. Only offsets and entity names are kept (a Span
        holds no value), under a 16-byte hash of the text. Two generations of REMEMBERED
        texts: when the newer is full the older is dropped, so a text in use stays."""
        key, found = self._recall(text)
        if found is None:
            found = self._remember(key, self.policy, self._analyze(text))
        return list(found)

    def analysis(self, text: str) -> Iterator[None]:
        """`analyze(text)` one step at a time: it pauses after each detector (after each
        group of detectors that share one scan), and once exhausted the spans are
        remembered, so `redact(text)` only looks them up. A server with several requests
        in flight runs one step for all of them before the next, and each detector's
        code, word lists and hyperscan database stay in the CPU's caches. Nothing is
        remembered if the policy was replaced meanwhile."""
        key, found = self._recall(text)
        if found is not None:
            return
        policy, detectors = self.policy, self.detectors
        spans: list[Span] = []
        for detector, pause in zip(detectors, self.pauses(detectors), strict=True):
            spans.extend(detector.detect(text))
            if pause:
                yield
        self._remember(key, policy, self._resolve(spans, policy))

    @staticmethod
    def pauses(detectors: Sequence[Detector]) -> tuple[bool, ...]:
        """After which of `detectors` `analysis` pauses: between detectors, but not after
        the last, nor between two that share a scanner (another request's text would
        replace its memo of the last text scanned)."""
        shared = [getattr(d, "scanner", None) for d in detectors]
        return tuple(
            i + 1 < len(shared) and (shared[i] is None or shared[i] is not shared[i + 1])
            for i in range(len(shared))
        )

    def _recall(self, text: str) -> tuple[bytes, tuple[Span, ...] | None]:
        policy, new, old = self._seen
        if policy is not self.policy:
            self._seen = (self.policy, {}, {})
            new = old = {}
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        found = new.get(key)
        if found is None:
            found = old.get(key)
            if found is not None:
                self._remember(key, self.policy, found)
        return key, found

    def _remember(self, key: bytes, policy: Policy, spans: Sequence[Span]) -> tuple[Span, ...]:
        found = tuple(spans)
        current, new, _ = self._seen
        if current is policy and policy is self.policy:
            if len(new) >= REMEMBERED:
                self._seen = (policy, {}, new)
                new = self._seen[1]
            new[key] = found
        return found

    def _analyze(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for detector in self.detectors:
            spans.extend(detector.detect(text))
        return self._resolve(spans, self.policy)

    @staticmethod
    def _resolve(spans: list[Span], policy: Policy) -> list[Span]:
        if not spans:
            return spans
        floor, disabled = policy.min_score, policy.disabled
        return resolve_overlaps([s for s in spans if s.score >= floor and s.entity not in disabled])

    def redact(
        self, text: str, vault: Vault | None = None, surface: str | None = None
    ) -> Redaction:
        spans = self.analyze(text)
        if not spans:
            return Redaction(text=text, spans=())
        vault = vault if vault is not None else Vault()
        vault.reserve(text)
        table = self._operator_table(surface)
        operators: list[Operator] = []
        counts: dict[str, int] = {}
        blocked: set[str] = set()
        for span in spans:
            entity = span.entity
            op = table.get(entity)
            if op is None:
                op = table[entity] = self.policy.operator(entity, surface)
            if op is _BLOCK:
                blocked.add(entity)
            operators.append(op)
            counts[entity] = counts.get(entity, 0) + 1
        if blocked:
            return Redaction(
                text="", spans=tuple(spans), blocked=tuple(sorted(blocked)), counts=counts
            )
        out: list[str] = []
        last = 0
        for span, op in zip(spans, operators, strict=True):
            start, end, entity = span.start, span.end, span.entity
            out.append(text[last:start])
            if op is _PLACEHOLDER:
                out.append(vault.placeholder(entity, text[start:end]))
            else:
                out.append(apply(op, entity, text[start:end], vault, self.hash_key))
            last = end
        out.append(text[last:])
        return Redaction(text="".join(out), spans=tuple(spans), counts=counts)

    def _operator_table(self, surface: str | None) -> dict[str, Operator]:
        """entity -> the policy's operator on this surface, filled as entities come.
        Policy.operator walks the surface table, the policy table and the catalog (and
        makes an Operator from the catalog's name): ~0.5 us, for each of a prompt's ~7
        spans, where a dict lookup costs ~30 ns. Remade when the policy is replaced."""
        policy = self.policy
        cached = self._operator_cache.get(surface)
        if cached is None or cached[0] is not policy:
            if len(self._operator_cache) >= 64:  # surfaces are few; never let them pile up
                self._operator_cache.clear()
            cached = self._operator_cache[surface] = (policy, {})
        return cached[1]
