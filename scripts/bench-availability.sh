#!/usr/bin/env bash
# The availability benchmark: requests/s and p99 of
#   GET /api/tenants/{t}/availability?service=…&from=…&to=…   (a one-week range)
# under wrk at 32 connections, for `gomomo serve` (release) and, in the same invocation,
# for its floor: bench/floor-http (gomomo-floor-http), a bare axum + sqlx endpoint that reads
# the same bookings from its own table in the same Postgres with one query and returns a
# body of the same shape and slot count.
#
# The tenant: UTC, open 08:00–20:00 every day, 15-minute steps, a 30-minute service done by
# 4 resources, and bookings on each day of the week measured (some starts fully booked on
# every resource, some on one). Rate limits are off (one loopback client).
#
# Env: DATABASE_URL (default: the private cluster of scripts/pg.sh, stopped again when this
# script started it), DB_MAX_CONNECTIONS (32, both servers' pool), AVAIL_THREADS (2),
# AVAIL_CONNECTIONS (32), AVAIL_DURATION (10s), AVAIL_WARMUP (3s), AVAIL_ROUNDS (2: each
# round measures the floor, then the product; the best round of each is reported, which
# evens out a machine shared with other work).
#
# Prints one `SUMMARY|…` line per figure (`make bench` collects them).
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS="${AVAIL_THREADS:-2}"
CONNS="${AVAIL_CONNECTIONS:-32}"
DURATION="${AVAIL_DURATION:-10s}"
WARMUP="${AVAIL_WARMUP:-3s}"
ROUNDS="${AVAIL_ROUNDS:-2}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "==> apt-get install -y wrk"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq wrk || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk; }
  command -v wrk >/dev/null 2>&1 || { echo "bench-availability: wrk is not installed" >&2; exit 1; }
fi

PIDS=()
PG_STARTED=""
FLOOR_TABLE=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$FLOOR_TABLE" ]; then ./target/release/gomomo-floor-http --cleanup || true; fi
  if [ -n "$PG_STARTED" ]; then bash scripts/pg.sh stop || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "${DATABASE_URL:-}" ]]; then
  if ! bash scripts/pg.sh status >/dev/null 2>&1; then PG_STARTED=1; fi
  DATABASE_URL="$(bash scripts/pg.sh start | tail -n1)"
fi
export DATABASE_URL
export GOMOMO_PLATFORM_KEY="bench-platform-key-$(date +%s)-0123456789abcdef"
export DB_MAX_CONNECTIONS="${DB_MAX_CONNECTIONS:-32}"
export RUST_LOG="${RUST_LOG:-warn}"
export RATE_LIMITS="${RATE_LIMITS:-off}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {
  for _ in $(seq 1 150); do
    curl -fsS "$1/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { echo "bench-availability: server exited" >&2; return 1; }
    sleep 0.1
  done
  echo "bench-availability: $1 did not come up" >&2
  return 1
}

echo "==> cargo build --release --bin gomomo --bin gomomo-floor-http"
cargo build --release --bin gomomo --bin gomomo-floor-http
./target/release/gomomo migrate

PORT="$(free_port)"
BASE="http://127.0.0.1:${PORT}"
./target/release/gomomo serve --addr "127.0.0.1:${PORT}" &
PIDS+=($!)
wait_up "$BASE" "${PIDS[-1]}"

echo "==> a tenant with 4 resources and a week of bookings"
read -r TENANT SERVICE FROM TO < <(python3 - "$BASE" "$GOMOMO_PLATFORM_KEY" <<'PY'
import datetime, json, sys, urllib.request

base, key = sys.argv[1], sys.argv[2]

def call(method, path, body=None, token=None, want=(200, 201)):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read()[:300]!r}")

t = call("POST", "/api/admin/tenants", {"name": "Availability bench", "time_zone": "UTC",
         "slot_step_minutes": 15, "min_notice_minutes": 0, "max_days_ahead": 60,
         "buffer_minutes": 0}, key)
tid, tk = t["tenant"]["id"], t["api_key"]
rids = [call("POST", f"/api/admin/tenants/{tid}/resources", {"name": f"Staff {i}"}, tk)["id"]
        for i in range(4)]
svc = call("POST", f"/api/admin/tenants/{tid}/services",
           {"name": "Consultation", "duration_minutes": 30, "resource_ids": rids}, tk)["id"]
call("PUT", f"/api/admin/tenants/{tid}/hours",
     {"hours": [{"weekday": d, "opens": "08:00", "closes": "20:00"} for d in range(1, 8)]}, tk)

first = datetime.date.today() + datetime.timedelta(days=1)
last = first + datetime.timedelta(days=6)
n = 0
for d in range(7):
    day = first + datetime.timedelta(days=d)
    # 09:00 and 14:00 on every resource (those starts and their neighbours disappear),
    # 4 single bookings elsewhere.
    starts = ["09:00"] * 4 + ["14:00"] * 4 + ["10:30", "11:15", "16:00", "18:45"]
    for s in starts:
        at = f"{day.isoformat()}T{s}:00+00:00"
        h = call("POST", f"/api/tenants/{tid}/holds", {"service_id": svc, "start": at})
        call("POST", f"/api/tenants/{tid}/bookings",
             {"hold_id": h["hold_id"], "session_id": h["session_id"],
              "client_name": "Bench", "client_email": f"bench{n}@example.com"})
        n += 1
print(f"bookings: {n}", file=sys.stderr)
print(tid, svc, first.isoformat(), last.isoformat())
PY
)
[ -n "${TO:-}" ] || { echo "bench-availability: creating the tenant failed" >&2; exit 1; }
echo "tenant ${TENANT}, service ${SERVICE}, ${FROM} .. ${TO}"

FPORT="$(free_port)"
FLOOR_TABLE=1
FBASE="http://127.0.0.1:${FPORT}"
./target/release/gomomo-floor-http --addr "127.0.0.1:${FPORT}" --tenant "$TENANT" --service "$SERVICE" \
  --opens 08:00 --closes 20:00 --step 15 --duration 30 --max-connections "$DB_MAX_CONNECTIONS" &
PIDS+=($!)
wait_up "$FBASE" "${PIDS[-1]}"

QUERY="/api/tenants/${TENANT}/availability?service=${SERVICE}&from=${FROM}&to=${TO}"
OUT="target/bench-availability"
mkdir -p "$OUT"
curl -fsS "${BASE}${QUERY}" >"$OUT/product.json"
curl -fsS "${FBASE}${QUERY}" >"$OUT/floor.json"
SAME="$(python3 - "$OUT/product.json" "$OUT/floor.json" <<'PY'
import json, os, sys
p, f = (json.load(open(x)) for x in sys.argv[1:3])
ps, fs = len(p["slots"]), len(f["slots"])
sizes = [os.path.getsize(x) for x in sys.argv[1:3]]
print(f"bodies: product {ps} slots / {sizes[0]} bytes, floor {fs} slots / {sizes[1]} bytes, "
      f"same slots: {'yes' if p['slots'] == f['slots'] else 'no'}", file=sys.stderr)
print("yes" if p["slots"] == f["slots"] else "no")
PY
)"
[ "$SAME" = yes ] || echo "bench-availability: WARNING the floor's slots differ from the product's" >&2

run_wrk() { # name url duration
  wrk -t"$THREADS" -c"$CONNS" -d"$3" --latency "$2" >"$OUT/$1.txt" 2>&1 || { cat "$OUT/$1.txt" >&2; return 1; }
}

for r in $(seq 1 "$ROUNDS"); do
  for who in floor product; do
    if [ "$who" = floor ]; then url="${FBASE}${QUERY}"; else url="${BASE}${QUERY}"; fi
    run_wrk "$who-warmup" "$url" "$WARMUP"
    echo "==> round $r: wrk -t${THREADS} -c${CONNS} -d${DURATION} --latency ($who)"
    run_wrk "$who-$r" "$url" "$DURATION"
    grep -E 'Requests/sec|99%|Non-2xx|Socket errors' "$OUT/$who-$r.txt" || true
  done
done

python3 - "$OUT" "$ROUNDS" "$SAME" "$THREADS" "$CONNS" "$DURATION" "$(nproc)" <<'PY'
import re, sys
out, rounds, same, threads, conns, duration, cores = sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:]

def parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1))
    m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    errs = re.search(r"Socket errors:.*", text)
    return rps, p99, int(bad.group(1)) if bad else 0, errs.group(0) if errs else ""

res = {w: [parse(f"{out}/{w}-{r}.txt") for r in range(1, rounds + 1)] for w in ("floor", "product")}
best = {w: (max(x[0] for x in v), min(x[1] for x in v), sum(x[2] for x in v),
            "; ".join(x[3] for x in v if x[3])) for w, v in res.items()}
(prps, pp99, pbad, perr), (frps, fp99, fbad, ferr) = best["product"], best["floor"]
note = f"wrk -t{threads} -c{conns} -d{duration}, one-week range, client, servers and Postgres on {cores} cores"
if rounds > 1:
    per_round = ", ".join(f"{p[0] / f[0]:.2f}" for p, f in zip(res["product"], res["floor"]))
    note += f", best of {rounds} rounds (req/s ratio per round: {per_round})"
if same != "yes":
    note += ", floor slots differ"
if pbad or fbad or perr or ferr:
    note += f", non-2xx product {pbad} floor {fbad} {perr} {ferr}".rstrip()
r1 = prps / frps
r2 = pp99 / fp99
ok = not (pbad or fbad)
print(f"SUMMARY|availability req/s|{prps:.0f}|{frps:.0f} (gomomo-floor-http)|{r1:.2f}|>= 0.5x floor|"
      f"{'yes' if ok and r1 >= 0.5 else 'no'}|{note}")
print(f"SUMMARY|availability p99 ms|{pp99:.2f}|{fp99:.2f} (gomomo-floor-http)|{r2:.2f}|<= 2x floor|"
      f"{'yes' if ok and r2 <= 2.0 else 'no'}|{note}")
PY
