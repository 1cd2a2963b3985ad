"""The failures an emulator can inject, and the signals that carry them to the wire.

A connector has to survive what real APIs do on a bad day: answer 429 or 503, never answer,
reset the connection, or drop it halfway through a body. The failure kinds below describe
those cases as data; :meth:`Emulator.inject <headwater.emulator.Emulator.inject>` queues them.

A handler can only return a response, so the three failures that are not a response travel as
exceptions (the ``Emulated*`` signals). The in-process transport and the server catch them and
turn them into what a real client would see; see :func:`~headwater.emulator.emulator_transport`
and :class:`~headwater.emulator.EmulatorServer`. A plain handler function may raise them too.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

if TYPE_CHECKING:
    import httpx

__all__ = [
    "EmulatedFailure",
    "EmulatedReset",
    "EmulatedTimeout",
    "EmulatedTruncation",
    "Failure",
    "ResetFailure",
    "StatusFailure",
    "TimeoutFailure",
    "TruncatedBodyFailure",
]

DEFAULT_HOLD_SECONDS = 30.0
"""How long the server holds a timed-out request: far longer than any sane client timeout."""


def _status_code(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    # A 1xx is not a final answer. A 2xx is allowed: a 200 with an error body is a real failure.
    if not 200 <= value <= 599:
        raise ValueError(f"{attribute.name} must be a final HTTP status (200-599), not {value}")


def _copy_headers(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen(kw_only=True)
class StatusFailure:
    """Answer with this status instead of calling the handler: a 429, a 503, a 401.

    ``headers`` go out as given (``{"Retry-After": "7"}``). The body is ``json`` encoded as
    JSON when set, else the raw ``body`` bytes; set at most one.

    .. versionadded:: 0.1
    """

    status: int = attrs.field(validator=_status_code)
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_copy_headers)
    body: bytes = b""
    json: Any = None

    def __attrs_post_init__(self) -> None:
        if self.body and self.json is not None:
            raise ValueError("a StatusFailure has either a body or json, not both")


@attrs.frozen(kw_only=True)
class TimeoutFailure:
    """The request is received and never answered, so the client's read timeout fires.

    The server holds the connection for ``seconds`` (or until it stops) and then closes it;
    the in-process transport raises :class:`httpx.ReadTimeout` at once, without waiting.

    .. versionadded:: 0.1
    """

    seconds: float = attrs.field(default=DEFAULT_HOLD_SECONDS, validator=attrs.validators.gt(0))


@attrs.frozen(kw_only=True)
class ResetFailure:
    """The connection is reset (TCP RST) after the request is received, before any answer.

    .. versionadded:: 0.1
    """


@attrs.frozen(kw_only=True)
class TruncatedBodyFailure:
    """The handler's real response starts, but the connection drops partway through the body.

    The status line and headers (with the full ``Content-Length``) arrive intact; only
    ``keep_bytes`` of the body follow (``None``: half of it). At least one byte is always
    withheld from a non-empty body, or nothing would be truncated.

    .. versionadded:: 0.1
    """

    keep_bytes: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(0))
    )


Failure: TypeAlias = StatusFailure | TimeoutFailure | ResetFailure | TruncatedBodyFailure
"""Any failure :meth:`Emulator.inject <headwater.emulator.Emulator.inject>` accepts.

.. versionadded:: 0.1
"""


class EmulatedFailure(Exception):
    """Raised by a handler to fail the exchange below the HTTP level; never reaches a client.

    .. versionadded:: 0.1
    """


class EmulatedTimeout(EmulatedFailure):
    """Never answer this request; the server holds it for ``seconds``.

    .. versionadded:: 0.1
    """

    def __init__(self, seconds: float = DEFAULT_HOLD_SECONDS) -> None:
        super().__init__(f"emulated timeout (held for up to {seconds}s)")
        self.seconds = seconds


class EmulatedReset(EmulatedFailure):
    """Reset the connection instead of answering.

    .. versionadded:: 0.1
    """

    def __init__(self) -> None:
        super().__init__("emulated connection reset")


class EmulatedTruncation(EmulatedFailure):
    """Send ``response`` with its full ``Content-Length`` but only ``keep_bytes`` of its body.

    ``keep_bytes=None`` keeps half. The body is cut on the wire bytes (after any
    ``Content-Encoding``), as a dropped connection would cut it.

    .. versionadded:: 0.1
    """

    def __init__(self, response: httpx.Response, keep_bytes: int | None = None) -> None:
        super().__init__("emulated truncated body")
        self.response = response
        self.keep_bytes = keep_bytes
