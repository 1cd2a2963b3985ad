"""Serve a handler in process, as an httpx transport: no sockets, no threads, no waiting.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx

from headwater.emulator._failures import EmulatedReset, EmulatedTimeout, EmulatedTruncation
from headwater.emulator._wire import framing_headers, kept_length, raw_body

if TYPE_CHECKING:
    from headwater.emulator._handler import Handler

__all__ = ["emulator_transport"]


def emulator_transport(handler: Handler) -> httpx.BaseTransport:
    """An httpx transport that answers every request with ``handler``.

    Like :class:`httpx.MockTransport`, but the emulated failures reach the client as the
    exceptions httpx raises against a real server (checked against :class:`EmulatorServer`):

    =====================  ==========================================================
    handler raises         the client sees
    =====================  ==========================================================
    ``EmulatedTimeout``    :class:`httpx.ReadTimeout` at once (no wait; the server
                           waits for the client's own read timeout instead)
    ``EmulatedReset``      :class:`httpx.ReadError` ("connection reset by peer")
    ``EmulatedTruncation`` the status and headers (with the full ``Content-Length``),
                           then :class:`httpx.RemoteProtocolError` while the body is
                           read: from ``client.get()``, or mid-iteration when streaming
    =====================  ==========================================================

    Any other exception from ``handler`` propagates unchanged, so a bug in an emulator fails
    the test with its own traceback. Pass the result as ``httpx.Client(transport=...)`` or
    ``Runtime(transport=...)``.

    .. versionadded:: 0.1
    """
    return _EmulatorTransport(handler)


class _EmulatorTransport(httpx.BaseTransport):
    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # The handler sees the whole body, as it does behind the server.
        request.read()
        try:
            response = self._handler(request)
        except EmulatedTimeout:
            raise httpx.ReadTimeout("timed out", request=request) from None
        except EmulatedReset:
            raise httpx.ReadError("connection reset by peer", request=request) from None
        except EmulatedTruncation as signal:
            return _truncated(signal, request)
        if not isinstance(response, httpx.Response):
            raise TypeError(
                f"an emulator handler must return an httpx.Response, not {type(response).__name__}"
            )
        return response


def _truncated(signal: EmulatedTruncation, request: httpx.Request) -> httpx.Response:
    body = raw_body(signal.response)
    keep = kept_length(len(body), signal.keep_bytes)
    return httpx.Response(
        signal.response.status_code,
        headers=framing_headers(signal.response.headers, len(body)),
        stream=_CutStream(body[:keep], expected=len(body), request=request),
        request=request,
    )


class _CutStream(httpx.SyncByteStream):
    """A body that ends early, failing the way httpx fails when a server drops mid-body."""

    def __init__(self, part: bytes, *, expected: int, request: httpx.Request) -> None:
        self._part = part
        self._expected = expected
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        if self._part:
            yield self._part
        # The wording h11 uses, so text-matching error rules behave the same in both setups.
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body"
            f" (received {len(self._part)} bytes, expected {self._expected})",
            request=self._request,
        )
