#!/usr/bin/env python3
"""Tries the public endpoints of a running `gomomo serve` the way an abusive client would and
prints what held. Loopback only: the base URL must be http://127.0.0.1:<port> or [::1].

Probes (each prints one row):
  holds      one client holds every slot of a day under fresh sessions; then a second client
             (source address 127.0.0.2) asks for the first slot
  lookups    1,000 booking lookups with random references (the enumeration case)
  sockets    300 WebSockets opened to /ws by one client, counted after a second
  half-open  200 connections that send half a request header, counted after --wait seconds

Usage: scripts/abuse_probe.py --base http://127.0.0.1:3000 --tenant <uuid> [--wait 15]
(`scripts/abuse-probe.sh` starts a server on a free port and runs this against it.)
"""

import argparse
import asyncio
import datetime as dt
import http.client
import json
import random
import socket
import sys
import time
import urllib.parse
import uuid


def request(base, method, path, body=None, source=None):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10,
                                      source_address=(source, 0) if source else None)
    headers = {"content-type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = r.read()
    retry = r.getheader("retry-after")
    conn.close()
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return r.status, parsed, retry


def code_of(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def first_day_with_slots(base, tenant, service):
    day = dt.date.today() + dt.timedelta(days=2)
    for _ in range(14):
        q = urllib.parse.urlencode({"service": service, "from": day.isoformat(), "to": day.isoformat()})
        st, body, _ = request(base, "GET", f"/api/tenants/{tenant}/availability?{q}")
        if st == 200 and body["slots"]:
            return day, [s["start"] for s in body["slots"]]
        day += dt.timedelta(days=1)
    sys.exit("no day with free slots in the next two weeks")


def hold(base, tenant, service, start, source=None):
    """A hold under a fresh session: server-issued when the server issues them (no
    session_id sent), else a client-chosen one, as older servers required."""
    st, body, retry = request(base, "POST", f"/api/tenants/{tenant}/holds",
                              {"service_id": service, "start": start}, source)
    if st == 400 and code_of(body) in ("invalid_body", "invalid_request", "session_id"):
        st, body, retry = request(base, "POST", f"/api/tenants/{tenant}/holds",
                                  {"service_id": service, "start": start,
                                   "session_id": f"probe-{uuid.uuid4()}"}, source)
    return st, body, retry


def probe_holds(base, tenant):
    _, t, _ = request(base, "GET", f"/api/tenants/{tenant}")
    service = t["services"][0]["id"]
    staff = len(t["services"][0]["resource_ids"])
    day, starts = first_day_with_slots(base, tenant, service)
    t0 = time.monotonic()
    got, statuses, retry_after = 0, {}, None
    # Every start once per staff member who offers the service: the whole day.
    for s in starts * staff:
        st, body, retry = hold(base, tenant, service, s)
        statuses[st] = statuses.get(st, 0) + 1
        got += st == 201
        retry_after = retry_after or retry
    took = time.monotonic() - t0
    st2, body2, _ = hold(base, tenant, service, starts[0], source="127.0.0.2")
    print(f"holds      {day}: {len(starts)} free starts x {staff} staff; one client got {got} holds in {took:.2f} s "
          f"(statuses {statuses}, Retry-After {retry_after}); "
          f"a second client on the first slot: {st2} {code_of(body2) or ''}")


def probe_lookups(base, tenant, n=1000):
    statuses = {}
    t0 = time.monotonic()
    for _ in range(n):
        ref = "".join(random.choice("23456789ABCDEFGHJKMNPQRSTUVWXYZ") for _ in range(8))
        st, body, _ = request(base, "POST", f"/api/tenants/{tenant}/bookings/{ref}/lookup",
                              {"email": "probe@example.com"})
        if st == 405 or (st == 404 and code_of(body) in (None, "route_not_found")):
            q = urllib.parse.urlencode({"email": "probe@example.com"})
            st, body, _ = request(base, "GET", f"/api/tenants/{tenant}/bookings/{ref}?{q}")
        key = f"{st} {code_of(body) or ''}".strip()
        statuses[key] = statuses.get(key, 0) + 1
    took = time.monotonic() - t0
    print(f"lookups    {n} random references in {took:.2f} s ({n / took:.0f}/s): {statuses}")


async def probe_sockets(base, tenant, n=300):
    import websockets

    u = urllib.parse.urlsplit(base)
    url = f"ws://{u.hostname}:{u.port}/ws?tenant_id={tenant}"
    socks, refused = [], {}

    async def one():
        try:
            socks.append(await websockets.connect(url, open_timeout=5))
        except Exception as e:  # noqa: BLE001 - the probe counts every kind of refusal
            key = type(e).__name__
            refused[key] = refused.get(key, 0) + 1

    await asyncio.gather(*(one() for _ in range(n)))
    await asyncio.sleep(1)
    alive = 0
    for s in socks:
        try:
            await asyncio.wait_for(s.ping(), 2)
            alive += 1
        except Exception:  # noqa: BLE001
            pass
    for s in socks:
        await s.close()
    print(f"sockets    {n} opened by one client: {len(socks)} accepted, {alive} still open after 1 s, "
          f"refused {refused}")


def probe_half_open(base, n=200, wait=15.0):
    u = urllib.parse.urlsplit(base)
    conns = []
    for _ in range(n):
        s = socket.create_connection((u.hostname, u.port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\n")
        conns.append(s)
    time.sleep(wait)
    open_ = 0
    for s in conns:
        s.setblocking(False)
        try:
            s.recv(1)  # b"" (closed) or the server's timeout answer: not held open
        except BlockingIOError:
            open_ += 1
        except OSError:
            pass
        s.close()
    print(f"half-open  {n} connections with half a header: {open_} still open after {wait:.0f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--wait", type=float, default=15.0)
    a = ap.parse_args()
    host = urllib.parse.urlsplit(a.base).hostname
    if host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("the probe only talks to loopback servers")
    probe_holds(a.base, a.tenant)
    probe_lookups(a.base, a.tenant)
    asyncio.run(probe_sockets(a.base, a.tenant))
    probe_half_open(a.base, wait=a.wait)


if __name__ == "__main__":
    main()
