"""What one schema sync did, for the CLI, logs and (later) workflow history.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from headwater.sources.schema import SyncMode

if TYPE_CHECKING:
    from headwater.sync.state import SchemaState

__all__ = ["SyncResult"]


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _versions(versions: Iterable[int]) -> tuple[int, ...]:
    return tuple(versions)


@attrs.frozen(kw_only=True)
class SyncResult:
    """The outcome of :func:`~headwater.sync.sync_schema` for one schema.

    ``commits`` are the Delta versions this sync created; ``rows_read`` counts rows from the
    source, ``rows_written`` those that reached the table (append drops rows written before).
    ``duration`` is in seconds on the runtime's clock. ``rewrote`` is true when the table was
    replaced (a full refresh, ``--full-refresh``, or the first sync after a reset).

    .. versionadded:: 0.1
    """

    schema: str
    table_uri: str
    sync_mode: SyncMode = attrs.field(converter=SyncMode)
    rewrote: bool
    rows_read: int
    rows_written: int
    commits: tuple[int, ...] = attrs.field(converter=_versions)
    duration: float
    state: SchemaState | None

    @property
    def watermark(self) -> Any:
        """The new inclusive lower bound of the next read, if the schema keeps one."""
        return None if self.state is None else self.state.watermark

    def summary(self) -> str:
        """One line: ``orders: 120 rows written (incremental) in 0.4s; watermark ...``."""
        mode = self.sync_mode.value + (", table rewritten" if self.rewrote else "")
        rows = "row" if self.rows_written == 1 else "rows"
        line = (
            f"{self.schema}: {self.rows_written:,} {rows} written ({mode}) in {self.duration:.1f}s"
        )
        if self.rows_read != self.rows_written:
            line += f" ({self.rows_read:,} read)"
        layout = self.state.layout if self.state else None
        if layout is not None and layout.incremental_field and self.watermark is not None:
            line += f"; watermark {layout.incremental_field} = {_show(self.watermark)}"
        return line
