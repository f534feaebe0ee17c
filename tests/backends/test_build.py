"""`build`: the one place a configured kind becomes a backend."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mageguard.backends import build
from mageguard.backends.anthropic import AnthropicBackend
from mageguard.backends.base import Locality
from mageguard.backends.embeddings import EmbeddingsBackend
from mageguard.backends.llama import LlamaBackend
from mageguard.backends.openai_compat import OpenAIBackend
from mageguard.backends.static import StaticBackend
from mageguard.errors import ConfigError
from mageguard.gateway.config import BackendSpec


@pytest.mark.parametrize(
    ("kind", "cls", "fields"),
    [
        ("llama", LlamaBackend, {}),
        ("embeddings", EmbeddingsBackend, {}),
        ("static", StaticBackend, {"answer": "Sorry."}),
        ("openai", OpenAIBackend, {"base_url": "http://127.0.0.1:9/v1"}),
        ("anthropic", AnthropicBackend, {"base_url": "https://api.anthropic.com"}),
    ],
)
def test_each_kind_builds_its_backend_with_the_specs_identity(
    kind: str, cls: type, fields: dict[str, str]
) -> None:
    spec = BackendSpec(
        id=f"my-{kind}", kind=kind, locality=Locality.LOCAL, models=("m1", "m2"), **fields
    )
    backend = build(spec)
    assert isinstance(backend, cls)
    assert (backend.id, backend.locality, tuple(backend.models)) == (
        f"my-{kind}",
        Locality.LOCAL,
        ("m1", "m2"),
    )


def test_an_unknown_kind_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="unknown kind 'grpc'"):
        build(BackendSpec(id="x", kind="grpc", locality=Locality.LOCAL))


def test_building_local_backends_imports_neither_torch_nor_llama_cpp() -> None:
    code = (
        "import sys\n"
        "from mageguard.backends import build\n"
        "from mageguard.backends.base import Locality\n"
        "from mageguard.gateway.config import BackendSpec\n"
        "for kind in ('embeddings', 'llama'):\n"
        "    build(BackendSpec(id=kind, kind=kind, locality=Locality.LOCAL))\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'llama_cpp') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
