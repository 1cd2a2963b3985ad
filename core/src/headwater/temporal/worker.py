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
import importlib
import logging
import pkgutil
import signal

import attrs
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from headwater.temporal.activities import SyncActivities
from headwater.temporal.client import TemporalTarget, connect
from headwater.temporal.workflows import ConnectionSync, SchemaSync

__all__ = ["WorkerSettings", "run_worker", "workflow_runner"]

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


def _passed_through(module: str) -> frozenset[str]:
    """Every module beside ``module`` and beside each package above it, not those themselves.

    For ``headwater.temporal.workflows``: ``headwater.errors``, ``headwater.sources``, ...,
    ``headwater.temporal.inputs``, ``headwater.temporal.names``, ... but neither
    ``headwater`` nor ``headwater.temporal`` (passing a package through passes all of its
    modules, the workflows' too) nor the workflows' module.
    """
    parts = module.split(".")
    passed: set[str] = set()
    for depth in range(1, len(parts)):
        package = importlib.import_module(".".join(parts[:depth]))
        keep = ".".join(parts[: depth + 1])
        for found in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            if found.name != keep:
                passed.add(found.name)
    return frozenset(passed)


def workflow_runner() -> SandboxedWorkflowRunner:
    """Temporal's workflow sandbox, with Headwater's other modules passed through.

    The sandbox imports the workflows' module afresh for every workflow run, with every
    module it imports that is not passed through. The workflows live in the ``headwater``
    package, whose ``__init__`` imports the source API (attrs classes, pluggy, httpx):
    executed again per run, that took about 0.1 s of CPU per workflow, a child workflow per
    schema (106 ms on the benchmark's machine; 7 ms with this). Headwater's modules hold
    functions and frozen classes and no state a workflow changes, so they are shared; the
    workflows' module is still reloaded per run and its calls are still checked by the
    sandbox (a clock or I/O in workflow code still fails).

    .. versionadded:: 0.2
    """
    passed = _passed_through(ConnectionSync.__module__)
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*passed)
    )


async def run_worker(settings: WorkerSettings) -> None:
    """Poll ``settings.target``'s task queue until SIGINT or SIGTERM.

    .. versionadded:: 0.2
    """
    # A line per HTTP request is noise in a worker's log, and costs time in every sync.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
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
            workflow_runner=workflow_runner(),
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
