#!/usr/bin/env bash
# Presidio (presidio-analyzer from PyPI) in its own venv, for the redaction benchmark.
# No spaCy model can be downloaded here, so the benchmark runs Presidio's pattern
# recognizers with an empty NLP engine (see presidio_worker.py).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p work
if [ ! -x work/.venv-presidio/bin/python ]; then
  python3 -m venv work/.venv-presidio
fi
work/.venv-presidio/bin/pip install --quiet "presidio-analyzer==2.2.366"
work/.venv-presidio/bin/python -c "import presidio_analyzer; print('presidio-analyzer', presidio_analyzer.__version__ if hasattr(presidio_analyzer, '__version__') else 'ok')"
