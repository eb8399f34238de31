#!/usr/bin/env bash
# Installs Debian's PostgreSQL for the cluster test (make test-cluster). Idempotent: does nothing when PostgreSQL's
# initdb is there already. The test runs its own server on a loopback port; the package's own cluster is not used.
set -euo pipefail

if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; then
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi

"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	echo "install-postgresql: apt-get finished but /usr/lib/postgresql/*/bin/initdb is missing" >&2
	exit 1
fi
