"""How a handler's response is framed on the wire; shared by the transport and the server.

Both must cut a truncated body at the same byte and announce the same ``Content-Length``,
so an emulator test means the same thing in process and over a socket.
"""

from __future__ import annotations

import httpx

__all__ = ["framing_headers", "kept_length", "raw_body"]

_FRAMING = frozenset({b"content-length", b"transfer-encoding"})


def raw_body(response: httpx.Response) -> bytes:
    """The body bytes as they go on the wire, still ``Content-Encoding``-encoded.

    ``response.content`` is decoded, so it is not what a server sends; the stream is.
    """
    stream = response.stream
    if not isinstance(stream, httpx.SyncByteStream):
        raise TypeError("an emulator handler must return a response with a synchronous body")
    return b"".join(stream)


def kept_length(body_length: int, keep_bytes: int | None) -> int:
    """How many body bytes a truncation sends: ``keep_bytes`` or half, always short of all."""
    keep = body_length // 2 if keep_bytes is None else keep_bytes
    return max(0, min(keep, body_length - 1))


def framing_headers(headers: httpx.Headers, body_length: int) -> list[tuple[bytes, bytes]]:
    """``headers`` with the handler's framing replaced by a ``Content-Length`` of the body.

    A handler that streams gets ``Transfer-Encoding: chunked`` from httpx; the emulator always
    sends a length instead, which is what truncation needs to be detectable.
    """
    kept = [(name, value) for name, value in headers.raw if name.lower() not in _FRAMING]
    kept.append((b"Content-Length", str(body_length).encode("ascii")))
    return kept
