"""A progress sink that keeps the counts an activity heartbeats.

The engine and the REST machinery report progress as :class:`~headwater.runtime.ProgressEvent`
objects, from several threads when a schema fans out. :class:`ProgressCounter` adds them up
under a lock; the activity reads a :meth:`~ProgressCounter.snapshot` every few seconds and
sends it as the heartbeat's details. Event details are never copied (only counts, and whether
the last commit saved a resume point), so a heartbeat carries nothing a source said.

The resume state itself is not heartbeated: it lives in the Delta commit with the rows it
covers, which is what a retried activity continues from (a heartbeat can be a commit behind
or ahead, and a cursor or next URL has no place in Temporal's history).

.. versionadded:: 0.2
"""

from __future__ import annotations

import threading
from typing import Any

from headwater.rest import HTTP_PAGE
from headwater.runtime import ProgressEvent, ProgressKind
from headwater.sync.engine import RESUME_SAVED

__all__ = ["ProgressCounter"]

_COMMITTED = "committed version "
_STAGED = "staged "


class ProgressCounter:
    """Rows read and written, pages, commits and the last committed version of one schema.

    .. versionadded:: 0.2
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rows_read = 0
        self.rows_written = 0
        self._http_pages = 0
        self._engine_pages = 0
        self.commits = 0
        self.last_version: int | None = None
        self.retries = 0
        self.staged_rows = 0
        self.resume_saved = False

    def emit(self, event: ProgressEvent) -> None:
        with self._lock:
            match event.kind:
                case ProgressKind.ROWS if event.detail == "read":
                    self.rows_read += event.count
                case ProgressKind.ROWS if event.detail == "written":
                    self.rows_written += event.count
                case ProgressKind.PAGE if event.detail == HTTP_PAGE:
                    self._http_pages += 1
                case ProgressKind.PAGE:
                    self._engine_pages += 1
                case ProgressKind.RETRY:
                    self.retries += 1
                case ProgressKind.MESSAGE if event.detail.startswith(_COMMITTED):
                    self.commits += 1
                    self.last_version = event.count
                    self.resume_saved = event.detail.endswith(RESUME_SAVED)
                case ProgressKind.MESSAGE if event.detail.startswith(_STAGED):
                    self.staged_rows += event.count
                    self.resume_saved = event.detail.endswith(RESUME_SAVED)
                case _:
                    pass

    @property
    def pages(self) -> int:
        """HTTP pages for REST schemas, else the engine's pages (each page counted once)."""
        with self._lock:
            return self._http_pages or self._engine_pages

    def snapshot(self) -> dict[str, Any]:
        """The counts so far, as heartbeat details."""
        pages = self.pages
        with self._lock:
            return {
                "rows_read": self.rows_read,
                "rows_written": self.rows_written,
                "pages": pages,
                "commits": self.commits,
                "last_version": self.last_version,
                "retries": self.retries,
                "staged_rows": self.staged_rows,
                "resume_saved": self.resume_saved,
            }
