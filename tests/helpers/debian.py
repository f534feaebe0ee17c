"""Debian packages some tests need, installed by the project's own script on first use
(scripts/debian-packages); when that is impossible the test skips, or fails under CI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers.services import unavailable

ROOT = Path(__file__).resolve().parents[2]


def require(binary: str, *packages: str) -> str:
    # Always ask for the packages (the script checks dpkg first and is quick when all are
    # there): the binary alone does not prove its extensions are (php without php-curl).
    result = subprocess.run(
        [str(ROOT / "scripts" / "debian-packages"), *packages],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    found = shutil.which(binary)
    if found is None:
        unavailable(
            f"{binary} is missing and scripts/debian-packages could not install "
            f"{' '.join(packages)}: {result.stderr.strip()[-300:]}"
        )
    return found
