"""The summary printed when a sync ends: a table on a terminal, a line per schema otherwise.

Lines stay the output of a sync piped into a file or a script (one ``schema: ...`` line per
schema, stable to grep); the table is for a person at a terminal.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from rich.table import Table

    from headwater.display.tally import SchemaTally
    from headwater.sync import SyncResult

__all__ = ["SchemaOutcome", "summary_lines", "summary_table"]


@attrs.frozen(kw_only=True)
class SchemaOutcome:
    """How one schema's sync ended: its result, or the error that stopped it.

    .. versionadded:: 0.1
    """

    schema: str
    tally: SchemaTally
    result: SyncResult | None = None
    error: str | None = None


def _watermark(result: SyncResult) -> str:
    layout = result.state.layout if result.state else None
    if layout is None or not layout.incremental_field or result.watermark is None:
        return "-"
    value: Any = result.watermark
    if isinstance(value, dt.datetime):
        value = value.isoformat(timespec="seconds")
    return f"{layout.incremental_field} = {value}"


def summary_lines(outcomes: Sequence[SchemaOutcome]) -> list[str]:
    """One line per schema: :meth:`SyncResult.summary`, or ``schema: failed: error``.

    .. versionadded:: 0.1
    """
    return [
        outcome.result.summary()
        if outcome.result is not None
        else f"{outcome.schema}: failed: {outcome.error}"
        for outcome in outcomes
    ]


def summary_table(outcomes: Sequence[SchemaOutcome]) -> Table:
    """A rich table: schema, mode, rows written and read, pages, retries, duration, rows/s,
    new watermark.

    .. versionadded:: 0.1
    """
    from rich.table import Table

    table = Table(title="sync summary", title_justify="left")
    table.add_column("schema", style="bold")
    table.add_column("mode")
    for heading in ("rows written", "rows read", "pages", "retries", "duration", "rows/s"):
        table.add_column(heading, justify="right")
    table.add_column("new watermark")
    for outcome in outcomes:
        tally, result = outcome.tally, outcome.result
        if result is None:
            table.add_row(
                outcome.schema,
                "[red]failed[/red]",
                "-",
                f"{tally.rows_read:,}",
                f"{tally.pages:,}",
                f"{tally.retries:,}",
                f"{tally.elapsed:.1f}s",
                "-",
                f"[red]{outcome.error}[/red]",
            )
            continue
        mode = result.sync_mode.value + (" (rewritten)" if result.rewrote else "")
        rate = result.rows_read / result.duration if result.duration > 0 else 0.0
        table.add_row(
            outcome.schema,
            mode,
            f"{result.rows_written:,}",
            f"{result.rows_read:,}",
            f"{tally.pages:,}",
            f"{tally.retries:,}",
            f"{result.duration:.1f}s",
            f"{rate:,.0f}",
            _watermark(result),
        )
    return table
