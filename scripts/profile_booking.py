#!/usr/bin/env python3
"""Profiles the booking path of a running `gomomo serve`: books N slots (hold + confirm) one
after another through HTTP, then reads pg_stat_statements to say how many statements, how
many transactions and how much database time one booking costs, and which statements cost
the most. Run by scripts/profile-booking.sh, which starts the server and the statistics.

Env: GOMOMO_PROFILE_URL (the server), GOMOMO_PLATFORM_KEY, DATABASE_URL,
PROFILE_BOOKINGS (500), PROFILE_WORKERS (1: one booking after another; more for the
statements' shares under contention, e.g. the advisory locks' waits).
"""
import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

BASE = os.environ["GOMOMO_PROFILE_URL"]
KEY = os.environ["GOMOMO_PLATFORM_KEY"]
DB = os.environ["DATABASE_URL"]
N = int(os.environ.get("PROFILE_BOOKINGS", "500"))
WORKERS = int(os.environ.get("PROFILE_WORKERS", "1"))


def call(method, path, body=None, key=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if key:
        req.add_header("authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def psql(sql):
    out = subprocess.run(
        ["psql", DB, "-X", "-q", "-t", "-A", "-F", "\t", "-c", sql],
        check=True, capture_output=True, text=True,
    )
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def main():
    s, created = call("POST", "/api/admin/tenants", {
        "name": "Profile", "time_zone": "UTC", "slot_step_minutes": 5,
        "min_notice_minutes": 0, "max_days_ahead": 365}, KEY)
    assert s == 201, created
    tenant, key = created["tenant"]["id"], created["api_key"]
    rids = []
    for i in range(4):
        s, r = call("POST", f"/api/admin/tenants/{tenant}/resources", {"name": f"R{i}"}, key)
        assert s == 201, r
        rids.append(r["id"])
    s, svc = call("POST", f"/api/admin/tenants/{tenant}/services",
                  {"name": "Slot", "duration_minutes": 5, "resource_ids": rids}, key)
    assert s == 201, svc
    hours = [{"weekday": d, "opens": "00:00", "closes": "23:55"} for d in range(1, 8)]
    s, r = call("PUT", f"/api/admin/tenants/{tenant}/hours", {"hours": hours}, key)
    assert s == 200, r

    day = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    psql("SELECT pg_stat_statements_reset()")
    audit_before = int(psql("SELECT count(*) FROM audit_log")[0][0])

    def book(n):
        # Workers spread over days (each its own day's locks), as the throughput bench does.
        idx = (n % WORKERS) * 287 + n // WORKERS
        start = day + timedelta(days=1 + idx // 287, minutes=5 * (idx % 287))
        s, hold = call("POST", f"/api/tenants/{tenant}/holds",
                       {"service_id": svc["id"], "start": start.isoformat()})
        assert s == 201, hold
        s, b = call("POST", f"/api/tenants/{tenant}/bookings", {
            "hold_id": hold["hold_id"], "session_id": hold["session_id"],
            "client_name": "Profile", "client_email": "profile@example.com"})
        assert s == 201, b

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(book, range(N)))
    elapsed = time.monotonic() - started
    time.sleep(2)  # the relay and the policy engine finish what the bookings started
    rows = psql(
        "SELECT calls, round(total_exec_time::numeric, 1), regexp_replace(query, '\\s+', ' ', 'g') "
        "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND query NOT ILIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC")
    audit = int(psql("SELECT count(*) FROM audit_log")[0][0]) - audit_before
    events = psql("SELECT event_type, count(*) FROM audit_log GROUP BY 1 ORDER BY 2 DESC")
    calls = sum(int(r[0]) for r in rows)
    total_ms = sum(float(r[1]) for r in rows)
    tx = sum(int(r[0]) for r in rows if r[2].strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")))
    print(f"profile: {N} bookings (hold + confirm), {WORKERS} client(s), in {elapsed:.1f}s")
    print(f"profile: statements per booking {calls / N:.1f} (of which BEGIN/COMMIT/ROLLBACK {tx / N:.1f}); "
          f"database execution time per booking {total_ms / N:.3f} ms; audit rows per booking {audit / N:.1f}")
    print("profile: top statements by total execution time (calls per booking, share of time)")
    for c, ms, q in rows[:20]:
        share = 100 * float(ms) / total_ms if total_ms else 0
        print(f"  {int(c) / N:6.2f}/booking {share:5.1f}%  {q[:150]}")
    print("profile: audit rows by event type (whole database)")
    for e, c in events[:12]:
        print(f"  {c:>6}  {e}")
    print(f"SUMMARY|statements per booking|{calls / N:.1f}|-|-|-|n.a.|pg_stat_statements, {N} bookings, autonomy off")


if __name__ == "__main__":
    sys.exit(main())
