#!/usr/bin/env python3
"""A real SMTP server for the delivery tests (PyPI aiosmtpd): every accepted message is
saved as <dir>/<n>.eml (the DATA bytes) with <dir>/<n>.json (envelope: from, to, login).

    python3 scripts/smtp_sink.py --dir DIR [--port 0] [--user U --password P]

Prints "READY <port>" on stdout once listening. With --user/--password the server requires
AUTH (PLAIN/LOGIN, allowed without TLS for the test) and refuses other credentials.
"""
import argparse
import json
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, folder):
        self.folder = folder
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.folder, "%04d" % self.n)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": (session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None),
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".tmp", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    port = a.port
    if port == 0:
        s = socket.socket()
        s.bind((a.host, 0))
        port = s.getsockname()[1]
        s.close()
    kwargs = {}
    if a.user:
        def auth(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword)
                  and data.login.decode() == a.user and data.password.decode() == a.password)
            if ok:
                return AuthResult(success=True, auth_data=data)
            return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")
        kwargs = dict(authenticator=auth, auth_required=True, auth_require_tls=False)
    c = Controller(Saver(a.dir), hostname=a.host, port=port, **kwargs)
    c.start()
    print("READY %d" % port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        c.stop()


if __name__ == "__main__":
    sys.exit(main())
