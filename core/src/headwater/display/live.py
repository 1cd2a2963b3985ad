"""The live progress table a sync draws on a terminal while it runs.

It redraws from a :class:`~headwater.display.tally.ProgressTally` a few times a second
(rich's own refresh thread), never from the event stream itself, so a fast read pays only
the tally's counting.

.. versionadded:: 0.1
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from headwater.display.tally import ProgressTally, SchemaTally

__all__ = ["LiveProgress", "progress_table"]

_REFRESHES_PER_SECOND = 4
_STATUS_STYLE = {"running": "yellow", "done": "green", "failed": "red", "waiting": "dim"}


def progress_table(tallies: tuple[SchemaTally, ...]) -> Table:
    """One row per schema: status, pages, rows read and written, rows/s, retries, waits.

    .. versionadded:: 0.1
    """
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    table.add_column("schema", style="bold")
    table.add_column("status")
    for heading in ("pages", "rows read", "rows written", "rows/s", "retries", "waits"):
        table.add_column(heading, justify="right")
    for tally in tallies:
        style = _STATUS_STYLE.get(tally.status, "")
        waits = f"{tally.waits:,} ({tally.waited:.1f}s)" if tally.waits else "0"
        table.add_row(
            tally.schema,
            f"[{style}]{tally.status}[/{style}]" if style else tally.status,
            f"{tally.pages:,}",
            f"{tally.rows_read:,}",
            f"{tally.rows_written:,}",
            f"{tally.rows_per_second:,.0f}",
            f"{tally.retries:,}",
            waits,
        )
    return table


class _Renderable:
    """Builds a fresh table each time rich draws (rich calls ``__rich__`` on refresh)."""

    def __init__(self, tally: ProgressTally) -> None:
        self._tally = tally

    def __rich__(self) -> Table:
        return progress_table(self._tally.snapshot())


class LiveProgress:
    """A context manager drawing ``tally`` on ``console`` until it exits.

    .. versionadded:: 0.1
    """

    def __init__(self, tally: ProgressTally, console: Console) -> None:
        self._tally = tally
        self._console = console
        self._live: Live | None = None

    def __enter__(self) -> Self:
        from rich.live import Live

        self._live = Live(
            _Renderable(self._tally),
            console=self._console,
            refresh_per_second=_REFRESHES_PER_SECOND,
            transient=False,
        )
        self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, traceback)
