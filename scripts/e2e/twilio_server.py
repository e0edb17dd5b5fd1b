"""A Twilio-shaped Messages API on loopback: `POST /2010-04-01/Accounts/{sid}/Messages.json`
with HTTP basic auth (the account SID and auth token) and a form body (To, From, Body),
answered like Twilio (201 and the message resource). Every accepted message is kept in
`messages` and written to <dir>/NNNN.json; wrong credentials get Twilio's 401 (code 20003).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import urllib.parse
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class TwilioServer:
    def __init__(self, account_sid: str, auth_token: str, folder: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.folder = folder
        self.messages: list[dict] = []
        self.rejected: list[str] = []
        self.lock = threading.Lock()
        os.makedirs(folder, exist_ok=True)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()

    def to(self, number: str) -> list[dict]:
        with self.lock:
            return [m for m in self.messages if m["To"] == number]

    def _handler(self):
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                form_raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                path = urllib.parse.urlsplit(self.path).path
                expected = f"/2010-04-01/Accounts/{srv.account_sid}/Messages.json"
                if path != expected:
                    srv.rejected.append(f"path {path}")
                    return self.answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
                auth = self.headers.get("authorization", "")
                want = "Basic " + base64.b64encode(f"{srv.account_sid}:{srv.auth_token}".encode()).decode()
                if auth != want:
                    srv.rejected.append("credentials")
                    return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                form = dict(urllib.parse.parse_qsl(form_raw, keep_blank_values=True))
                if not form.get("To") or not form.get("Body") or not form.get("From"):
                    srv.rejected.append(f"form {sorted(form)}")
                    return self.answer(400, {"code": 21604, "message": "A 'To', 'From' and 'Body' are required", "status": 400})
                sid = "SM" + uuid.uuid4().hex
                msg = {
                    "sid": sid,
                    "To": form["To"],
                    "From": form["From"],
                    "Body": form["Body"],
                    "received_at": datetime.now(timezone.utc).isoformat(),
                }
                with srv.lock:
                    srv.messages.append(msg)
                    n = len(srv.messages)
                with open(os.path.join(srv.folder, f"{n:04d}.json"), "w") as f:
                    json.dump(msg, f, indent=2)
                self.answer(201, {
                    "sid": sid, "account_sid": srv.account_sid, "to": form["To"], "from": form["From"],
                    "body": form["Body"], "status": "queued", "num_segments": "1", "direction": "outbound-api",
                    "api_version": "2010-04-01", "uri": f"{expected[:-5]}/{sid}.json",
                })

        return Handler
