#!/usr/bin/env bash
# Installs the search benchmark's peers (idempotent), nothing by hand:
#  - jedi-language-server and basedpyright from PyPI into this checkout's .venv (the bench extra);
#  - pyright from npm into .bench-tools/pyright (the machine's Node; pyright needs >= 14).
# Usage: bash tests/bench/setup.sh   then   .venv/bin/python tests/bench/bench_search.py
set -euo pipefail
cd "$(dirname "$0")/../.."
PYRIGHT_VERSION=1.1.407
.venv/bin/pip install -q -e '.[bench]'
if [ "$(cat .bench-tools/pyright/.installed 2>/dev/null)" != "$PYRIGHT_VERSION" ]; then
  rm -rf .bench-tools/pyright
  npm install --prefix .bench-tools/pyright --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "pyright@$PYRIGHT_VERSION"
  echo "$PYRIGHT_VERSION" > .bench-tools/pyright/.installed
fi
echo "pyright: $(.bench-tools/pyright/node_modules/.bin/pyright-langserver --version 2>/dev/null || echo "$PYRIGHT_VERSION")"
echo "basedpyright: $(.venv/bin/basedpyright --version 2>/dev/null | head -1)"
