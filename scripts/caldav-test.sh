#!/usr/bin/env bash
# The CalDAV client against a real CalDAV server: starts Radicale (PyPI `radicale`) on
# 127.0.0.1 with a free port, a temporary storage folder and plain htpasswd auth, makes the
# test user's calendar with the PyPI `caldav` client (scripts/caldav_helper.py), then runs
# `cargo test --workspace --test caldav -- --include-ignored` (the gomomo crate's
# shared/tests/caldav.rs; `--workspace` keeps the features of `cargo test --workspace`, so
# nothing is rebuilt after it) with the server's URL and the credentials in CALDAV_TEST_*
# (the server tests are #[ignore]d for a plain `cargo test` and fail without those variables).
#
#   scripts/caldav-test.sh
#
# Installs what is missing into the git-ignored .tools/caldav-venv (pinned versions).
# Logs: target/caldav/.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="target/caldav"
mkdir -p "$OUT"
say() { echo "caldav-test: $*" >&2; }
die() { say "error: $*"; exit 1; }

RADICALE_VERSION=3.9.0
CALDAV_VERSION=3.6.0
VENV=.tools/caldav-venv
PY="$VENV/bin/python"
if ! { [ -x "$VENV/bin/radicale" ] && "$PY" -c 'import caldav' >/dev/null 2>&1; }; then
  say "pip install radicale==$RADICALE_VERSION caldav==$CALDAV_VERSION into $VENV"
  python3 -m venv "$VENV" >"$OUT/venv.log" 2>&1 || die "python3 -m venv failed (see $OUT/venv.log)"
  "$VENV/bin/pip" install --quiet "radicale==$RADICALE_VERSION" "caldav==$CALDAV_VERSION" >"$OUT/pip.log" 2>&1 ||
    die "pip install radicale caldav failed (see $OUT/pip.log)"
fi

TMP="$(mktemp -d)"
RADICALE_PID=""
cleanup() {
  if [ -n "$RADICALE_PID" ]; then kill "$RADICALE_PID" 2>/dev/null || true; wait "$RADICALE_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

USER_NAME=gomomo-test
PASSWORD="app-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s:%s\n' "$USER_NAME" "$PASSWORD" >"$TMP/users"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
cat >"$TMP/config" <<CONF
[server]
hosts = 127.0.0.1:$PORT

[auth]
type = htpasswd
htpasswd_filename = $TMP/users
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = $TMP/collections

[logging]
level = warning
CONF

say "radicale $RADICALE_VERSION on 127.0.0.1:$PORT"
"$VENV/bin/radicale" --config "$TMP/config" >"$OUT/radicale.log" 2>&1 &
RADICALE_PID=$!
for _ in $(seq 1 100); do
  python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$PORT" 2>/dev/null && break
  kill -0 "$RADICALE_PID" 2>/dev/null || { cat "$OUT/radicale.log" >&2; die "radicale exited"; }
  sleep 0.1
done

URL="http://127.0.0.1:$PORT/"
CAL_URL="$("$PY" scripts/caldav_helper.py mkcal "$URL" "$USER_NAME" "$PASSWORD" clinic "Clinic")" ||
  die "could not make the calendar with the caldav client"
say "calendar $CAL_URL"

export CALDAV_TEST_URL="$URL"
export CALDAV_TEST_USER="$USER_NAME"
export CALDAV_TEST_PASSWORD="$PASSWORD"
export CALDAV_TEST_CALENDAR="$CAL_URL"
export CALDAV_TEST_PYTHON="$PWD/$PY"
export CALDAV_TEST_HELPER="$PWD/scripts/caldav_helper.py"
# The server tests are #[ignore]d for a plain `cargo test`; here every one of them must run.
cargo test --workspace --test caldav --test caldav_calendar -- --include-ignored 2>&1 |
  tee "$OUT/tests.log" | grep -E '^test |^test result' >&2
grep -q ' ignored, ' "$OUT/tests.log" && die "a CalDAV test was left out (see $OUT/tests.log)"
grep -q 'test a_chat_booking_lands_in_the_caldav_calendar_moves_and_goes ... ok' "$OUT/tests.log" ||
  die "the CalDAV end-to-end test did not pass (see $OUT/tests.log)"
say "passed"
