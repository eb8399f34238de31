#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests in e2e/ (go test ./e2e/). Idempotent: does nothing when
# /usr/bin/chromium is there already.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi

"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

if [ ! -x /usr/bin/chromium ]; then
	echo "install-chromium: apt-get finished but /usr/bin/chromium is missing" >&2
	exit 1
fi
