"""A progress sink that counts what each schema's sync has done so far.

The engine and the REST layer emit an event per page and per batch, from several threads
when a read fans out. Drawing on every event would cost more than the read, so this sink
only counts, under one lock; a display samples the counts a few times a second.

**Pages are counted once.** Two layers report pages: the engine, for every page (list or Arrow
table) a source yields, and the REST page reader, for every HTTP response (``PAGE`` events
whose ``detail`` is ``http``), before it yields the page's rows. For a source built on
``headwater.rest`` both describe the same pages, and the reader's are the truer count: they
include empty pages, a fan-out's parent pages, and pages a connector filters before yielding.
So once a schema has reported an HTTP page, its pages are the HTTP pages, and the engine's
page events for that schema are neither counted nor forwarded. A plain source, which reads no
HTTP pages, keeps the engine's count. The reader reports a page before it yields it, so the
engine's event for a page never comes first.

.. versionadded:: 0.1
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import attrs

from headwater.runtime import ProgressEvent, ProgressKind, ProgressSink

__all__ = ["ProgressTally", "SchemaTally"]

# The engine tags the ROWS events it emits: rows taken from the source, and rows committed.
_READ = "read"
_WRITTEN = "written"
# headwater.rest.HTTP_PAGE (not imported: that would import httpx into every display).
_HTTP_PAGE = "http"


@attrs.frozen(kw_only=True)
class SchemaTally:
    """A snapshot of one schema's counts.

    ``elapsed`` is seconds since the schema started (or until it finished); ``rows_per_second``
    divides the rows read by it.

    .. versionadded:: 0.1
    """

    schema: str
    pages: int = 0
    rows_read: int = 0
    rows_written: int = 0
    retries: int = 0
    waits: int = 0
    waited: float = 0.0
    elapsed: float = 0.0
    status: str = "waiting"

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.elapsed if self.elapsed > 0 else 0.0


@attrs.define(kw_only=True)
class _Counts:
    pages: int = 0
    rows_read: int = 0
    rows_written: int = 0
    retries: int = 0
    waits: int = 0
    waited: float = 0.0
    started: float | None = None
    finished: float | None = None
    status: str = "waiting"
    # Whether the schema's pages are HTTP responses (then the engine's page events repeat them).
    http_pages: bool = False


class ProgressTally:
    """Counts progress events per schema; thread-safe. ``forward`` receives every event
    except the engine's page events of a schema that reports HTTP pages (see above), so what
    it is given adds up to the same counts.

    ``monotonic`` is the clock elapsed times are measured on (the runtime's, so tests need no
    real time). :meth:`start` and :meth:`finish` bracket each schema.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        schemas: tuple[str, ...],
        *,
        monotonic: Callable[[], float],
        forward: ProgressSink | None = None,
    ) -> None:
        self._order = schemas
        self._counts = {schema: _Counts() for schema in schemas}
        self._monotonic = monotonic
        self._forward = forward
        self._lock = threading.Lock()

    def _of(self, schema: str | None) -> _Counts | None:
        if schema is None:
            return None
        counts = self._counts.get(schema)
        if counts is None:
            # A fan-out child schema reports under its own name: count it too.
            counts = self._counts[schema] = _Counts(status="running")
            self._order = (*self._order, schema)
        return counts

    def emit(self, event: ProgressEvent) -> None:
        with self._lock:
            counts = self._of(event.schema)
            if counts is not None:
                kind = event.kind
                if kind is ProgressKind.PAGE:
                    if event.detail == _HTTP_PAGE:
                        counts.http_pages = True
                    elif counts.http_pages:
                        return  # the engine taking a page the reader already reported
                    counts.pages += 1
                elif kind is ProgressKind.ROWS and event.detail == _READ:
                    counts.rows_read += event.count
                elif kind is ProgressKind.ROWS and event.detail == _WRITTEN:
                    counts.rows_written += event.count
                elif kind is ProgressKind.RETRY:
                    counts.retries += 1
                elif kind is ProgressKind.WAIT:
                    counts.waits += 1
                    counts.waited += event.seconds
        if self._forward is not None:
            self._forward.emit(event)

    def start(self, schema: str) -> None:
        """Mark ``schema`` as running from now."""
        with self._lock:
            counts = self._of(schema)
            assert counts is not None
            counts.started = self._monotonic()
            counts.status = "running"

    def finish(self, schema: str, status: str) -> None:
        """Mark ``schema`` as done (``status`` is shown, e.g. ``done`` or ``failed``)."""
        with self._lock:
            counts = self._of(schema)
            assert counts is not None
            counts.finished = self._monotonic()
            counts.status = status

    def snapshot(self) -> tuple[SchemaTally, ...]:
        """Every schema's counts, in the order schemas were given (then as first seen)."""
        now = self._monotonic()
        with self._lock:
            return tuple(
                self._snapshot(schema, self._counts[schema], now) for schema in self._order
            )

    def of(self, schema: str) -> SchemaTally:
        """One schema's counts."""
        now = self._monotonic()
        with self._lock:
            counts = self._of(schema)
            assert counts is not None
            return self._snapshot(schema, counts, now)

    @staticmethod
    def _snapshot(schema: str, counts: _Counts, now: float) -> SchemaTally:
        if counts.started is None:
            elapsed = 0.0
        else:
            elapsed = (counts.finished if counts.finished is not None else now) - counts.started
        return SchemaTally(
            schema=schema,
            pages=counts.pages,
            rows_read=counts.rows_read,
            rows_written=counts.rows_written,
            retries=counts.retries,
            waits=counts.waits,
            waited=counts.waited,
            elapsed=elapsed,
            status=counts.status,
        )
