#!/usr/bin/env bash
# The widget in a real browser: starts `gomomo serve`, drives the widget in Debian's
# headless Chromium with playwright-core (web/tests/widget.test.cjs) on a 390-pixel screen,
# books an appointment with the deterministic engine, reloads (the history shows), types twice
# during a turn and once while the session's turn is held in Postgres (no error shows), opens a
# business's own page (its name, no demo words) and an unknown tenant's 404, shows the widget
# in Spanish (data-lang="es", a Spanish browser, the language switch), follows a
# one-time handoff link minted here (first with site data blocked: nothing is spent; then the
# page, "Continue in chat", the call's context in the chat, a booking there), then checks
# both bookings in Postgres.
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

# shellcheck source=scripts/browser-tools.sh
. scripts/browser-tools.sh

say "building gomomo"
cargo build --quiet --bin gomomo
GOMOMO="${CARGO_TARGET_DIR:-target}/debug/gomomo"
"$GOMOMO" migrate >/dev/null
"$GOMOMO" seed-demo >"$OUT/seed.json"

# A one-time handoff link as a call's "text me a link" makes it: the token's row (with the
# call's context) in Postgres and `<id>.<HMAC-SHA256(HANDOFF_SECRET, domain + id)>`.
HANDOFF_SECRET="browser-test-handoff-secret-0123456789"
read -r HANDOFF_ID HANDOFF_TOKEN < <(python3 - "$HANDOFF_SECRET" <<'PY'
import base64, hashlib, hmac, os, sys
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
token_id = b64(os.urandom(16))
mac = hmac.new(sys.argv[1].encode(), b"gomomo-handoff:v1:" + token_id.encode(), hashlib.sha256).digest()
print(token_id, token_id + "." + b64(mac))
PY
)
HANDOFF_CONTEXT='{"channel":"voice","intent":"book an appointment","service_id":"6d0e0000-0000-4000-8000-0000000005e1","service_name":"Consultation","transcript":[{"speaker":"caller","text":"I'\''d like to book a consultation"},{"speaker":"agent","text":"Of course. What day would suit you?"}]}'
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -v id="$HANDOFF_ID" -v ctx="$HANDOFF_CONTEXT" >/dev/null <<'SQL' ||
INSERT INTO handoff_tokens (id, tenant_id, purpose, phone, context, created_at, expires_at)
VALUES (:'id', '6d0e0000-0000-4000-8000-000000000001', 'voice_handoff', '+15555550123',
        :'ctx'::jsonb, now(), now() + interval '15 minutes');
SQL
  die "could not store the handoff token"

# A business of its own (no demo words on its page): created once, kept across runs.
BUSINESS_TENANT="0b6f1c2e-1111-4222-8333-444455556666"
BUSINESS_NAME="Rosa's Salon & Spa"
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -v id="$BUSINESS_TENANT" -v name="$BUSINESS_NAME" >/dev/null <<'SQL' ||
INSERT INTO tenants (id, name, time_zone) VALUES (:'id', :'name', 'Europe/Paris')
ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;
SQL
  die "could not store the business tenant"

# The demo tenant speaks English and Spanish: the widget's Spanish page and its language switch.
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' ||
UPDATE tenants SET languages = '{en,es}' WHERE id = '6d0e0000-0000-4000-8000-000000000001';
SQL
  die "could not give the demo tenant its languages"

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
GOMOMO_ENV=development OPENAI_API_KEY= HANDOFF_SECRET="$HANDOFF_SECRET" "$GOMOMO" serve --addr "127.0.0.1:$PORT" >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then break; fi
  kill -0 "$SERVER" 2>/dev/null || { tail -20 "$OUT/serve.log" >&2; die "gomomo serve exited"; }
  sleep 0.2
done

say "driving the widget in $CHROMIUM against http://127.0.0.1:$PORT"
PLAYWRIGHT_CORE=.tools/node_modules/playwright-core CHROMIUM="$CHROMIUM" HANDOFF_TOKEN="$HANDOFF_TOKEN" \
  DATABASE_URL="$DATABASE_URL" \
  BUSINESS_TENANT="$BUSINESS_TENANT" BUSINESS_NAME="$BUSINESS_NAME" \
  node web/tests/widget.test.cjs "http://127.0.0.1:$PORT" >"$OUT/result.json" ||
  { tail -20 "$OUT/serve.log" >&2; die "the widget test failed"; }
check_booking() { # REF SESSION EMAIL WHAT
  local row
  row="$(psql "$DATABASE_URL" -Atc "SELECT client_email || '|' || session_id || '|' || status FROM appointments WHERE reference = '$1'")"
  [ "$row" = "$3|$2|confirmed" ] || die "$4 booking $1 in Postgres is '$row', expected '$3|$2|confirmed'"
  say "ok: $4 booking $1 is in Postgres for $3"
}
read -r REF SESSION EMAIL < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["reference"], r["session"], r["email"])' "$OUT/result.json")
check_booking "$REF" "$SESSION" "$EMAIL" "the widget's"
if grep -q -e "$SESSION" "$OUT/serve.log"; then die "the widget's session id is in the server log"; fi
read -r REF SESSION EMAIL < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["handoff"]; print(r["reference"], r["session"], r["email"])' "$OUT/result.json")
check_booking "$REF" "$SESSION" "$EMAIL" "the handoff's"
spent="$(psql "$DATABASE_URL" -Atc "SELECT chat_session_id = '$SESSION' AND consumed_at IS NOT NULL FROM handoff_tokens WHERE id = '$HANDOFF_ID'")"
[ "$spent" = "t" ] || die "the handoff token was not spent into the chat's session"
# the session ids went nowhere but the response bodies: not into the server's log
if grep -q -e "$SESSION" "$OUT/serve.log"; then die "the handoff session id is in the server log"; fi
say "ok: the handoff link opened twice, spent once by the click, and the chat continued the call"
