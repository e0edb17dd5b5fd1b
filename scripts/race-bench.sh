#!/usr/bin/env bash
# The HTTP race and throughput benchmark with its floors, in one invocation:
#   1. the SQL-only booking floor: bench/sql/booking_min*.sql under pgbench against the same
#      Postgres, on the benchmark's shape (4 resources), at 8 and at 32 clients (the higher
#      is the floor);
#   2. builds the release server, starts it on a free port against the project's Postgres
#      (scripts/pg.sh, or DATABASE_URL when set), runs the load client bench/load against it
#      (uncontended, race, throughput), then reads what the load left behind: outbox rows
#      not published (events left to the scheduler's sweep), the server's peak RSS, and the
#      CPU time the load cost the server and Postgres (from /proc: less noisy on a shared
#      machine than the wall-clock figures, since waiting for a core costs no CPU time).
# Figures go to stdout as `SUMMARY|…` lines too (scripts/bench.sh makes the table).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" ]]; then
  DATABASE_URL="$(scripts/pg.sh start | tail -n1)"
fi
export DATABASE_URL
export PGOPTIONS="-c client_min_messages=warning"
export GOMOMO_PLATFORM_KEY="bench-platform-key-$(date +%s)-0123456789abcdef"
export DB_MAX_CONNECTIONS="${DB_MAX_CONNECTIONS:-48}"
export RUST_LOG="${RUST_LOG:-warn}"
# The bench hammers from one loopback client: request budgets are off unless asked for
# (RATE_LIMITS=on bash scripts/race-bench.sh measures them instead). Autonomy off, as the
# figures this is compared with were measured.
export RATE_LIMITS="${RATE_LIMITS:-off}" AUTONOMY_ENABLED="${AUTONOMY_ENABLED:-false}"
echo "race-bench: rate limits ${RATE_LIMITS} (RATE_LIMITS), autonomy ${AUTONOMY_ENABLED}"

# ---- 1. the SQL-only floor ----
PGBIN="$(scripts/pg.sh bindir)"
FLOOR_DB="${DATABASE_URL%/*}/gomomo_floor"
psql "$DATABASE_URL" -Xq -c "DROP DATABASE IF EXISTS gomomo_floor" -c "CREATE DATABASE gomomo_floor"
psql "$FLOOR_DB" -Xq -v ON_ERROR_STOP=1 -f bench/sql/booking_min_schema.sql
FLOOR=0
for clients in 8 32; do
  psql "$FLOOR_DB" -Xq -c "TRUNCATE mb_hold, mb_appt, mb_audit, mb_outbox"
  if ! out="$("$PGBIN/pgbench" "$FLOOR_DB" -n -j 2 -c "$clients" -T "${FLOOR_SECONDS:-10}" \
    -D nres=4 -D nslots=1000000 -f bench/sql/booking_min.sql 2>&1)"; then
    echo "floor: pgbench at ${clients} clients failed:" >&2
    tail -n 5 <<<"$out" >&2
  fi
  tps="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n1)"
  echo "floor: pgbench, ${clients} clients, 4 resources: ${tps} bookings/s"
  FLOOR="$(python3 -c "print(max(float('$FLOOR'), float('${tps:-0}')))")"
done
psql "$DATABASE_URL" -Xq -c "DROP DATABASE IF EXISTS gomomo_floor"
export BENCH_FLOOR_BOOKINGS="$FLOOR"

# ---- 2. the server under load ----
# GOMOMO_BIN: measure another build of the server (e.g. an older commit's) with this client.
BIN="${GOMOMO_BIN:-}"
if [[ -z "$BIN" ]]; then
  cargo build --release --bin gomomo
  BIN=./target/release/gomomo
fi
"$BIN" migrate
LOG="$(mktemp)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$BIN" serve --addr "127.0.0.1:${PORT}" 2>"$LOG" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
BEFORE="$(psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM outbox WHERE published_at IS NULL")"
# CPU clock ticks of a process (user + system), and of Postgres: the postmaster with its
# reaped children and every live child (the server's pooled backends live through the load).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() {
  local total pid
  total="$(awk '{print $14 + $15 + $16 + $17}' "/proc/$POSTMASTER/stat")"
  for pid in $(cat "/proc/$POSTMASTER/task/$POSTMASTER/children" 2>/dev/null); do
    total=$((total + $(ticks "$pid" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# The postmaster's pid is the first line of postmaster.pid in its data directory (the
# server is on this machine: every benchmark here talks to loopback only).
PGDATA_DIR="$(psql "$DATABASE_URL" -XtAc "SHOW data_directory")"
POSTMASTER="$(head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true)"
[[ -n "$POSTMASTER" && -r "/proc/$POSTMASTER/stat" ]] || POSTMASTER=""
HZ="$(getconf CLK_TCK)"
BOOKED0="$(psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM appointments")"
SERVER_T0="$(ticks "$SERVER")"; PG_T0="$( [[ -n "$POSTMASTER" ]] && pg_ticks || echo 0)"
GOMOMO_BENCH_URL="http://127.0.0.1:${PORT}" cargo run --release -q -p gomomo-load --bin race
SERVER_T1="$(ticks "$SERVER")"; PG_T1="$( [[ -n "$POSTMASTER" ]] && pg_ticks || echo 0)"
BOOKED=$(($(psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM appointments") - BOOKED0))
python3 - "$HZ" "$SERVER_T0" "$SERVER_T1" "$PG_T0" "$PG_T1" "$BOOKED" <<'PY'
import sys
hz, s0, s1, p0, p1, booked = (float(a) for a in sys.argv[1:])
per = lambda t: 1000.0 * t / hz / max(booked, 1.0)
print(f"race-bench: CPU for the whole load ({booked:.0f} bookings): "
      f"server {per(s1 - s0):.2f} ms, Postgres {per(p1 - p0):.2f} ms per booking")
print(f"SUMMARY|server CPU per booking, whole load (ms)|{per(s1 - s0):.2f}|-|-|-|n.a.|user + system time of gomomo serve from /proc")
print(f"SUMMARY|Postgres CPU per booking, whole load (ms)|{per(p1 - p0):.2f}|-|-|-|n.a.|the postmaster, its backends and reaped children")
PY
sleep 2
AFTER="$(psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM outbox WHERE published_at IS NULL")"
LEFT=$((AFTER - BEFORE))
DROPPED="$(grep -c 'outbox entries not published' "$LOG" || true)"
RSS_KB="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER/status")"
echo "race-bench: events left to the sweep ${LEFT} (relay warnings: ${DROPPED}); gomomo serve peak RSS $((RSS_KB / 1024)) MiB"
met=no; [[ "$LEFT" -le 0 && "$DROPPED" -eq 0 ]] && met=yes
echo "SUMMARY|events left to the sweep under the throughput load|${LEFT}|-|-|0|${met}|unpublished outbox rows 2 s after the load; relay warnings ${DROPPED}"
echo "SUMMARY|gomomo serve peak RSS under the load (MiB)|$((RSS_KB / 1024))|-|-|-|n.a.|the standalone server (every function in one process)"
