"""Events hold metadata only: anything that could carry content is refused, with an error
that names the field and not the value, and a refused batch writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from mageguard.audit.canonical import decode, encode
from mageguard.audit.errors import AuditEventError
from tests.audit.support import Target, event

SECRET = "Jane Doe, 12 High St"

REFUSED: list[tuple[str, dict[str, Any]]] = [
    ("reason", {"reason": "customer asked: where is my order #1234?"}),
    ("tenant", {"tenant": "website_base\nadmin"}),
    ("request_id", {"request_id": ""}),
    ("kind", {"kind": ""}),
    ("model", {"model": "x" * 129}),
    ("decision", {"decision": 7}),
    ("endpoint", {"endpoint": "/v1/chat/completions?prompt=hello"}),
    ("endpoint", {"endpoint": "v1/chat"}),
    ("status", {"status": True}),
    ("status", {"status": 1000}),
    ("bytes_in", {"bytes_in": -1}),
    ("bytes_out", {"bytes_out": 2.0}),
    ("stream", {"stream": 1}),
    ("ts", {"ts": float("inf")}),
    ("ts", {"ts": -1.0}),
    ("latency_ms", {"latency_ms": float("nan")}),
    ("latency_ms", {"latency_ms": "12"}),
    ("injection_score", {"injection_score": 1.5}),
    ("injection_score", {"injection_score": float("nan")}),
    ("entities", {"entities": {"EMAIL": -2}}),
    ("entities", {"entities": {"EMAIL": True}}),
    ("entities", {"entities": {"an email address": 1}}),
    ("categories", {"categories": {"customer_pii": 1.5}}),
    ("categories", {"categories": ["customer_pii"]}),
    ("detail", {"detail": {"note": "free text with spaces"}}),
    ("detail", {"detail": {"flag": 1}}),
]


@pytest.mark.parametrize(("field", "change"), REFUSED, ids=[f for f, _ in REFUSED])
def test_an_event_that_is_not_metadata_only_is_refused_naming_the_field(
    field: str, change: dict[str, Any]
) -> None:
    with pytest.raises(AuditEventError, match=f"field '{field}"):
        encode(event(**change))


def test_a_refused_event_refuses_its_whole_batch(target: Target) -> None:
    with target.open() as store:
        bad = event(1, reason=SECRET)
        with pytest.raises(AuditEventError) as caught:
            store.append([event(0), bad, event(2)])
        assert str(caught.value) == (
            "event 1: field 'reason' is not a machine code (free text is not recorded)"
        )
        assert store.events() == []
        assert store.verify().ok
    assert SECRET not in str(caught.value)


def test_something_other_than_an_event_is_refused() -> None:
    with pytest.raises(AuditEventError, match="not an AuditEvent"):
        encode({"ts": 0, "request_id": "r"})  # type: ignore[arg-type]


def test_machine_codes_a_gateway_records_are_accepted() -> None:
    accepted = event(
        model="meta-llama/Llama-3.1-8B-Instruct",
        detail={"proxy_host": "api.openai.com:443", "flag": "local_search@v2"},
        reason="upstream_timeout",
        injection_score=None,
    )
    assert decode(1, encode(accepted)) == accepted


def test_the_encoding_is_canonical_whatever_the_mapping_order() -> None:
    one = event(entities={"EMAIL": 1, "SKU": 2}, ts=5)
    two = event(entities={"SKU": 2, "EMAIL": 1}, ts=5.0)
    assert encode(one) == encode(two)
    assert encode(one).index(b'"bytes_in"') < encode(one).index(b'"ts"')
