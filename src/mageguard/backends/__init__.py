"""Model backends the gateway routes to: the embedded local model, any OpenAI-protocol
server (vLLM, Ollama, llama-server, TGI), and external providers where policy allows.

`build` is the one place a configured kind becomes a class. Each kind's module is
imported only when a backend of that kind is configured, so a gateway without local
models never imports llama.cpp or torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mageguard.errors import ConfigError

if TYPE_CHECKING:
    from mageguard.backends.base import Backend
    from mageguard.gateway.config import BackendSpec

KINDS = ("llama", "openai", "anthropic", "embeddings", "static")


def build(spec: BackendSpec) -> Backend:
    """A backend for `spec`; nothing is loaded or connected until it is first used."""
    if spec.kind == "llama":
        from mageguard.backends.llama import LlamaBackend

        return LlamaBackend(spec)
    if spec.kind == "openai":
        from mageguard.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(spec)
    if spec.kind == "anthropic":
        from mageguard.backends.anthropic import AnthropicBackend

        return AnthropicBackend(spec)
    if spec.kind == "embeddings":
        from mageguard.backends.embeddings import EmbeddingsBackend

        return EmbeddingsBackend(spec)
    if spec.kind == "static":
        from mageguard.backends.static import StaticBackend

        return StaticBackend(spec)
    raise ConfigError(f"backend {spec.id}: unknown kind {spec.kind!r} (known: {', '.join(KINDS)})")
