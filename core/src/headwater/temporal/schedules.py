"""One Temporal Schedule per connection: a sync every interval, never two at once.

A schedule's ID is its connection's (``headwater-sync/CONNECTION``); its action starts a
:class:`~headwater.temporal.workflows.ConnectionSync` whose ID Temporal suffixes with the
scheduled time. Overlapping runs are skipped (``ScheduleOverlapPolicy.SKIP``): a sync still
running when the next is due makes that one be skipped, not queued. Runs missed while the
service was down are caught up within the catch-up window (one interval by default), not
beyond, so a long outage does not end in a burst of syncs.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from headwater.temporal.names import (
    CONNECTION_WORKFLOW,
    connection_workflow_id,
    schedule_id,
)
from headwater.temporal.submit import run_memo

if TYPE_CHECKING:
    from headwater.temporal.inputs import ConnectionSyncInput

__all__ = [
    "ScheduleRow",
    "create_schedule",
    "delete_schedule",
    "list_schedules",
    "pause_schedule",
    "trigger_schedule",
]

_PREFIX = schedule_id("")


@attrs.frozen(kw_only=True)
class ScheduleRow:
    """One connection's schedule, as ``headwater schedule list`` shows it.

    .. versionadded:: 0.2
    """

    connection: str
    every: dt.timedelta | None
    paused: bool
    next_run: dt.datetime | None
    last_run: dt.datetime | None
    note: str


async def create_schedule(
    client: Client,
    input: ConnectionSyncInput,
    task_queue: str,
    *,
    every: dt.timedelta,
    jitter: dt.timedelta | None = None,
    catchup_window: dt.timedelta | None = None,
    paused: bool = False,
) -> str:
    """Create the connection's schedule; its ID.

    :raises temporalio.client.ScheduleAlreadyRunningError: when the connection has one.

    .. versionadded:: 0.2
    """
    sid = schedule_id(input.connection)
    await client.create_schedule(
        sid,
        Schedule(
            action=ScheduleActionStartWorkflow(
                CONNECTION_WORKFLOW,
                input,
                id=connection_workflow_id(input.connection),
                task_queue=task_queue,
                memo=run_memo(input),
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)], jitter=jitter),
            policy=SchedulePolicy(
                overlap=ScheduleOverlapPolicy.SKIP,
                catchup_window=catchup_window or max(every, dt.timedelta(minutes=1)),
            ),
            state=ScheduleState(paused=paused, note="created by headwater schedule create"),
        ),
        memo=run_memo(input),
    )
    return sid


async def list_schedules(client: Client) -> list[ScheduleRow]:
    """Every connection's schedule in the namespace, by connection name.

    .. versionadded:: 0.2
    """
    rows = []
    async for entry in await client.list_schedules():
        if not entry.id.startswith(_PREFIX):
            continue
        description = await client.get_schedule_handle(entry.id).describe()
        intervals = description.schedule.spec.intervals
        recent = description.info.recent_actions
        rows.append(
            ScheduleRow(
                connection=entry.id.removeprefix(_PREFIX),
                every=intervals[0].every if intervals else None,
                paused=description.schedule.state.paused,
                next_run=next(iter(description.info.next_action_times), None),
                last_run=recent[-1].started_at if recent else None,
                note=description.schedule.state.note or "",
            )
        )
    return sorted(rows, key=lambda row: row.connection)


async def trigger_schedule(client: Client, connection: str) -> None:
    """Run the connection's schedule now (skipped if a run is still going: overlap SKIP).

    .. versionadded:: 0.2
    """
    await client.get_schedule_handle(schedule_id(connection)).trigger()


async def pause_schedule(client: Client, connection: str, *, pause: bool, note: str) -> None:
    """Pause (or unpause) the connection's schedule, with a note saying why.

    .. versionadded:: 0.2
    """
    handle = client.get_schedule_handle(schedule_id(connection))
    if pause:
        await handle.pause(note=note)
    else:
        await handle.unpause(note=note)


async def delete_schedule(client: Client, connection: str) -> None:
    """Delete the connection's schedule (runs already started go on).

    .. versionadded:: 0.2
    """
    await client.get_schedule_handle(schedule_id(connection)).delete()
