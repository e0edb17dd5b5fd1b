#!/usr/bin/env bash
# The HTTP race and throughput benchmark: builds the release server, starts it on a free
# port against the project's Postgres (scripts/pg.sh, or DATABASE_URL when set), runs
# standalone/benches/race.rs against it, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" ]]; then
  DATABASE_URL="$(scripts/pg.sh start | tail -n1)"
fi
export DATABASE_URL
export GOMOMO_PLATFORM_KEY="bench-platform-key-$(date +%s)-0123456789abcdef"
export DB_MAX_CONNECTIONS="${DB_MAX_CONNECTIONS:-48}"
export RUST_LOG="${RUST_LOG:-warn}"
# The bench hammers from one loopback client: request budgets are off unless asked for
# (RATE_LIMITS=on bash scripts/race-bench.sh measures them instead).
export RATE_LIMITS="${RATE_LIMITS:-off}"
echo "race-bench: rate limits ${RATE_LIMITS} (RATE_LIMITS)"

cargo build --release --bin gomomo
./target/release/gomomo migrate
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
./target/release/gomomo serve --addr "127.0.0.1:${PORT}" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
GOMOMO_BENCH_URL="http://127.0.0.1:${PORT}" cargo bench -p gomomo-standalone --bench race
