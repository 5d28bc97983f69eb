#!/usr/bin/env bash
# Runs authd's standard benchmark suite against a throw-away local node, or
# a throw-away local cluster on PostgreSQL.
#
# Builds ./cmd/authd and ./bench into a temporary directory and starts
# authd with free loopback ports, a per-IP login budget no run reaches and a
# 1 MiB token cache per node (small enough for introspect-miss to push its
# tokens out of it): one node on the embedded store in a temporary data
# directory, or with BENCH_NODES=3 (`make bench-cluster`) three clustered
# nodes sharing a fresh database on the local PostgreSQL server. It waits
# for /readyz, runs every scenario for a few seconds (requests spread over
# every node), writes a JSON and an HTML report per run plus a combined
# summary (summary.txt, index.html) to ./bench-out/, and stops the nodes.
# Run it from anywhere in the repository; `make bench` calls it.
#
# Environment:
#   BENCH_OUT           output directory (default ./bench-out)
#   BENCH_DURATION      length of each run (default 4s)
#   BENCH_CONNS         connections of the closed-model runs (default 32)
#   BENCH_NODES         1 (default) or more: a cluster on PostgreSQL
#   AUTHD_GOMAXPROCS,   GOMAXPROCS of the nodes and of the benchmark; on a
#   BENCH_GOMAXPROCS    2-core machine, 1 and 1 keep the two from competing
#                       for the same cores (see bench/README.md)
#   BENCH_DATABASE_URL  PostgreSQL server URL for the cluster's database
#                       (default postgresql://postgres@127.0.0.1:5432/postgres);
#                       a database authd_bench_<random> is created and dropped
#
# Exits non-zero if a node does not start or any run fails; the other runs
# still go ahead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${BENCH_OUT:-./bench-out}
dur=${BENCH_DURATION:-4s}
conns=${BENCH_CONNS:-32}

nodes=${BENCH_NODES:-1}
pg_server=${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}

tmp=$(mktemp -d)
pids=()
database=""
cleanup() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$database" ]]; then
    psql -q "$pg_server" -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
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
rm -f "$out"/*.json "$out"/*.html "$out"/summary.txt "$out"/authd*.log

# ports prints n distinct free ports.
ports() {
  local -a got=()
  while ((${#got[@]} < $1)); do
    local p
    p=$(free_port)
    [[ " ${got[*]} " == *" $p "* ]] || got+=("$p")
  done
  echo "${got[@]}"
}

admin_key=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')
common_flags=(--login-rate 1000000 --login-burst 1000000 --cache-mb 1
  --admin-key "$admin_key" --log-level warn)
if ((nodes > 1)); then
  database="authd_bench_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  echo "creating database $database"
  psql -q "$pg_server" -c "CREATE DATABASE $database" >/dev/null
  db_url="${pg_server%/*}/$database?sslmode=disable"
  cluster_key=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
  common_flags+=(--database-url "$db_url" --migrate --cluster-key "$cluster_key")
fi

read -r -a pub <<<"$(ports "$nodes")"
read -r -a adm <<<"$(ports "$nodes")"
read -r -a gossip <<<"$(ports "$nodes")"
read -r -a peer <<<"$(ports "$nodes")"
targets=()
for ((i = 0; i < nodes; i++)); do
  flags=(--addr "127.0.0.1:${pub[i]}" --admin-addr "127.0.0.1:${adm[i]}"
    --data-dir "$tmp/data$i" --issuer "http://127.0.0.1:${pub[0]}" "${common_flags[@]}")
  if ((nodes > 1)); then
    flags+=(--cluster-bind "127.0.0.1:${gossip[i]}" --cluster-peer-addr "127.0.0.1:${peer[i]}"
      --cluster-name "bench-$i" --cluster-join "127.0.0.1:${gossip[0]}")
  fi
  echo "starting authd $i on 127.0.0.1:${pub[i]} (admin 127.0.0.1:${adm[i]})"
  env ${AUTHD_GOMAXPROCS:+GOMAXPROCS=$AUTHD_GOMAXPROCS} \
    "$tmp/authd" serve "${flags[@]}" >"$out/authd$i.log" 2>&1 &
  pids+=($!)
  targets+=("http://127.0.0.1:${pub[i]}")
done

for ((i = 0; i < nodes; i++)); do
  for _ in $(seq 1 300); do
    if ready "${pub[i]}" 2>/dev/null; then break; fi
    if ! kill -0 "${pids[i]}" 2>/dev/null; then
      echo "authd $i exited; its log:" >&2
      cat "$out/authd$i.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  ready "${pub[i]}" || { echo "authd $i not ready after 30 s" >&2; exit 1; }
done

target_list=$(IFS=,; echo "${targets[*]}")
common=(-target "$target_list" -admin "http://127.0.0.1:${adm[0]}"
  -admin-key "$admin_key" -duration "$dur")

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
  if ! env ${BENCH_GOMAXPROCS:+GOMAXPROCS=$BENCH_GOMAXPROCS} \
    "$tmp/bench" "${common[@]}" "${flags[@]}" \
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
