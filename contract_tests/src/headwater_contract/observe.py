"""Watching a connector talk to its emulator: every exchange, when it happened, and a bound.

The checks need more than the emulator records: *when* each request arrived on the runtime's
clock (to see that a ``Retry-After`` wait was honoured), how it was answered (to count retries
of a 401), a hard limit on requests (a read that never stops must fail, not hang the suite),
and ways to make the API misbehave in specific ways (answer every request with the same
page, as a broken API does; fail one chosen request of a read, such as the second page's).
:class:`ObservedApi` wraps the connector's emulator and adds those; the emulator itself stays
as its author wrote it.

.. versionadded:: 0.1
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import attrs
import httpx

from headwater.emulator import EmulatedFailure, Emulator

if TYPE_CHECKING:
    from headwater.emulator import Failure
    from headwater.runtime import ManualClock

__all__ = ["Exchange", "ObservedApi", "REQUEST_LIMIT", "RequestLimitReached"]

REQUEST_LIMIT = 1000
"""Requests one read may make before the suite calls it endless.

The emulators hold tens of rows; reading them takes tens of requests, even with every retry.

.. versionadded:: 0.1
"""


class RequestLimitReached(BaseException):
    """Raised into the connector once a read passes :data:`REQUEST_LIMIT`.

    A ``BaseException``, so a connector's ``except Exception`` cannot swallow it and carry on
    looping.

    .. versionadded:: 0.1
    """


@attrs.frozen(kw_only=True)
class Exchange:
    """One request and how it was answered.

    ``at`` is the runtime clock's monotonic time when the request arrived; ``status`` is
    ``None`` when no answer came (an emulated timeout or reset, named by ``failure``).

    .. versionadded:: 0.1
    """

    method: str
    url: httpx.URL
    at: float
    status: int | None
    failure: str | None = None

    @property
    def path(self) -> str:
        return self.url.path

    def describe(self) -> str:
        """``GET /issues?page=2 -> 200``, for failure messages (the URL is the emulator's)."""
        answer = str(self.status) if self.status is not None else (self.failure or "no answer")
        return f"{self.method} {self.url.raw_path.decode('ascii', 'replace')} -> {answer}"


@attrs.frozen(kw_only=True)
class _Recorded:
    status: int
    headers: list[tuple[bytes, bytes]]
    content: bytes


class ObservedApi:
    """A handler that serves ``emulator`` and records every exchange on ``clock``.

    Past ``limit`` requests it raises :class:`RequestLimitReached` and sets :attr:`exceeded`.
    After :meth:`repeat_from` it answers every later request with the answer to an earlier
    one, as an API stuck on one page does; :meth:`fail_request` makes one request of the next
    read fail. Thread-safe, like the emulator.

    .. versionadded:: 0.1
    """

    def __init__(
        self, emulator: Emulator, clock: ManualClock, *, limit: int = REQUEST_LIMIT
    ) -> None:
        self.emulator = emulator
        self.clock = clock
        self.limit = limit
        self.exceeded = False
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self._repeat_from: int | None = None
        self._recorded: _Recorded | None = None
        self._failing: dict[int, Failure] = {}

    @property
    def exchanges(self) -> list[Exchange]:
        """Every exchange since the last :meth:`forget`, in order."""
        with self._lock:
            return list(self._exchanges)

    def forget(self) -> None:
        """Start a new record (the next read's)."""
        with self._lock:
            self._exchanges = []
            self.exceeded = False

    def repeat_from(self, number: int) -> None:
        """Answer request ``number`` (1-based) normally, then repeat its answer forever."""
        with self._lock:
            self._repeat_from = number
            self._recorded = None

    def fail_request(self, number: int, failure: Failure) -> None:
        """Answer request ``number`` (1-based, counted from the last :meth:`forget`) with
        ``failure`` instead of the emulator's answer; a retry of it is a new request.

        .. versionadded:: 0.1
        """
        if number < 1:
            raise ValueError(f"requests are numbered from 1, not {number}")
        with self._lock:
            self._failing[number] = failure

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            number = len(self._exchanges) + 1
            if number > self.limit:
                self.exceeded = True
                raise RequestLimitReached(f"more than {self.limit} requests")
            failure = self._failing.pop(number, None)
            if failure is not None:
                # Queued on the emulator for this request's own path, so the emulator answers
                # it the way it answers every injected failure.
                self.emulator.inject(failure, path=request.url.path or "/")
            repeat = self._recorded if self._repeat_from is not None else None
            if repeat is not None and number <= (self._repeat_from or 0):
                repeat = None
        at = self.clock.monotonic()
        if repeat is not None:
            self._record(request, at, repeat.status)
            return httpx.Response(repeat.status, headers=repeat.headers, content=repeat.content)
        try:
            response = self.emulator(request)
        except EmulatedFailure as signal:
            self._record(request, at, None, type(signal).__name__)
            raise
        self._record(request, at, response.status_code)
        if self._repeat_from == number:
            content = response.read()
            with self._lock:
                self._recorded = _Recorded(
                    status=response.status_code,
                    headers=list(response.headers.raw),
                    content=content,
                )
            return httpx.Response(
                response.status_code, headers=list(response.headers.raw), content=content
            )
        return response

    def _record(
        self, request: httpx.Request, at: float, status: int | None, failure: str | None = None
    ) -> None:
        exchange = Exchange(
            method=request.method, url=request.url, at=at, status=status, failure=failure
        )
        with self._lock:
            self._exchanges.append(exchange)
