#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests: initdb in a temporary
# folder, listening on 127.0.0.1 only, on a free port, with its socket in
# that folder. Sourced by scripts/test.sh:
#   source scripts/pg.sh; pg_start     exports AMANA_TEST_PG (admin conninfo)
#   pg_stop                            stops it and removes the folder
# As root, the server runs as the "postgres" system user (initdb refuses
# root); as another user, as that user.

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] || { echo "pg.sh: no PostgreSQL server installed (apt-get install postgresql)" >&2; return 1; }
  echo "$d"
}

pg_as() { # run a command as the server's user
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_opts() { # the server's settings, listening on port $1 (AMANA_PG_DIR set)
  echo "-c listen_addresses=127.0.0.1 -p $1 -k $AMANA_PG_DIR -c max_connections=200 -c fsync=on"
}

pg_start() {
  local bin port
  bin=$(pg_bin) || return 1
  AMANA_PG_DIR=$(mktemp -d /tmp/amana-pg-XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$AMANA_PG_DIR"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # trust on loopback only: a throwaway cluster that dies with the test run
  pg_as "$bin/initdb" -D "$AMANA_PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$AMANA_PG_DIR/initdb.log" 2>&1 ||
    { cat "$AMANA_PG_DIR/initdb.log" >&2; return 1; }
  pg_as "$bin/pg_ctl" -D "$AMANA_PG_DIR/data" -l "$AMANA_PG_DIR/server.log" -w \
    -o "$(pg_opts "$port")" start >/dev/null ||
    { cat "$AMANA_PG_DIR/server.log" >&2; return 1; }
  export AMANA_PG_DIR
  export AMANA_TEST_PG="host=127.0.0.1 port=$port user=postgres dbname=postgres"
  export AMANA_TEST_PG_PORT=$port
  # the roles a registry uses: one owns the tables, one only uses them
  psql -q "$AMANA_TEST_PG" -c "CREATE ROLE amana_owner LOGIN" -c "CREATE ROLE amana_app LOGIN" >/dev/null
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $AMANA_PG_DIR/data"
}

pg_stop() {
  [ -n "${AMANA_PG_DIR:-}" ] && [ -d "$AMANA_PG_DIR" ] || return 0
  local bin
  bin=$(pg_bin) || return 0
  pg_as "$bin/pg_ctl" -D "$AMANA_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$AMANA_PG_DIR"
  unset AMANA_PG_DIR AMANA_TEST_PG
}
