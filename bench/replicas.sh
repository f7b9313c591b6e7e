#!/usr/bin/env bash
# da on PostgreSQL: one replica against the embedded DuckDB, the invalidation latency between
# two replicas, and two replicas behind nginx against one.
#   bench/replicas.sh            release build (compiles DuckDB's C++ once more in release)
#   bench/replicas.sh --debug    the debug build from ./dev test
# Needs wrk, nginx and PostgreSQL's binaries (Debian: wrk nginx-light postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/da/target}"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
DURATION="${DURATION:-10s}"
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || PATH="$PATH:/usr/sbin" command -v "$tool" >/dev/null \
    || { echo "$tool is missing: apt-get install wrk nginx-light" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin"
if [ "$profile" = release ]; then cargo build --release -p server; else cargo build -p server; fi
bin="$CARGO_TARGET_DIR/$profile/da-server"

source bench/lib.sh
start_postgres "${PG_PORT:-18790}"
start_server "$bin" 18791            # DuckDB, for comparison
replica_pids=()
trap 'kill $server_pid "${replica_pids[@]}" $nginx_pid 2>/dev/null; wait 2>/dev/null; "${pg_stop[@]}" >/dev/null 2>&1; rm -rf "$data" "$pg_dir"' EXIT
nginx_pid=""
replica "$bin" 18792 "$pg_url"
replica "$bin" 18793 "$pg_url"
duck="$base" pg_a="http://127.0.0.1:18792" pg_b="http://127.0.0.1:18793"

json_field() { sed -E "s/.*\"$1\":\"([^\"]+)\".*/\\1/"; }
login() { curl -sf -X POST "$1/auth/token" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field access_token; }
new_pat() { curl -sf -X POST "$1/auth/tokens" -H "authorization: Bearer $2" \
  -H 'content-type: application/json' -d '{"name":"bench"}' | json_field token; }

report() { # name, then wrk arguments
  local name="$1"; shift
  local out; out="$(wrk --latency "$@")"
  printf '%-52s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" \
    "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
    "$(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)"
}
lua="$data/login.lua"
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' \
  "'{\"email\":\"$email\",\"password\":\"$password\"}'" > "$lua"

echo "da-server $profile build, wrk -t2 -d$DURATION, $(nproc) cores"
echo "== one replica: DuckDB vs PostgreSQL"
for backend in duckdb postgres; do
  url="$duck"; [ "$backend" = postgres ] && url="$pg_a"
  session="$(login "$url")"; pat="$(new_pat "$url" "$session")"
  report "GET /api/health ($backend, c64)" -t2 -c64 -d"$DURATION" "$url/api/health"
  report "GET /api/me, PAT ($backend, c64)" -t2 -c64 -d"$DURATION" -H "Authorization: Bearer $pat" "$url/api/me"
  report "GET /api/users?limit=20, PAT ($backend, c16)" -t2 -c16 -d"$DURATION" -H "Authorization: Bearer $pat" "$url/api/users?limit=20"
  report "POST /auth/token ($backend, c8)" -t2 -c8 -d"$DURATION" -s "$lua" "$url/auth/token"
done

echo "== invalidation between two replicas"
python3 bench/invalidation.py "$pg_a" "$pg_b" "$(login "$pg_a")" "${ROUNDS:-100}"

echo "== two replicas behind nginx vs one"
cat > "$data/nginx.conf" <<NGINX
worker_processes 1;
pid $data/nginx.pid;
error_log $data/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  upstream one { server 127.0.0.1:18792; keepalive 64; }
  upstream two { server 127.0.0.1:18792; server 127.0.0.1:18793; keepalive 64; }
  server { listen 127.0.0.1:18794; location / { proxy_pass http://one; proxy_http_version 1.1; proxy_set_header Connection ""; } }
  server { listen 127.0.0.1:18795; location / { proxy_pass http://two; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
NGINX
nginx -c "$data/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
sleep 0.5
session="$(login "$pg_a")"; pat="$(new_pat "$pg_a" "$session")"
report "GET /api/me, PAT (nginx -> 1 replica, c64)" -t2 -c64 -d"$DURATION" -H "Authorization: Bearer $pat" "http://127.0.0.1:18794/api/me"
report "GET /api/me, PAT (nginx -> 2 replicas, c64)" -t2 -c64 -d"$DURATION" -H "Authorization: Bearer $pat" "http://127.0.0.1:18795/api/me"
report "GET /api/users?limit=20 (nginx -> 1 replica, c16)" -t2 -c16 -d"$DURATION" -H "Authorization: Bearer $pat" "http://127.0.0.1:18794/api/users?limit=20"
report "GET /api/users?limit=20 (nginx -> 2 replicas, c16)" -t2 -c16 -d"$DURATION" -H "Authorization: Bearer $pat" "http://127.0.0.1:18795/api/users?limit=20"
