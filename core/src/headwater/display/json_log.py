"""``--json``: one JSON object per line, for schedulers and log collectors.

Every progress event becomes a line, and the sync command adds lines of its own
(``sync_started``, ``schema_started``, ``schema_finished``, ``schema_failed``,
``sync_finished``). Each line has ``ts`` (UTC, ISO 8601), ``event`` and, when it concerns
one, ``schema``; the rest depends on the event. Text passes through a
:class:`~headwater.display.redact.Redactor` before it is written.

Lines go through a :class:`~headwater.display.lines.LineWriter`: when the reader of the log
goes away (a closed pipe), the log stops writing and says so in :attr:`JsonLog.reader_gone`,
and no event ever raises into the sync that emitted it.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from headwater.display.lines import LineWriter
from headwater.display.redact import Redactor

if TYPE_CHECKING:
    from headwater.runtime import ProgressEvent

__all__ = ["JsonLog"]


def _default(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


class JsonLog:
    """Writes events as JSON lines to ``stream``; a thread-safe progress sink.

    ``now`` gives the timestamp of each line (the runtime clock's ``now``). Writing never
    raises :class:`BrokenPipeError`: see :attr:`reader_gone`.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        now: Callable[[], dt.datetime],
        redact: Redactor | None = None,
    ) -> None:
        self._lines = LineWriter(stream)
        self._now = now
        self._redact = redact or Redactor()

    @property
    def reader_gone(self) -> bool:
        """Whether the log's reader closed the stream; lines since then were dropped."""
        return self._lines.reader_gone

    def emit(self, event: ProgressEvent) -> None:
        fields: dict[str, Any] = {"count": event.count}
        if event.seconds:
            fields["seconds"] = round(event.seconds, 3)
        if event.detail:
            fields["detail"] = event.detail
        self.write(str(event.kind), schema=event.schema, **fields)

    def write(self, event: str, *, schema: str | None = None, **fields: Any) -> None:
        """Write one line: ``{"ts": ..., "event": event, "schema": schema, **fields}``."""
        if self._lines.reader_gone:
            return
        record: dict[str, Any] = {
            "ts": self._now().isoformat(timespec="milliseconds"),
            "event": event,
        }
        if schema is not None:
            record["schema"] = schema
        record.update(fields)
        self._lines.write(self._redact(json.dumps(record, default=_default, ensure_ascii=False)))
