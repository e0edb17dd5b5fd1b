#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests, kept in the repository's
# git-ignored .pgdata/ folder. It never touches the system's default cluster.
#
#   scripts/pg.sh start    idempotent; prints postgres://postgres@127.0.0.1:PORT/gomomo
#   scripts/pg.sh stop     stops the cluster if it runs
#   scripts/pg.sh url      prints the URL of the running cluster (exit 1 if stopped)
#   scripts/pg.sh status   exit 0 and print the URL if it runs, exit 3 otherwise
#   scripts/pg.sh reset    stops it and deletes .pgdata/ (all data)
#   scripts/pg.sh bindir   prints the directory of the PostgreSQL binaries (pgbench)
#
# Only the URL goes to stdout, so `DATABASE_URL=$(scripts/pg.sh start)` works; progress
# and errors go to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGROOT="$ROOT/.pgdata"
DATA="$PGROOT/data"
SOCK="$PGROOT/sock"
LOG="$PGROOT/postgres.log"
PORT_FILE="$PGROOT/port"
URL_FILE="$PGROOT/url"
DB_NAME="gomomo"
SUPERUSER="postgres"
START_TIMEOUT="${PG_START_TIMEOUT:-90}"

# The caller's libpq settings must not redirect our own psql/pg_ctl calls elsewhere.
unset PGDATA PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGOPTIONS \
  PGSSLMODE PGPASSFILE PGSERVICEFILE

say() { echo "pg.sh: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# --- binaries -------------------------------------------------------------------------

BIN=""

# A directory holding initdb, pg_ctl and postgres of one PostgreSQL version.
bindir_ok() { [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ]; }

find_bindir() {
  local p d
  # 1. PATH (resolve symlinks: /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb).
  for p in initdb pg_ctl; do
    if p="$(command -v "$p" 2>/dev/null)"; then
      d="$(dirname "$(readlink -f "$p")")"
      if bindir_ok "$d"; then
        echo "$d"
        return 0
      fi
    fi
  done
  # 2. The newest Debian/Ubuntu versioned install.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -V -r); do
    if bindir_ok "$d"; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

ensure_bindir() {
  if BIN="$(find_bindir)"; then return 0; fi
  if [ "$IS_ROOT" -eq 1 ] && command -v apt-get >/dev/null 2>&1; then
    say "no PostgreSQL binaries found; installing the postgresql package with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    BIN="$(find_bindir)" || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin was found"
    return 0
  fi
  die "no PostgreSQL binaries (initdb, pg_ctl, postgres) on PATH or in /usr/lib/postgresql/*/bin; install PostgreSQL or set DATABASE_URL"
}

psql_bin() {
  if [ -n "$BIN" ] && [ -x "$BIN/psql" ]; then
    echo "$BIN/psql"
  elif command -v psql >/dev/null 2>&1; then
    command -v psql
  else
    die "psql not found (looked in $BIN and on PATH)"
  fi
}

# --- the operating-system user that owns the cluster -----------------------------------
# initdb and postgres refuse to run as root; as root we run them as `postgres`.

RUN_AS=""
pick_user() {
  if [ "$IS_ROOT" -eq 1 ]; then
    RUN_AS="postgres"
    if ! id -u "$RUN_AS" >/dev/null 2>&1; then
      say "creating system user $RUN_AS"
      useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_AS" >&2 ||
        die "could not create the postgres user"
    fi
  fi
}

as_owner() {
  if [ -n "$RUN_AS" ]; then
    # From /: the caller's working directory may be private to root (pg_ctl warns).
    (cd / && runuser -u "$RUN_AS" -- "$@")
  else
    "$@"
  fi
}

# --- state ---------------------------------------------------------------------------

# The pid of the postmaster serving $DATA, if it is alive. A postmaster.pid left behind by
# a crash (or a pid reused by an unrelated process) does not count.
live_pid() {
  local pidfile="$DATA/postmaster.pid" pid comm cwd
  [ -f "$pidfile" ] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  if [ -d /proc ]; then
    [ -r "/proc/$pid/comm" ] || return 1
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    case "$comm" in postgres | postmaster) ;; *) return 1 ;; esac
    # Same data directory? (readable for our own processes and for root)
    if cwd="$(readlink -f "/proc/$pid/cwd" 2>/dev/null)" && [ -n "$cwd" ]; then
      [ "$cwd" = "$(readlink -f "$DATA")" ] || return 1
    fi
  else
    kill -0 "$pid" 2>/dev/null || return 1
  fi
  echo "$pid"
}

# Line 4 of postmaster.pid is the port the running server listens on.
live_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null | tr -d '[:space:]'; }

url_for() { echo "postgres://$SUPERUSER@127.0.0.1:$1/$DB_NAME"; }

clear_stale_files() {
  if [ -f "$DATA/postmaster.pid" ] && ! live_pid >/dev/null; then
    say "removing stale $DATA/postmaster.pid"
    rm -f "$DATA/postmaster.pid"
  fi
  rm -f "$SOCK"/.s.PGSQL.* 2>/dev/null || true
}

# --- ports ---------------------------------------------------------------------------

port_free() {
  local port="$1"
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket()
# postgres sets SO_REUSEADDR too, so a port in TIME_WAIT is usable.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

free_port() {
  local p
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return 0
  fi
  for p in $(seq 54320 54999); do
    if port_free "$p"; then
      echo "$p"
      return 0
    fi
  done
  die "no free TCP port found in 54320-54999"
}

# --- database ------------------------------------------------------------------------

wait_ready() {
  local port="$1" psql deadline
  psql="$(psql_bin)"
  deadline=$((SECONDS + START_TIMEOUT))
  until "$psql" -X -q -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$LOG" >&2 2>/dev/null || true
      die "PostgreSQL on port $port did not answer within ${START_TIMEOUT}s (log: $LOG)"
    fi
    sleep 0.2
  done
}

ensure_database() {
  local port="$1" psql exists
  psql="$(psql_bin)"
  exists="$("$psql" -X -q -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")"
  if [ "$exists" != "1" ]; then
    say "creating database $DB_NAME"
    "$psql" -X -q -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE \"$DB_NAME\"" >&2
  fi
}

publish() {
  local port="$1" url
  url="$(url_for "$port")"
  echo "$port" >"$PORT_FILE"
  echo "$url" >"$URL_FILE"
  echo "$url"
}

# --- directories -------------------------------------------------------------------------

# As root the server runs as `postgres`, which must reach the data folder. A checkout
# under a private folder (/root is 0700) is out of its reach: then the cluster lives in
# /tmp/gomomo-pgdata-<hash of the checkout path> and .pgdata/data and .pgdata/postgres.log
# are symlinks to it, so every later call finds it again.
use_store() {
  DATA="$1/data"
  SOCK="$1/sock"
  LOG="$1/postgres.log"
}
if [ -L "$PGROOT/data" ]; then use_store "$(dirname "$(readlink "$PGROOT/data")")"; fi

prepare_dirs() {
  mkdir -p "$PGROOT"
  if [ -n "$RUN_AS" ]; then
    local group store
    group="$(id -gn "$RUN_AS")"
    if [ ! -L "$PGROOT/data" ] && ! runuser -u "$RUN_AS" -- test -x "$PGROOT"; then
      [ -d "$PGROOT/data" ] && die "user $RUN_AS cannot reach $PGROOT/data (a parent folder is private); run 'scripts/pg.sh reset' to recreate the cluster outside the checkout"
      store="/tmp/gomomo-pgdata-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
      say "user $RUN_AS cannot reach $PGROOT (a parent folder is private); keeping the cluster in $store"
      install -d -m 711 "$store"
      use_store "$store"
      install -d -m 700 -o "$RUN_AS" -g "$group" "$DATA"
      ln -sfn "$DATA" "$PGROOT/data"
      ln -sfn "$LOG" "$PGROOT/postgres.log"
    fi
    install -d -m 700 -o "$RUN_AS" -g "$group" "$DATA" "$SOCK"
    touch "$LOG"
    chown "$RUN_AS:$group" "$LOG"
    # A cluster made earlier by another user (or copied in) must belong to the server user.
    if [ "$(stat -c %U "$DATA")" != "$RUN_AS" ] || [ -n "$(find "$DATA" ! -user "$RUN_AS" -print -quit)" ]; then
      chown -R "$RUN_AS:$group" "$DATA"
    fi
    runuser -u "$RUN_AS" -- test -w "$DATA" -a -w "$SOCK" -a -w "$LOG" ||
      die "user $RUN_AS cannot write to $DATA, $SOCK or $LOG"
  else
    install -d -m 700 "$DATA" "$SOCK"
    touch "$LOG"
  fi
}

# Unix socket paths are limited to ~107 bytes; a deep checkout gets a short socket folder.
socket_dir() {
  if [ $((${#SOCK} + 20)) -lt 100 ]; then
    echo "$SOCK"
  else
    local short
    short="/tmp/gomomo-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
    if [ -n "$RUN_AS" ]; then
      install -d -m 700 -o "$RUN_AS" "$short"
    else
      install -d -m 700 "$short"
    fi
    echo "$short"
  fi
}

# --- commands ------------------------------------------------------------------------

cmd_start() {
  mkdir -p "$PGROOT"
  # Two callers at once (make run in one terminal, make test in another) must not both
  # initdb or both start a server on the same folder.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$PGROOT/.lock"
    flock -w 120 9 || die "timed out waiting for the lock on $PGROOT/.lock"
  fi

  local port
  if live_pid >/dev/null; then
    port="$(live_port)"
    [[ "$port" =~ ^[0-9]+$ ]] || die "cannot read the port from $DATA/postmaster.pid"
    BIN="$(find_bindir || true)"
    say "reusing the running cluster in $DATA (port $port)"
    wait_ready "$port"
    ensure_database "$port"
    publish "$port"
    return 0
  fi

  ensure_bindir
  pick_user
  prepare_dirs
  clear_stale_files

  local version
  version="$("$BIN/postgres" --version | grep -oE '[0-9]+(\.[0-9]+)*' | head -n1 | cut -d. -f1)"
  if [ -f "$DATA/PG_VERSION" ]; then
    if [ "$(cat "$DATA/PG_VERSION")" != "$version" ]; then
      die "$DATA holds a PostgreSQL $(cat "$DATA/PG_VERSION") cluster but the binaries in $BIN are version $version; run 'scripts/pg.sh reset' to start over"
    fi
  else
    # A half-made data folder (initdb interrupted) is useless: start it over.
    if [ -n "$(ls -A "$DATA" 2>/dev/null)" ]; then
      say "removing an incomplete cluster in $DATA"
      find "$DATA" -mindepth 1 -delete
    fi
    say "initdb (PostgreSQL $version from $BIN) into $DATA"
    as_owner "$BIN/initdb" -D "$DATA" -U "$SUPERUSER" --auth=trust -E UTF8 --locale=C --no-sync >>"$LOG" 2>&1 ||
      {
        tail -n 20 "$LOG" >&2
        die "initdb failed (log: $LOG)"
      }
  fi

  local sockdir attempt preload=""
  sockdir="$(socket_dir)"
  # PG_PRELOAD=pg_stat_statements (scripts/profile-booking.sh) loads that library, which
  # counts every statement; off by default (it costs a little on each one).
  if [ -n "${PG_PRELOAD:-}" ]; then
    [[ "$PG_PRELOAD" =~ ^[a-z_,]+$ ]] || die "PG_PRELOAD: library names only, got $PG_PRELOAD"
    preload=" -c shared_preload_libraries=$PG_PRELOAD"
  fi
  port=""
  if [ -s "$PORT_FILE" ]; then
    port="$(tr -d '[:space:]' <"$PORT_FILE")"
    [[ "$port" =~ ^[0-9]+$ ]] && port_free "$port" || port=""
  fi
  for attempt in 1 2 3; do
    [ -n "$port" ] || port="$(free_port)"
    say "starting PostgreSQL on 127.0.0.1:$port (log: $LOG)"
    # fsync off: the cluster is disposable. max_connections: the tests run many databases
    # at once and 64-way booking races. No parallel workers: 2-core CI machines.
    if as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$START_TIMEOUT" -s \
      -o "-p $port -k '$sockdir' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c max_parallel_workers_per_gather=0${preload}" \
      start >&2 9>&-; then
      wait_ready "$port"
      ensure_database "$port"
      publish "$port"
      return 0
    fi
    say "start attempt $attempt failed; last log lines:"
    tail -n 15 "$LOG" >&2 || true
    clear_stale_files
    port=""
  done
  die "could not start PostgreSQL (log: $LOG)"
}

cmd_stop() {
  local pid
  if ! pid="$(live_pid)"; then
    clear_stale_files
    say "not running"
    return 0
  fi
  if BIN="$(find_bindir)"; then
    pick_user
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 -s stop >&2 && {
      say "stopped"
      return 0
    }
  fi
  # No pg_ctl (or it failed): SIGINT is PostgreSQL's "fast shutdown".
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || {
      say "stopped"
      return 0
    }
    sleep 0.2
  done
  die "PostgreSQL (pid $pid) did not stop"
}

cmd_url() {
  if live_pid >/dev/null; then
    url_for "$(live_port)"
  else
    say "not running (scripts/pg.sh start)"
    return 1
  fi
}

cmd_status() {
  if live_pid >/dev/null; then
    url_for "$(live_port)"
  else
    say "not running"
    return 3
  fi
}

cmd_reset() {
  cmd_stop
  if [ -L "$PGROOT/data" ]; then
    say "deleting $(dirname "$DATA")"
    rm -rf "$(dirname "$DATA")"
  fi
  say "deleting $PGROOT"
  rm -rf "$PGROOT"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  url) cmd_url ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  bindir)
    # The PostgreSQL binaries in use (pgbench for the booking floor of make bench).
    BIN="$(find_bindir)" || die "no PostgreSQL binaries found (scripts/pg.sh start installs them)"
    echo "$BIN"
    ;;
  *)
    echo "usage: $0 start|stop|url|status|reset|bindir" >&2
    exit 2
    ;;
esac
