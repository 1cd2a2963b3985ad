"""``headwater worker``: runs the workflows and activities of one task queue until stopped.

Activities are plain functions run in a thread pool (``sync_schema`` is synchronous); at most
``max_concurrent_activities`` run at once. SIGINT or SIGTERM stops polling, lets running
activities finish for up to ``graceful_shutdown`` seconds, then exits; a sync cut short there
is like one killed: its table keeps its last commit and a retry continues from it.

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import signal

import attrs
from temporalio.worker import Worker

from headwater.temporal.activities import SyncActivities
from headwater.temporal.client import TemporalTarget, connect
from headwater.temporal.workflows import ConnectionSync, SchemaSync

__all__ = ["WorkerSettings", "run_worker"]

_log = logging.getLogger("headwater.temporal")

READY = "worker ready"
"""The start of the log line a worker writes once it polls its task queue."""


@attrs.frozen(kw_only=True)
class WorkerSettings:
    """A worker's settings. ``warehouse`` serves syncs submitted without one.

    .. versionadded:: 0.2
    """

    target: TemporalTarget
    warehouse: str
    max_concurrent_activities: int = 4
    graceful_shutdown: float = 30.0
    batch_rows: int | None = None
    """Rows per commit (``BatchLimits.max_rows``); ``None``: the engine's default."""


async def run_worker(settings: WorkerSettings) -> None:
    """Poll ``settings.target``'s task queue until SIGINT or SIGTERM.

    .. versionadded:: 0.2
    """
    client = await connect(settings.target)
    activities = SyncActivities(warehouse=settings.warehouse, batch_rows=settings.batch_rows)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    threads = settings.max_concurrent_activities + 2
    with concurrent.futures.ThreadPoolExecutor(threads, "headwater-activity") as executor:
        worker = Worker(
            client,
            task_queue=settings.target.task_queue,
            workflows=[ConnectionSync, SchemaSync],
            activities=[activities.plan_connection, activities.sync_schema],
            activity_executor=executor,
            max_concurrent_activities=settings.max_concurrent_activities,
            graceful_shutdown_timeout=dt.timedelta(seconds=settings.graceful_shutdown),
        )
        async with worker:
            _log.info(
                "%s: task queue %s on %s (namespace %s), warehouse %s",
                READY,
                settings.target.task_queue,
                settings.target.address,
                settings.target.namespace,
                settings.warehouse,
            )
            await stop.wait()
            _log.info("stopping: running activities get %ss to finish", settings.graceful_shutdown)
    _log.info("worker stopped")
