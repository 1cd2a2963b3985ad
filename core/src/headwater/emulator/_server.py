"""Serve a handler over real HTTP/1.1 on 127.0.0.1, for tests that need real sockets.

The in-process transport is enough for most connector tests. The server is for what it cannot
show: a connector's own transport, connection pooling, real read timeouts and real resets,
and demos where another process (or a browser) talks to the emulator.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import struct
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from headwater.emulator._failures import EmulatedReset, EmulatedTimeout, EmulatedTruncation
from headwater.emulator._wire import framing_headers, kept_length, raw_body

if TYPE_CHECKING:
    from collections.abc import Callable

    from headwater.emulator._handler import Handler

__all__ = ["EmulatorServer"]

_log = logging.getLogger("headwater.emulator")

# How often the accept loop checks for stop(); bounds how long stop() waits for it.
_POLL_SECONDS = 0.02
_MAX_LINE = 65536
_NO_BODY_STATUSES = frozenset({204, 304})
_ERROR_TEXT_LIMIT = 200


class EmulatorServer:
    """A real HTTP/1.1 server for ``handler`` on ``host`` (127.0.0.1), in background threads.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. ``port=0`` picks a
    free port at the first start; a restart binds the same port again, so :attr:`base_url`
    stays valid across a stop and start (simulating an API outage).

    Each request reaches ``handler`` as an :class:`httpx.Request` with the full URL (on
    :attr:`base_url`), the headers as received and the whole body. The response goes out with
    its headers and a ``Content-Length``. Emulated failures happen on the socket:

    - ``EmulatedTimeout``: no answer; the connection is held for its ``seconds`` (or until
      :meth:`stop`) and then closed. A client with a shorter read timeout sees
      :class:`httpx.ReadTimeout`; one with a longer timeout sees
      :class:`httpx.RemoteProtocolError` ("Server disconnected without sending a response").
    - ``EmulatedReset``: the socket is closed with ``SO_LINGER`` 0, which sends a TCP reset;
      the client sees :class:`httpx.ReadError`.
    - ``EmulatedTruncation``: status, headers with the full ``Content-Length``, part of the
      body, then the connection closes; the client sees :class:`httpx.RemoteProtocolError`.

    Any other exception from ``handler`` is answered with a 500 and a one-line text body, and
    kept in :attr:`handler_errors` for the test to inspect; the server keeps serving. Nothing
    is written to stderr: details go to the ``headwater.emulator`` logger at debug level.

    .. versionadded:: 0.1
    """

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._errors: list[Exception] = []

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server, without a trailing slash."""
        server = self._server
        if server is None:
            raise RuntimeError(
                "the emulator server is not running; call start() or use it in a with block"
            )
        return server.base_url

    @property
    def handler_errors(self) -> list[Exception]:
        """The exceptions ``handler`` raised (each answered with a 500), oldest first."""
        with self._lock:
            return list(self._errors)

    def start(self) -> Self:
        """Bind and start serving; returns ``self``. Raises :class:`RuntimeError` if running."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("the emulator server is already running")
            server = _Server(
                (self._host, self._port), handler=self._handler, on_error=self._record_error
            )
            self._port = int(server.socket.getsockname()[1])
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": _POLL_SECONDS},
                name=f"headwater-emulator-{self._port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and close every connection, waiting for every thread to end.

        Held (timed-out) requests are released at once and idle keep-alive connections are
        shut down, so this returns promptly unless ``handler`` itself is still running.
        Stopping a stopped server does nothing.
        """
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        server.stop()
        thread.join()
        server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        server = self._server
        where = server.base_url if server is not None else "stopped"
        return f"EmulatorServer({where})"

    def _record_error(self, error: Exception) -> None:
        with self._lock:
            self._errors.append(error)


class _Server(socketserver.TCPServer):
    """One listening socket and a thread per connection, all of which :meth:`stop` ends."""

    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        *,
        handler: Handler,
        on_error: Callable[[Exception], None],
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.handler = handler
        self.on_error = on_error
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        super().__init__(address, _Exchange)
        host, port = self.socket.getsockname()[:2]
        shown = f"[{host}]" if self.address_family == socket.AF_INET6 else host
        self.base_url = f"http://{shown}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="headwater-emulator-connection",
            daemon=True,
        )
        with self._lock:
            self._threads = [alive for alive in self._threads if alive.is_alive()]
            self._threads.append(thread)
            self._connections.add(request)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The client went away mid-exchange, or stop() shut the socket: nothing to report.
        _log.debug("emulator connection from %s ended with an error", client_address, exc_info=True)

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for connection in connections:
            # Already closed by a reset, or by the client: nothing left to shut.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()


class _Exchange(BaseHTTPRequestHandler):
    """Reads requests off one connection and writes the handler's answers."""

    protocol_version = "HTTP/1.1"
    # The head and the body go out in two writes; with Nagle's algorithm on, the body waits
    # for the client's delayed ACK (about 40 ms) on every keep-alive response.
    disable_nagle_algorithm = True

    @property
    def _server(self) -> _Server:
        server = self.server
        assert isinstance(server, _Server)
        return server

    def log_message(self, format: str, *args: Any) -> None:
        # The stdlib logs every request to stderr; tests want silence.
        return None

    def handle_one_request(self) -> None:
        # The stdlib version dispatches to do_GET/do_POST/...; an emulator takes every method.
        self.raw_requestline = self.rfile.readline(_MAX_LINE + 1)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > _MAX_LINE:
            self.requestline = self.request_version = self.command = ""
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        if not self.parse_request():
            return
        if not self.path.startswith("/"):
            self.send_error(HTTPStatus.BAD_REQUEST, "only origin-form request targets (/path)")
            return
        try:
            body, dechunked = self._read_body()
        except EOFError:
            # The client hung up (or stop() shut the socket) mid-body: nothing to answer.
            self.close_connection = True
            return
        except ValueError:
            self.send_error(HTTPStatus.BAD_REQUEST, "malformed request body framing")
            return
        self._exchange(self._request(body, dechunked=dechunked))
        if self._server.stopping.is_set():
            self.close_connection = True

    def _read_body(self) -> tuple[bytes, bool]:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(), True
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", False
        size = int(length)
        if size < 0:
            raise ValueError("negative Content-Length")
        return self._read_exactly(size), False

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            line = self.rfile.readline(_MAX_LINE)
            if not line:
                raise EOFError
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            chunks.append(self._read_exactly(size))
            self.rfile.readline(_MAX_LINE)
        while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
            pass  # trailers: nothing an emulator needs
        return b"".join(chunks)

    def _read_exactly(self, size: int) -> bytes:
        data = self.rfile.read(size)
        if len(data) < size:
            raise EOFError
        return data

    def _request(self, body: bytes, *, dechunked: bool) -> httpx.Request:
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in self.headers.items()
            if not (dechunked and name.lower() == "transfer-encoding")
        ]
        return httpx.Request(
            self.command, self._server.base_url + self.path, headers=headers, content=body
        )

    def _exchange(self, request: httpx.Request) -> None:
        server = self._server
        try:
            response = server.handler(request)
            if not isinstance(response, httpx.Response):
                raise TypeError(
                    "an emulator handler must return an httpx.Response,"
                    f" not {type(response).__name__}"
                )
            body = raw_body(response)
        except EmulatedTimeout as signal:
            server.stopping.wait(signal.seconds)
            self.close_connection = True
            return
        except EmulatedReset:
            self._reset()
            return
        except EmulatedTruncation as signal:
            body = raw_body(signal.response)
            self._write_head(signal.response, len(body))
            self.wfile.write(body[: kept_length(len(body), signal.keep_bytes)])
            self.close_connection = True
            return
        except Exception as error:
            _log.debug(
                "emulator handler failed on %s %s", request.method, request.url, exc_info=True
            )
            server.on_error(error)
            response = httpx.Response(500, text=_error_text(error))
            body = raw_body(response)
        self._write_head(response, len(body))
        if self.command != "HEAD" and response.status_code not in _NO_BODY_STATUSES:
            self.wfile.write(body)

    def _write_head(self, response: httpx.Response, body_length: int) -> None:
        status = response.status_code
        lines = [f"HTTP/1.1 {status} {response.reason_phrase}".encode("latin-1")]
        if status in _NO_BODY_STATUSES:
            headers = [(n, v) for n, v in response.headers.raw if n.lower() != b"content-length"]
        else:
            headers = framing_headers(response.headers, body_length)
        for name, value in headers:
            if name.lower() == b"connection" and value.lower() == b"close":
                self.close_connection = True
            lines.append(name + b": " + value)
        if self.close_connection and "connection" not in response.headers:
            lines.append(b"Connection: close")
        self.wfile.write(b"\r\n".join(lines) + b"\r\n\r\n")

    def _reset(self) -> None:
        # A zero linger makes close() send RST instead of FIN. The buffered reader holds a
        # reference to the socket, so it must close first for close() to reach the kernel.
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()


def _error_text(error: Exception) -> str:
    text = f"emulator handler raised {type(error).__name__}: {error}"
    if len(text) > _ERROR_TEXT_LIMIT:
        text = text[: _ERROR_TEXT_LIMIT - 3] + "..."
    return text + "\n"
