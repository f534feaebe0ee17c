#!/usr/bin/env python3
"""Rebuild the prompt-injection model shipped in src/mageguard/guard/data/.

    .venv/bin/pip install -e '.[train]'      # scikit-learn: training only
    .venv/bin/python scripts/train_guard.py [--data ../shared/data/public/pi] [--out DIR]

Deterministic: the same data, config and library versions give the same weights file,
byte for byte (its sha256 is in the manifest). See mageguard.guard.train for the split,
the training units and the metrics it records.
"""

from __future__ import annotations

import sys

from mageguard.guard.train import main

if __name__ == "__main__":
    sys.exit(main())
