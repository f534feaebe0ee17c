#!/usr/bin/env bash
# Install Semgrep (from PyPI) into its own venv, bench/work/.venv-semgrep: never into the
# project's .venv, so its pinned dependencies cannot clash with mageguard's.
# Re-runs are cheap: nothing is reinstalled while the wanted version is there.
set -euo pipefail
cd "$(dirname "$0")"

# Offline, Semgrep's check for a newer version waits ~1.5-3 minutes for semgrep.dev.
export SEMGREP_ENABLE_VERSION_CHECK=0
SEMGREP_VERSION="${SEMGREP_VERSION:-1.185.0}"
PYTHON="${PYTHON:-python3}"
VENV=work/.venv-semgrep

if [ -x "$VENV/bin/semgrep" ] \
  && [ "$("$VENV/bin/semgrep" --version 2>/dev/null | tail -n1)" = "$SEMGREP_VERSION" ]; then
  echo "semgrep $SEMGREP_VERSION already in bench/$VENV" >&2
  exit 0
fi

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
quiet_pip --upgrade pip
quiet_pip "semgrep==$SEMGREP_VERSION"
echo "installed: semgrep $("$VENV/bin/semgrep" --version | tail -n1) in bench/$VENV" >&2
