#!/usr/bin/env bash
# The widget in a real browser: starts `gomomo serve`, drives the widget in Debian's
# headless Chromium with playwright-core (web/tests/widget.test.cjs), books an appointment
# with the deterministic engine, then checks the booking in Postgres.
#
#   DATABASE_URL=$(scripts/pg.sh start) scripts/browser-test.sh
#
# Installs what is missing: `chromium` (apt-get, when root) and playwright-core into the
# git-ignored .tools/ (npm). Logs: target/browser-test/.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?DATABASE_URL must be set}"
OUT="target/browser-test"
mkdir -p "$OUT"
say() { echo "browser-test: $*" >&2; }
die() { say "error: $*"; exit 1; }

CHROMIUM="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM" ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "apt-get install chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >"$OUT/apt.log" 2>&1 ||
      die "apt-get install chromium failed (see $OUT/apt.log)"
    CHROMIUM="$(command -v chromium)"
  else
    die "chromium is not installed (apt-get install chromium)"
  fi
fi
command -v node >/dev/null || die "node is required"
if [ ! -f .tools/node_modules/playwright-core/package.json ]; then
  say "npm install playwright-core into .tools/"
  mkdir -p .tools
  [ -f .tools/package.json ] || echo '{"private": true}' >.tools/package.json
  npm install --prefix .tools --no-audit --no-fund --silent playwright-core@1.65 >"$OUT/npm.log" 2>&1 ||
    die "npm install playwright-core failed (see $OUT/npm.log)"
fi

say "building gomomo"
cargo build --quiet --bin gomomo
GOMOMO=target/debug/gomomo
"$GOMOMO" migrate >/dev/null
"$GOMOMO" seed-demo >"$OUT/seed.json"

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
GOMOMO_ENV=development OPENAI_API_KEY= "$GOMOMO" serve --addr "127.0.0.1:$PORT" >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then break; fi
  kill -0 "$SERVER" 2>/dev/null || { tail -20 "$OUT/serve.log" >&2; die "gomomo serve exited"; }
  sleep 0.2
done

say "driving the widget in $CHROMIUM against http://127.0.0.1:$PORT"
PLAYWRIGHT_CORE=.tools/node_modules/playwright-core CHROMIUM="$CHROMIUM" \
  node web/tests/widget.test.cjs "http://127.0.0.1:$PORT" >"$OUT/result.json" ||
  { tail -20 "$OUT/serve.log" >&2; die "the widget test failed"; }
read -r REF SESSION EMAIL < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["reference"], r["session"], r["email"])' "$OUT/result.json")

row="$(psql "$DATABASE_URL" -Atc "SELECT client_email || '|' || session_id || '|' || status FROM appointments WHERE reference = '$REF'")"
[ "$row" = "$EMAIL|$SESSION|confirmed" ] || die "booking $REF in Postgres is '$row', expected '$EMAIL|$SESSION|confirmed'"
say "ok: booking $REF is in Postgres for $EMAIL (session $SESSION)"
