"""Run the interpreter over a unit's PHP and phtml files and turn its Events into Facts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from mageguard.catalog import Provider
from mageguard.catalog.loader import host_of
from mageguard.scan.config_sources import ConfigValues
from mageguard.scan.facts import Fact
from mageguard.scan.php.classindex import ClassIndex
from mageguard.scan.php.events import Event
from mageguard.scan.php.interp import Interpreter
from mageguard.scan.php.knowledge import Knowledge, knowledge
from mageguard.scan.php.values import Value, render
from mageguard.scan.wiring import Wiring

_KIND_ORDER = {"ai_provider": 0, "ai_saas": 1, "ml_platform": 2, "vector_db": 3}
AI_PAYLOAD_KEYS = frozenset(
    {
        "model",
        "messages",
        "prompt",
        "input",
        "contents",
        "max_tokens",
        "temperature",
        "system",
        "max_output_tokens",
        "anthropic_version",
        "generationConfig",
        "inputText",
    }
)
_TEMPLATE_DIR = re.compile(r"^app/code/([^/]+)/([^/]+)/view/[^/]+/templates/(.+)$")


@dataclass(frozen=True)
class Destination:
    kind: str  # ai_provider | ai_saas | ml_platform | vector_db | unresolved | other
    provider: Provider | None
    host: str | None
    hosts: tuple[str, ...]


def classify(url: Value, k: Knowledge) -> Destination:
    """Where a request goes: the most AI-specific provider among the URL's possible hosts."""
    found: list[tuple[Provider, str]] = []
    others: list[str] = []
    unresolved = not url.strs
    for template in sorted(url.strs, key=str):
        if not template or template[0] is None:
            unresolved = True
            continue
        host = host_of(template[0])
        if host is None:
            unresolved = True
            continue
        provider = k.catalog.hosts.match(host)
        if provider is not None:
            found.append((provider, host))
        else:
            others.append(host)
    if found:
        found.sort(key=lambda ph: (_KIND_ORDER.get(ph[0].kind, 9), ph[1]))
        provider, host = found[0]
        hosts = tuple(sorted({h for _, h in found} | set(others)))
        return Destination(provider.kind, provider, host, hosts)
    if others and not unresolved:
        return Destination("other", None, sorted(others)[0], tuple(sorted(set(others))))
    if others:
        return Destination("other", None, sorted(others)[0], tuple(sorted(set(others))))
    return Destination("unresolved", None, None, ())


def is_ai_url(url: Value) -> bool:
    return classify(url, knowledge()).provider is not None


class PhpAnalyzer:
    def __init__(self, index: ClassIndex, wiring: Wiring, config: ConfigValues) -> None:
        self.k = knowledge()
        self.index = index
        self.wiring = wiring
        self.interp = Interpreter(index, self.k, wiring, config, is_ai_url)

    def run(self, php_files: Iterable[str], templates: Iterable[str]) -> None:
        classes = []
        for rel in php_files:
            symbols = self.index.load_file(rel)
            if symbols is not None:
                classes += symbols.classes
        # Two passes: the second sees properties assigned in methods analysed later.
        for _ in range(2):
            self.interp.reset_memo()
            for cls in classes:
                self.interp.analyze_class(cls)
        for rel in templates:
            symbols = self.index.load_file(rel)
            if symbols is None:
                continue
            self.interp.analyze_template(
                rel, symbols.tree.root_node, symbols.ctx, self._block_for(rel)
            )

    def _block_for(self, rel: str) -> str | None:
        m = _TEMPLATE_DIR.match(rel)
        if not m:
            return None
        return self.wiring.templates.get(f"{m.group(1)}_{m.group(2)}::{m.group(3)}".lower())

    def facts(self, unit: str, ai_unit: bool) -> list[Fact]:
        out: list[Fact] = []
        for ev in sorted(self.interp.events.values(), key=lambda e: (e.path, e.start_byte)):
            fact = self._fact(ev, unit, ai_unit)
            if fact is not None:
                out.append(fact)
        return out

    def logger_types_with_ai_data(self) -> set[str]:
        """Logger (virtual) types that received prompts or model output: their handlers
        write AI data to disk."""
        types: set[str] = set()
        for ev in self.interp.events.values():
            if ev.kind == "log" and self._is_ai_data(ev.body):
                types |= {t.lower() for t in ev.logger_types}
        return types

    def _discarded(self, logger_types: frozenset[str]) -> bool:
        """The logger is one di.xml wires to handlers that drop every record."""
        wired = [t for t in logger_types if t.lower().lstrip("\\") in self.wiring.virtual_types]
        return bool(wired) and all(self.wiring.discards(t, self.k.discard_handlers) for t in wired)

    def _is_ai_data(self, v: Value) -> bool:
        deep = v.deep()
        return "ai_response" in deep.flags or bool(deep.labels & self.interp.prompt_labels)

    def _fact(self, ev: Event, unit: str, ai_unit: bool) -> Fact | None:
        classes = frozenset(c for stack in ev.stacks for c in stack)
        language = "phtml" if ev.path.endswith(".phtml") else "php"
        base = Fact(
            kind=ev.kind,
            path=ev.path,
            line=ev.line,
            column=ev.column,
            end_line=ev.end_line,
            end_column=ev.end_column,
            matched=ev.matched,
            unit=unit,
            classes=classes,
            language=language,
        )
        body = ev.body.deep()
        conditions = {"in_ai_unit"} if ai_unit else set()
        if ev.kind in ("http", "sdk"):
            return self._outbound(ev, base, body, conditions)
        if ev.kind == "log":
            if not self._is_ai_data(ev.body) or self._discarded(ev.logger_types):
                return None
            conditions.add("ai_data")
            return replace(
                base,
                kind="log_write",
                categories=body.cats,
                conditions=frozenset(conditions),
                origins=tuple(sorted(body.origins))[:6],
                client=ev.method,
            )
        if ev.kind == "write":
            if "bulk" in body.flags:
                conditions.add("bulk")
            if self._is_ai_data(ev.body):
                conditions.add("ai_data")
            dest = "object_storage" if ev.object_storage else "local_file"
            return replace(
                base,
                kind="data_write",
                destination=dest,
                categories=body.cats,
                conditions=frozenset(conditions),
                client=ev.client,
                origins=tuple(sorted(body.origins))[:6],
            )
        if ev.kind == "echo":
            return replace(
                base,
                kind="exposed_key",
                conditions=frozenset(conditions),
                origins=tuple(sorted(body.origins))[:6],
            )
        return None

    def _outbound(self, ev: Event, base: Fact, body: Value, conditions: set[str]) -> Fact | None:
        dest = classify(ev.url, self.k)
        provider, host = dest.provider, dest.host
        kind = dest.kind
        if ev.kind == "sdk" and ev.sdk is not None:
            if provider is None and dest.kind == "other":
                return None  # an SDK pointed at a non-AI host: the sovereign gateway
            if provider is None:
                provider = self.k.catalog.provider_by_id[ev.sdk.provider]
                host = ev.sdk.default_host
                kind = provider.kind
        keys = ev.body.entry_keys()
        ai_payload = (
            ev.kind == "sdk"
            or len(keys & AI_PAYLOAD_KEYS) >= 2
            or any(
                p in render(t)
                for t in ev.url.strs
                for p in ("/chat/completions", "/v1/messages", "/v1/embeddings", ":generateContent")
            )
        )
        if ai_payload:
            conditions.add("ai_payload")
        vector = self._is_vector(ev, keys, provider)
        if vector and not self._store_scoped(ev):
            conditions.add("vector_unscoped")
        if "user_input" in body.flags:
            conditions.add("user_input_unvalidated")
        if "bulk" in body.flags:
            conditions.add("bulk")
        urls = {render(t) for t in ev.url.strs}
        if any(p.lower() in u.lower() for u in urls for p in self.k.training_paths):
            conditions.add("training_endpoint")
        if provider is None and not vector and not (kind == "unresolved" and ai_payload):
            return None
        url_text = ", ".join(sorted({render(t) for t in ev.url.strs}))[:300]
        detail = [("url", url_text)] if url_text else []
        if ev.sdk is not None:
            detail.append(("sdk", ev.sdk.package))
        models = sorted(m for m in ev.body.entry_strings("model") if 0 < len(m) <= 100)
        if models:
            # `mageguard fix` lists these on the gateway's backend, so the store's requests
            # name a model the gateway routes.
            detail.append(("model", ", ".join(models)))
        return replace(
            base,
            kind="outbound_call",
            via="sdk" if ev.kind == "sdk" else "http",
            destination=kind,
            provider=provider.id if provider else None,
            host=host,
            client=ev.client,
            categories=body.cats | ev.url.cats,
            conditions=frozenset(conditions),
            origins=tuple(sorted(body.origins | ev.url.origins))[:8],
            detail=tuple(detail),
        )

    def _is_vector(self, ev: Event, keys: frozenset[str], provider: Provider | None) -> bool:
        if provider is not None and provider.kind == "vector_db":
            return True
        if ev.method.lower() in self.k.vector_methods:
            return True
        paths = {render(t) for t in ev.url.strs}
        if any(
            p.rstrip("/").endswith(vp.rstrip("/"))
            for p in paths
            for vp in self.k.vector_paths
            if vp != "/query"
        ):
            return True
        return len(keys & self.k.vector_keys) >= 2

    def _store_scoped(self, ev: Event) -> bool:
        """An index is per tenant when its namespace (or the URL naming it) is derived from
        a store, website or customer-group scope."""
        namespace = ev.body.entry("namespace")
        for key in ("namespace", "index", "collection", "class"):
            found = ev.body.entry(key)
            if found is not None:
                namespace = found if namespace is None else namespace.join(found)
        if namespace is not None:
            return "store_scope" in namespace.deep().flags
        return "store_scope" in ev.url.flags
