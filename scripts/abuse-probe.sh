#!/usr/bin/env bash
# Starts `gomomo serve` (debug build) on a free loopback port with the demo tenant, runs
# scripts/abuse_probe.py against it and stops the server. Extra arguments go to the probe
# (e.g. --wait 20). Postgres: DATABASE_URL when set, else the private cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${DATABASE_URL:-}" ]]; then
  DATABASE_URL="$(scripts/pg.sh start | tail -n1)"
fi
export DATABASE_URL RUST_LOG="${RUST_LOG:-warn}"
export GOMOMO_PLATFORM_KEY="probe-platform-key-$(date +%s)-0123456789abcdef"
cargo build --quiet --bin gomomo
./target/debug/gomomo migrate >/dev/null
./target/debug/gomomo seed-demo >/dev/null
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
./target/debug/gomomo serve --addr "127.0.0.1:${PORT}" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
python3 scripts/abuse_probe.py --base "http://127.0.0.1:${PORT}" \
  --tenant 6d0e0000-0000-4000-8000-000000000001 "$@"
