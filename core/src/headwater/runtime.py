"""The :class:`Runtime`: everything a source's I/O goes through, replaceable as a whole.

Every source method that does I/O receives a ``Runtime``. Production uses the defaults;
tests, the contract suite, the demo and the benchmark replace parts of it (an emulator's
transport, a base-URL override, a manual clock). User configs never carry these, which is how
an emulator reaches a connector whose real base URL is fixed.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice. Connectors import its public names from ``headwater``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import attrs

from headwater.errors import RequestBudgetExhausted

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Clock",
    "ManualClock",
    "NullProgress",
    "ProgressEvent",
    "ProgressKind",
    "ProgressSink",
    "RequestBudget",
    "Runtime",
    "SystemClock",
]


class Clock(Protocol):
    """Wall time for watermarks and HTTP dates, monotonic time for waits."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...


class SystemClock:
    """The real clock.

    .. versionadded:: 0.1
    """

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to; its :meth:`sleep` advances it instantly.

    Pass ``Runtime(clock=clock, sleep=clock.sleep)`` to test retries and rate limits without
    waiting. ``slept`` records every requested wait.

    .. versionadded:: 0.1
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self._monotonic = 0.0
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            self._monotonic += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(seconds, 0.0))


class ProgressKind(enum.StrEnum):
    """What a :class:`ProgressEvent` reports.

    .. versionadded:: 0.1
    """

    PAGE = "page"
    ROWS = "rows"
    RETRY = "retry"
    WAIT = "wait"
    MESSAGE = "message"
    NOTICE = "notice"
    """Something the user should read in any output, not only a log: a fallback to a full
    read, a skipped parent, a read continued from its last commit.

    .. versionadded:: 0.2
    """


@attrs.frozen(kw_only=True)
class ProgressEvent:
    """One thing that happened during a read, for progress displays and JSON logs.

    ``count`` is pages or rows; ``seconds`` is a wait; ``detail`` is free text that must never
    contain a secret (URLs are redacted before they get here).

    .. versionadded:: 0.1
    """

    kind: ProgressKind
    schema: str | None = None
    count: int = 0
    seconds: float = 0.0
    detail: str = ""


class ProgressSink(Protocol):
    """Receives progress events; must be thread-safe (fan-out workers report concurrently)."""

    def emit(self, event: ProgressEvent) -> None: ...


class NullProgress:
    """Discards progress.

    .. versionadded:: 0.1
    """

    def emit(self, event: ProgressEvent) -> None:
        return None


class RequestBudget:
    """A budget of requests shared by every worker thread of one run.

    ``max_requests`` bounds the total (``None``: unbounded); ``per_second`` spaces requests
    evenly (``None``: no pacing). :meth:`acquire` blocks through the runtime's sleep to pace,
    and raises :class:`~headwater.errors.RequestBudgetExhausted` when the total is spent.

    .. versionadded:: 0.1
    """

    def __init__(self, *, max_requests: int | None = None, per_second: float | None = None) -> None:
        if max_requests is not None and max_requests < 0:
            raise ValueError("max_requests must be >= 0")
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be > 0")
        self.max_requests = max_requests
        self.per_second = per_second
        self._used = 0
        self._next_slot = 0.0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        with self._lock:
            return self._used

    def acquire(self, clock: Clock, sleep: Callable[[float], None]) -> None:
        """Take one request from the budget, waiting for its slot when paced."""
        with self._lock:
            if self.max_requests is not None and self._used >= self.max_requests:
                raise RequestBudgetExhausted(
                    f"the run's request budget of {self.max_requests} requests is spent;"
                    " raise it or sync fewer schemas at once"
                )
            self._used += 1
            wait = 0.0
            if self.per_second is not None:
                now = clock.monotonic()
                slot = max(now, self._next_slot)
                self._next_slot = slot + 1.0 / self.per_second
                wait = slot - now
        if wait > 0:
            sleep(wait)

    def __repr__(self) -> str:
        return (
            f"RequestBudget(max_requests={self.max_requests}, per_second={self.per_second},"
            f" used={self.used})"
        )


def _default_logger() -> logging.Logger:
    return logging.getLogger("headwater.source")


@attrs.frozen(kw_only=True)
class Runtime:
    """The I/O seams of a source call.

    ``transport`` replaces httpx's network transport (an emulator's in-process transport);
    ``base_url`` replaces the API's base URL (an emulator served on 127.0.0.1, a proxy): see
    :meth:`resolve_base_url`. Both are ``None`` in production.

    .. versionadded:: 0.1
    """

    transport: httpx.BaseTransport | None = None
    base_url: str | None = None
    clock: Clock = attrs.field(factory=SystemClock)
    sleep: Callable[[float], None] = time.sleep
    progress: ProgressSink = attrs.field(factory=NullProgress)
    budget: RequestBudget = attrs.field(factory=RequestBudget)
    logger: logging.Logger = attrs.field(factory=_default_logger)

    def resolve_base_url(self, default: str) -> str:
        """The base URL a connector should use, without a trailing slash.

        ``default`` (the API's own, ``https://sentry.io/api/0``) when there is no override.
        An override with a path (``http://127.0.0.1:8080/api/v3``) is used as it is; an
        override that is only an origin (``http://127.0.0.1:8080``) replaces the scheme, host
        and port of ``default`` and keeps its path (``http://127.0.0.1:8080/api/0``), so an
        emulator that answers on the API's own paths serves every connector unchanged.

        .. versionchanged:: 0.1
           An origin-only override keeps the API's path.
        """
        if not self.base_url:
            return default.rstrip("/")
        override = urllib.parse.urlsplit(self.base_url)
        if override.path not in ("", "/") or override.query:
            return self.base_url.rstrip("/")
        return self.base_url.rstrip("/") + urllib.parse.urlsplit(default).path.rstrip("/")
