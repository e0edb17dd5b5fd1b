#!/usr/bin/env python3
"""Writes the signed (and deliberately unsigned or tampered) Twilio webhook events under
events/ for the voice and handoff functions, as API Gateway HTTP API (payload 2.0) events
with a base64 form body, the way API Gateway delivers Twilio's posts.

Signatures use Twilio's algorithm (base64 HMAC-SHA1 over PUBLIC_BASE_URL + path + query +
the sorted form parameters) with the test auth token scripts/lambda-test.sh gives the
functions. Re-run after changing either constant:  python3 scripts/make_twilio_events.py
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from pathlib import Path

# Must match the --env-var values in scripts/lambda-test.sh.
AUTH_TOKEN = "lambda-test-twilio-token"
PUBLIC_BASE_URL = "https://hooks.gomomo.test"
DEMO_NUMBER = "+18005550100"
CALLER = "+15555550123"
EVENTS = Path(__file__).resolve().parent.parent / "events"


def sign(url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(k + v for k, v in sorted(set(params)))
    mac = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def event(n: int, method: str, path: str, query: str = "", params=None, signature=None):
    body = urllib.parse.urlencode(params or [])
    headers = {
        "host": "hooks.gomomo.test",
        "user-agent": "TwilioProxy/1.1",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        "x-home-region": "us1",
    }
    if params is not None:
        headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8"
        headers["content-length"] = str(len(body))
        headers["i-twilio-idempotency-token"] = f"00000000-0000-4000-8000-{n:012d}"
    if signature is not None:
        headers["x-twilio-signature"] = signature
    ev = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "hooks.gomomo.test",
            "domainPrefix": "hooks",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "TwilioProxy/1.1",
            },
            "requestId": f"gomomo-twilio-event-{n:02d}=",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "28/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795856400000 + n,
        },
        "isBase64Encoded": params is not None,
    }
    if query:
        ev["queryStringParameters"] = dict(urllib.parse.parse_qsl(query))
    if params is not None:
        ev["body"] = base64.b64encode(body.encode()).decode()
    return ev


def json_post(n: int, path: str, body: dict):
    """A browser's JSON POST (the handoff page's "Continue in chat")."""
    raw = json.dumps(body)
    ev = event(n, "POST", path)
    ev["headers"].update({
        "content-type": "application/json",
        "content-length": str(len(raw)),
        "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)",
    })
    ev["requestContext"]["http"]["userAgent"] = ev["headers"]["user-agent"]
    ev["body"] = raw
    return ev


def signed(n, path, params):
    return event(n, "POST", path, params=params, signature=sign(PUBLIC_BASE_URL + path, params))


def main() -> None:
    call = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", "CA0000000000000000000000000000e001"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("To", DEMO_NUMBER),
    ]
    unknown = [(k, "+18005559999" if k == "To" else v) for k, v in call]
    unknown = [(k, "CA0000000000000000000000000000e002" if k == "CallSid" else v) for k, v in unknown]
    gather = [p for p in call if p[0] != "CallStatus"] + [
        ("CallStatus", "in-progress"),
        ("SpeechResult", "I'd like to book a consultation, please."),
        ("Confidence", "0.93"),
    ]
    tampered = signed(3, "/twilio/voice/gather", gather)
    tampered_params = [(k, "cancel everything" if k == "SpeechResult" else v) for k, v in gather]
    tampered["body"] = base64.b64encode(urllib.parse.urlencode(tampered_params).encode()).decode()
    tampered["headers"]["content-length"] = str(len(urllib.parse.urlencode(tampered_params)))
    dial = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", "CA0000000000000000000000000000e003"),
        ("DialCallStatus", "no-answer"),
        ("From", CALLER),
        ("To", DEMO_NUMBER),
    ]
    recorded = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", "CA0000000000000000000000000000e001"),
        ("RecordingDuration", "12"),
        ("RecordingSid", "RE0000000000000000000000000000e001"),
        ("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE0000000000000000000000000000e001"),
    ]
    sms = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("ApiVersion", "2010-04-01"),
        ("Body", "HELP"),
        ("From", CALLER),
        ("MessageSid", "SM0000000000000000000000000000e001"),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("To", DEMO_NUMBER),
    ]
    files = {
        "voice-call-start-signed.json": signed(1, "/twilio/voice", call),
        "voice-call-start-unsigned.json": event(2, "POST", "/twilio/voice", params=call),
        "voice-gather-tampered.json": tampered,
        "voice-call-unknown-number.json": signed(4, "/twilio/voice", unknown),
        "voice-call-start-wrong-path.json": event(
            5, "POST", "/twilio/voice/status", params=call,
            signature=sign(PUBLIC_BASE_URL + "/twilio/voice", call)),
        "voice-dial-unknown-call-signed.json": event(
            12, "POST", "/twilio/voice/dial", query="why=asked&lang=en", params=dial,
            signature=sign(PUBLIC_BASE_URL + "/twilio/voice/dial?why=asked&lang=en", dial)),
        "voice-recorded-unsigned.json": event(
            13, "POST", "/twilio/voice/recorded", query="why=asked&lang=en", params=recorded),
        "handoff-sms-help-signed.json": signed(6, "/twilio/sms", sms),
        "handoff-sms-unsigned.json": event(7, "POST", "/twilio/sms", params=sms),
        "handoff-resume-tampered.json": event(
            8, "GET", "/handoff/resume", query="token=AAAAAAAAAAAAAAAAAAAAAA.bm90LWEtbWFj"),
        "handoff-resume-missing-token.json": event(9, "GET", "/handoff/resume"),
        "handoff-resume-post-missing-token.json": json_post(10, "/handoff/resume", {}),
        "handoff-resume-post-tampered.json": json_post(
            11, "/handoff/resume", {"token": "AAAAAAAAAAAAAAAAAAAAAA.bm90LWEtbWFj"}),
    }
    for name, ev in files.items():
        (EVENTS / name).write_text(json.dumps(ev, indent=2) + "\n")
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()
