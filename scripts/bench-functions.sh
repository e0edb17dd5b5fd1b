#!/usr/bin/env bash
# The Lambda function figures of `make bench`: package size, init + first invocation and
# peak memory of every function binary, each next to the floor function
# (bench/floors, `floor-fn`: lambda_http + axum + a sqlx pool + `SELECT 1`) measured in
# the same run.
#
#   scripts/bench-functions.sh            # builds, measures, prints the table and SUMMARY lines
#
# Environment:
#   DATABASE_URL         Postgres to use (migrated and seeded here); default: scripts/pg.sh
#   BENCH_FN_RUNS        starts timed per function (default 20)
#   BENCH_FN_LOAD        invocations in a row for the peak RSS (default 1000; scheduler 200)
#   BENCH_FN_NO_BUILD=1  measure the binaries already in target/release
#   CARGO_BUILD_NICE     nice level of the release builds (default 10)
#
# Packages are built like `make package` builds them, for this machine's x86_64: release
# profile of the workspace, stripped, `zip -9` of the binary renamed `bootstrap`.
# Out: target/bench-functions/ (zips, logs, raw figures in figures.json).
set -euo pipefail
cd "$(dirname "$0")/.."

FUNCTIONS=(api chat-http excel chat-ws voice handoff worker scheduler)
FLOOR=floor-fn
OUT=target/bench-functions
NICE="${CARGO_BUILD_NICE:-10}"
mkdir -p "$OUT/pkg" "$OUT/pkg-bin"

say() { echo "bench-functions: $*" >&2; }

[ "$(uname -m)" = x86_64 ] || say "warning: this machine is $(uname -m); the sizes are for that architecture"

# --- build -------------------------------------------------------------------------------
# One cargo call for every function, as `sam build` and `make package` build them: cargo
# unifies the `gomomo` crate's features across the workspace (`llm` is on for all), and
# each binary links only the code its `main` reaches (the chat model only where
# `App::with_chat_model` is called, SMTP only where `App::from_env_sending_mail` is).
if [ "${BENCH_FN_NO_BUILD:-}" != 1 ]; then
  start=$SECONDS
  say "cargo build --release (nice $NICE): ${FUNCTIONS[*]} / $FLOOR"
  nice -n "$NICE" cargo build --release "${FUNCTIONS[@]/#/--bin=}"
  nice -n "$NICE" cargo build --release -p gomomo-floors --bin "$FLOOR"
  say "built in $((SECONDS - start)) s"
fi

# --- packages ----------------------------------------------------------------------------
sizes="$OUT/sizes.tsv"
: >"$sizes"
for bin in "$FLOOR" "${FUNCTIONS[@]}"; do
  [ -x "target/release/$bin" ] || {
    say "error: target/release/$bin is missing"
    exit 1
  }
  dir="$OUT/pkg/$bin"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "target/release/$bin" "$dir/bootstrap"
  strip "$dir/bootstrap"
  (cd "$dir" && zip -q -9 bootstrap.zip bootstrap)
  ln -sfn "../pkg/$bin/bootstrap" "$OUT/pkg-bin/$bin"
  printf '%s\t%s\t%s\n' "$bin" "$(stat -c %s "$dir/bootstrap")" "$(stat -c %s "$dir/bootstrap.zip")" >>"$sizes"
done

python3 - "$sizes" "$FLOOR" <<'PY'
import sys
path, floor = sys.argv[1:3]
rows = [line.rstrip("\n").split("\t") for line in open(path)]
rows = [(n, int(b), int(z)) for n, b, z in rows]
fb, fz = next((b, z) for n, b, z in rows if n == floor)
mb = lambda n: f"{n / 1e6:.2f}"
print("\n== packages (x86_64 release, stripped binary / zip -9; MB = 10^6 bytes)")
print(f"{'function':<10} {'binary MB':>10} {'zip MB':>8} {'zip/floor':>10}")
for n, b, z in rows:
    print(f"{n:<10} {mb(b):>10} {mb(z):>8} {z / fz:>10.2f}")
for n, b, z in rows:
    if n == floor:
        continue
    goal = 3e6 if n == "api" else 4e6
    met = "yes" if z <= goal else "no"
    print(f"SUMMARY|{n} zip (x86_64)|{mb(z)} MB|{mb(fz)} MB ({floor})|{z / fz:.2f}|<= {goal / 1e6:g} MB|{met}|"
          f"stripped binary {mb(b)} MB, floor binary {mb(fb)} MB")
PY

# --- the database the functions start against ---------------------------------------------
PG_STARTED=""
if [ -z "${DATABASE_URL:-}" ]; then
  if ! bash scripts/pg.sh status >/dev/null 2>&1; then PG_STARTED=1; fi
  DATABASE_URL="$(bash scripts/pg.sh start)"
fi
export DATABASE_URL
cleanup() { if [ -n "$PG_STARTED" ]; then bash scripts/pg.sh stop; fi; }
trap cleanup EXIT
say "gomomo migrate, seed-demo (debug build)"
cargo run --quiet --bin gomomo -- migrate >/dev/null
cargo run --quiet --bin gomomo -- seed-demo >/dev/null

# --- start time and memory ---------------------------------------------------------------
# The environment of scripts/lambda-test.sh (development settings, the Twilio test token the
# signed events were made with) plus an event bus and AWS credentials, as deployed: the
# functions publish to the loopback stand-in of bench_functions.py (AWS_ENDPOINT_URL).
export GOMOMO_ENV=development LOG_FORMAT=json RUST_LOG="${BENCH_FN_RUST_LOG:-info}"
# Every invocation comes from one address: request budgets off (development only).
export RATE_LIMITS=off
export TWILIO_AUTH_TOKEN=lambda-test-twilio-token PUBLIC_BASE_URL=https://hooks.gomomo.test
export EVENT_BUS_NAME=gomomo-bench AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
python3 scripts/bench_functions.py --bin-dir "$OUT/pkg-bin" --floor "$FLOOR" \
  --runs "${BENCH_FN_RUNS:-20}" --load "${BENCH_FN_LOAD:-1000}" --json "$OUT/figures.json" \
  "${FUNCTIONS[@]}" 2>&1
