"""Recent connection syncs from Temporal's visibility API, with their summaries.

Each run's memo names its connection from the start and holds its summary once it ends
(rows per schema, errors). Custom search attributes would allow filtering on the server, but
they must be registered first (``temporal operator search-attribute create``), so Headwater
keeps to the memo and filters by connection here.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from headwater.temporal.inputs import SyncSummary
from headwater.temporal.names import CONNECTION_WORKFLOW
from headwater.temporal.workflows import MEMO_SUMMARY

if TYPE_CHECKING:
    from temporalio.client import Client

__all__ = ["RunRow", "list_runs"]


@attrs.frozen(kw_only=True)
class RunRow:
    """One connection sync: its workflow, status, times and summary (once it ended).

    .. versionadded:: 0.2
    """

    workflow_id: str
    run_id: str
    connection: str
    status: str
    started: dt.datetime
    closed: dt.datetime | None
    summary: SyncSummary | None


async def list_runs(
    client: Client, *, connection: str | None = None, limit: int = 20
) -> list[RunRow]:
    """The latest ``limit`` connection syncs (of ``connection``, if given), newest first.

    .. versionadded:: 0.2
    """
    rows: list[RunRow] = []
    query = f'WorkflowType = "{CONNECTION_WORKFLOW}"'
    async for execution in client.list_workflows(query):
        memo = await execution.memo()
        name = str(memo.get("connection", ""))
        if connection is not None and name != connection:
            continue
        raw = memo.get(MEMO_SUMMARY)
        status = execution.status.name.lower() if execution.status is not None else "unknown"
        rows.append(
            RunRow(
                workflow_id=execution.id,
                run_id=execution.run_id,
                connection=name,
                status=status,
                started=execution.start_time,
                closed=execution.close_time,
                summary=SyncSummary.from_memo(raw) if isinstance(raw, dict) else None,
            )
        )
        if len(rows) >= limit:
            break
    return rows
