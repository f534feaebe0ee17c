"""How a log line is redacted: typed tokens without numbers, no vault.

The gateway numbers its placeholders ([EMAIL_1], [EMAIL_2]) because it restores them in
the model's answer. Nothing ever restores a log line, so a log gets the entity's bare,
unnumbered token ([EMAIL], [CARD], [SECRET]): a vault per file would only be a second
copy of the data we are removing, and numbers that restart in every file (or line) would
suggest a correlation that does not exist. The policy still decides per entity, for the
"logging" surface: mask (the default for secrets: "sk-p****" tells the operator which key
to rotate), hash, drop or keep apply as configured; "block", which refuses a request in the
gateway, cannot refuse a line that is already written, so it becomes the typed token.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from mageguard.catalog import load_catalog
from mageguard.logs.structure import without_structure
from mageguard.redact.engine import Redactor
from mageguard.redact.operators import Operator, apply
from mageguard.redact.spans import Span
from mageguard.redact.vault import Vault

SURFACE = "logging"


@functools.cache
def _prefixes() -> dict[str, str]:
    return {e.id: e.placeholder for e in load_catalog().entities}


def token(entity: str) -> str:
    """The unnumbered, typed token that replaces a value of `entity` in a log: [EMAIL]."""
    return f"[{_prefixes().get(entity, entity)}]"


def replacement(redactor: Redactor, entity: str, value: str, surface: str = SURFACE) -> str:
    operator = redactor.policy.operator(entity, surface)
    if operator in (Operator.PLACEHOLDER, Operator.BLOCK):
        return token(entity)
    # MASK, HASH, DROP and KEEP never touch the vault; it is only there for the signature.
    return apply(operator, entity, value, Vault({}), redactor.hash_key)


def analyze(redactor: Redactor, text: str) -> list[Span]:
    """The redactor's spans in a log line, minus those inside its timestamps."""
    return without_structure(redactor.analyze(text), text)


def redact_line(
    redactor: Redactor,
    text: str,
    spans: Sequence[Span] | None = None,
    surface: str = SURFACE,
) -> tuple[str, list[Span]]:
    """`text` with every span (the redactor's, unless given) replaced per the policy, and
    the spans that were changed (the policy may keep some)."""
    found = analyze(redactor, text) if spans is None else spans
    if not found:
        return text, []
    out: list[str] = []
    changed: list[Span] = []
    last = 0
    for span in found:
        value = text[span.start : span.end]
        new = replacement(redactor, span.entity, value, surface)
        out.append(text[last : span.start])
        out.append(new)
        if new != value:
            changed.append(span)
        last = span.end
    out.append(text[last:])
    return "".join(out), changed


def redact_text(redactor: Redactor, text: str, surface: str = SURFACE) -> str:
    return redact_line(redactor, text, surface=surface)[0]


def build_redactor(
    dictionary: str | None = None, policy: Path | str | None = None, cache_dir: Path | None = None
) -> Redactor:
    """The redactor the log commands use: the built-in detectors, the tenant's dictionary
    (a CSV export or a Magento DSN) when given, and the policy file or the default."""
    from mageguard.redact.dictionary import Dictionary
    from mageguard.redact.policy import Policy

    return Redactor(
        dictionary=Dictionary.load(dictionary, cache_dir) if dictionary else None,
        policy=Policy.load(policy),
    )
