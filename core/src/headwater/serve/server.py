"""The HTTP side of the page: the standard library's threaded HTTP server.

One thread per connection, so a page following a sync's server-sent events does not hold up
the others. Before a request reaches :class:`~headwater.serve.app.App`, the Host check and
the access token (see :mod:`.security`) are applied, bodies are parsed (URL-encoded forms and
``multipart/form-data`` with file uploads, at most :data:`MAX_BODY` bytes), and every answer
gets headers that keep it in its own tab: a content security policy allowing only the page's
own script and style, no framing, no referrer to other sites, no caching.

The access log has the method, the path without its query string, and the status: never a
body, a query string (the access token travels in one) or a header.

.. versionadded:: 0.2
"""

from __future__ import annotations

import email.parser
import email.policy
import http.cookies
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from headwater.serve.app import App, Request, Response
from headwater.serve.forms import Submission
from headwater.serve.security import ACCESS_COOKIE

__all__ = ["MAX_BODY", "PageServer"]

MAX_BODY = 16 * 1024 * 1024
"""The largest request body read, in bytes (a service-account file fits easily)."""

_log = logging.getLogger("headwater.serve")
_SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
        " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


def _parse_body(content_type: str, body: bytes) -> Submission:
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return Submission(values=dict(pairs))
    if content_type.startswith("multipart/form-data"):
        # The email package parses MIME multipart bodies; a header makes the body a message.
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        values: dict[str, str] = {}
        files: dict[str, bytes] = {}
        if message.is_multipart():
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str):
                    continue
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
                if part.get_filename() is not None:
                    files[name] = data
                else:
                    values[name] = data.decode("utf-8", "replace")
        return Submission(values=values, files=files)
    return Submission()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None  # replaced by _access_log, which leaves out query strings

    def _access_log(self, status: int) -> None:
        _log.info("%s %s %d", self.command, urlsplit(self.path).path, status)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        app = self.server.app
        guard = app.guard
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        headers = {key.lower(): value for key, value in self.headers.items()}
        if not guard.host_allowed(headers.get("host")):
            self._send(
                Response(
                    status=421,
                    body=b"This server answers on 127.0.0.1 only.",
                    content_type="text/plain; charset=utf-8",
                )
            )
            return
        cookies = {
            key: morsel.value
            for key, morsel in http.cookies.SimpleCookie(headers.get("cookie", "")).items()
        }
        if not guard.access_granted(
            query_token=query.get("token"),
            cookies=cookies,
            authorization=headers.get("authorization"),
        ):
            self._send(
                Response(
                    status=401,
                    body=b"Open the link that `headwater serve` printed when it started"
                    b" (it carries the access token).",
                    content_type="text/plain; charset=utf-8",
                )
            )
            return
        if guard.access_token is not None and "token" in query:
            # Trade the token in the link for a cookie, and drop it from the address bar.
            rest = urlencode({k: v for k, v in query.items() if k != "token"})
            location = parts.path + (f"?{rest}" if rest else "")
            cookie = f"{ACCESS_COOKIE}={guard.access_token}; HttpOnly; SameSite=Strict; Path=/"
            self._send(
                Response(status=303, headers=(("Location", location), ("Set-Cookie", cookie)))
            )
            return
        form = Submission()
        if method == "POST":
            length = int(headers.get("content-length") or 0)
            if length > MAX_BODY:
                self._send(
                    Response(
                        status=413,
                        body=b"The form is too large.",
                        content_type="text/plain; charset=utf-8",
                    )
                )
                return
            form = _parse_body(headers.get("content-type", ""), self.rfile.read(length))
        request = Request(method=method, path=parts.path, query=query, headers=headers, form=form)
        try:
            response = app.handle(request)
        except Exception as error:
            # The type only: an unexpected error's text could hold anything a form carried.
            _log.error("%s %s failed: %s", method, parts.path, type(error).__name__)
            response = Response(
                status=500,
                body=f"Something went wrong ({type(error).__name__}); see the log.".encode(),
                content_type="text/plain; charset=utf-8",
            )
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in (*_SECURITY_HEADERS, *response.headers):
            self.send_header(name, value)
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            self._access_log(response.status)
            return
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self._access_log(response.status)
        try:
            for chunk in response.stream:
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page was closed


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, _Handler)


class PageServer:
    """The page served on ``host:port`` (port 0: any free port) for ``app``."""

    def __init__(self, app: App, host: str, port: int) -> None:
        self._server = _Server((host, port), app)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start(self) -> None:
        """Serve from a background thread (tests and embedding)."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="headwater-serve", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
