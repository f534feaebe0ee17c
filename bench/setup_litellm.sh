#!/usr/bin/env bash
# LiteLLM's proxy (`litellm[proxy]` from PyPI) into its own venv, bench/work/litellm-venv,
# for the gateway benchmark (bench/gateway_bench.py); never into the project's .venv.
# With --presidio, also presidio-analyzer and presidio-anonymizer there, for the
# stand-in Presidio services that LiteLLM's Presidio guardrail calls
# (bench/presidio_services.py). Re-runs are cheap: nothing is reinstalled while the
# wanted version is there.
set -euo pipefail
cd "$(dirname "$0")"

# 1.107.0 was a compromised release (withdrawn). Newer ones' [proxy] extra pins
# companion packages that the package index reachable here does not have (1.110.x:
# litellm-proxy; 1.108.13-1.109.x: litellm-proxy-extras 0.4.110.post1/0.4.113; 1.108.1-
# 1.108.12: litellm-enterprise 0.1.79.post1/post2), so 1.108.0 is the newest that installs.
LITELLM_VERSION="${LITELLM_VERSION:-1.108.0}"
PRESIDIO_VERSION="${PRESIDIO_VERSION:-2.2.366}"
PYTHON="${PYTHON:-python3}"
VENV=work/litellm-venv

mkdir -p work
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating bench/$VENV ..." >&2
  "$PYTHON" -m venv "$VENV"
fi
# This machine's pip config names local wheel folders that may not exist: hide the warnings.
quiet_pip() {
  "$VENV/bin/python" -m pip install --quiet "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; } >&2
  return "${PIPESTATUS[0]}"
}
installed() {
  "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" \
    2>/dev/null
}
if installed litellm "$LITELLM_VERSION" && [ -x "$VENV/bin/litellm" ]; then
  echo "litellm $LITELLM_VERSION already in bench/$VENV" >&2
else
  quiet_pip --upgrade pip
  quiet_pip "litellm[proxy]==$LITELLM_VERSION"
  echo "installed: litellm $LITELLM_VERSION in bench/$VENV" >&2
fi
if [ "${1:-}" = "--presidio" ]; then
  if installed presidio-analyzer "$PRESIDIO_VERSION" \
    && installed presidio-anonymizer "$PRESIDIO_VERSION"; then
    echo "presidio $PRESIDIO_VERSION already in bench/$VENV" >&2
  else
    quiet_pip "presidio-analyzer==$PRESIDIO_VERSION" "presidio-anonymizer==$PRESIDIO_VERSION"
    echo "installed: presidio-analyzer/anonymizer $PRESIDIO_VERSION in bench/$VENV" >&2
  fi
fi
