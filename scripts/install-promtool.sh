#!/usr/bin/env bash
# Finds promtool for the alert rules' check (deploy/prometheus_test.go), fetching Debian's prometheus package into a
# cache directory when it is not installed: apt-get download and dpkg -x, no root needed. Prints promtool's path.
# Idempotent: the cached copy is used from the second run on.
set -euo pipefail

if command -v promtool >/dev/null; then
	command -v promtool
	exit 0
fi

cache="${PAYOUTFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/payoutflow}/prometheus"
bin="$cache/root/usr/bin/promtool"
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$cache"
cd "$cache"
if ! apt-get download prometheus >&2; then
	# A fresh machine may have no package lists yet; only root can fetch them.
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-promtool: apt-get download prometheus failed; run 'sudo apt-get update' once, or install promtool" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update >&2
	apt-get download prometheus >&2
fi
deb=$(ls -t prometheus_*.deb | head -n 1)
rm -rf root
dpkg -x "$deb" root
rm -f prometheus_*.deb
find root -type f ! -path '*/usr/bin/promtool' -delete # the server and its web assets are not needed
if [ ! -x "$bin" ]; then
	echo "install-promtool: $deb holds no usr/bin/promtool" >&2
	exit 1
fi
echo "$bin"
