# Shared by the benchmarks (sourced): a da-server on loopback with a seeded admin.
# start_server BIN PORT sets data (a temp dir, removed on exit), base, email and password, and
# stops the server when the script exits. Rate limits are lifted.
start_server() {
  local bin="$1" port="$2"
  data="$(mktemp -d)"
  base="http://127.0.0.1:$port"
  email=bench@example.com
  password=bench-password-1
  DA_BIND="127.0.0.1:$port" DA_DATA_DIR="$data/server" DA_LOG=warn DA_RATE_LIMIT_LOGIN=0 \
    DA_ADMIN_EMAIL="$email" DA_ADMIN_PASSWORD="$password" "$bin" >/dev/null &
  server_pid=$!
  trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null; rm -rf "$data"' EXIT
  for _ in $(seq 100); do curl -sf "$base/api/health" >/dev/null && break; sleep 0.1; done
}
