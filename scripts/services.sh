#!/usr/bin/env bash
# Start or stop the throwaway PostgreSQL and Redis servers the tests use.
#   scripts/services.sh start DIR   -> prints export lines for the test URLs
#   scripts/services.sh stop DIR
# Both listen on loopback only, on ports chosen free at start.
set -euo pipefail

action=${1:?start or stop}
dir=$(realpath -m "${2:?folder for the server files}")
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  mkdir -p "$dir"
  # mktemp makes folders only root can enter; the postgres user must reach its own.
  chmod 755 "$dir"
  if [ -f "$dir/env" ]; then cat "$dir/env"; return; fi
  pg_port=$(free_port)
  redis_port=$(free_port)
  # PostgreSQL refuses to run as root, so its files belong to the postgres user.
  mkdir -p "$dir/pg"
  chown postgres:postgres "$dir/pg"
  chmod 700 "$dir/pg"
  runuser -u postgres -- "$pg_bin/initdb" -D "$dir/pg/data" -U postgres -A trust --no-sync -E UTF8 \
    >"$dir/pg/initdb.log" 2>&1
  # A throwaway cluster: durability settings off make the suite several times faster.
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
  for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cat >"$dir/env" <<ENV
export NURTURE_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres
export NURTURE_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0
ENV
  cat "$dir/env"
}

stop() {
  if [ -d "$dir/pg/data" ]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -f "$dir/redis.pid" ]; then
    kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

"$action"
