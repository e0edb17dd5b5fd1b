"""Hop 5 of the e2e story, the phone handoff (run.py runs it by default; `--until 4`
stops before it):

1. a caller reaches the demo number: signed Twilio webhooks through the gateway's HTTP API
   to the voice function (`POST /twilio/voice`, then `/twilio/voice/gather` turns);
2. they ask for a consultation, give a day, then ask to be texted a link;
3. the SMS (at the Twilio-shaped server) carries `PUBLIC_BASE_URL/handoff/resume?token=…`;
4. headless Chromium opens it (handoff.test.cjs): the GET shows a page and spends nothing
   (checked in Postgres), the "Continue in chat" button spends the token (POST), the widget
   says it continues the call ([data-testid="continues"]), and the booking completes there;
5. Postgres has the booking, on the caller's phone number, in the session the token was
   spent into (that session id is then looked for in the run's logs, which must not hold it).

This follows the handoff page's flow (GET page, explicit POST); it needs the api function
to serve `/` and `/widget.js` and the handoff function's `POST /handoff/resume`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid

from stack import ROOT, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN

CALLER = f"+1556{random.randrange(10**7):07d}"
DEMO_NUMBER = "+18005550100"


def twilio_signature(url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(TWILIO_AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def twilio_post(run, path: str, params: list[tuple[str, str]]) -> str:
    """A Twilio webhook through the gateway, signed over PUBLIC_BASE_URL + path."""
    base = run.stack.values["public_base_url"]
    body = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{run.gateway.http_port}{path}", data=body, method="POST")
    req.add_header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
    req.add_header("x-twilio-signature", twilio_signature(base + path, params))
    req.add_header("user-agent", "TwilioProxy/1.1")
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        raise AssertionError(f"POST {path} answered {e.code}: {e.read()[:300]!r}") from None


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not found:
        raise AssertionError("chromium is not installed (scripts/browser-test.sh installs it)")
    return found


def playwright_core() -> str:
    """playwright-core in the git-ignored .tools/, as scripts/browser-test.sh installs it."""
    folder = ROOT / ".tools"
    module = folder / "node_modules" / "playwright-core"
    if not (module / "package.json").exists():
        folder.mkdir(exist_ok=True)
        if not (folder / "package.json").exists():
            (folder / "package.json").write_text('{"private": true}\n')
        p = subprocess.run(["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--silent",
                            "playwright-core@1.65"], capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError(f"npm install playwright-core failed: {p.stderr[-400:]}")
    return str(module)


def run(r):
    sid = "CA" + uuid.uuid4().hex
    call = [("AccountSid", TWILIO_ACCOUNT_SID), ("ApiVersion", "2010-04-01"), ("CallSid", sid),
            ("Direction", "inbound"), ("From", CALLER), ("To", DEMO_NUMBER)]
    twiml = twilio_post(r, "/twilio/voice", call + [("CallStatus", "ringing")])
    if "<Gather" not in twiml:
        raise AssertionError(f"the call start is not a Gather: {twiml[:300]}")

    def say(speech, expect):
        t = twilio_post(r, "/twilio/voice/gather", call + [("CallStatus", "in-progress"),
                                                           ("SpeechResult", speech), ("Confidence", "0.92")])
        if not re.search(expect, t):
            raise AssertionError(f"after {speech!r} the call said {t[:400]!r} (expected /{expect}/)")
        return t

    say("I'd like to book a consultation", r"What day")
    say("text me a link", r"<Hangup")

    texts = [m for m in r.twilio.to(CALLER) if "/handoff/resume?token=" in m["Body"]]
    if not texts:
        raise AssertionError(f"no SMS with a handoff link to {CALLER} (got {r.twilio.to(CALLER)})")
    link = re.search(r"(https?://\S+/handoff/resume\?token=[A-Za-z0-9_.~%-]+)", texts[0]["Body"]).group(1)
    if not link.startswith(r.stack.values["public_base_url"]):
        raise AssertionError(f"the link {link} is not on PUBLIC_BASE_URL")

    def unspent():
        return r.psql(f"SELECT count(*) FROM handoff_tokens WHERE call_sid = '{sid}' AND consumed_at IS NULL")

    if unspent() != "1":
        raise AssertionError("the call has no unspent handoff token")
    out_dir = ROOT / "target" / "e2e"
    env = {**os.environ, "PLAYWRIGHT_CORE": playwright_core(),
           "CHROMIUM": chromium(), "DATABASE_URL": r.database_url,
           "E2E_UNSPENT_SQL": f"SELECT count(*) FROM handoff_tokens WHERE call_sid = '{sid}' AND consumed_at IS NULL"}
    p = subprocess.run(["node", str(ROOT / "scripts" / "e2e" / "handoff.test.cjs"), link],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    (out_dir / "handoff-browser.log").write_text(p.stdout + p.stderr)
    if p.returncode != 0:
        raise AssertionError(f"in Chromium: {(p.stderr or p.stdout).strip()[-600:]}")
    result = json.loads(p.stdout.strip().splitlines()[-1])
    if result.get("unspent_after_get") is not True:
        raise AssertionError("opening the link (GET) spent the token")
    if unspent() != "0":
        raise AssertionError("the Continue button did not spend the token")
    session = r.psql(f"SELECT coalesce(max(chat_session_id), '') FROM handoff_tokens WHERE call_sid = '{sid}'")
    if not session:
        raise AssertionError("the spent token names no chat session")
    r.facts["handoff_session"] = session
    row = r.psql("SELECT coalesce(client_phone, '') || '|' || status || '|' || session_id FROM appointments "
                 f"WHERE reference = '{result['reference']}'")
    if row != f"{CALLER}|confirmed|{session}":
        raise AssertionError(f"booking {result['reference']} is {row!r}, expected {CALLER}|confirmed|<the handoff's session>")
    return f"link {link.split('?')[0]}, booking {result['reference']} on {CALLER}"
