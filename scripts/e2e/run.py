#!/usr/bin/env python3
"""`make e2e`: the deployed shape, run locally and followed hop by hop.

Every function binary runs under `cargo lambda watch` with the environment template.yaml
gives it (stack.py; the local differences are all in stack.LOCAL). Around them: moto with
the template's bus, rules and queues; the SMTP sink; a Twilio-shaped Messages API; and the
project's own API Gateway stand-in (gateway.py) for the HTTP API, the WebSocket API and the
@connections Management API. Nothing inside the functions is replaced.

The story:
  hop D  the deploy: CloudFormation's Create for the DatabaseMigrations custom resource has the
         migrate function apply the migrations and answer SUCCESS once at its ResponseURL;
  hop 0  the HTTP API answers (GET /healthz through the gateway to the api function);
  hop 1  a client books through WebSocket frames to chat-ws (the deterministic agent);
  hop 2  the relay publishes BookingCreated on the bus; the rule puts it on SQS;
  hop 3  the worker, invoked with the batch received from SQS, mails the confirmation
         with its .ics to the SMTP sink;
  hop 4  the clock moves forward (the scheduler starts with GOMOMO_CLOCK_OFFSET_SECONDS);
         the scheduler, invoked with a schedule event, sends the reminder SMS;
  hop 5  a caller on voice asks for a link; the SMS carries it; the link opened
         in headless Chromium continues the call in the widget, and the booking completes;
  last   the session ids the run used appear in none of target/e2e/*.log.

    DATABASE_URL=… [MOTO_ENDPOINT=…] python3 scripts/e2e/run.py [--until N] [--keep]

Logs: target/e2e/ (run.log, gateway.log, one <function>.log and .env per watcher, mail/,
sms/, aws.json, summary.txt).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aws_setup  # noqa: E402
from gateway import Gateway, InvokeError, Invoker  # noqa: E402
from stack import DEMO_TENANT, REGION, ROOT, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, Stack  # noqa: E402
from twilio_server import TwilioServer  # noqa: E402
from watchers import Watcher, free_port  # noqa: E402

OUT = ROOT / "target" / "e2e"
# A number of its own per run: the SMS rate limit and opt-outs are kept per phone in Postgres.
CLIENT_PHONE = f"+1555{random.randrange(10**7):07d}"
# How long a hop may wait for something asynchronous (a message on the queue, a mail).
SETTLE = 30


class HopFailed(AssertionError):
    pass


class Run:
    def __init__(self, args):
        self.args = args
        self.hops: list[tuple[str, str, float, str]] = []
        self.procs: list[subprocess.Popen] = []
        self.watchers: dict[str, Watcher] = {}
        self.gateway: Gateway | None = None
        self.twilio: TwilioServer | None = None
        self.log = open(OUT / "run.log", "a")
        self.facts: dict = {}

    def say(self, msg: str):
        line = f"e2e: {msg}"
        print(line, flush=True)
        self.log.write(f"{datetime.now().isoformat(timespec='seconds')} {line}\n")
        self.log.flush()

    # --- bookkeeping ------------------------------------------------------------------------

    def hop(self, number, name, fn):
        label = f"hop {number} ({name})"
        self.say(f"{label} ...")
        started = time.monotonic()
        try:
            detail = fn() or ""
        except Exception as e:  # noqa: BLE001 (every failure names its hop)
            took = time.monotonic() - started
            self.hops.append((str(number), name, took, "FAIL"))
            if not isinstance(e, (HopFailed, InvokeError)):
                self.log.write(traceback.format_exc())
            raise HopFailed(f"{label}: {e}") from None
        took = time.monotonic() - started
        self.hops.append((str(number), name, took, "ok"))
        self.say(f"{label}: ok in {took:.1f}s {detail}")

    def summary(self, total: float):
        rows = [("hop", "what", "seconds", "result")] + [
            (n, name, f"{t:.1f}", r) for n, name, t, r in self.hops
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(f"total {total:.1f}s")
        text = "\n".join(lines)
        print(text, flush=True)
        (OUT / "summary.txt").write_text(text + "\n")

    # --- the stack ------------------------------------------------------------------------

    def sh(self, *cmd, env=None, capture=False) -> str:
        p = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
        return p.stdout if capture else ""

    def psql(self, sql: str) -> str:
        return self.sh("psql", self.database_url, "-Atc", sql, capture=True).strip()

    def start_moto(self) -> str:
        endpoint = os.environ.get("MOTO_ENDPOINT")
        if endpoint:
            return endpoint
        port = free_port()
        log = open(OUT / "moto.log", "ab")
        p = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        wait_port(port, p, "moto_server")
        return f"http://127.0.0.1:{port}"

    def start_smtp(self) -> int:
        folder = OUT / "mail"
        shutil.rmtree(folder, ignore_errors=True)
        p = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "smtp_sink.py"), "--dir", str(folder)],
                             stdout=subprocess.PIPE, stderr=open(OUT / "smtp.log", "ab"), text=True)
        self.procs.append(p)
        line = p.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"smtp_sink.py did not start: {line!r} (see {OUT / 'smtp.log'})")
        return int(line.split()[1])

    def setup(self):
        self.database_url = os.environ.get("DATABASE_URL") or sys.exit("DATABASE_URL must be set")
        self.say("cargo build --bins (every function and gomomo, before any watcher starts)")
        self.sh("cargo", "build", "--bins")
        moto = self.start_moto()
        reset_moto(moto)
        smtp_port = self.start_smtp()
        self.twilio = TwilioServer(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, str(OUT / "sms")).start()

        self.stack = Stack(values={"moto_endpoint": moto, "database_url": self.database_url,
                                   "smtp_port": smtp_port, "twilio_port": self.twilio.port})
        self.aws = aws_setup.create(self.stack, moto)
        (OUT / "aws.json").write_text(json.dumps(self.aws, indent=2))
        self.say(f"moto {moto}: bus {list(self.aws['buses'].values())}, queues "
                 f"{[q['name'] for q in self.aws['queues'].values()]}, rules {len(self.aws['rules'])}")
        from aws_setup import clients
        self.events, self.sqs = clients(moto)

        functions = self.stack.functions()  # logical id -> binary
        self.lid = {b: lid for lid, b in functions.items()}
        ports = {b: free_port() for b in functions.values()}
        gw_log = open(OUT / "gateway.log", "a")
        self.invoke = Invoker(ports, gw_log)
        self.gateway = Gateway(self.stack, self.invoke, gw_log).start()
        self.stack.values.update({
            "public_base_url": f"http://127.0.0.1:{self.gateway.http_port}",
            "management_port": self.gateway.management_port,
            "ws_port": self.gateway.ws_port,
        })
        self.say(f"gateway: HTTP API :{self.gateway.http_port} ({len(self.gateway.routes)} routes, "
                 f"$default -> {self.gateway.default}), WebSocket :{self.gateway.ws_port} "
                 f"({sorted(self.gateway.ws_routes)}), @connections :{self.gateway.management_port}")
        # The deploy: CloudFormation's custom resource has the migrate function migrate the
        # database before any other function starts (as `DependsOn` orders it in the stack).
        self.start_watcher("migrate").wait_listening()
        self.hop("D", "CloudFormation Create -> migrate -> ResponseURL", self.hop_deploy)

        gomomo = str(ROOT / "target" / "debug" / "gomomo")
        dev = {**os.environ, "GOMOMO_ENV": "development"}
        seed = json.loads(self.sh(gomomo, "seed-demo", env=dev, capture=True))
        (OUT / "seed.json").write_text(json.dumps(seed, indent=2))
        if seed.get("tenant_id") != DEMO_TENANT:
            raise RuntimeError(f"seed-demo made tenant {seed.get('tenant_id')}, expected {DEMO_TENANT}")
        self.seed = seed

        # The scheduler starts at hop 4, once the clock has moved.
        for binary in functions.values():
            if binary not in ("scheduler", "migrate"):
                self.start_watcher(binary)
        for w in self.watchers.values():
            w.wait_listening()

    # --- hop D: the deploy's migrations through the custom resource --------------------------

    def hop_deploy(self):
        import http.server
        import threading

        answers: list[dict] = []

        class ResponseUrl(http.server.BaseHTTPRequestHandler):
            def do_PUT(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answers.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), ResponseUrl)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            version = f"arn:aws:lambda:us-east-1:123456789012:function:{self.stack.physical_name(self.lid['migrate'])}:1"
            event = {
                "RequestType": "Create",
                "ServiceToken": version,
                "ResponseURL": f"http://127.0.0.1:{server.server_port}/cfn-response?X-Amz-Signature=e2e",
                "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/gomomo-e2e/e2e",
                "RequestId": str(uuid.uuid4()),
                "LogicalResourceId": "DatabaseMigrations",
                "ResourceType": "Custom::DatabaseMigrations",
                "ResourceProperties": {"ServiceToken": version, "CodeVersion": version},
            }
            self.invoke("migrate", event)
        finally:
            server.shutdown()
        if len(answers) != 1:
            raise HopFailed(f"the ResponseURL got {len(answers)} answers, expected exactly one")
        answer = answers[0]
        if answer.get("Status") != "SUCCESS" or answer.get("RequestId") != event["RequestId"]:
            raise HopFailed(f"the custom resource answered {answer}")
        files = len(list((ROOT / "migrations").glob("*.sql")))
        applied = int(self.psql("SELECT count(*) FROM _sqlx_migrations WHERE success"))
        if applied != files:
            raise HopFailed(f"{applied} migrations applied, the repository has {files}")
        return f"SUCCESS answered once; {applied} migrations applied"

    def start_watcher(self, binary: str):
        env, notes = self.stack.function_env(self.lid[binary])
        for n in notes:
            self.say(f"{binary}: {n}")
        w = Watcher(binary, self.invoke.ports[binary], env, OUT, ROOT).start()
        self.watchers[binary] = w
        return w

    def stop(self):
        for w in self.watchers.values():
            w.stop()
        if self.gateway:
            self.gateway.stop()
        if self.twilio:
            self.twilio.stop()
        for p in self.procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()

    # --- hop 1: booking over the WebSocket API ------------------------------------------------

    def hop1_book(self):
        from websockets.sync.client import connect

        url = f"ws://127.0.0.1:{self.gateway.ws_port}/prod?tenant_id={DEMO_TENANT}"
        client_email = f"e2e.{uuid.uuid4().hex[:8]}@example.com"
        with connect(url, open_timeout=300, close_timeout=5) as ws:
            ws.send(json.dumps({"action": "hello", "tenant_id": DEMO_TENANT}))
            status = next_frame(ws, "status")
            session = status.get("session_id")
            if not session:
                raise HopFailed(f"hello got no session id: {status}")

            def say(text, expect):
                ws.send(json.dumps({"action": "message", "tenant_id": DEMO_TENANT,
                                    "session_id": session, "text": text}))
                reply = next_frame(ws, "assistant_message")
                if not re.search(expect, reply["text"]):
                    raise HopFailed(f"after {text!r} the agent said {reply['text']!r} (expected /{expect}/)")
                return reply

            say("Hi, I'd like to book a consultation", r"What day")
            say("tomorrow", r"open times|available|\d:\d\d")
            say("the first one", r"holding")
            say("Jane Tester", r"email")
            say(f"{client_email}, text me at {CLIENT_PHONE}", r"Please confirm")
            done = say("yes", r"You're all set")
        m = re.search(r"\b([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})\b", done["text"])
        if not m:
            raise HopFailed(f"no reference in {done['text']!r}")
        reference = m.group(1)
        row = self.psql(
            "SELECT id || '|' || client_email || '|' || coalesce(client_phone, '') || '|' || status "
            f"FROM appointments WHERE reference = '{reference}'"
        )
        want_tail = f"|{client_email}|{CLIENT_PHONE}|confirmed"
        if not row.endswith(want_tail):
            raise HopFailed(f"booking {reference} in Postgres is {row!r}, expected …{want_tail}")
        if not self.gateway.posts:
            raise HopFailed("chat-ws answered without posting to @connections")
        self.facts.update(reference=reference, email=client_email, session=session,
                          booking_id=row.split("|")[0])
        return f"reference {reference}, {len(self.gateway.posts)} frames posted through @connections"

    # --- hop 2: bus -> rule -> SQS --------------------------------------------------------------

    def hop2_queue(self):
        url = aws_setup.queue_url(self.aws, "EventsQueue")
        deadline = time.monotonic() + SETTLE
        seen, found = [], None
        self.facts["messages"] = []
        while time.monotonic() < deadline and not found:
            out = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                                           AttributeNames=["All"], MessageAttributeNames=["All"])
            for m in out.get("Messages", []):
                self.facts["messages"].append(m)
                body = json.loads(m["Body"])
                seen.append(body.get("detail-type"))
                if body.get("detail-type") == "BookingCreated" and \
                        body.get("detail", {}).get("booking_id") == self.facts["booking_id"]:
                    found = body
        if not found:
            unpublished = self.psql("SELECT count(*) FROM outbox WHERE published_at IS NULL") \
                if self.table_exists("outbox") else "?"
            raise HopFailed(f"no BookingCreated for booking {self.facts['booking_id']} on the queue within "
                            f"{SETTLE}s (seen: {seen}; unpublished outbox rows: {unpublished})")
        if found.get("source") != "gomomo.booking":
            raise HopFailed(f"BookingCreated came from source {found.get('source')!r}")
        detail = found["detail"]
        want = {"booking_id": self.facts["booking_id"], "reference": self.facts["reference"], "tenant_id": DEMO_TENANT}
        got = {k: detail.get(k) for k in want}
        if got != want:
            raise HopFailed(f"BookingCreated's detail identifies {got}, expected {want}")
        text = json.dumps(detail)
        if self.facts["email"] in text or CLIENT_PHONE in text:
            raise HopFailed("the event on the bus carries the client's email or phone")
        # The chat session id is a bearer secret: no event names it, anywhere in the message.
        if self.facts["session"] in json.dumps(found) or "session_id" in text:
            raise HopFailed("the event on the bus carries the chat session id")
        return f"{len(self.facts['messages'])} message(s): {seen}"

    def table_exists(self, name):
        return self.psql(f"SELECT to_regclass('{name}') IS NOT NULL") == "t"

    # --- hop 3: SQS batch -> worker -> SMTP ---------------------------------------------------------

    def hop3_worker(self):
        queue = self.aws["queues"]["EventsQueue"]
        records = [{
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue["arn"],
            "awsRegion": REGION,
        } for m in self.facts["messages"]]
        out = self.invoke("worker", {"Records": records})
        failures = [f.get("itemIdentifier") for f in (out or {}).get("batchItemFailures", [])]
        if failures:
            raise HopFailed(f"the worker reported failed records {failures}")
        # What Lambda's event source mapping does with a batch that succeeded.
        for m in self.facts["messages"]:
            self.sqs.delete_message(QueueUrl=queue["url"], ReceiptHandle=m["ReceiptHandle"])
        mail = wait_for(lambda: self.mails_to(self.facts["email"]), SETTLE)
        if not mail:
            status = self.psql("SELECT string_agg(channel || ':' || kind || ':' || status || ':' || "
                               "coalesce(last_error, ''), '; ') FROM notification_outbox WHERE booking_id = "
                               f"'{self.facts['booking_id']}'")
            raise HopFailed(f"no mail to {self.facts['email']} in the SMTP sink within {SETTLE}s "
                            f"(notifications: {status or 'none'})")
        msg = mail[0]
        subject = str(msg["subject"])
        if self.facts["reference"] not in subject or "confirmed" not in subject:
            raise HopFailed(f"the confirmation's subject is {subject!r}")
        ics = [p for p in msg.walk() if p.get_content_type() == "text/calendar"
               or (p.get_filename() or "").endswith(".ics")]
        if not ics:
            raise HopFailed(f"the confirmation has no .ics part ({[p.get_content_type() for p in msg.walk()]})")
        cal = ics[0].get_content()
        cal = cal.decode() if isinstance(cal, bytes) else cal
        if "BEGIN:VEVENT" not in cal or self.facts["reference"] not in cal:
            raise HopFailed("the .ics has no VEVENT with the booking's reference")
        return f"mail {subject!r} with {ics[0].get_filename() or 'a text/calendar part'}"

    def mails_to(self, address):
        folder = OUT / "mail"
        found = []
        for meta_path in sorted(folder.glob("*.json")):
            meta = json.loads(meta_path.read_text())
            eml = meta_path.with_suffix(".eml")
            if address in meta.get("rcpt_tos", []) and eml.exists():
                found.append(email.message_from_bytes(eml.read_bytes(), policy=email.policy.default))
        return found

    # --- hop 4: the clock moves; scheduler -> Twilio ---------------------------------------------

    def hop4_reminder(self):
        row = self.psql(
            "SELECT extract(epoch FROM run_at)::bigint || '|' || (payload->>'which') FROM jobs "
            f"WHERE booking_id = '{self.facts['booking_id']}' AND kind = 'send_reminder' AND status = 'pending' "
            "ORDER BY run_at LIMIT 1"
        )
        if not row:
            kinds = self.psql(f"SELECT string_agg(kind || ':' || status, ', ') FROM jobs "
                              f"WHERE booking_id = '{self.facts['booking_id']}'")
            raise HopFailed(f"no pending reminder job for the booking (jobs: {kinds or 'none'})")
        run_at = int(row.split("|")[0])
        # The scheduler's clock lands a minute past the reminder's time.
        offset = max(0, run_at - int(time.time()) + 60)
        self.stack.values["clock_offset"] = offset
        self.say(f"reminder {row.split('|')[1]} due at {datetime.fromtimestamp(run_at, timezone.utc):%Y-%m-%d %H:%M}"
                 f" UTC: scheduler clock +{offset}s")
        w = self.start_watcher("scheduler")
        w.wait_listening()
        tick = json.loads((ROOT / "events" / "scheduler-tick.json").read_text())
        tick["id"] = str(uuid.uuid4())
        tick["time"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        tick["resources"] = [f"arn:aws:events:{REGION}:123456789012:rule/{self.stack.physical_name('SchedulerFunction')}-Tick"]
        self.invoke("scheduler", tick)
        sms = wait_for(lambda: self.twilio.to(CLIENT_PHONE), SETTLE)
        reminders = [m for m in sms if "reminder" in m["Body"].lower()]
        if not reminders:
            status = self.psql("SELECT string_agg(channel || ':' || kind || ':' || status || ':' || "
                               "coalesce(last_error, ''), '; ') FROM notification_outbox WHERE booking_id = "
                               f"'{self.facts['booking_id']}'")
            raise HopFailed(f"no reminder SMS to {CLIENT_PHONE} at the Twilio server (got {[m['Body'] for m in sms]}; "
                            f"rejected: {self.twilio.rejected}; notifications: {status})")
        body = reminders[0]["Body"]
        if self.facts["reference"] not in body or "STOP" not in body or "Reply C" not in body:
            raise HopFailed(f"the reminder SMS reads {body!r}")
        demo_number = self.seed_number()
        if demo_number and reminders[0]["From"] != demo_number:
            raise HopFailed(f"the reminder SMS came from {reminders[0]['From']}, not the tenant's {demo_number}")
        return f"SMS to {CLIENT_PHONE}: {body!r}"

    def seed_number(self):
        return self.psql(f"SELECT coalesce(max(phone_number), '') FROM tenant_phone_numbers "
                         f"WHERE tenant_id = '{DEMO_TENANT}'") if self.table_exists("tenant_phone_numbers") else ""

    # --- the story ---------------------------------------------------------------------------------

    def hop0_http_api(self):
        import urllib.request

        url = f"http://127.0.0.1:{self.gateway.http_port}/healthz"
        with urllib.request.urlopen(url, timeout=300) as r:
            body = r.read().decode()
            if r.status != 200:
                raise HopFailed(f"GET /healthz answered {r.status}: {body[:200]}")
        return f"GET /healthz -> {body[:80]}"

    def story(self):
        until = self.args.until
        self.hop(0, "HTTP API -> api (the stack answers)", self.hop0_http_api)
        self.hop(1, "client -> chat-ws over the WebSocket API", self.hop1_book)
        if until >= 2:
            self.hop(2, "chat-ws relay -> EventBridge rule -> SQS", self.hop2_queue)
        if until >= 3:
            self.hop(3, "SQS batch -> worker -> SMTP (.ics)", self.hop3_worker)
        if until >= 4:
            self.hop(4, "clock moved -> scheduler -> Twilio SMS", self.hop4_reminder)
        if until >= 5:
            import handoff_step

            self.hop(5, "voice -> SMS link -> widget in Chromium", lambda: handoff_step.run(self))
        self.hop("-", "no session id in target/e2e/*.log", self.check_logs)

    def check_logs(self):
        """The session ids the run used went nowhere but the protocol: not into a function's
        log, the gateway's, or any other log of the run."""
        sessions = sorted({s for s in (self.facts.get("session"), self.facts.get("handoff_session")) if s})
        if not sessions:
            raise HopFailed("the run recorded no session id to look for")
        logs = sorted(OUT.glob("*.log"))
        self.log.flush()
        found = [
            f"{path.name} holds {sid}"
            for path in logs
            for sid in sessions
            if sid in path.read_text(errors="replace")
        ]
        if found:
            raise HopFailed("session ids in the logs: " + "; ".join(found))
        return f"{len(sessions)} session id(s), {len(logs)} logs"


def next_frame(ws, wanted: str, timeout: float = 120) -> dict:
    """The next server frame of type `wanted` (others are skipped; an error frame fails)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HopFailed(f"no {wanted} frame within {timeout:.0f}s")
        try:
            frame = json.loads(ws.recv(timeout=left))
        except TimeoutError:
            raise HopFailed(f"no {wanted} frame within {timeout:.0f}s") from None
        if frame.get("type") == "error" or "message" in frame and "type" not in frame:
            raise HopFailed(f"the socket sent an error: {frame}")
        if frame.get("type") == wanted:
            return frame


def wait_for(fn, timeout):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.3)


def wait_port(port, proc, name, timeout=30):
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited")
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not listen within {timeout}s")


def reset_moto(moto: str):
    """moto keeps state between runs: start from an empty account."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto}/moto-api/reset", method="POST"), timeout=10).read()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--until", type=int, default=5, help="stop after this hop (1-5)")
    p.add_argument("--keep", action="store_true", help="keep everything running after the story (Ctrl-C stops)")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.glob("*.log"):
        f.unlink()
    run = Run(args)
    started = time.monotonic()
    ok = False
    try:
        t = time.monotonic()
        run.setup()
        run.hops.append(("-", "build, deploy (migrate), seed, start the stack", time.monotonic() - t, "ok"))
        run.story()
        ok = True
    except HopFailed as e:
        run.say(f"FAILED {e}")
    except Exception as e:  # noqa: BLE001
        run.say(f"FAILED setting up the stack: {e}")
        run.log.write(traceback.format_exc())
    finally:
        if run.gateway and run.gateway.errors:
            run.say(f"gateway errors: {run.gateway.errors[:5]}")
        run.summary(time.monotonic() - started)
        if args.keep and ok:
            run.say(f"kept running: HTTP API http://127.0.0.1:{run.gateway.http_port}, WebSocket "
                    f"ws://127.0.0.1:{run.gateway.ws_port}/prod (Ctrl-C stops)")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        run.stop()
        if not ok:
            run.say(f"logs: {OUT.relative_to(ROOT)}/ (run.log, gateway.log, <function>.log)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
