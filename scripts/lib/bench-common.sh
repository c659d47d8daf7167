# Shared by the benchmark scripts: release builds, and one release search-server on the stack.
# Source it after setting `repo` and `work` (a temporary directory the caller removes).

scratch="$repo/.build-release"
bin="$scratch/release"
server_pid=
port=

# release_build PRODUCT...: builds each product in release mode, printing its last line; exits on failure.
release_build() {
  local product
  for product in "$@"; do
    if ! swift build -c release --scratch-path "$scratch" --product "$product" >"$work/build.log" 2>&1; then
      cat "$work/build.log" >&2
      echo "$(basename "$0"): release build of $product failed" >&2
      exit 1
    fi
    tail -n 1 "$work/build.log"
  done
}

# start_release_server SERVICE: one release search-server registered in the stack's Consul as SERVICE; sets
# server_pid and port once it is registered. Its flags: the array server_flags when the caller sets one
# (bench-search runs it as deployed), else log level warning and no metrics.
start_release_server() {
  local service=$1 flags=(--log-level warning --statsd-address "")
  [ -z "${server_flags+set}" ] || flags=("${server_flags[@]}")
  PGHOST=127.0.0.1 PGPORT=5434 PGUSER=postgres PGDATABASE=opsdeck CONSUL_HTTP_ADDR=127.0.0.1:8500 \
    "$bin/search-server" serve --service-name "$service" --instance-id "$service-$$" \
    "${flags[@]}" >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    port=$(curl -fs "http://127.0.0.1:8500/v1/agent/service/$service-$$" | grep -o '"Port": *[0-9]*' | head -n 1 | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  cat "$work/server.log" >&2
  echo "$(basename "$0"): the server did not register" >&2
  exit 1
}

# stop_release_server: SIGTERM to the server this script started (by PID), and wait for it.
stop_release_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; fi
}
