"""``headwater worker``, ``submit``, ``schedule`` and ``runs``: syncs on Temporal.

They need the optional extra (``pip install 'headwater[temporal]'``); without it each says so
in one line and exits with code 2. This module imports nothing from Temporal at import time,
so the other commands (and ``headwater connectors``) never load the SDK.

Every command takes ``--address``, ``--namespace`` and ``--task-queue``, defaulting to
``HEADWATER_TEMPORAL_ADDRESS``, ``HEADWATER_TEMPORAL_NAMESPACE`` and
``HEADWATER_TEMPORAL_TASK_QUEUE`` (then ``127.0.0.1:7233``, ``default``, ``headwater``).

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import importlib.util
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import click

from headwater.cli.app import ExitCode, UserError, outcome

if TYPE_CHECKING:
    from headwater.temporal.client import TemporalTarget
    from headwater.temporal.inputs import ConnectionSyncInput, SyncSummary

__all__ = [
    "parse_duration",
    "runs_command",
    "schedule_group",
    "submit_command",
    "worker_command",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXTRA_MISSING = (
    "Temporal support is not installed: pip install 'headwater[temporal]' (the temporalio SDK)"
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> dt.timedelta:
    """``90``, ``30s``, ``5m``, ``1h``, ``1d`` (``ms`` too) as a timedelta; plain numbers are s.

    .. versionadded:: 0.2
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 1h or 1d")
    return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])


class _Duration(click.ParamType):  # type: ignore[type-arg]
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dt.timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


DURATION = _Duration()


def _require_extra() -> None:
    if importlib.util.find_spec("temporalio") is None:
        raise UserError(EXTRA_MISSING)


def _exit(code: int) -> NoReturn:
    """Leave the process now, output flushed, without interpreter finalization.

    Temporal's client runs native (Rust) threads that can outlive the event loop; CPython's
    finalization then crashes now and then (temporalio/sdk-python#300). A command that used a
    client has nothing left to clean up once its output is written, so it skips finalization.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _leaves_directly(function: F) -> F:
    """Make a command that uses a Temporal client end through `_exit`, whichever way it returns.

    Every such command must: one that returns normally would let click call ``sys.exit`` and
    the interpreter finalize under the client's threads (a SIGSEGV now and then, seen on
    ``schedule create``). Exceptions still reach click, which prints them as usual.
    """

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> None:
        function(*args, **kwargs)
        _exit(0)

    command.leaves_directly = True  # type: ignore[attr-defined]
    return cast("F", command)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine``; a user-facing error is printed as one line and exits with code 2."""
    from headwater.errors import HeadwaterError

    # Not asyncio.run: closing the loop drops the client's native handles while its threads
    # may still run, which is where the interpreter crashed (SIGSEGV). The loop is left open
    # and the command leaves through _exit, so nothing is torn down.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    except click.ClickException as error:
        message, code = error.format_message(), error.exit_code
    except HeadwaterError as error:
        message, code = str(error), UserError.exit_code
    click.echo(f"Error: {message}", err=True)
    _exit(code)


def _temporal_options(function: F) -> F:
    for option in reversed(
        [
            click.option(
                "--address",
                envvar="HEADWATER_TEMPORAL_ADDRESS",
                show_envvar=True,
                default="127.0.0.1:7233",
                show_default=True,
                help="Temporal's frontend, HOST:PORT.",
            ),
            click.option(
                "--namespace",
                envvar="HEADWATER_TEMPORAL_NAMESPACE",
                show_envvar=True,
                default="default",
                show_default=True,
                help="Temporal namespace.",
            ),
            click.option(
                "--task-queue",
                envvar="HEADWATER_TEMPORAL_TASK_QUEUE",
                show_envvar=True,
                default="headwater",
                show_default=True,
                help="Task queue the workers poll.",
            ),
        ]
    ):
        function = option(function)
    return function


def _target(address: str, namespace: str, task_queue: str) -> TemporalTarget:
    _require_extra()
    from headwater.temporal.client import TemporalTarget

    return TemporalTarget(address=address, namespace=namespace, task_queue=task_queue)


_SYNC_INPUT_OPTIONS = [
    click.option(
        "--config",
        "-c",
        "config_path",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML config file; sent as text, its secrets as env:/file: references that the"
        " workers resolve.",
    ),
    click.option(
        "--schema",
        "-s",
        "schema_names",
        multiple=True,
        metavar="SCHEMA",
        help="A schema to include; repeat for more. Default: every enabled schema.",
    ),
    click.option(
        "--connection",
        default=None,
        help="Folder of the tables; default: the config's `connection`, else NAME.",
    ),
    click.option(
        "--warehouse",
        "-w",
        default=None,
        help="Warehouse folder or object-store URI; default: each worker's --warehouse.",
    ),
    click.option(
        "--base-url",
        default=None,
        help="Send the connector's requests to this URL instead of the API (an emulator, a proxy).",
    ),
    click.option("--full-refresh", is_flag=True, help="Ignore saved state; rewrite each table."),
    click.option(
        "--parallelism",
        type=click.IntRange(1, 64),
        default=4,
        show_default=True,
        help="Schemas synced at once.",
    ),
    click.option(
        "--heartbeat-timeout",
        type=DURATION,
        default="60s",
        show_default=True,
        help="A silent schema sync (its worker died) is retried elsewhere after this.",
    ),
    click.option(
        "--retry-interval",
        type=DURATION,
        default="10s",
        show_default=True,
        help="First wait before retrying a failed schema; doubles each time.",
    ),
    click.option(
        "--max-attempts",
        type=click.IntRange(1, 100),
        default=5,
        show_default=True,
        help="Tries of a schema sync in all (permanent errors are never retried).",
    ),
]


def _sync_input_options(function: F) -> F:
    for option in reversed(_SYNC_INPUT_OPTIONS):
        function = option(function)
    return function


def _build_input(name: str, **options: Any) -> ConnectionSyncInput:
    from headwater.temporal.inputs import RetrySettings
    from headwater.temporal.submit import build_input

    retry = RetrySettings(
        heartbeat_timeout=options["heartbeat_timeout"].total_seconds(),
        retry_interval=options["retry_interval"].total_seconds(),
        max_attempts=options["max_attempts"],
    )
    try:
        return build_input(
            name,
            options["config_path"],
            connection=options["connection"],
            schemas=options["schema_names"],
            warehouse=options["warehouse"],
            base_url=options["base_url"],
            full_refresh=options["full_refresh"],
            parallelism=options["parallelism"],
            retry=retry,
        )
    except ValueError as error:
        raise UserError(str(error)) from None


# --- worker --------------------------------------------------------------------------------------


@click.command("worker")
@_temporal_options
@click.option(
    "--max-concurrent-activities",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Schema syncs this worker runs at once.",
)
@click.option(
    "--warehouse",
    "-w",
    default="./warehouse",
    show_default=True,
    envvar="HEADWATER_WAREHOUSE",
    show_envvar=True,
    help="Warehouse for syncs submitted without one (a folder or an object-store URI).",
)
@click.option(
    "--graceful-shutdown",
    type=DURATION,
    default="30s",
    show_default=True,
    help="On SIGINT/SIGTERM, how long running syncs get to finish.",
)
@click.option(
    "--batch-rows",
    type=click.IntRange(1, None),
    default=None,
    help="Rows per commit (default 10,000): each commit is a point a killed sync continues"
    " from; smaller batches lose less on a crash and make more, smaller files.",
)
@_leaves_directly
def worker_command(
    address: str,
    namespace: str,
    task_queue: str,
    max_concurrent_activities: int,
    warehouse: str,
    graceful_shutdown: dt.timedelta,
    batch_rows: int | None,
) -> None:
    """Run connection syncs from a Temporal task queue until SIGINT or SIGTERM.

    Secrets are resolved here, from this worker's environment and files, when each sync
    starts. Logs go to stderr.
    """
    target = _target(address, namespace, task_queue)
    from headwater.rest import redact_httpx_log
    from headwater.temporal.submit import _warehouse
    from headwater.temporal.worker import WorkerSettings, run_worker

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("temporalio").setLevel(logging.WARNING)
    redact_httpx_log()  # INFO shows httpx's request lines: their URLs hide credentials
    settings = WorkerSettings(
        target=target,
        warehouse=_warehouse(warehouse) or warehouse,
        max_concurrent_activities=max_concurrent_activities,
        graceful_shutdown=graceful_shutdown.total_seconds(),
        batch_rows=batch_rows,
    )
    _run(run_worker(settings))


# --- submit --------------------------------------------------------------------------------------


def _print_summary(summary: SyncSummary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.to_memo(), indent=2))
        return
    for schema in summary.schemas:
        if schema.ok:
            watermark = f"; watermark {schema.watermark}" if schema.watermark else ""
            tries = f", {schema.attempts} attempts" if schema.attempts > 1 else ""
            click.echo(
                f"{schema.schema}: {schema.rows_written:,} rows written ({schema.sync_mode})"
                f" in {schema.duration:.1f}s, {schema.commits} commits{tries}{watermark}"
            )
        else:
            click.echo(f"{schema.schema}: failed: {schema.error}", err=True)


@click.command("submit")
@click.argument("name")
@_sync_input_options
@_temporal_options
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the summary.")
@click.option(
    "--join",
    is_flag=True,
    help="If this connection is being synced already, wait for that run instead of refusing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@_leaves_directly
def submit_command(
    name: str,
    address: str,
    namespace: str,
    task_queue: str,
    wait: bool,
    join: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Sync a connection once on Temporal's workers and print its summary.

    Exit code 0 when every schema synced, 1 when any failed (or a sync of the connection
    is already running and --join was not given).
    """
    target = _target(address, namespace, task_queue)
    input = _build_input(name, **options)
    from temporalio.exceptions import WorkflowAlreadyStartedError

    from headwater.temporal.client import connect
    from headwater.temporal.submit import start_sync, sync_outcome

    async def go() -> SyncSummary | None:
        client = await connect(target)
        try:
            handle = await start_sync(client, input, target.task_queue, join=join)
        except WorkflowAlreadyStartedError:
            raise UserError(
                f"a sync of connection {input.connection} is already running (workflow"
                f" headwater-sync/{input.connection}); --join waits for it"
            ) from None
        click.echo(f"started workflow {handle.id} (run {handle.result_run_id})", err=True)
        return await sync_outcome(handle) if wait else None

    summary = _run(go())
    if summary is not None:
        _print_summary(summary, as_json)
        if summary.error is not None:
            click.echo(f"Error: {summary.error}", err=True)
            failed = sum(not schema.ok for schema in summary.schemas)
            # A failure before any schema ran (the config) fails the whole run.
            _exit(outcome(failed, len(summary.schemas)) if failed else ExitCode.FAILED)


# --- schedule ------------------------------------------------------------------------------------


@click.group("schedule")
def schedule_group() -> None:
    """Temporal Schedules: one per connection, overlapping runs skipped."""


def _missing_schedule(connection: str) -> UserError:
    return UserError(
        f"no schedule for connection {connection!r}; `headwater schedule list` shows them"
    )


def _on_schedule(
    connection: str, target: TemporalTarget, action: Callable[[Any], Coroutine[Any, Any, None]]
) -> None:
    from temporalio.service import RPCError, RPCStatusCode

    from headwater.temporal.client import connect

    async def go() -> None:
        client = await connect(target)
        try:
            await action(client)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise _missing_schedule(connection) from None
            raise

    _run(go())


@schedule_group.command("create")
@click.argument("name")
@_sync_input_options
@_temporal_options
@click.option("--every", type=DURATION, required=True, help="Interval: 15m, 1h, 1d.")
@click.option("--jitter", type=DURATION, default=None, help="Random delay added to each run.")
@click.option(
    "--catchup-window",
    type=DURATION,
    default=None,
    help="Runs missed while Temporal was down are made up within this (default: --every).",
)
@click.option("--paused", is_flag=True, help="Create it paused.")
@_leaves_directly
def schedule_create_command(
    name: str,
    address: str,
    namespace: str,
    task_queue: str,
    every: dt.timedelta,
    jitter: dt.timedelta | None,
    catchup_window: dt.timedelta | None,
    paused: bool,
    **options: Any,
) -> None:
    """Sync connector NAME's connection every interval (the schedule is named by the connection)."""
    target = _target(address, namespace, task_queue)
    input = _build_input(name, **options)
    from temporalio.client import ScheduleAlreadyRunningError

    from headwater.temporal.client import connect
    from headwater.temporal.schedules import create_schedule

    async def go() -> str:
        client = await connect(target)
        try:
            return await create_schedule(
                client,
                input,
                target.task_queue,
                every=every,
                jitter=jitter,
                catchup_window=catchup_window,
                paused=paused,
            )
        except ScheduleAlreadyRunningError:
            raise UserError(
                f"connection {input.connection} has a schedule already; delete it first"
                f" (`headwater schedule delete {input.connection}`)"
            ) from None

    sid = _run(go())
    click.echo(
        f"schedule {sid}: {input.connection} every {every}" + (" (paused)" if paused else "")
    )


def _when(moment: dt.datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(dt.UTC).isoformat(timespec="seconds")


@schedule_group.command("list")
@_temporal_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_leaves_directly
def schedule_list_command(address: str, namespace: str, task_queue: str, as_json: bool) -> None:
    """List the connections' schedules: interval, paused, next and last run."""
    target = _target(address, namespace, task_queue)
    from headwater.cli.commands import _table
    from headwater.temporal.client import connect
    from headwater.temporal.schedules import ScheduleRow, list_schedules

    async def go() -> list[ScheduleRow]:
        return await list_schedules(await connect(target))

    rows = _run(go())
    if as_json:
        payload = [
            {
                "connection": row.connection,
                "every_seconds": row.every.total_seconds() if row.every else None,
                "paused": row.paused,
                "next_run": None if row.next_run is None else _when(row.next_run),
                "last_run": None if row.last_run is None else _when(row.last_run),
                "note": row.note,
            }
            for row in rows
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    if not rows:
        click.echo(
            "No schedules. Create one with `headwater schedule create NAME --config F --every 1h`."
        )
        return
    table = [
        (
            row.connection,
            str(row.every or "-"),
            "paused" if row.paused else "active",
            _when(row.next_run),
            _when(row.last_run),
        )
        for row in rows
    ]
    click.echo(_table(table, ("CONNECTION", "EVERY", "STATE", "NEXT RUN", "LAST RUN")))


@schedule_group.command("trigger")
@click.argument("connection")
@_temporal_options
@_leaves_directly
def schedule_trigger_command(
    connection: str, address: str, namespace: str, task_queue: str
) -> None:
    """Run CONNECTION's schedule now (skipped if its last run is still going)."""
    from headwater.temporal.schedules import trigger_schedule

    target = _target(address, namespace, task_queue)
    _on_schedule(connection, target, lambda client: trigger_schedule(client, connection))
    click.echo(f"triggered {connection}; `headwater runs --connection {connection}` shows it")


@schedule_group.command("pause")
@click.argument("connection")
@_temporal_options
@click.option("--note", default="paused with headwater schedule pause", help="Why.")
@_leaves_directly
def schedule_pause_command(
    connection: str, address: str, namespace: str, task_queue: str, note: str
) -> None:
    """Pause CONNECTION's schedule (a running sync goes on)."""
    from headwater.temporal.schedules import pause_schedule

    target = _target(address, namespace, task_queue)
    _on_schedule(
        connection, target, lambda client: pause_schedule(client, connection, pause=True, note=note)
    )
    click.echo(f"paused {connection}")


@schedule_group.command("unpause")
@click.argument("connection")
@_temporal_options
@click.option("--note", default="unpaused with headwater schedule unpause", help="Why.")
@_leaves_directly
def schedule_unpause_command(
    connection: str, address: str, namespace: str, task_queue: str, note: str
) -> None:
    """Resume CONNECTION's schedule."""
    from headwater.temporal.schedules import pause_schedule

    target = _target(address, namespace, task_queue)
    _on_schedule(
        connection,
        target,
        lambda client: pause_schedule(client, connection, pause=False, note=note),
    )
    click.echo(f"unpaused {connection}")


@schedule_group.command("delete")
@click.argument("connection")
@_temporal_options
@_leaves_directly
def schedule_delete_command(connection: str, address: str, namespace: str, task_queue: str) -> None:
    """Delete CONNECTION's schedule (a running sync goes on; tables stay)."""
    from headwater.temporal.schedules import delete_schedule

    target = _target(address, namespace, task_queue)
    _on_schedule(connection, target, lambda client: delete_schedule(client, connection))
    click.echo(f"deleted the schedule of {connection}")


# --- runs ----------------------------------------------------------------------------------------


@click.command("runs")
@_temporal_options
@click.option("--connection", default=None, help="Only this connection's runs.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_leaves_directly
def runs_command(
    address: str,
    namespace: str,
    task_queue: str,
    connection: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Recent connection syncs on Temporal: status, rows written and errors, newest first."""
    target = _target(address, namespace, task_queue)
    from headwater.cli.commands import _table
    from headwater.temporal.client import connect
    from headwater.temporal.runs import RunRow, list_runs

    async def go() -> list[RunRow]:
        return await list_runs(await connect(target), connection=connection, limit=limit)

    rows = _run(go())
    if as_json:
        payload = [
            {
                "workflow_id": row.workflow_id,
                "run_id": row.run_id,
                "connection": row.connection,
                "status": row.status,
                "started": _when(row.started),
                "closed": None if row.closed is None else _when(row.closed),
                "summary": None if row.summary is None else row.summary.to_memo(),
            }
            for row in rows
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    if not rows:
        click.echo("No runs yet.")
        return
    table = []
    for row in rows:
        summary = row.summary
        rows_written = "-" if summary is None else f"{summary.rows_written:,}"
        error = "" if summary is None or summary.error is None else summary.error
        table.append((row.connection, row.status, _when(row.started), rows_written, error[:100]))
    click.echo(_table(table, ("CONNECTION", "STATUS", "STARTED", "ROWS", "ERROR")))
