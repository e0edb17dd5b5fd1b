#!/usr/bin/env bash
# Statements, transactions and database time per booking: restarts the private Postgres
# with pg_stat_statements when it runs without it, starts `gomomo serve` (release build;
# GOMOMO_BIN to use another binary) with autonomy off, and runs scripts/profile_booking.py.
#   bash scripts/profile-booking.sh            PROFILE_BOOKINGS=500, PROFILE_WORKERS=1
#   PROFILE_PERF=1 GOMOMO_BIN=target/profiling/gomomo PROFILE_WORKERS=16 bash scripts/profile-booking.sh
#                                              also a flame graph: target/bench/booking.svg
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" ]]; then
  DATABASE_URL="$(scripts/pg.sh start | tail -n1)"
  if ! psql "$DATABASE_URL" -XtAc "SHOW shared_preload_libraries" | grep -q pg_stat_statements; then
    scripts/pg.sh stop
    DATABASE_URL="$(PG_PRELOAD=pg_stat_statements scripts/pg.sh start | tail -n1)"
  fi
fi
export DATABASE_URL
psql "$DATABASE_URL" -Xqc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
  || { echo "profile-booking: pg_stat_statements is not loaded in $DATABASE_URL" >&2; exit 1; }
export GOMOMO_PLATFORM_KEY="profile-platform-key-$(date +%s)-0123456789abcdef"
export RUST_LOG="${RUST_LOG:-warn}" RATE_LIMITS=off AUTONOMY_ENABLED=false

BIN="${GOMOMO_BIN:-}"
if [[ -z "$BIN" ]]; then
  cargo build --release --bin gomomo
  BIN=./target/release/gomomo
fi
"$BIN" migrate
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$BIN" serve --addr "127.0.0.1:${PORT}" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
if [[ "${PROFILE_PERF:-0}" = 1 ]]; then
  # A flame graph of the server while it books (cargo build --profile profiling keeps the
  # symbols; a stripped release build shows addresses only).
  mkdir -p target/bench
  perf record -F "${PERF_HZ:-499}" --call-graph dwarf,32768 -o target/bench/booking.perf -p "$SERVER" 2>/dev/null &
  PERF=$!
  sleep 0.5
fi
GOMOMO_PROFILE_URL="http://127.0.0.1:${PORT}" python3 scripts/profile_booking.py
if [[ "${PROFILE_PERF:-0}" = 1 ]]; then
  kill -INT "$PERF"
  wait "$PERF" || true
  perf script -i target/bench/booking.perf 2>/dev/null \
    | python3 scripts/flamegraph.py target/bench/booking "gomomo serve booking (hold + confirm)"
fi
