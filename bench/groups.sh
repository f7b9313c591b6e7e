#!/usr/bin/env bash
# The cost of groups on the auth hot path: GET /api/me with a PAT whose owner is in 3 groups
# (each granting a role) against a PAT whose owner is in none, in the same run, alternating
# ROUNDS times so drift (thermal, other load) hits both alike.
#   bench/groups.sh           release build
#   bench/groups.sh --debug   the debug build of ./dev test (the path is in memory either way)
# Prints req/s and p99 per round and the ratio of the medians; the target is within 10 %.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/da/target}"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-64}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
# Debug: the binary ./dev build made (building here with other flags would rebuild DuckDB).
if [ "$profile" = release ]; then cargo build --release; fi
[ -x "$CARGO_TARGET_DIR/$profile/da-server" ] || { echo "no $profile da-server: run ./dev build" >&2; exit 1; }
source bench/lib.sh
start_server "$CARGO_TARGET_DIR/$profile/da-server" "${BENCH_PORT:-18766}"

# Two viewers, one in three groups, each with a PAT; printed as "NAME TOKEN" lines.
tokens="$(python3 - "$base" "$email" "$password" <<'PY'
import json, sys, urllib.request
base, email, password = sys.argv[1:4]

def call(method, path, token=None, body=None, expect=(200, 201, 204)):
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        assert response.status in expect, (path, response.status)
        text = response.read()
        return json.loads(text) if text else None

admin = call("POST", "/auth/token", body={"email": email, "password": password})["access_token"]
for name in ("plain", "grouped"):
    user = call("POST", "/api/users", admin, {"email": f"{name}@bench.example", "role": "viewer"})
    call("POST", f"/api/users/{user['id']}/set-password", admin, {"password": "bench-password-2"})
    if name == "grouped":
        for group, role in (("Readers", "viewer"), ("Analysts", "analyst"), ("Stewards", "km_admin")):
            made = call("POST", "/api/groups", admin, {"name": group, "role": role,
                                                       "external_ids": [group.lower()]})
            call("PUT", f"/api/groups/{made['id']}/members/{user['id']}", admin)
    session = call("POST", "/auth/token",
                   body={"email": f"{name}@bench.example", "password": "bench-password-2"})["access_token"]
    pat = call("POST", "/auth/tokens", session, {"name": "bench"})["token"]
    me = call("GET", "/api/me", pat)
    print(name, pat, me["effective_role"], len(me["groups"]))
PY
)"
read -r _ plain plain_role plain_groups <<<"$(grep '^plain ' <<<"$tokens")"
read -r _ grouped grouped_role grouped_groups <<<"$(grep '^grouped ' <<<"$tokens")"

run() { # token → "req/s p99"
  local out; out="$(wrk --latency -t2 -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $1" "$base/api/me")"
  if echo "$out" | grep -q 'Non-2xx'; then echo "non-2xx answers: $out" >&2; exit 1; fi
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1 == "99%" {print $2}')"
}

echo "da-server $profile build, wrk -t2 -c$CONNECTIONS -d$DURATION, $(nproc) cores, $ROUNDS rounds"
echo "  plain:   $plain_groups groups, acts as $plain_role"
echo "  grouped: $grouped_groups groups, acts as $grouped_role"
plain_rates=(); grouped_rates=()
for round in $(seq "$ROUNDS"); do
  read -r rate p99 <<<"$(run "$plain")"; plain_rates+=("$rate")
  printf 'round %s  GET /api/me, PAT, no groups   %10s req/s   p99 %8s\n' "$round" "$rate" "$p99"
  read -r rate p99 <<<"$(run "$grouped")"; grouped_rates+=("$rate")
  printf 'round %s  GET /api/me, PAT, 3 groups    %10s req/s   p99 %8s\n' "$round" "$rate" "$p99"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
p="$(median "${plain_rates[@]}")"; g="$(median "${grouped_rates[@]}")"
awk -v p="$p" -v g="$g" 'BEGIN {
  printf "median: no groups %.0f req/s, 3 groups %.0f req/s: 3 groups at %.1f %% (target >= 90 %%)\n", p, g, 100 * g / p }'
