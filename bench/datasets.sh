#!/usr/bin/env bash
# The data side's figures (issue 12), release build, loopback:
#   1. overhead: one aggregate over a ROWS-row (default 10 million) Parquet dataset through
#      POST /api/query against DuckDB called directly in-process on the same file with the same
#      threads per query (crates/engine-duckdb/examples/query_direct.rs); target >= 0.8;
#   2. small queries: a point filter (a random id each) on the 1,000-row fixture, wrk at 16
#      connections; target >= 1,000 queries/s;
#   3. GET /api/me with a PAT (p99) while 4 clients run the heavy aggregate back to back;
#      target < 20 ms.
#   bench/datasets.sh            release build (DuckDB's C++ in release: ~25 min cold)
#   bench/datasets.sh --debug    the debug build of ./dev test (DuckDB unoptimised on both sides:
#                                the ratio says something, the absolute figures do not)
# Knobs: ROWS, ROUNDS (5), DURATION (10s); DA_QUERY_CONCURRENCY and DA_QUERY_THREADS reach the
# server (its defaults unless set).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/da/target}"
ROWS="${ROWS:-10000000}"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-10s}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
if [ "$profile" = release ]; then
  cargo build --release
  cargo build --release --example query_direct
else
  cargo build --example query_direct
fi
bin="$CARGO_TARGET_DIR/$profile/da-server"
direct="$CARGO_TARGET_DIR/$profile/examples/query_direct"
[ -x "$bin" ] || { echo "no $profile da-server: run ./dev build" >&2; exit 1; }

source bench/lib.sh
start_server "$bin" "${BENCH_PORT:-18767}"
big="$data/big.parquet"
"$direct" generate "$big" "$ROWS" >/dev/null

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
admin="$(curl -sf -X POST "$base/auth/token" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field "['access_token']")"
pat="$(curl -sf -X POST "$base/auth/tokens" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  -d '{"name":"bench"}' | json_field "['token']")"
put() { # name file content-type
  curl -sf -X PUT "$base/api/datasets/$1" -H "authorization: Bearer $admin" -H "content-type: $3" \
    --data-binary "@$2" | json_field "['rows']"
}
echo "uploaded big: $(put big "$big" application/vnd.apache.parquet) rows ($(du -h "$big" | cut -f1))"
echo "uploaded sales: $(put sales tests/fixtures/sales.parquet application/vnd.apache.parquet) rows"
# The server's threads per query, as it computes them (config.rs).
concurrency="${DA_QUERY_CONCURRENCY:-$(nproc)}"
threads="${DA_QUERY_THREADS:-$(( $(nproc) / concurrency > 0 ? $(nproc) / concurrency : 1 ))}"

aggregate="SELECT region, count(*) AS orders, sum(amount) AS total, avg(amount) AS mean, max(day) AS last FROM big GROUP BY region ORDER BY region"
body="{\"sql\": \"$aggregate\"}"
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "da-server $profile build"
echo "== 1. aggregate over $ROWS rows, $ROUNDS rounds, $threads thread(s) per query, $(nproc) cores"
served=()
curl -sf -o /dev/null -X POST "$base/api/query" -H "authorization: Bearer $pat" -H 'content-type: application/json' -d "$body"
for _ in $(seq "$ROUNDS"); do
  seconds="$(curl -sf -o /dev/null -w '%{time_total}' -X POST "$base/api/query" \
    -H "authorization: Bearer $pat" -H 'content-type: application/json' -d "$body")"
  served+=("$(awk -v s="$seconds" 'BEGIN { printf "%.1f", s * 1000 }')")
done
direct_sql="${aggregate//FROM big/FROM data}"
mapfile -t direct_ms < <("$direct" time "$big" "$threads" "$((ROUNDS + 1))" "$direct_sql" | tail -n "$ROUNDS" | awk '{print $1}')
mapfile -t direct_all < <("$direct" time "$big" "$(nproc)" "$((ROUNDS + 1))" "$direct_sql" | tail -n "$ROUNDS" | awk '{print $1}')
s="$(median "${served[@]}")"; d="$(median "${direct_ms[@]}")"; a="$(median "${direct_all[@]}")"
echo "  POST /api/query (whole HTTP round trip): ${served[*]} ms"
echo "  DuckDB in-process, $threads thread(s):      ${direct_ms[*]} ms"
echo "  DuckDB in-process, $(nproc) threads:          ${direct_all[*]} ms (for reference)"
awk -v s="$s" -v d="$d" 'BEGIN { printf "  median: served %.1f ms, direct %.1f ms: %.2f of direct speed (target >= 0.8)\n", s, d, d / s }'

echo "== 2. point queries on the 1,000-row dataset, wrk -t2 -c16 -d$DURATION"
lua="$data/query.lua"
cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $pat"
-- A different id each time: no cache of any layer answers a repeat.
request = function()
  local sql = string.format('{"sql": "SELECT * FROM sales WHERE id = %d"}', math.random(1, 1000))
  return wrk.format(nil, nil, nil, sql)
end
LUA
out="$(wrk --latency -t2 -c16 -d"$DURATION" -s "$lua" "$base/api/query")"
if echo "$out" | grep -q 'Non-2xx'; then echo "non-2xx answers: $out" >&2; exit 1; fi
echo "  $(echo "$out" | awk '/Requests\/sec/ {print $2}') queries/s, p50 $(echo "$out" | awk '$1 == "50%" {print $2}'), p99 $(echo "$out" | awk '$1 == "99%" {print $2}') (target >= 1,000 queries/s)"

echo "== 3. GET /api/me with a PAT while 4 clients run the aggregate, wrk -t1 -c4 -d$DURATION"
heavy_pids=()
counts="$data/heavy"
mkdir -p "$counts"
for n in 1 2 3 4; do
  ( while :; do curl -s -o /dev/null -X POST "$base/api/query" -H "authorization: Bearer $pat" \
      -H 'content-type: application/json' -d "$body" && echo . >>"$counts/$n"; done ) &
  heavy_pids+=($!)
done
sleep 1
out="$(wrk --latency -t1 -c4 -d"$DURATION" -H "Authorization: Bearer $pat" "$base/api/me" || true)"
kill "${heavy_pids[@]}" 2>/dev/null || true
wait "${heavy_pids[@]}" 2>/dev/null || true
done_queries="$(cat "$counts"/* 2>/dev/null | wc -l)"
echo "  $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s, p50 $(echo "$out" | awk '$1 == "50%" {print $2}'), p99 $(echo "$out" | awk '$1 == "99%" {print $2}') (target p99 < 20 ms); $done_queries heavy queries finished meanwhile"
