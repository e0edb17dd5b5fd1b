#!/usr/bin/env bash
# The OpenAPI document as a client generator sees it: lints `gomomo openapi` with Redocly's
# recommended rules (.redocly.yaml), generates a Python client with openapi-python-client,
# starts `gomomo serve`, and drives it through the generated client only
# (scripts/api_client/flow.py): a booking made, looked up, moved and cancelled; people and keys;
# the schedule and the audit trail.
#
#   DATABASE_URL=$(scripts/pg.sh start) scripts/api-client-test.sh
#
# Installs what is missing into the git-ignored .tools/: a Python venv with
# openapi-python-client (pip) and @redocly/cli (npm). Logs and the generated client:
# target/api-client/.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?DATABASE_URL must be set}"
OUT="target/api-client"
mkdir -p "$OUT"
say() { echo "api-client-test: $*" >&2; }
die() { say "error: $*"; exit 1; }

VENV=.tools/venv
if [ ! -x "$VENV/bin/openapi-python-client" ]; then
  say "pip install openapi-python-client into $VENV"
  python3 -m venv "$VENV" >"$OUT/venv.log" 2>&1 || die "python3 -m venv failed (see $OUT/venv.log)"
  "$VENV/bin/pip" install --quiet 'openapi-python-client==0.29.*' >"$OUT/pip.log" 2>&1 ||
    die "pip install openapi-python-client failed (see $OUT/pip.log)"
fi
REDOCLY=.tools/node_modules/.bin/redocly
if [ ! -x "$REDOCLY" ]; then
  say "npm install @redocly/cli into .tools/"
  npm install --prefix .tools --no-audit --no-fund --silent @redocly/cli@2.77.0 >"$OUT/npm.log" 2>&1 ||
    die "npm install @redocly/cli failed (see $OUT/npm.log)"
fi

say "building gomomo"
cargo build --quiet --bin gomomo
GOMOMO="${CARGO_TARGET_DIR:-target}/debug/gomomo"
"$GOMOMO" openapi >"$OUT/openapi.json"

say "lint: redocly (.redocly.yaml)"
REDOCLY_TELEMETRY=off NO_UPDATE_NOTIFIER=1 "$REDOCLY" lint --config .redocly.yaml "$OUT/openapi.json" >"$OUT/lint.log" 2>&1 ||
  { cat "$OUT/lint.log" >&2; die "the OpenAPI document does not pass the lint"; }
grep -E "valid|warning" "$OUT/lint.log" | tail -2 >&2 || true

say "generating the Python client"
rm -rf "$OUT/gomomo_client"
"$VENV/bin/openapi-python-client" generate --path "$OUT/openapi.json" --output-path "$OUT/gomomo_client" \
  --meta none --overwrite --config scripts/api_client/generator.yaml >"$OUT/generate.log" 2>&1 ||
  { cat "$OUT/generate.log" >&2; die "openapi-python-client failed"; }
# Every operation must become a function of the client: a warning means one was dropped.
if grep -q "^WARNING" "$OUT/generate.log"; then
  grep -A12 "^WARNING" "$OUT/generate.log" >&2
  die "the generator dropped or degraded operations"
fi

"$GOMOMO" migrate >/dev/null
"$GOMOMO" seed-demo >"$OUT/seed.json"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
# Budgets off: every request comes from 127.0.0.1, and reruns on one database would find the
# counters of the last run (the budgets have their own tests).
# A platform key of this run only, for the flow's `POST /api/admin/tenants`.
export GOMOMO_PLATFORM_KEY="api-client-test-platform-$$-$(date +%s)-0123456789abcdef"
GOMOMO_ENV=development RATE_LIMITS=off OPENAI_API_KEY= "$GOMOMO" serve --addr "127.0.0.1:$PORT" >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then break; fi
  kill -0 "$SERVER" 2>/dev/null || { tail -20 "$OUT/serve.log" >&2; die "gomomo serve exited"; }
  sleep 0.2
done

say "driving http://127.0.0.1:$PORT through the generated client"
PYTHONPATH="$OUT" "$VENV/bin/python" scripts/api_client/flow.py "http://127.0.0.1:$PORT" "$OUT/seed.json" ||
  { tail -20 "$OUT/serve.log" >&2; die "the generated client's flow failed"; }
say "ok"
