#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL cluster for tests and local development, then print its URL.
#
#   scripts/start-postgres.sh          # idempotent: init if missing, start if stopped, create the database
#   scripts/start-postgres.sh stop     # stop the cluster (the data dir is kept)
#   scripts/start-postgres.sh destroy  # stop it and delete the data dir
#
# Only the URL goes to stdout, so callers can do: export PACHCA_DIGEST_TEST_PG="$(scripts/start-postgres.sh)".
# The cluster is independent of any system cluster that `apt-get install postgresql` may have started on 5432:
# its own data dir, its own port, sockets inside the data dir, trust auth on 127.0.0.1 only. Never use it for
# real data (fsync is off).
#
# Environment (all optional):
#   PACHCA_DIGEST_PG_DATA  data directory            (default /tmp/pachca-digest-pg)
#   PACHCA_DIGEST_PG_PORT  TCP port on 127.0.0.1     (default 55432)
#   PACHCA_DIGEST_PG_DB    database to create        (default pachca_digest_test)
#   PACHCA_DIGEST_PG_BIN   PostgreSQL binaries dir   (default /usr/lib/postgresql/15/bin, else newest installed)
set -euo pipefail

DATA="${PACHCA_DIGEST_PG_DATA:-/tmp/pachca-digest-pg}"
PORT="${PACHCA_DIGEST_PG_PORT:-55432}"
DB="${PACHCA_DIGEST_PG_DB:-pachca_digest_test}"
BIN="${PACHCA_DIGEST_PG_BIN:-}"
ACTION="${1:-start}"

log() { echo "start-postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -z "$BIN" ]]; then
  if [[ -x /usr/lib/postgresql/15/bin/pg_ctl ]]; then
    BIN=/usr/lib/postgresql/15/bin
  else
    # Another Debian major version is fine for tests; pick the newest one present.
    BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  fi
fi
[[ -n "$BIN" && -x "$BIN/pg_ctl" ]] || die "PostgreSQL binaries not found (looked in /usr/lib/postgresql/*/bin). Install them: apt-get install -y postgresql, or set PACHCA_DIGEST_PG_BIN."

# PostgreSQL refuses to run as root: as root, everything runs as the `postgres` OS user.
if [[ "$(id -u)" == "0" ]]; then
  id postgres >/dev/null 2>&1 || die "running as root but the 'postgres' OS user does not exist (apt-get install postgresql creates it)"
  as_pg() { runuser -u postgres -- "$@"; }
  PG_OWNER=postgres
else
  as_pg() { "$@"; }
  PG_OWNER="$(id -un)"
fi

is_running() { as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

case "$ACTION" in
  start) ;;
  stop)
    if [[ -f "$DATA/PG_VERSION" ]] && is_running; then
      as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    else
      log "not running ($DATA)"
    fi
    exit 0
    ;;
  destroy)
    if [[ -f "$DATA/PG_VERSION" ]] && is_running; then as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w stop >&2; fi
    rm -rf -- "$DATA"
    log "removed $DATA"
    exit 0
    ;;
  *) die "unknown action '$ACTION' (expected start, stop or destroy)" ;;
esac

if [[ ! -f "$DATA/PG_VERSION" ]]; then
  log "initializing a throwaway cluster in $DATA"
  mkdir -p "$DATA"
  [[ -z "$(ls -A "$DATA")" ]] || die "$DATA exists, is not empty and is not a PostgreSQL data dir; set PACHCA_DIGEST_PG_DATA elsewhere"
  chown "$PG_OWNER" "$DATA"
  chmod 700 "$DATA"
  # -U postgres: the superuser is always named postgres, whoever runs this, so the printed URL is stable.
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null
  # Settings for a disposable test server: durability off (speed on 2 cores), sockets kept inside the data dir
  # so neither /var/run/postgresql nor the system cluster is touched.
  as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<EOF

# --- pachca-digest test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
EOF
fi

start_cluster() {
  log "starting on 127.0.0.1:$PORT"
  # The port is passed at start time so PACHCA_DIGEST_PG_PORT also applies to an existing data dir.
  # pg_ctl -w waits for readiness; a stale postmaster.pid from a crash is handled by postgres itself.
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -o "-p $PORT" -w -t 60 start >/dev/null \
    || { tail -n 20 "$DATA/server.log" >&2 || true; die "PostgreSQL did not start (log: $DATA/server.log)"; }
}

wait_ready() {
  for _ in $(seq 1 "$1"); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres; then return 0; fi
    sleep 0.5
  done
  return 1
}

if is_running; then
  log "already running ($DATA)"
else
  start_cluster
fi

# Ready means accepting TCP connections on the port we print. A cluster that looked running may be
# the remains of a killed one (its postmaster.pid not yet stale): if it goes away, start it again.
if ! wait_ready 60; then
  if ! is_running; then
    start_cluster
    wait_ready 60 || die "PostgreSQL in $DATA started but does not accept connections on 127.0.0.1:$PORT"
  else
    die "the cluster in $DATA runs but does not accept connections on 127.0.0.1:$PORT (was it started with another port? try: $0 stop)"
  fi
fi

psql_pg() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres "$@"; }
if [[ "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]]; then
  log "creating database $DB"
  psql_pg -c "CREATE DATABASE \"$DB\"" >/dev/null
fi

echo "postgres://postgres@127.0.0.1:$PORT/$DB"
