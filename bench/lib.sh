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

# start_postgres PORT: a throw-away PostgreSQL cluster (initdb, fsync off) on loopback, as the
# `postgres` user when run as root; sets pg_url (database `da`) and stops it when the script
# exits (chain your own EXIT trap after calling this: it sets one).
start_postgres() {
  local port="$1" bindir
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -x "$bindir/initdb" ] || { echo "PostgreSQL is missing: apt-get install postgresql" >&2; exit 1; }
  pg_dir="$(mktemp -d)"
  local run=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg_dir"; run=(runuser -u postgres --); fi
  "${run[@]}" "$bindir/initdb" -D "$pg_dir/data" -U postgres --auth=trust --no-sync >/dev/null
  "${run[@]}" "$bindir/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -o \
    "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" \
    start >/dev/null
  "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE da" >/dev/null
  pg_url="postgres://postgres@127.0.0.1:$port/da?sslmode=disable"
  pg_stop=("${run[@]}" "$bindir/pg_ctl" -D "$pg_dir/data" -m fast stop)
}

# replica BIN PORT URL: a da-server on the database URL (its own data dir under $data).
replica() {
  local bin="$1" port="$2" url="$3"
  DA_BIND="127.0.0.1:$port" DA_DATA_DIR="$data/replica-$port" DA_DATABASE_URL="$url" DA_LOG=warn \
    DA_RATE_LIMIT_LOGIN=0 DA_ADMIN_EMAIL="$email" DA_ADMIN_PASSWORD="$password" "$bin" >/dev/null &
  replica_pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
}
