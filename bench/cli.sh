#!/usr/bin/env bash
# Wall time of the `da` CLI and the size of its release binary.
#   bench/cli.sh            release da + release da-server
#   bench/cli.sh --debug    the debug builds from ./dev test (for a quick look; slower)
# Prints: binary size; `da --version`; `da auth whoami` with a PAT (DA_TOKEN) and with a stored
# session, against a local server on loopback. Targets: --version < 10 ms, whoami < 30 ms.
# Uses hyperfine when installed (apt-get install hyperfine), else a timed loop.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/da/target}"
profile=release
[ "${1:-}" = "--debug" ] && profile=debug
RUNS="${RUNS:-100}"

if [ "$profile" = release ]; then cargo build --release -p server -p cli; else cargo build -p server -p cli; fi
server_bin="$CARGO_TARGET_DIR/$profile/da-server"
da="$CARGO_TARGET_DIR/$profile/da"

source bench/lib.sh
start_server "$server_bin" "${BENCH_PORT:-18766}"

export DA_CONFIG_DIR="$data/config"
echo "$password" | "$da" login --server "$base" --email "$email" --password-stdin >/dev/null
pat="$("$da" auth token create --name bench --raw)"

size="$(stat -c %s "$da")"
printf '%-40s %s bytes (%s MiB)\n' "da binary ($profile)" "$size" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"

# Mean and min wall time of a command, in ms.
measure() { # name, command...
  local name="$1"; shift
  if command -v hyperfine >/dev/null; then
    local json="$data/hyperfine.json"
    hyperfine --warmup 5 --runs "$RUNS" -N --export-json "$json" "$*" >/dev/null 2>&1
    python3 - "$name" "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["results"][0]
t = sorted(r["times"])
p95 = t[int(0.95 * (len(t) - 1))]
print(f"{sys.argv[1]:<40} mean {r['mean']*1000:6.2f} ms   min {r['min']*1000:6.2f} ms   p95 {p95*1000:6.2f} ms   ({len(t)} runs, hyperfine)")
PY
  else
    local start end
    start="$(date +%s%N)"
    for _ in $(seq "$RUNS"); do "$@" >/dev/null; done
    end="$(date +%s%N)"
    printf '%-40s mean %6.2f ms   (%s runs, shell loop)\n' "$name" \
      "$(awk -v d="$((end - start))" -v n="$RUNS" 'BEGIN { print d / n / 1e6 }')" "$RUNS"
  fi
}

measure "da --version" "$da" --version
DA_TOKEN="$pat" measure "da auth whoami (PAT from DA_TOKEN)" "$da" auth whoami
measure "da auth whoami (stored session)" "$da" auth whoami
measure "da auth token list (stored session)" "$da" auth token list
