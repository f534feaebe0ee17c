"""Feature flags at run time: an authenticated admin API sets rollout percentages and the
kill switch per tenant and surface; every change is audited; customers stay on their side
of a rollout."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.helpers.gateway import ADMIN_KEY, KEYS, RunningGateway, audit_events

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def set_flag(gw: RunningGateway, **flag: Any) -> httpx.Response:
    return httpx.post(f"{gw.url}/admin/flags", json=flag, headers=ADMIN, timeout=10)


def ask(gw: RunningGateway, user: str, model: str = "local-model") -> str:
    reply = gw.openai(KEYS["acme"]).chat.completions.create(
        model=model,
        user=user,
        messages=[{"role": "user", "content": "Describe LMN-PACK-07 in one line."}],
    )
    return str(reply.choices[0].message.content)


def test_the_kill_switch_answers_with_the_safe_answer_and_is_audited(
    gateway: RunningGateway, stub_upstream: Any
) -> None:
    assert set_flag(gateway, tenant="acme", surface="default", kill=True).status_code == 200
    time.sleep(1.1)  # overrides are re-read at most once a second
    assert ask(gateway, "c1") == "Sorry, the assistant is resting."
    assert stub_upstream.requests == []
    listed = httpx.get(f"{gateway.url}/admin/flags", headers=ADMIN).json()["flags"]
    assert listed == [{"tenant": "acme", "surface": "default", "percent": 100.0, "kill": True}]
    (change,) = audit_events(gateway, kind="flag_change")
    assert (change.tenant, change.surface, change.detail["kill"], change.detail["admin"]) == (
        "acme",
        "default",
        "true",
        "ops",
    )
    # globex is not affected
    reply = gateway.openai(KEYS["globex"]).chat.completions.create(
        model="local-model", messages=[{"role": "user", "content": "hi"}]
    )
    assert reply.choices[0].message.content == "echo: hi"


def test_a_rollout_keeps_each_customer_on_one_side(
    gateway: RunningGateway, stub_upstream: Any
) -> None:
    set_flag(gateway, tenant="acme", surface="default", percent=50)
    time.sleep(1.1)
    sides: dict[str, set[str]] = {}
    for _round in range(3):
        for n in range(12):
            ask(gateway, f"customer-{n}", model="gpt-4o-mini")
            sides.setdefault(f"customer-{n}", set()).add(stub_upstream.requests[-1]["model"])
    assert all(len(models) == 1 for models in sides.values())
    used = {next(iter(m)) for m in sides.values()}
    assert used == {"local-model", "gpt-4o-mini"}


def test_bad_flag_changes_are_refused(gateway: RunningGateway) -> None:
    assert set_flag(gateway, tenant="initech", surface="default").status_code == 400
    assert set_flag(gateway, tenant="acme", surface="default", percent=150).status_code == 400
    assert set_flag(gateway, tenant="acme", surface="default", colour="red").status_code == 400
    r = httpx.post(f"{gateway.url}/admin/flags", json={"tenant": "acme", "surface": "default"})
    assert r.status_code == 401
    assert audit_events(gateway, kind="flag_change") == []
