#!/usr/bin/env bash
# The remote-twin tests (tests/test_remote.py) start their own sshd on 127.0.0.1 with
# throwaway keys in a temp dir: they need Debian's openssh-server (sshd) and the client.
# Nothing is configured here, and the package's own service is not started (a
# policy-rc.d refuses it for the length of the install). Idempotent: installs only
# what is missing.
set -euo pipefail
if ! dpkg -s openssh-server >/dev/null 2>&1 || ! command -v ssh >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  policy=/usr/sbin/policy-rc.d
  ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && ours=1
  fi
  trap '[ -n "$ours" ] && rm -f "$policy"' EXIT
  apt-cache show openssh-server >/dev/null 2>&1 || apt-get update -qq
  apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null; }
fi
