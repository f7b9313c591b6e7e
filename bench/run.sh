#!/usr/bin/env bash
# Throughput and latency of the hot paths, with wrk against a local da-server.
#   bench/run.sh            release build (compiles DuckDB's C++ once more in release, ~20 min cold)
#   bench/run.sh --debug    reuse the debug build from ./dev test (figures are then much lower)
# Prints req/s and p50/p99 for: GET /api/health, GET /api/me with a session token (64
# connections), password logins per second, and (after seeding USERS=100000 users through the
# API) GET /api/users?limit=100, the exact-email lookup, and GET /api/me while 8 clients log in.
# Loopback only; every run is bounded in time. Rate limits are lifted for the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/da/target}"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ "$profile" = release ]; then cargo build --release -p server; else cargo build -p server; fi
bin="$CARGO_TARGET_DIR/$profile/da-server"

data="$(mktemp -d)"
port="${BENCH_PORT:-18765}"
base="http://127.0.0.1:$port"
email=bench@example.com
password=bench-password-1
USERS="${USERS:-100000}"
DA_BIND="127.0.0.1:$port" DA_DATA_DIR="$data" DA_LOG=warn DA_RATE_LIMIT_LOGIN=0 \
  DA_ADMIN_EMAIL="$email" DA_ADMIN_PASSWORD="$password" "$bin" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "$base/api/health" >/dev/null && break; sleep 0.1; done

token="$(curl -sf -X POST "$base/auth/token" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')"

lua="$(mktemp --suffix .lua)"
cat > "$lua" <<LUA
wrk.method = "POST"
wrk.body = '{"email":"$email","password":"$password"}'
wrk.headers["Content-Type"] = "application/json"
LUA

report() { # name, then wrk arguments
  local name="$1"; shift
  local out; out="$(wrk --latency "$@")"
  local rps p50 p99 non2xx
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  p50="$(echo "$out" | awk '$1 == "50%" {print $2}')"
  p99="$(echo "$out" | awk '$1 == "99%" {print $2}')"
  non2xx="$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
  printf '%-34s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "da-server $profile build, wrk -t2 -c$CONNECTIONS -d$DURATION, $(nproc) cores"
report "GET /api/health" -t2 -c"$CONNECTIONS" -d"$DURATION" "$base/api/health"
report "GET /api/me (session JWT)" -t2 -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $token" "$base/api/me"
report "POST /auth/token (Argon2id)" -t2 -c8 -d"$DURATION" -s "$lua" "$base/auth/token"

python3 bench/seed_users.py "$base" "$token" "$USERS" 8
auth=(-H "Authorization: Bearer $token")
report "GET /api/users?limit=100 ($USERS users)" -t2 -c"$CONNECTIONS" -d"$DURATION" "${auth[@]}" "$base/api/users?limit=100"
report "GET /api/users?email= (exact, c4)" -t2 -c4 -d"$DURATION" "${auth[@]}" \
  "$base/api/users?email=user$((USERS / 2))%40bench.example"
# Logins saturate the cores with Argon2id; other requests must stay quick meanwhile.
wrk -t2 -c8 -d"$DURATION" -s "$lua" "$base/auth/token" > "$data/logins.txt" &
logins=$!
sleep 1
report "GET /api/me (c8) during 8 logins" -t1 -c8 -d"$(( ${DURATION%s} - 2 ))s" "${auth[@]}" "$base/api/me"
wait $logins
printf '%-34s %10s req/s\n' "  (logins meanwhile)" "$(awk '/Requests\/sec/ {print $2}' "$data/logins.txt")"
rm -f "$lua"
