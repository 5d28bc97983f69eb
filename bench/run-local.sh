#!/usr/bin/env bash
# Runs authd's standard benchmark suite against a throw-away local node.
#
# Builds ./cmd/authd and ./bench into a temporary directory, starts
# `authd serve` on the embedded store with a temporary data directory, free
# loopback ports, a per-IP login budget no run reaches and a 1 MiB token
# cache (small enough for introspect-miss to push its tokens out of it),
# waits for /readyz, runs every scenario for a few seconds, writes a JSON and
# an HTML report per run plus a combined summary (summary.txt, index.html)
# to ./bench-out/, and stops the node. Run it from anywhere in the
# repository; `make bench` calls it.
#
# Environment:
#   BENCH_OUT       output directory (default ./bench-out)
#   BENCH_DURATION  length of each run (default 4s)
#   BENCH_CONNS     connections of the closed-model runs (default 32)
#
# Exits non-zero if the node does not start or any run fails; the other runs
# still go ahead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${BENCH_OUT:-./bench-out}
dur=${BENCH_DURATION:-4s}
conns=${BENCH_CONNS:-32}

tmp=$(mktemp -d)
node_pid=""
cleanup() {
  if [[ -n "$node_pid" ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid"
    for _ in $(seq 1 100); do
      kill -0 "$node_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# free_port prints a loopback port nothing answers on, from a random start.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# ready succeeds once GET /readyz on the public port answers 200.
ready() {
  local status
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  read -r -t 2 _ status _ <&3 || status=""
  exec 3<&- 3>&-
  [[ "$status" == "200" ]]
}

echo "building authd and bench"
go build -o "$tmp/authd" ./cmd/authd
go build -o "$tmp/bench" ./bench

mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.html "$out"/summary.txt
pub=$(free_port)
adm=$(free_port)
while [[ "$adm" == "$pub" ]]; do adm=$(free_port); done

echo "starting authd on 127.0.0.1:$pub (admin 127.0.0.1:$adm)"
"$tmp/authd" serve --addr "127.0.0.1:$pub" --admin-addr "127.0.0.1:$adm" \
  --data-dir "$tmp/data" --issuer "http://127.0.0.1:$pub" \
  --login-rate 1000000 --login-burst 1000000 --cache-mb 1 \
  --log-level warn >"$out/authd.log" 2>&1 &
node_pid=$!

for _ in $(seq 1 300); do
  if ready "$pub" 2>/dev/null && [[ -s "$tmp/data/admin.key" ]]; then break; fi
  if ! kill -0 "$node_pid" 2>/dev/null; then
    echo "authd exited; its log:" >&2
    cat "$out/authd.log" >&2
    exit 1
  fi
  sleep 0.1
done
ready "$pub" || { echo "authd not ready after 30 s" >&2; exit 1; }

common=(-target "http://127.0.0.1:$pub" -admin "http://127.0.0.1:$adm"
  -admin-key-file "$tmp/data/admin.key" -duration "$dur")

# name, then the flags of the run.
runs=(
  "introspect|-scenario introspect -c $conns"
  "introspect-open|-scenario introspect -rate 2000 -c $conns"
  "introspect-miss|-scenario introspect-miss -rate 500 -c $conns -flush 15000"
  "client-credentials|-scenario client-credentials -c $conns"
  "login|-scenario login -c 8 -users 8"
  "refresh|-scenario refresh -c $conns"
  "revoke|-scenario revoke -rate 200 -c 16"
  "mixed|-scenario mixed -c $conns"
)

failed=0
reports=()
for entry in "${runs[@]}"; do
  name=${entry%%|*}
  read -r -a flags <<<"${entry#*|}"
  echo
  echo "=== $name"
  if ! "$tmp/bench" "${common[@]}" "${flags[@]}" \
    -json "$out/$name.json" -html "$out/$name.html"; then
    echo "run $name failed" >&2
    failed=1
  fi
  [[ -f "$out/$name.json" ]] && reports+=("$out/$name.json")
done

echo
echo "=== summary ($out/summary.txt, $out/index.html)"
if ((${#reports[@]} > 0)); then
  "$tmp/bench" summary -html "$out/index.html" "${reports[@]}" | tee "$out/summary.txt"
fi
exit "$failed"
