"""route: the chain per surface, the data-category rule for external backends, sticky
rollouts, the kill switch and the circuit breaker."""

from __future__ import annotations

import pytest

from mageguard.backends.base import Locality
from mageguard.gateway.config import BackendSpec, FlagSpec, KeySpec, TenantSpec
from mageguard.gateway.errors import GatewayError
from mageguard.gateway.routing import Breaker, Router, bucket

BACKENDS = {
    "local": BackendSpec("local", "llama", Locality.LOCAL, ("smollm2",)),
    "vllm": BackendSpec("vllm", "openai", Locality.LOCAL, ("qwen",), base_url="http://x/v1"),
    "openai": BackendSpec(
        "openai",
        "openai",
        Locality.EXTERNAL,
        ("gpt-4o-mini",),
        base_url="https://api.openai.com/v1",
    ),
    "emb": BackendSpec("emb", "embeddings", Locality.LOCAL, ("minilm",)),
    "safe": BackendSpec("safe", "static", Locality.LOCAL, ("safe-answer",), answer="Sorry."),
}
TENANT = TenantSpec(
    id="acme",
    name="Acme",
    keys=(KeySpec("k", "0" * 64),),
    routes={"default": ("openai", "local", "emb", "safe"), "checkout_payment": ("vllm", "safe")},
    external_categories=frozenset({"catalog_content"}),
)


def plan(
    model: str = "gpt-4o-mini",
    categories: tuple[str, ...] = (),
    surface: str = "default",
    flag: FlagSpec | None = None,
    subject: str = "c1",
    router: Router | None = None,
    embeddings: bool = False,
) -> list[str]:
    router = router or Router(BACKENDS)
    found = router.plan(
        TENANT,
        surface,
        embeddings=embeddings,
        model=model,
        categories=categories,
        subject=subject,
        flag=flag,
        now=0.0,
    )
    return [b.id for b in found.backends]


def test_the_surface_chain_is_used_and_static_answers_come_last() -> None:
    assert plan() == ["openai", "local", "safe"]
    assert plan("qwen", surface="checkout_payment") == ["vllm", "safe"]
    assert plan("smollm2", surface="search_recommendations") == ["local", "openai", "safe"]


def test_embeddings_only_go_to_backends_that_embed() -> None:
    assert plan("minilm", embeddings=True) == ["emb", "openai"]


def test_external_backends_only_get_categories_the_tenant_lets_out() -> None:
    assert plan(categories=("catalog_content",)) == ["openai", "local", "safe"]
    assert plan(categories=("catalog_content", "customer_pii")) == ["local", "safe"]
    assert plan(categories=("cost_margin",)) == ["local", "safe"]


def test_unknown_models_are_refused() -> None:
    with pytest.raises(GatewayError) as refused:
        plan("gpt-9", surface="default")
    assert (refused.value.status, refused.value.code) == (404, "model_not_found")


def test_a_rollout_is_sticky_per_customer_and_near_its_percentage() -> None:
    flag = FlagSpec("acme", "default", percent=30)
    firsts = [plan(flag=flag, subject=f"customer-{i}")[0] for i in range(2000)]
    share = firsts.count("local") / len(firsts)
    assert 0.26 < share < 0.34
    assert {plan(flag=flag, subject="customer-7")[0] for _ in range(20)} == {firsts[7]}
    assert bucket("acme", "default", "x") == bucket("acme", "default", "x")


def test_the_kill_switch_leaves_only_static_answers() -> None:
    assert plan(flag=FlagSpec("acme", "default", kill=True)) == ["safe"]


def test_a_failing_backend_is_skipped_until_its_cooldown() -> None:
    router = Router(BACKENDS)
    for _ in range(5):
        router.breakers["openai"].failure(0.0)
    assert plan(router=router) == ["local", "safe"]
    breaker = Breaker(threshold=2, cooldown=10)
    breaker.failure(0.0)
    breaker.failure(0.0)
    assert not breaker.allow(5.0)
    assert breaker.allow(11.0)  # half-open: one trial
    assert not breaker.allow(12.0)
    breaker.success()
    assert breaker.allow(12.0)
