"""Bad input of every kind gets a clear error in the API's own format, the gateway stays
up, and nothing half is written: malformed and mistyped bodies, oversized and invalid
UTF-8 bodies, unknown paths and models, failing, slow and dying upstreams, clients that
leave mid-stream, and fuzzed bodies."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.gateway import KEYS, RunningGateway, run_gateway, write_config

AUTH = {"Authorization": f"Bearer {KEYS['acme']}"}


def post(gw: RunningGateway, path: str, content: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{gw.url}{path}", content=content, headers={**AUTH, **headers}, timeout=10)


def openai_error(r: httpx.Response) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"} and body["error"]["message"] and body["error"]["type"]
    return dict(body["error"])


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "invalid_json"),
        (
            b'{"model": "local-model", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
            "invalid_json",
        ),
        (b"[1, 2, 3]", "invalid_request"),
        (b'{"model": 7, "messages": []}', "invalid_request"),
        (b'{"model": "local-model", "messages": "hello"}', "invalid_request"),
        (
            b'{"model": "local-model", "messages": [{"role": "wizard", "content": "x"}]}',
            "invalid_request",
        ),
        (
            b'{"model": "local-model", "messages": [{"role": "user", "content": 42}]}',
            "invalid_request",
        ),
        (
            b'{"model": "local-model", "max_tokens": -1, '
            b'"messages": [{"role": "user", "content": "x"}]}',
            "invalid_request",
        ),
        (
            b'{"model": "local-model", "stream": "yes", '
            b'"messages": [{"role": "user", "content": "x"}]}',
            "invalid_request",
        ),
        (
            b'{"model": "local-model", "tools": [{"type": "function"}], '
            b'"messages": [{"role": "user", "content": "x"}]}',
            "unsupported_parameter",
        ),
        (
            b'{"model": "local-model", "messages": [{"role": "user", "content": '
            b'[{"type": "image_url", "image_url": {"url": "http://x"}}]}]}',
            "unsupported_content",
        ),
    ],
)
def test_malformed_bodies_get_a_400_naming_the_problem(
    gateway: RunningGateway, content: bytes, code: str, stub_upstream: Any
) -> None:
    r = post(gateway, "/v1/chat/completions", content)
    assert r.status_code == 400
    assert openai_error(r)["code"] == code
    assert stub_upstream.requests == []


def test_anthropic_errors_come_in_anthropics_format(gateway: RunningGateway) -> None:
    r = post(gateway, "/v1/messages", b'{"model": "local-model", "messages": []}')
    assert r.status_code == 400
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == "invalid_request_error"


def test_oversized_bodies_are_refused_before_they_are_read(gateway: RunningGateway) -> None:
    big = json.dumps(
        {"model": "local-model", "messages": [{"role": "user", "content": "x" * 300_000}]}
    ).encode()
    r = post(gateway, "/v1/chat/completions", big)
    assert r.status_code == 413
    chunked = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers=AUTH,
        timeout=10,
        content=iter([big[:100_000], big[100_000:]]),
    )
    assert chunked.status_code == 413


def test_unknown_paths_methods_and_models(gateway: RunningGateway) -> None:
    assert httpx.get(f"{gateway.url}/v2/nothing", headers=AUTH).status_code == 404
    assert httpx.get(f"{gateway.url}/v1/chat/completions", headers=AUTH).status_code == 405
    r = post(
        gateway,
        "/v1/chat/completions",
        b'{"model": "gpt-17", "messages": [{"role": "user", "content": "x"}]}',
    )
    assert r.status_code == 404 and openai_error(r)["code"] == "model_not_found"


def _flaky_config(tmp_path: Path, url: str, chain: list[str]) -> Path:
    return write_config(
        tmp_path,
        url,
        backends=[
            {
                "id": "broken",
                "kind": "openai",
                "locality": "local",
                "base_url": f"{url}/v1",
                "models": ["stub-error-500"],
                "timeout": 2,
            },
            {
                "id": "slow",
                "kind": "openai",
                "locality": "local",
                "base_url": f"{url}/v1",
                "models": ["stub-slow"],
                "timeout": 0.5,
            },
            {
                "id": "cut",
                "kind": "openai",
                "locality": "local",
                "base_url": f"{url}/v1",
                "models": ["stub-stream-cut"],
                "timeout": 2,
            },
            {
                "id": "safe",
                "kind": "static",
                "models": ["safe-answer"],
                "answer": "Sorry, the assistant is resting.",
            },
        ],
        tenants=[
            {
                "id": "acme",
                "keys": [{"id": "web", "sha256": _hash(KEYS["acme"])}],
                "routes": {"default": chain},
            }
        ],
    )


def _hash(key: str) -> str:
    from mageguard.gateway.config import hash_key

    return hash_key(key)


def chat(gw: RunningGateway, model: str, stream: bool = False) -> httpx.Response:
    body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(f"{gw.url}/v1/chat/completions", json=body, headers=AUTH, timeout=20)


def test_failing_and_slow_upstreams_fall_back_to_the_safe_answer(
    tmp_path: Path, stub_upstream: Any
) -> None:
    with run_gateway(_flaky_config(tmp_path, stub_upstream.url, ["broken", "slow", "safe"])) as gw:
        for model in ("stub-error-500", "stub-slow"):
            for stream in (False, True):
                r = chat(gw, model, stream)
                assert r.status_code == 200
                assert "resting" in r.text


def test_without_a_fallback_the_caller_gets_a_gateway_error(
    tmp_path: Path, stub_upstream: Any
) -> None:
    with run_gateway(_flaky_config(tmp_path, stub_upstream.url, ["broken", "slow"])) as gw:
        r = chat(gw, "stub-error-500")  # broken answers 500, then slow times out
        assert r.status_code in (502, 504)
        assert openai_error(r)["code"] == "upstream_unavailable"
        started = time.monotonic()
        r = chat(gw, "stub-slow")
        assert r.status_code in (502, 504)
        assert time.monotonic() - started < 5


def test_an_upstream_dying_mid_stream_ends_the_stream_with_an_error(
    tmp_path: Path, stub_upstream: Any
) -> None:
    with run_gateway(_flaky_config(tmp_path, stub_upstream.url, ["cut", "safe"])) as gw:
        r = chat(gw, "stub-stream-cut", stream=True)
        assert r.status_code == 200
        events = [
            json.loads(line[6:])
            for line in r.text.splitlines()
            if line.startswith("data: ") and line != "data: [DONE]"
        ]
        assert "error" in events[-1]
        assert httpx.get(f"{gw.url}/healthz").status_code == 200


def test_a_client_leaving_mid_stream_does_not_hurt_the_gateway(gateway: RunningGateway) -> None:
    body = {
        "model": "local-model",
        "stream": True,
        "messages": [{"role": "user", "content": "tell me a long story " * 200}],
    }
    with httpx.stream(
        "POST", f"{gateway.url}/v1/chat/completions", json=body, headers=AUTH, timeout=10
    ) as r:
        next(r.iter_bytes())
    assert chat(gateway, "local-model").status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
content_parts = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["text", "input_text", "image_url", "tool_use"]) | json_values,
            "text": st.text(max_size=40) | json_values,
        },
    ),
    max_size=3,
)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["local-model", "safe-answer", "", "x"]) | json_values,
        "messages": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "role": st.sampled_from(["user", "system", "assistant", "tool", "x"])
                    | json_values,
                    "content": st.text(max_size=60) | content_parts | json_values,
                },
            ),
            max_size=3,
        )
        | json_values,
        "input": st.text(max_size=40) | content_parts | json_values,
        "prompt": st.text(max_size=40) | json_values,
        "system": st.text(max_size=40) | content_parts | json_values,
        "stream": st.booleans() | json_values,
        "max_tokens": st.integers(-5, 5000) | json_values,
        "temperature": json_values,
        "stop": json_values,
        "encoding_format": st.sampled_from(["float", "base64"]) | json_values,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=bodies,
    path=st.sampled_from(
        [
            "/v1/chat/completions",
            "/v1/completions",
            "/v1/responses",
            "/v1/messages",
            "/v1/embeddings",
        ]
    ),
)
def test_fuzzed_bodies_never_break_the_gateway(
    gateway: RunningGateway, body: dict[str, Any], path: str
) -> None:
    r = post(gateway, path, json.dumps(body).encode())
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        payload = r.json()
        assert "error" in payload


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=300))
def test_fuzzed_bytes_never_break_the_gateway(gateway: RunningGateway, raw: bytes) -> None:
    r = post(gateway, "/v1/chat/completions", raw)
    assert r.status_code in (400, 401, 404, 413)


def test_a_tenants_own_fallback_answer_ends_a_failing_chain(
    tmp_path: Path, stub_upstream: Any
) -> None:
    config = _flaky_config(tmp_path, stub_upstream.url, ["broken"])
    text = config.read_text().replace(
        "routes:", "fallback_answers:\n    default: Our shop assistant is back soon.\n  routes:", 1
    )
    config.write_text(text)
    with run_gateway(config) as gw:
        for stream in (False, True):
            r = chat(gw, "stub-error-500", stream)
            assert r.status_code == 200
            assert "back soon" in r.text
