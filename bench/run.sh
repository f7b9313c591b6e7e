#!/usr/bin/env bash
# Throughput and latency of the hot paths, with wrk against a local da-server.
#   bench/run.sh            release build (compiles DuckDB's C++ once more in release, ~25 min cold)
#   bench/run.sh --debug    reuse the debug build from ./dev test (figures are then much lower)
# Prints req/s, p50/p99 and non-2xx for:
#   1. the credential check: GET /api/health (no auth), GET /api/me and GET /api/users?limit=20
#      with a session JWT and with a personal access token, at 16 and 64 connections; password
#      logins per second; GET /api/me with the PAT while 8 clients log in;
#   2. after seeding USERS (100000; ~25 min through the API at ~67 creates/s) users: GET /api/users?limit=100, the exact
#      email lookup, and GET /api/me with a session while 8 clients log in.
# Loopback only; every run is bounded in time (DURATION, default 10s). Rate limits are lifted.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/da/target}"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
DURATION="${DURATION:-10s}"
USERS="${USERS:-100000}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
if [ "$profile" = release ]; then cargo build --release -p server; else cargo build -p server; fi
bin="$CARGO_TARGET_DIR/$profile/da-server"

source bench/lib.sh
start_server "$bin" "${BENCH_PORT:-18765}"

json_field() { sed -E "s/.*\"$1\":\"([^\"]+)\".*/\\1/"; }
session="$(curl -sf -X POST "$base/auth/token" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field access_token)"
pat="$(curl -sf -X POST "$base/auth/tokens" -H "authorization: Bearer $session" \
  -H 'content-type: application/json' -d '{"name":"bench"}' | json_field token)"

lua="$data/login.lua"
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
  printf '%-46s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

# Runs wrk logins in the background while reporting the given run.
during_logins() { # name, then wrk arguments
  local name="$1"; shift
  wrk -t1 -c8 -d"$DURATION" -s "$lua" "$base/auth/token" > "$data/logins.txt" &
  local logins=$!
  sleep 1
  report "$name" "$@"
  wait "$logins"
  printf '%-46s %10s req/s\n' "  (password logins meanwhile)" "$(awk '/Requests\/sec/ {print $2}' "$data/logins.txt")"
}

as_session=(-H "Authorization: Bearer $session")
as_pat=(-H "Authorization: Bearer $pat")
short="$(( ${DURATION%s} - 2 ))s"

echo "da-server $profile build, wrk -t2 -d$DURATION, $(nproc) cores"
if [ -z "${ONLY_USERS:-}" ]; then  # ONLY_USERS=1 skips part 1
for c in 16 64; do
  report "GET /api/health (c$c)" -t2 -c"$c" -d"$DURATION" "$base/api/health"
  report "GET /api/me, session (c$c)" -t2 -c"$c" -d"$DURATION" "${as_session[@]}" "$base/api/me"
  report "GET /api/me, PAT (c$c)" -t2 -c"$c" -d"$DURATION" "${as_pat[@]}" "$base/api/me"
  report "GET /api/users?limit=20, session (c$c)" -t2 -c"$c" -d"$DURATION" "${as_session[@]}" "$base/api/users?limit=20"
  report "GET /api/users?limit=20, PAT (c$c)" -t2 -c"$c" -d"$DURATION" "${as_pat[@]}" "$base/api/users?limit=20"
done
report "POST /auth/token (Argon2id, c8)" -t2 -c8 -d"$DURATION" -s "$lua" "$base/auth/token"
during_logins "GET /api/me, PAT (c64) during 8 logins" -t1 -c64 -d"$short" "${as_pat[@]}" "$base/api/me"
fi

echo
python3 bench/seed_users.py "$base" "$session" "$USERS" 8
report "GET /api/users?limit=100 ($USERS users, c64)" -t2 -c64 -d"$DURATION" "${as_session[@]}" "$base/api/users?limit=100"
report "GET /api/users?limit=20, PAT ($USERS users, c16)" -t2 -c16 -d"$DURATION" "${as_pat[@]}" "$base/api/users?limit=20"
report "GET /api/users?email= (exact, c4)" -t2 -c4 -d"$DURATION" "${as_session[@]}" \
  "$base/api/users?email=user$((USERS / 2))%40bench.example"
during_logins "GET /api/me, session (c8) during 8 logins" -t1 -c8 -d"$short" "${as_session[@]}" "$base/api/me"
