"""The workspace's public evaluation data (../shared/data beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers.services import unavailable

_CANDIDATES = [
    Path(os.environ["MAGEGUARD_SHARED_DATA"]) if os.environ.get("MAGEGUARD_SHARED_DATA") else None,
    Path(__file__).resolve().parents[2].parent / "shared" / "data",
    Path("/work/shared/data"),
]


def shared_data() -> Path:
    """The data folder; skips (fails under CI=true) when this machine has none."""
    for candidate in _CANDIDATES:
        if candidate is not None and (candidate / "MANIFEST.md").is_file():
            return candidate
    unavailable(
        "the shared evaluation data (../shared/data) is not on this machine; "
        "set MAGEGUARD_SHARED_DATA"
    )
