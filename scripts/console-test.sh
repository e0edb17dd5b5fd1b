#!/usr/bin/env bash
# The business's console (/admin) in a real browser: starts `gomomo serve`, seeds bookings
# (one in the past, a few on the next open day) and a chat, makes the confirmation mails
# fail for real (an SMTP address where nothing listens, one attempt each), then drives the
# console in Debian's headless Chromium with playwright-core (web/tests/console.test.cjs):
# sign in, today, the day and week, a walk-in booking, a cancellation, a no-show, a failed
# notification sent again (the SMTP server is up by then), a policy added and changed, a
# closure, a key made and rotated, and every other screen, at 1280×800 and 390×844, saving
# screenshots under target/console-screenshots/. Then checks the results in Postgres.
#
#   DATABASE_URL=$(scripts/pg.sh start) scripts/console-test.sh
#
# GOMOMO_BIN: a gomomo binary to run (default: built here, ${CARGO_TARGET_DIR:-target}/debug).
# DEMO_OWNER_PASSWORD: the demo owner's password (default: a fixed test password).
# Installs what is missing as scripts/browser-test.sh does. Logs: target/console-test/.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?DATABASE_URL must be set}"
OUT="target/console-test"
SHOTS="target/console-screenshots"
mkdir -p "$OUT" "$SHOTS"
say() { echo "console-test: $*" >&2; }
die() { say "error: $*"; exit 1; }

# shellcheck source=scripts/browser-tools.sh
. scripts/browser-tools.sh
python3 -c 'import aiosmtpd' 2>/dev/null || die "aiosmtpd is required (make tools installs it)"

if [ -n "${GOMOMO_BIN:-}" ]; then
  GOMOMO="$GOMOMO_BIN"
else
  say "building gomomo"
  cargo build --quiet --bin gomomo
  GOMOMO="${CARGO_TARGET_DIR:-target}/debug/gomomo"
fi
[ -x "$GOMOMO" ] || die "no gomomo binary at $GOMOMO"

OWNER_EMAIL="owner@demo.gomomo.local"
OWNER_PASSWORD="${DEMO_OWNER_PASSWORD:-console-test-owner-password}"
export DEMO_OWNER_PASSWORD="$OWNER_PASSWORD"
TENANT="6d0e0000-0000-4000-8000-000000000001"

"$GOMOMO" migrate >/dev/null
"$GOMOMO" seed-demo >"$OUT/seed.json"
API_KEY="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "$OUT/seed.json")"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
SMTP_PORT="$(free_port)"
SERVER=""
SINK=""
cleanup() {
  for p in $SERVER $SINK; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# serve LOG [ENV=VALUE…]: gomomo serve on a free loopback port with the test's settings;
# sets PORT and SERVER. Mail goes to SMTP_PORT (nothing listens there until the sink
# starts) with one attempt each, the autonomy runs (it sends the confirmations), and the
# scheduler ticks every second.
serve() {
  local log="$1"; shift
  PORT="$(free_port)"
  env GOMOMO_ENV=development OPENAI_API_KEY= AUTONOMY_ENABLED=true HOLD_SWEEP_INTERVAL_SECONDS=1 \
    SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" NOTIFICATION_MAX_ATTEMPTS=1 SMTP_TIMEOUT_SECONDS=2 \
    "$@" "$GOMOMO" serve --addr "127.0.0.1:$PORT" >"$log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$PORT/healthz" 2>/dev/null; then return 0; fi
    kill -0 "$SERVER" 2>/dev/null || { tail -20 "$log" >&2; die "gomomo serve exited"; }
    sleep 0.2
  done
  die "gomomo serve did not answer /healthz"
}
stop_server() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

# Bookings through the public API, on a server whose clock runs a week behind: the "past"
# booking (for the no-show) is then still bookable, the others lie on the next open day.
serve "$OUT/serve-seed.log" GOMOMO_CLOCK_OFFSET_SECONDS=-604800 RATE_LIMITS=off
python3 - "http://127.0.0.1:$PORT" "$TENANT" >"$OUT/bookings.json" <<'PY' || die "seeding bookings failed"
import datetime, json, sys, urllib.request, zoneinfo
base, tenant = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as r:
        return json.load(r)
info = call("GET", f"/api/tenants/{tenant}")
service = next(s for s in info["services"] if s["duration_minutes"] == 30)["id"]
today = datetime.datetime.now(zoneinfo.ZoneInfo(info["time_zone"])).date()
def first_day(lo, hi, need):
    a = call("GET", f"/api/tenants/{tenant}/availability?service={service}&from={lo}&to={hi}")
    days = {}
    for s in a["slots"]:
        days.setdefault(s["start"][:10], []).append(s["start"])
    for day in sorted(days):
        if len(days[day]) >= need:
            return day, days[day]
    sys.exit(f"no day with {need} free times between {lo} and {hi}")
def book(start, name, email):
    hold = call("POST", f"/api/tenants/{tenant}/holds", {"service_id": service, "start": start})
    b = call("POST", f"/api/tenants/{tenant}/bookings", {"hold_id": hold["hold_id"], "session_id": hold["session_id"],
                                                         "client_name": name, "client_email": email})
    return b["reference"]
past_day, past = first_day(today - datetime.timedelta(days=6), today - datetime.timedelta(days=1), 1)
day, slots = first_day(today + datetime.timedelta(days=1), today + datetime.timedelta(days=6), 5)
out = {
    "service": service,
    "past_day": past_day,
    "day": day,
    "noshow": book(past[0], "Paula Past", "paula@example.com"),
    "cancel": book(slots[0], "Carla Cancel", "carla@example.com"),
    "move": book(slots[2], "Frank Future", "frank@example.com"),
    "keep": book(slots[4], "Gina Green", "gina@example.com"),
}
chat = call("POST", f"/api/tenants/{tenant}/chat", {"message": "Hi, when are you open?"})
out["chat_session"] = chat.get("session_id")
print(json.dumps(out))
PY
# The confirmations fail for real (nothing listens at SMTP_PORT, one attempt each) before
# this server stops; the browser sends one of them again: the booking that stays (Gina's).
KEEP_REF="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keep"])' "$OUT/bookings.json")"
for _ in $(seq 1 60); do
  failed="$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM notification_outbox n JOIN appointments a ON a.id = n.booking_id
    WHERE n.tenant_id = '$TENANT' AND a.reference = '$KEEP_REF' AND n.kind = 'confirmation' AND n.status = 'failed'")"
  [ "$failed" -gt 0 ] && break
  sleep 0.5
done
[ "$failed" -gt 0 ] || die "the confirmation of $KEEP_REF did not fail (see $OUT/serve-seed.log)"
say "ok: the confirmation of $KEEP_REF failed against a closed SMTP port"
stop_server

# The request budgets stay on (as for the widget's test); only the sign-ins per address are
# raised, since runs against one database within ten minutes share that budget.
serve "$OUT/serve.log" BUDGET_SIGN_INS_PER_IP=200
# From now on mail is accepted: a retried notification is sent.
rm -rf "$OUT/mail" && mkdir -p "$OUT/mail"
python3 scripts/smtp_sink.py --dir "$OUT/mail" --port "$SMTP_PORT" >"$OUT/smtp.log" 2>&1 &
SINK=$!
for _ in $(seq 1 50); do grep -q READY "$OUT/smtp.log" 2>/dev/null && break; sleep 0.2; done
grep -q READY "$OUT/smtp.log" || die "the SMTP sink did not start"

# The owner who signs in is the demo owner `gomomo seed-demo` made with DEMO_OWNER_PASSWORD.
code="$(curl -s -o "$OUT/sign-in.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"email\": \"$OWNER_EMAIL\", \"password\": \"$OWNER_PASSWORD\"}" \
  "http://127.0.0.1:$PORT/api/admin/sign-in")"
[ "$code" = 200 ] || die "the demo owner cannot sign in ($code: $(cat "$OUT/sign-in.json"))"

say "driving the console in $CHROMIUM against http://127.0.0.1:$PORT"
PLAYWRIGHT_CORE=.tools/node_modules/playwright-core CHROMIUM="$CHROMIUM" \
  OWNER_EMAIL="$OWNER_EMAIL" OWNER_PASSWORD="$OWNER_PASSWORD" TENANT="$TENANT" \
  BOOKINGS="$(cat "$OUT/bookings.json")" SHOTS="$SHOTS" \
  node web/tests/console.test.cjs "http://127.0.0.1:$PORT" >"$OUT/result.json" ||
  { tail -20 "$OUT/serve.log" >&2; die "the console test failed"; }

# What the browser did, as Postgres has it.
q() { psql "$DATABASE_URL" -Atc "$1"; }
field() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); v=r
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$OUT/result.json" "$1"; }
bfield() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$OUT/bookings.json" "$1"; }
[ "$(q "SELECT status FROM appointments WHERE reference = '$(bfield cancel)'")" = "cancelled" ] ||
  die "the cancelled booking is not cancelled in Postgres"
say "ok: $(bfield cancel) is cancelled in Postgres"
[ "$(q "SELECT outcome FROM appointments WHERE reference = '$(bfield noshow)'")" = "no_show" ] ||
  die "the no-show is not recorded in Postgres"
say "ok: $(bfield noshow) is a no-show in Postgres"
[ "$(q "SELECT status FROM notification_outbox WHERE id = '$(field retried)'")" = "sent" ] ||
  die "the retried notification was not sent"
say "ok: the retried notification $(field retried) was sent"
[ "$(q "SELECT effect || '|' || priority || '|' || description FROM policy_rules WHERE tenant_id = '$TENANT' AND id = '$(field policy)'")" = "deny|7|console test rule" ] ||
  die "the changed policy is not in Postgres"
say "ok: the policy rule added and changed in Postgres"
[ "$(q "SELECT kind || '|' || note FROM schedule_exceptions WHERE tenant_id = '$TENANT' AND id = '$(field closure)'")" = "closed|Closed for staff training" ] ||
  die "the closure is not in Postgres"
say "ok: the closure is in Postgres"
[ "$(q "SELECT (revoked_at IS NOT NULL)::text || '|' || (replaced_by IS NOT NULL)::text FROM tenant_api_keys WHERE id = '$(field key.rotated_from)'")" = "true|true" ] ||
  die "the rotated key is not revoked and replaced in Postgres"
say "ok: the rotated key is revoked and replaced in Postgres"
[ "$(q "SELECT client_name || '|' || status FROM appointments WHERE reference = '$(field walkin.reference)'")" = "Walk-in Wendy|confirmed" ] ||
  die "the walk-in booking is not in Postgres"
say "ok: the walk-in booking $(field walkin.reference) is in Postgres"
say "ok: $(find "$SHOTS" -name '*.png' | wc -l) screenshots in $SHOTS"
