"""A small stand-in for API Gateway, for the local cloud run: nothing offline emulates it
without Docker, so the project keeps its own.

- HTTP API: every request becomes an HTTP API payload 2.0 event for the function whose
  `HttpApi` event in template.yaml matches (method + path, `{param}` and `{proxy+}`
  segments); the rest goes to the `$default` route's function. The function's answer is
  mapped back (status, headers, cookies, base64 bodies).
- WebSocket API: a connection is `$connect` (a non-2xx answer refuses it), each frame is
  `$default` (or the route its `action` selects, when the template has one), a close is
  `$disconnect` — events in API Gateway's WebSocket shape, for the function the routes'
  integration names.
- Management API: `POST /prod/@connections/{id}` writes to the open socket, `GET` describes
  it, `DELETE` closes it; an unknown or closed connection answers 410 GoneException.
  Signatures (SigV4) are not checked.

Functions are invoked at a `cargo lambda watch` emulator:
`POST http://127.0.0.1:<port>/2015-03-31/functions/<binary>/invocations`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets.exceptions
from websockets.asyncio.server import serve as ws_serve

API_ID = "e2elocal01"
WS_API_ID = "e2ewsapi01"
STAGE = "prod"
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "image/svg")


def now_strings():
    t = datetime.now(timezone.utc)
    return t.strftime("%d/%b/%Y:%H:%M:%S +0000"), int(t.timestamp() * 1000)


class InvokeError(RuntimeError):
    pass


class Invoker:
    """Invokes a function binary at its watcher; logs each call to `log`."""

    def __init__(self, ports: dict[str, int], log, timeout: float = 300):
        self.ports = ports
        self.log = log
        self.timeout = timeout
        self.lock = threading.Lock()

    def __call__(self, binary: str, event: dict) -> dict:
        port = self.ports.get(binary)
        if port is None:
            raise InvokeError(f"no watcher runs the {binary} function")
        url = f"http://127.0.0.1:{port}/2015-03-31/functions/{binary}/invocations"
        req = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
        req.add_header("content-type", "application/json")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            self._log(binary, event, started, f"HTTP {e.code} {raw[:300]!r}")
            raise InvokeError(f"{binary} answered HTTP {e.code}: {raw[:300]!r}") from None
        except OSError as e:
            self._log(binary, event, started, f"unreachable: {e}")
            raise InvokeError(f"{binary} unreachable: {e}") from None
        try:
            out = json.loads(raw or b"null")
        except ValueError:
            raise InvokeError(f"{binary} answered non-JSON: {raw[:300]!r}") from None
        if isinstance(out, dict) and "errorType" in out and "statusCode" not in out:
            self._log(binary, event, started, f"error {out}")
            raise InvokeError(f"{binary} failed: {out.get('errorType')}: {out.get('errorMessage')}")
        self._log(binary, event, started, "ok")
        return out

    def _log(self, binary, event, started, outcome):
        what = event.get("routeKey") or (event.get("requestContext") or {}).get("routeKey") or event.get(
            "detail-type"
        ) or ("sqs" if "Records" in event else "?")
        with self.lock:
            self.log.write(f"invoke {binary} [{what}] {time.monotonic() - started:.2f}s {outcome}\n")
            self.log.flush()


# --- HTTP API -------------------------------------------------------------------------------


def http_routes(stack) -> tuple[list[tuple[str, str, re.Pattern, list[str], str]], str | None]:
    """The HttpApi routes of the template: (method, path, regex, param names, binary), and
    the binary of the $default route."""
    routes, default = [], None
    functions = stack.functions()
    for lid, r in stack.resources.items():
        if lid not in functions:
            continue
        for ev in ((r.get("Properties") or {}).get("Events") or {}).values():
            if ev.get("Type") != "HttpApi":
                continue
            p = ev.get("Properties") or {}
            path, method = p.get("Path"), p.get("Method")
            if not path:
                default = functions[lid]
                continue
            names, pattern = [], ""
            for seg in path.strip("/").split("/"):
                m = re.fullmatch(r"\{([^}+]+)(\+?)\}", seg)
                if m:
                    names.append(m.group(1))
                    pattern += "/(.+)" if m.group(2) else "/([^/]+)"
                else:
                    pattern += "/" + re.escape(seg)
            routes.append((str(method).upper(), path, re.compile((pattern or "/") + "$"), names, functions[lid]))
    # API Gateway picks the most specific route: fewer parameters, longer literal paths.
    routes.sort(key=lambda r: (len(r[3]), -len(r[1])))
    return routes, default


def match_route(routes, default, method: str, path: str):
    for m, template_path, rx, names, binary in routes:
        if m not in (method, "ANY"):
            continue
        hit = rx.match(path)
        if hit:
            return f"{m} {template_path}", dict(zip(names, hit.groups())), binary
    return "$default", {}, default


def http_event(method, path, query, headers, body: bytes, route_key, params, host) -> dict:
    text_time, epoch = now_strings()
    lower: dict[str, str] = {}
    cookies = []
    for k, v in headers:
        k = k.lower()
        if k == "cookie":
            cookies += [c.strip() for c in v.split(";") if c.strip()]
            continue
        lower[k] = f"{lower[k]},{v}" if k in lower else v
    ctype = lower.get("content-type", "")
    # API Gateway hands text bodies over as they are and everything else in base64; form
    # posts (Twilio's webhooks) arrive base64-encoded.
    as_text = any(ctype.startswith(t) for t in TEXT_TYPES)
    qs = {}
    for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
        qs[k] = f"{qs[k]},{v}" if k in qs else v
    ev = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": lower,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lower.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16] + "=",
            "routeKey": route_key,
            "stage": "$default",
            "time": text_time,
            "timeEpoch": epoch,
        },
        "isBase64Encoded": False,
    }
    if cookies:
        ev["cookies"] = cookies
    if qs:
        ev["queryStringParameters"] = qs
    if params:
        ev["pathParameters"] = params
    if body:
        if as_text:
            ev["body"] = body.decode("utf-8", "replace")
        else:
            ev["body"] = base64.b64encode(body).decode()
            ev["isBase64Encoded"] = True
    return ev


def make_http_handler(gw):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            gw.log.write("http " + (fmt % args) + "\n")
            gw.log.flush()

        def handle_any(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            route_key, params, binary = match_route(gw.routes, gw.default, self.command, url.path)
            if binary is None:
                return self.reply(404, {"content-type": "application/json"}, [], b'{"message":"Not Found"}')
            host = self.headers.get("host", "127.0.0.1")
            ev = http_event(self.command, url.path, url.query, self.headers.items(), body, route_key, params, host)
            try:
                out = gw.invoke(binary, ev)
            except InvokeError as e:
                gw.errors.append(str(e))
                return self.reply(502, {"content-type": "application/json"}, [], b'{"message":"Internal Server Error"}')
            if not isinstance(out, dict) or "statusCode" not in out:
                # Payload 2.0 also accepts a bare JSON value: 200 with it as the body.
                return self.reply(200, {"content-type": "application/json"}, [], json.dumps(out).encode())
            raw = out.get("body") or ""
            data = base64.b64decode(raw) if out.get("isBase64Encoded") else raw.encode()
            headers = {k.lower(): str(v) for k, v in (out.get("headers") or {}).items()}
            for k, vs in (out.get("multiValueHeaders") or {}).items():
                headers[k.lower()] = ",".join(str(v) for v in vs)
            self.reply(int(out["statusCode"]), headers, out.get("cookies") or [], data)

        def reply(self, status, headers, cookies, data: bytes):
            self.send_response(status)
            for k, v in headers.items():
                if k in ("content-length", "connection", "transfer-encoding"):
                    continue
                self.send_header(k, v)
            for c in cookies:
                self.send_header("set-cookie", c)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    return Handler


# --- WebSocket API and the Management API ----------------------------------------------------


def ws_routes(stack) -> tuple[dict[str, str], str]:
    """Route key -> binary of the template's WebSocket API, and its selection expression."""
    res = stack.resources
    functions = stack.functions()
    integrations = {}
    for lid, r in res.items():
        if r.get("Type") == "AWS::ApiGatewayV2::Integration":
            uri = json.dumps((r.get("Properties") or {}).get("IntegrationUri"))
            for flid, binary in functions.items():
                if re.search(r"\b" + re.escape(flid) + r"\b", uri):
                    integrations[lid] = binary
    routes, selection = {}, "$request.body.action"
    for lid, r in res.items():
        p = r.get("Properties") or {}
        if r.get("Type") == "AWS::ApiGatewayV2::Api" and p.get("ProtocolType") == "WEBSOCKET":
            selection = p.get("RouteSelectionExpression", selection)
        if r.get("Type") == "AWS::ApiGatewayV2::Route":
            target = json.dumps(p.get("Target"))
            for ilid, binary in integrations.items():
                if ilid in target:
                    routes[p["RouteKey"]] = binary
    return routes, selection


def ws_event(route_key, event_type, connection_id, host, query=None, headers=None, body=None, connected_at=0):
    text_time, epoch = now_strings()
    ctx = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": uuid.uuid4().hex[:16] + "=",
        "requestTime": text_time,
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": connected_at,
        "requestTimeEpoch": epoch,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": (headers or {}).get("user-agent", "")},
        "requestId": uuid.uuid4().hex[:16] + "=",
        "domainName": host,
        "connectionId": connection_id,
        "apiId": WS_API_ID,
    }
    ev = {"requestContext": ctx, "isBase64Encoded": False}
    if event_type == "MESSAGE":
        ctx["messageId"] = uuid.uuid4().hex[:16] + "="
        ev["body"] = body
    if event_type == "CONNECT":
        ev["headers"] = headers or {}
        ev["multiValueHeaders"] = {k: [v] for k, v in (headers or {}).items()}
        if query:
            ev["queryStringParameters"] = query
            ev["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    if event_type == "DISCONNECT":
        ev["headers"] = headers or {}
        ctx["disconnectStatusCode"] = 1000
    return ev


def make_management_handler(gw):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            gw.log.write("management " + (fmt % args) + "\n")
            gw.log.flush()

        def target(self):
            m = re.fullmatch(r"(?:/[^/@]+)?/@connections/([^/?]+)", urllib.parse.urlsplit(self.path).path)
            return urllib.parse.unquote(m.group(1)) if m else None

        def answer(self, status, body: dict | None = None, error_type: str | None = None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("content-type", "application/json")
            if error_type:
                self.send_header("x-amzn-errortype", error_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            cid = self.target()
            data = self.rfile.read(int(self.headers.get("content-length") or 0))
            if cid is None:
                return self.answer(404, {"message": "Not Found"})
            if not gw.send_to(cid, data):
                gw.gone_posts.append(cid)
                return self.answer(410, {"message": "Gone"}, "GoneException")
            gw.posts.append((cid, data))
            self.answer(200)

        def do_GET(self):
            cid = self.target()
            info = gw.connections_info.get(cid) if cid else None
            if info is None or cid not in gw.sockets:
                return self.answer(410, {"message": "Gone"}, "GoneException")
            self.answer(200, info)

        def do_DELETE(self):
            cid = self.target()
            if cid is None or not gw.close(cid):
                return self.answer(410, {"message": "Gone"}, "GoneException")
            self.answer(204)

    return Handler


class Gateway:
    """The three listeners on loopback: HTTP API, WebSocket API, Management API."""

    def __init__(self, stack, invoke: Invoker, log):
        self.invoke = invoke
        self.log = log
        self.routes, self.default = http_routes(stack)
        self.ws_routes, self.ws_selection = ws_routes(stack)
        self.sockets = {}
        self.connections_info = {}
        self.posts: list[tuple[str, bytes]] = []
        self.gone_posts: list[str] = []
        self.errors: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), make_http_handler(self))
        self.management = ThreadingHTTPServer(("127.0.0.1", 0), make_management_handler(self))
        self.http.daemon_threads = self.management.daemon_threads = True
        self.ws_port = None
        self._ws_ready = threading.Event()

    @property
    def http_port(self):
        return self.http.server_address[1]

    @property
    def management_port(self):
        return self.management.server_address[1]

    def start(self):
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        threading.Thread(target=self.management.serve_forever, daemon=True).start()
        threading.Thread(target=self._run_ws, daemon=True).start()
        if not self._ws_ready.wait(10):
            raise RuntimeError("the WebSocket listener did not start")
        return self

    def stop(self):
        self.http.shutdown()
        self.management.shutdown()
        self.loop.call_soon_threadsafe(self.loop.stop)

    # --- the WebSocket side (runs on self.loop) ---

    def _run_ws(self):
        asyncio.set_event_loop(self.loop)

        async def main():
            # open_timeout: the handshake waits for $connect, and a function's first call
            # waits for its start.
            server = await ws_serve(
                self._ws_handler, "127.0.0.1", 0, process_request=self._ws_connect, open_timeout=600
            )
            self.ws_port = server.sockets[0].getsockname()[1]
            self._ws_ready.set()
            await server.serve_forever()

        try:
            self.loop.run_until_complete(main())
        except RuntimeError:
            pass  # stopped

    def _binary(self, route_key):
        return self.ws_routes.get(route_key) or self.ws_routes.get("$default")

    async def _ws_connect(self, connection, request):
        cid = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
        url = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        host = headers.get("host", "127.0.0.1")
        connected_at = int(time.time() * 1000)
        ev = ws_event("$connect", "CONNECT", cid, host, query=query, headers=headers, connected_at=connected_at)
        binary = self.ws_routes.get("$connect")
        if binary:
            try:
                out = await asyncio.to_thread(self.invoke, binary, ev)
            except InvokeError as e:
                self.errors.append(str(e))
                return connection.respond(500, "Internal server error\n")
            status = int((out or {}).get("statusCode", 200)) if isinstance(out, dict) else 200
            if not 200 <= status < 300:
                return connection.respond(status, "Refused by $connect\n")
        connection.gm_id = cid
        connection.gm_host = host
        connection.gm_connected_at = connected_at
        self.connections_info[cid] = {
            "connectedAt": datetime.fromtimestamp(connected_at / 1000, timezone.utc).isoformat(),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", "")},
            "lastActiveAt": datetime.now(timezone.utc).isoformat(),
        }
        return None

    async def _ws_handler(self, connection):
        cid = connection.gm_id
        self.sockets[cid] = connection
        try:
            async for frame in connection:
                body = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                self.connections_info[cid]["lastActiveAt"] = datetime.now(timezone.utc).isoformat()
                route = "$default"
                if self.ws_selection == "$request.body.action":
                    try:
                        action = json.loads(body).get("action")
                    except (ValueError, AttributeError):
                        action = None
                    if action in self.ws_routes:
                        route = action
                ev = ws_event(route, "MESSAGE", cid, connection.gm_host, body=body,
                              connected_at=connection.gm_connected_at)
                try:
                    await asyncio.to_thread(self.invoke, self._binary(route), ev)
                except InvokeError as e:
                    self.errors.append(str(e))
                    try:
                        await connection.send(json.dumps({"message": "Internal server error"}))
                    except websockets.exceptions.ConnectionClosed:
                        break
        finally:
            self.sockets.pop(cid, None)
            binary = self.ws_routes.get("$disconnect")
            if binary:
                ev = ws_event("$disconnect", "DISCONNECT", cid, connection.gm_host,
                              connected_at=connection.gm_connected_at)
                try:
                    await asyncio.to_thread(self.invoke, binary, ev)
                except InvokeError as e:
                    self.errors.append(str(e))

    # --- called from the Management API's threads ---

    def send_to(self, cid: str, data: bytes) -> bool:
        ws = self.sockets.get(cid)
        if ws is None:
            return False
        fut = asyncio.run_coroutine_threadsafe(ws.send(data.decode("utf-8", "replace")), self.loop)
        try:
            fut.result(10)
            return True
        except Exception:  # noqa: BLE001 (a socket closing under us is Gone)
            return False

    def close(self, cid: str) -> bool:
        ws = self.sockets.get(cid)
        if ws is None:
            return False
        asyncio.run_coroutine_threadsafe(ws.close(), self.loop).result(10)
        return True
