#!/usr/bin/env bash
# Records the replay suite's histories of a release (default: the newest in RELEASES) from the real stack: the
# integration tests of that release's commit run in a git worktree with PAYOUTFLOW_RECORD_HISTORIES set, and every
# payout they take to a final status leaves its history in workflows/testdata/histories/<version>.
# A release before the recorder existed (v1) is recorded with today's integration tests over its code.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=${1:-$(awk '!/^#/ && NF {v=$1} END {print v}' RELEASES)}
commit=$(awk -v v="$version" '!/^#/ && $1 == v {print $2}' RELEASES)
if [ -z "$commit" ]; then
	echo "histories: release $version is not in RELEASES" >&2
	exit 2
fi
out="$root/workflows/testdata/histories/$version"
tree=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add --detach "$tree" "$commit" >/dev/null
if [ ! -f "$tree/integration/histories_test.go" ]; then
	rm -rf "$tree/integration"
	cp -r "$root/integration" "$tree/integration"
fi
mkdir -p "$out"
rm -f "$out"/*.json
echo "histories: recording release $version ($commit) into $out"
(cd "$tree" && PAYOUTFLOW_RECORD_HISTORIES="$out" go test -count=1 -timeout 30m ./integration/)
echo "histories: $(ls "$out"/*.json | wc -l) histories of release $version"
