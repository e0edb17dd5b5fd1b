#!/usr/bin/env bash
# Replays events/api-*.json against the real `api` function binary under
# `cargo lambda watch` (the Lambda runtime emulator, fully offline) and compares each
# response with events/expected.json.
#
#   DATABASE_URL=$(scripts/pg.sh start) scripts/lambda-test.sh [events/api-x.json ...]
#
# Environment:
#   DATABASE_URL                 required; migrated and seeded with the demo tenant here
#   LAMBDA_TEST_BUILD_TIMEOUT    seconds to wait for the first answer (cold debug build
#                                of the function included), default 1200
#   LAMBDA_TEST_PORT             emulator port, default: a free one
# Logs: target/lambda-test/watch.log (the emulator and the function's own logs).
# Twilio events (voice-*, handoff-*) are signed with the TWILIO_AUTH_TOKEN and
# PUBLIC_BASE_URL given to the functions below (scripts/make_twilio_events.py writes them).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?DATABASE_URL must be set, e.g. DATABASE_URL=\$(scripts/pg.sh start) $0}"
BUILD_TIMEOUT="${LAMBDA_TEST_BUILD_TIMEOUT:-1200}"
FUNCTION="api"
OUT_DIR="target/lambda-test"
WATCH_LOG="$OUT_DIR/watch.log"
EXPECTED="events/expected.json"
mkdir -p "$OUT_DIR"

say() { echo "lambda-test: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

command -v python3 >/dev/null || die "python3 is required"
cargo lambda --version >/dev/null 2>&1 || die "cargo-lambda is missing (pip install cargo-lambda)"

if [ "$#" -gt 0 ]; then
  EVENTS=("$@")
else
  shopt -s nullglob
  EVENTS=(events/api-*.json events/chat-http-*.json events/excel-*.json events/worker-*.json
    events/scheduler-*.json events/chat-ws-*.json events/voice-*.json events/handoff-*.json)
  shopt -u nullglob
fi
[ "${#EVENTS[@]}" -gt 0 ] || die "no events/api-*.json found"

# --- the database: schema and the demo tenant the events refer to ------------------------
# Building the function here too shows a compile error in this output (not only in the
# watcher's log) and leaves the watcher's own `cargo run --bin api` nothing to do.
BINS=(gomomo "$FUNCTION" chat-http excel worker scheduler chat-ws voice handoff)
say "cargo build${BINS[*]/#/ --bin }"
cargo build "${BINS[@]/#/--bin=}"
say "gomomo migrate"
cargo run --quiet --bin gomomo -- migrate
say "gomomo seed-demo"
seed="$(cargo run --quiet --bin gomomo -- seed-demo)"
echo "$seed" >"$OUT_DIR/seed.json"
python3 - "$OUT_DIR/seed.json" <<'PY' || die "seed-demo did not print the expected JSON (see $OUT_DIR/seed.json)"
import json, sys
seed = json.load(open(sys.argv[1]))
tenant = "6d0e0000-0000-4000-8000-000000000001"
service = "6d0e0000-0000-4000-8000-0000000005e1"
if seed.get("tenant_id") != tenant:
    sys.exit(f"seed-demo tenant_id is {seed.get('tenant_id')!r}; the events use {tenant}")
if service not in [s.get("id") for s in seed.get("services", [])]:
    sys.exit(f"seed-demo has no service {service}; the events use it")
PY

# --- the emulator --------------------------------------------------------------------------
PORT="${LAMBDA_TEST_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}"

WATCH_PID=""
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}
cleanup() {
  local rc=$? pids pid
  if [ -n "$WATCH_PID" ] && kill -0 "$WATCH_PID" 2>/dev/null; then
    # The watcher runs each function instance in a process group of its own and stops it
    # on SIGTERM; anything still alive after 10 s is killed by pid.
    pids="$(descendants "$WATCH_PID")"
    kill -TERM -- "-$WATCH_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$WATCH_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$WATCH_PID" 2>/dev/null || true
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting cargo lambda watch on 127.0.0.1:$PORT (log: $WATCH_LOG)"
# The function inherits the watcher's environment (DATABASE_URL); --env-var adds to it.
# RUST_LOG goes to the function only: the watcher itself logs every file event at info.
# --ignore-changes: other edits in the tree must not restart (and rebuild) the function
# in the middle of a run. setsid: its own process group, so cleanup stops the watcher,
# cargo and the function together.
function_log="${RUST_LOG:-info}"
env -u RUST_LOG DATABASE_URL="$DATABASE_URL" GOMOMO_ENV=development \
  setsid cargo lambda watch --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$PORT" \
  --env-var "GOMOMO_ENV=development" --env-var "RUST_LOG=$function_log" \
  --env-var "WS_MANAGEMENT_ENDPOINT=${MOTO_ENDPOINT:-http://127.0.0.1:9}" \
  --env-var "AWS_REGION=${AWS_REGION:-us-east-1}" --env-var "AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}" \
  --env-var "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}" \
  --env-var "TWILIO_AUTH_TOKEN=lambda-test-twilio-token" --env-var "PUBLIC_BASE_URL=https://hooks.gomomo.test" \
  >"$WATCH_LOG" 2>&1 </dev/null &
WATCH_PID=$!

deadline=$((SECONDS + 60))
until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$PORT" 2>/dev/null; do
  kill -0 "$WATCH_PID" 2>/dev/null || {
    tail -n 30 "$WATCH_LOG" >&2
    die "cargo lambda watch exited"
  }
  [ "$SECONDS" -lt "$deadline" ] || {
    tail -n 30 "$WATCH_LOG" >&2
    die "cargo lambda watch did not listen on port $PORT within 60s"
  }
  sleep 0.3
done

# `cargo lambda invoke` waits as long as the function is building, and forever when the
# build fails or the function exits: every call gets a timeout, and the watcher's log
# tells a broken function from a slow build.
invoke() { # SECONDS FILE -> response JSON on stdout
  local fn="$FUNCTION"
  case "$(basename "$2")" in # events of the event-driven functions (SQS batch, schedule)
    chat-http-*) fn=chat-http ;;
    excel-*) fn=excel ;;
    worker-*) fn=worker ;;
    scheduler-*) fn=scheduler ;;
    chat-ws-*) fn=chat-ws ;;
    voice-*) fn=voice ;;
    handoff-*) fn=handoff ;;
  esac
  timeout "$1" cargo lambda invoke "$fn" --invoke-address 127.0.0.1 --invoke-port "$PORT" \
    --data-file "$2" --output-format json
}
function_died() { grep -q -E 'error: could not compile|ERROR command exited' "$WATCH_LOG"; }

say "waiting for the $FUNCTION function to build and answer (up to ${BUILD_TIMEOUT}s)"
deadline=$((SECONDS + BUILD_TIMEOUT))
until invoke 30 events/api-healthz.json >"$OUT_DIR/warmup.json" 2>"$OUT_DIR/warmup.err"; do
  if ! kill -0 "$WATCH_PID" 2>/dev/null || function_died; then
    tail -n 40 "$WATCH_LOG" >&2
    die "the $FUNCTION function failed to build or start (log: $WATCH_LOG)"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    cat "$OUT_DIR/warmup.err" >&2
    tail -n 40 "$WATCH_LOG" >&2
    die "the function did not answer within ${BUILD_TIMEOUT}s"
  fi
  sleep 2
done
say "the function answers"

# --- replay ------------------------------------------------------------------------------
results="$OUT_DIR/results.jsonl"
: >"$results"
for file in "${EVENTS[@]}"; do
  name="$(basename "$file")"
  rc=0
  if function_died; then
    echo "the function exited before this event (see $WATCH_LOG)" >"$OUT_DIR/$name.err"
    rc=1
  else
    invoke 120 "$file" >"$OUT_DIR/$name.out" 2>"$OUT_DIR/$name.err" || rc=$?
    [ "$rc" -ne 124 ] || echo "no answer within 120s" >>"$OUT_DIR/$name.err"
  fi
  if [ "$rc" -eq 0 ]; then
    python3 - "$results" "$name" "$OUT_DIR/$name.out" <<'PY'
import json, sys
results, name, out = sys.argv[1:4]
with open(out) as f:
    raw = f.read()
entry = {"event": name}
try:
    response = json.loads(raw)
    if isinstance(response, dict) and "statusCode" not in response:
        # An event function (worker, scheduler) answers with its own JSON: status "ok".
        entry["status"], entry["body"] = "ok", json.dumps(response, separators=(",", ":"))
        response = {"statusCode": "ok", "body": entry["body"]}
    entry["status"] = response.get("statusCode")
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        import base64
        body = base64.b64decode(body).decode("utf-8", "replace")
    entry["body"] = body
except (ValueError, AttributeError) as err:
    entry["error"] = f"unparsable response: {err}: {raw[:200]}"
with open(results, "a") as f:
    f.write(json.dumps(entry) + "\n")
PY
  else
    python3 - "$results" "$name" "$OUT_DIR/$name.err" <<'PY'
import json, sys
results, name, err = sys.argv[1:4]
with open(err) as f:
    text = " ".join(f.read().split())
with open(results, "a") as f:
    f.write(json.dumps({"event": name, "error": "invoke failed: " + text[:300]}) + "\n")
PY
  fi
done

python3 - "$EXPECTED" "$results" <<'PY'
import json, sys
expected_path, results_path = sys.argv[1:3]
expected = json.load(open(expected_path))
rows, failures = [], 0
for line in open(results_path):
    r = json.loads(line)
    want = expected.get(r["event"])
    if isinstance(want, int):
        want = {"status": want}
    if want is None:
        verdict, note = "FAIL", "no entry in events/expected.json"
    elif "error" in r:
        verdict, note = "FAIL", r["error"]
    elif r["status"] != want["status"]:
        verdict, note = "FAIL", f"body: {r['body'][:160]}"
    elif want.get("body_contains") and want["body_contains"] not in r["body"]:
        verdict, note = "FAIL", f"body lacks {want['body_contains']!r}: {r['body'][:160]}"
    else:
        verdict, note = "ok", want.get("body_contains", "")
    failures += verdict != "ok"
    rows.append((r["event"], str((want or {}).get("status", "?")), str(r.get("status", "-")), verdict, note))

headers = ("event", "want", "got", "result", "detail")
widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers[:4])]
fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}"
print(fmt.format(*headers))
print(fmt.format(*("-" * w for w in widths), "-" * 6))
for row in rows:
    print(fmt.format(*row))
print(f"\n{len(rows) - failures}/{len(rows)} events as expected")
sys.exit(1 if failures else 0)
PY
