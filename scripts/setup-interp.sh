#!/usr/bin/env bash
# Project environments for the interpreter tests (tests/test_interpreter.py): one venv per
# other CPython in pyenv (3.10, 3.12, 3.13), each with pytest and a package plus a pytest
# plugin that only it has (tests/fixtures/interp_env). 3.10's pytest is an older release than
# twinls's own, so a run proves whose pytest it used. Idempotent (the fixture is
# reinstalled when its files change); a missing CPython is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
fixture=tests/fixtures/interp_env
stamp=$(find "$fixture" -type f -not -path '*/build/*' -not -path '*.egg-info*' | sort | xargs sha1sum | sha1sum | cut -c1-40)
for spec in 3.10.13:pytest==8.3.5 3.12.1:pytest 3.13.0:pytest; do
  v=${spec%%:*} want=${spec#*:}
  py="${PYENV_ROOT:-/root/.pyenv}/versions/$v/bin/python3"
  env=".test-envs/py${v%.*}"
  [ -x "$py" ] || { echo "setup-interp: no CPython $v, skipping"; continue; }
  if [ ! -x "$env/bin/python" ] || [ "$(cat "$env/.pytest-spec" 2>/dev/null)" != "$want" ]; then
    rm -rf "$env"
    "$py" -m venv "$env"
    "$env/bin/pip" install -q "$want" 2>&1 | grep -v '^WARNING: Location' || true
    echo "$want" > "$env/.pytest-spec"
  fi
  if [ "$(cat "$env/.fixture-stamp" 2>/dev/null)" != "$stamp" ]; then
    "$env/bin/pip" install -q --force-reinstall --no-deps "$fixture" 2>&1 | grep -v '^WARNING: Location' || true
    rm -rf "$fixture/build" "$fixture"/*.egg-info
    echo "$stamp" > "$env/.fixture-stamp"
  fi
done
