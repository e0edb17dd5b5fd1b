#!/usr/bin/env bash
# The HTTP race and throughput benchmark with its floors, in one invocation:
#   1. the SQL-only booking floor: bench/sql/booking_min*.sql under pgbench against the same
#      Postgres, on the benchmark's shape (4 resources), at 8 and at 32 clients (the higher
#      is the floor);
#   2. builds the release server, starts it on a free port against the project's Postgres
#      (scripts/pg.sh, or DATABASE_URL when set), runs the load client bench/load against it
#      (uncontended, race, throughput), then reads what the load left behind: outbox rows
#      not published (events left to the scheduler's sweep) and the server's peak RSS.
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
GOMOMO_BENCH_URL="http://127.0.0.1:${PORT}" cargo run --release -q -p gomomo-load --bin race
sleep 2
AFTER="$(psql "$DATABASE_URL" -XtAc "SELECT count(*) FROM outbox WHERE published_at IS NULL")"
LEFT=$((AFTER - BEFORE))
DROPPED="$(grep -c 'outbox entries not published' "$LOG" || true)"
RSS_KB="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER/status")"
echo "race-bench: events left to the sweep ${LEFT} (relay warnings: ${DROPPED}); gomomo serve peak RSS $((RSS_KB / 1024)) MiB"
met=no; [[ "$LEFT" -le 0 && "$DROPPED" -eq 0 ]] && met=yes
echo "SUMMARY|events left to the sweep under the throughput load|${LEFT}|-|-|0|${met}|unpublished outbox rows 2 s after the load; relay warnings ${DROPPED}"
echo "SUMMARY|gomomo serve peak RSS under the load (MiB)|$((RSS_KB / 1024))|-|-|-|n.a.|the standalone server (every function in one process)"
