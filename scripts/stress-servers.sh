#!/usr/bin/env bash
# make stress-servers: starts embedded Temporal servers over and over beside other servers, to show that a start
# never collides with another's ports and that a lost port is an error, never a panic (issue 13, item 6).
# Two processes run the dev server's tests ROUNDS times in a row (default 20) at the same time, each round four
# starts of the server and three made to lose a port; beside them the integration tests (their own in-process
# Temporal server and heavy loopback traffic) run again and again until both are done. Prints the figures; fails if
# any test failed or anything panicked.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${ROUNDS:-20}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go test -c -o "$out/devserver.test" ./internal/devserver/
go test -c -o "$out/integration.test" ./integration/

start=$(date +%s)
pids=()
for p in a b; do
	(
		rc=0
		cd internal/devserver && "$out/devserver.test" -test.v -test.count="$rounds" -test.timeout 90m \
			>"$out/devserver-$p.log" 2>&1 || rc=$? # set -e would leave no .rc and the loop below would not end
		echo $rc >"$out/devserver-$p.rc"
	) &
	pids+=($!)
done
(
	i=0
	while [ ! -f "$out/devserver-a.rc" ] || [ ! -f "$out/devserver-b.rc" ]; do
		i=$((i + 1))
		(cd integration && "$out/integration.test" -test.count=1 -test.timeout 20m >"$out/integration-$i.log" 2>&1) \
			&& echo ok >>"$out/integration.runs" || echo "FAIL $i" >>"$out/integration.runs"
	done
) &
integ=$!
wait "${pids[@]}" "$integ"
elapsed=$(($(date +%s) - start))

status=0
for p in a b; do
	log="$out/devserver-$p.log"
	pass=$(grep -c -e '^--- PASS' "$log" || true)
	fail=$(grep -c -e '^--- FAIL' "$log" || true)
	panics=$(grep -c -e '^panic:' "$log" || true)
	starts=$(grep -c -e 'first start took\|restart took' "$log" || true)
	echo "dev server tests, process $p: $rounds rounds, $pass tests passed, $fail failed, $panics panics, $starts full starts (exit $(cat "$out/devserver-$p.rc"))"
	if [ "$fail" != 0 ] || [ "$panics" != 0 ] || [ "$(cat "$out/devserver-$p.rc")" != 0 ]; then
		status=1
		grep -e '^--- FAIL' -e '^panic:' -A20 "$log" | head -60
	fi
done
runs=$(wc -l <"$out/integration.runs")
failed=$(grep -c FAIL "$out/integration.runs" || true)
echo "integration tests beside them: $runs runs, $failed failed"
if [ "$failed" != 0 ]; then
	status=1
	for f in $(grep FAIL "$out/integration.runs" | awk '{print $2}'); do tail -40 "$out/integration-$f.log"; done
fi
echo "took ${elapsed}s"
exit $status
