"""What an API emulator is, at its simplest: a function from request to response.

A connector's emulator is written from the API's documentation as a :data:`Handler`. The same
handler then serves in process (:func:`~headwater.emulator.emulator_transport`) and over a
real socket (:class:`~headwater.emulator.EmulatorServer`), so a connector test can pick the
cheap path or the realistic one without a second emulator.

.. versionadded:: 0.1
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import httpx

__all__ = ["Handler", "json_response"]

Handler: TypeAlias = Callable[[httpx.Request], httpx.Response]
"""Answers one request. Must be thread-safe: the server calls it from one thread per connection.

.. versionadded:: 0.1
"""


def json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """A JSON response, encoded the way most APIs send it: compact UTF-8 with a length.

    ``headers`` are added to (and may override) ``Content-Type: application/json``. Encoding
    refuses NaN and non-JSON values, as a real API's serializer would never produce them.

    .. versionadded:: 0.1
    """
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    merged = httpx.Headers({"Content-Type": "application/json"})
    if headers:
        merged.update(headers)
    return httpx.Response(status, headers=merged, content=body.encode("utf-8"))
