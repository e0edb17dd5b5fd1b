#!/usr/bin/env python3
"""Start time and memory of the Lambda function binaries against a loopback Runtime API.

Each run gets a fresh listener on 127.0.0.1 that plays the Lambda Runtime API
(`GET /2018-06-01/runtime/invocation/next`, `POST …/{id}/response`, `…/{id}/error`,
`…/init/error`) and, on the same port, a stand-in for the AWS endpoints the functions
call (EventBridge `PutEvents`, the API Gateway Management API `POST /@connections/{id}`),
so a function never waits on the network and the SDK never reaches for instance metadata.

Figures, for every function and for the floor function measured in the same invocation:
- init + first invocation: process spawn until the first response is posted to the
  Runtime API, `--runs` times per function (a new process each time), runs interleaved
  across functions so that a busy moment on the machine hits all of them alike; p50;
- peak RSS under load: `--load` invocations in a row in one process, then `VmHWM` from
  /proc/<pid>/status while the process waits for the next event.

    scripts/bench_functions.py --bin-dir DIR --floor floor-fn [--runs 20] [--load 1000] api worker …

A name `api@fat` runs DIR/api@fat with the events of `api`: two builds of one function
measured side by side in one invocation.

The caller provides the environment the functions read (DATABASE_URL of a migrated and
seeded database, GOMOMO_ENV, …); scripts/bench-functions.sh does that. Prints a table and
`SUMMARY|…` lines; exits 1 when a function fails to answer.
"""
import argparse
import collections
import copy
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS = os.path.join(ROOT, "events")
PREFIX = "/2018-06-01/runtime"


def load(name):
    with open(os.path.join(EVENTS, name), encoding="utf-8") as f:
        return json.load(f)


def api_events():
    event = load("api-healthz.json")
    return lambda i: event


def worker_events():
    """One SQS record per batch, a fresh event id each time (the worker dedups by it)."""
    batch = load("worker-sqs-batch.json")
    record = batch["Records"][0]
    body = json.loads(record["body"])

    def make(i):
        b = copy.deepcopy(body)
        b["id"] = str(uuid.uuid4())
        b["detail"]["event_id"] = str(uuid.uuid4())
        r = dict(record, messageId=str(uuid.uuid4()), body=json.dumps(b))
        return {"Records": [r]}

    return make


def chat_ws_events():
    """$connect, a message, $disconnect on one connection; a new connection id and client
    address each cycle."""
    cycle = [load("chat-ws-connect.json"), load("chat-ws-default.json"), load("chat-ws-disconnect.json")]

    def make(i):
        event = copy.deepcopy(cycle[i % 3])
        c = i // 3
        ctx = event["requestContext"]
        ctx["connectionId"] = f"bench{c:010d}="
        # One client per connection, as many browsers would be (budgets count per address).
        ctx.setdefault("identity", {})["sourceIp"] = f"10.{(c >> 16) & 255}.{(c >> 8) & 255}.{c & 255}"
        return event

    return make


def fixed(name):
    event = load(name)
    return lambda i: event


# What each function is given: its first event is the one the start is timed on.
FIXTURES = {
    "floor-fn": ("api-healthz.json", api_events),
    "api": ("api-healthz.json", api_events),
    # A chat turn on a new session each time (the deterministic engine: no model key).
    "chat-http": ("chat-http-hello.json", lambda: fixed("chat-http-hello.json")),
    "excel": ("api-healthz.json", api_events),
    "chat-ws": ("chat-ws-connect.json, then message, disconnect", chat_ws_events),
    "voice": ("voice-call-start-signed.json", lambda: fixed("voice-call-start-signed.json")),
    "handoff": ("handoff-sms-help-signed.json", lambda: fixed("handoff-sms-help-signed.json")),
    "worker": ("worker-sqs-batch.json, first record only", worker_events),
    "scheduler": ("scheduler-tick.json", lambda: fixed("scheduler-tick.json")),
}


def fixture(name):
    """`api@fat` (a variant of a binary, for side-by-side builds) uses the fixture of `api`."""
    return FIXTURES[name.split("@")[0]]


class RuntimeApi:
    """A loopback Lambda Runtime API handing out `count` events, then holding the next poll."""

    def __init__(self, make_event, count):
        self.make_event = make_event
        self.count = count
        self.served = 0
        self.answered = 0
        self.errors = []
        self.first_response_at = None
        self.first_poll_at = None
        self.first_cpu_ns = None
        self.statuses = collections.Counter()
        self.pid = None
        self.cond = threading.Condition()
        self.closing = False
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                if self.path != PREFIX + "/invocation/next":
                    return self.reply(404)
                now = time.perf_counter()
                with api.cond:
                    if api.first_poll_at is None:
                        api.first_poll_at = now
                    while api.served >= api.count and not api.closing:
                        api.cond.wait()
                    if api.closing:
                        return self.reply(503)
                    i = api.served
                    api.served += 1
                event = json.dumps(api.make_event(i)).encode()
                deadline = int(time.time() * 1000) + 30_000
                self.reply(
                    200,
                    event,
                    [
                        ("Content-Type", "application/json"),
                        ("Lambda-Runtime-Aws-Request-Id", f"bench-{i:08d}"),
                        ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                        ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                    ],
                )

            def do_POST(self):
                data = self.body()
                now = time.perf_counter()
                if self.path.startswith(PREFIX + "/"):
                    if self.path.endswith("/response"):
                        with api.cond:
                            if api.first_response_at is None:
                                api.first_response_at = now
                                api.first_cpu_ns = cpu_ns(api.pid)
                            api.answered += 1
                            api.statuses[status_of(data)] += 1
                            api.cond.notify_all()
                        return self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
                    if self.path.endswith("/error"):
                        with api.cond:
                            api.errors.append(f"{self.path}: {data[:300]!r}")
                            api.answered += 1
                            api.cond.notify_all()
                        return self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
                    return self.reply(404)
                return self.aws(data)

            def aws(self, data):
                """EventBridge PutEvents and the Management API's PostToConnection."""
                target = self.headers.get("X-Amz-Target", "")
                if target.endswith("PutEvents"):
                    try:
                        n = len(json.loads(data or b"{}").get("Entries", []))
                    except ValueError:
                        n = 0
                    out = {"FailedEntryCount": 0, "Entries": [{"EventId": str(uuid.uuid4())} for _ in range(n)]}
                    return self.reply(200, json.dumps(out).encode(), [("Content-Type", "application/x-amz-json-1.1")])
                return self.reply(200, b"", [("Content-Type", "application/json")])

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A function killed at the end of its run drops its connections.
                if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_answers(self, n, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while self.answered < n:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def close(self):
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()


def status_of(body):
    """The HTTP status of an API Gateway answer, "ok" for other functions' answers."""
    try:
        answer = json.loads(body)
    except ValueError:
        # lambda_http streams its answer with a JSON prelude; fall back to a search.
        text = body[:400].decode("utf-8", "replace")
        i = text.find('"statusCode":')
        return text[i + 13 : i + 16] if i >= 0 else "ok"
    if isinstance(answer, dict) and "statusCode" in answer:
        return str(answer["statusCode"])
    return "ok"


def cpu_ns(pid):
    """CPU time of every thread of `pid` so far (ns; /proc/<pid>/task/*/schedstat)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, TypeError):
        return None
    return total


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def run_once(binary, name, count, log, timeout):
    """Spawn the function, serve `count` events; ((seconds to the first poll, seconds to the
    first response), VmHWM KiB, seconds for all `count`, errors)."""
    make = fixture(name)[1]()
    api = RuntimeApi(make, count)
    env = dict(os.environ)
    endpoint = f"http://127.0.0.1:{api.port}"
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
            "AWS_LAMBDA_FUNCTION_NAME": f"gomomo-bench-{name}",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/gomomo-bench-{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "AWS_ENDPOINT_URL": endpoint,
            "WS_MANAGEMENT_ENDPOINT": endpoint,
        }
    )
    proc = None
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        api.pid = proc.pid
        ok = api.wait_answers(1, timeout)
        if not ok:
            raise RuntimeError(f"{name}: no answer to the first event within {timeout}s (exit {proc.poll()})")
        first = (api.first_poll_at - t0, api.first_response_at - t0, api.first_cpu_ns)
        ok = api.wait_answers(count, timeout + count * 0.5)
        t_all = time.perf_counter() - t0
        if not ok:
            raise RuntimeError(f"{name}: {api.answered}/{count} answered (exit {proc.poll()})")
        # The function now waits in its next poll: its peak memory is final.
        hwm = vm_hwm_kib(proc.pid) if count > 1 else None
        return first, hwm, t_all, list(api.errors), dict(api.statuses)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        api.close()


def fmt_mib(kib):
    return f"{kib / 1024:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--floor", default="floor-fn")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--load", type=int, default=1000)
    ap.add_argument("--load-scheduler", type=int, default=200, help="ticks in a row for the scheduler (each tick sweeps every table)")
    ap.add_argument("--goal-ratio", type=float, default=1.25)
    ap.add_argument("--goal-rss-mib", type=float, default=32)
    ap.add_argument("--log-dir", default=os.path.join(ROOT, "target", "bench-functions"))
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("functions", nargs="+")
    args = ap.parse_args()

    os.makedirs(args.log_dir, exist_ok=True)
    names = [args.floor] + [f for f in args.functions if f != args.floor]
    for n in names:
        if n.split("@")[0] not in FIXTURES:
            sys.exit(f"bench_functions: no fixture for {n}")
        if not os.access(os.path.join(args.bin_dir, n), os.X_OK):
            sys.exit(f"bench_functions: {os.path.join(args.bin_dir, n)} is missing")
    logs = {n: open(os.path.join(args.log_dir, f"{n}.log"), "wb") for n in names}
    errors = {n: [] for n in names}
    statuses = {n: collections.Counter() for n in names}
    load_statuses = {}

    # Warm the page cache and the database's plans once per binary, untimed.
    for n in names:
        _, _, _, errs, st = run_once(os.path.join(args.bin_dir, n), n, 1, logs[n], 60)
        errors[n] += errs
        statuses[n].update(st)

    starts = {n: [] for n in names}
    inits = {n: [] for n in names}
    cpus = {n: [] for n in names}
    for r in range(args.runs):
        for n in names:
            first, _, _, errs, st = run_once(os.path.join(args.bin_dir, n), n, 1, logs[n], 60)
            statuses[n].update(st)
            inits[n].append(first[0] * 1000)
            if first[2] is not None:
                cpus[n].append(first[2] / 1e6)
            starts[n].append(first[1] * 1000)
            errors[n] += errs

    rss, rate = {}, {}
    for n in names:
        count = args.load_scheduler if n.split("@")[0] == "scheduler" else args.load
        _, hwm, t_all, errs, st = run_once(os.path.join(args.bin_dir, n), n, count, logs[n], 60)
        load_statuses[n] = st
        rss[n] = hwm
        rate[n] = (count, t_all)
        errors[n] += errs

    med = lambda v: statistics.median(v) if v else float("nan")
    p50 = {n: med(v) for n, v in starts.items()}
    cpu50 = {n: med(v) for n, v in cpus.items()}
    floor = args.floor
    print(f"\n== init + first invocation, {args.runs} runs (ms): wall p50/min/max and ratio to {floor}; "
          "init = p50 to the first poll; cpu = p50 CPU time of all threads to the first response")
    print(f"== peak RSS (VmHWM, MiB) after `load` invocations in one process")
    print(f"{'function':<10} {'p50':>7} {'min':>7} {'max':>7} {'ratio':>6} {'init':>6} {'cpu':>6} {'cpu x':>6} {'VmHWM':>6} {'load':>6} {'inv/s':>6}  first event")
    for n in names:
        v = starts[n]
        count, t_all = rate[n]
        print(
            f"{n:<10} {p50[n]:7.2f} {min(v):7.2f} {max(v):7.2f} {p50[n] / p50[floor]:6.2f} {med(inits[n]):6.2f} "
            f"{cpu50[n]:6.2f} {cpu50[n] / cpu50[floor]:6.2f} {fmt_mib(rss[n]):>6} {count:>6} {count / t_all:6.0f}  {fixture(n)[0]}"
        )
    for n in names:
        print(f"answers of {n}: first invocations {dict(statuses[n])}, under load {load_statuses[n]}")
    for n in names:
        if errors[n]:
            print(f"note: {n} answered {len(errors[n])} invocation(s) with an error, first: {errors[n][0]}")

    for n in names:
        if n == floor:
            continue
        ratio = p50[n] / p50[floor]
        met = "yes" if ratio <= args.goal_ratio else "no"
        note = (f"spawn to first response posted, {args.runs} runs, first event {fixture(n)[0]}; "
                f"CPU p50 {cpu50[n]:.2f} ms vs {cpu50[floor]:.2f} ms ({cpu50[n] / cpu50[floor]:.2f}x)")
        if errors[n]:
            note += f"; {len(errors[n])} error answers"
        print(f"SUMMARY|{n} init+first p50|{p50[n]:.2f} ms|{p50[floor]:.2f} ms ({floor})|{ratio:.2f}|<= {args.goal_ratio}x floor|{met}|{note}")
    for n in names:
        if n == floor:
            continue
        mib = rss[n] / 1024
        met = "yes" if mib <= args.goal_rss_mib else "no"
        count = rate[n][0]
        print(
            f"SUMMARY|{n} peak RSS|{mib:.1f} MiB|{rss[floor] / 1024:.1f} MiB ({floor})|{rss[n] / rss[floor]:.2f}|"
            f"<= {args.goal_rss_mib:g} MiB|{met}|VmHWM after {count} invocations in one process"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"statuses": statuses, "load_statuses": load_statuses, "starts_ms": starts, "init_ms": inits, "cpu_ms": cpus, "p50_ms": p50, "vm_hwm_kib": rss, "load": rate, "errors": errors}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
