"""``headwater demo``: every installed connector, synced twice against its emulator, offline.

What it shows, in order: the emulators started on 127.0.0.1; a first sync of every schema of
every connector, with the live progress and summary of ``headwater sync``; new and updated
rows arriving in the emulators; a second sync that reads and writes only those; and a summary
read back with the same SQL engine as ``headwater query``: the rows of each table, and a query
joining two tables of one connector. The servers stop when the demo ends, also on Ctrl-C.
The parts are in :mod:`headwater.demo`.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from typing import TYPE_CHECKING

import click

from headwater.cli.app import ExitCode, Failed, UserError, report_failures
from headwater.cli.native_stderr import with_native_stderr_filtered
from headwater.cli.sync_commands import warehouse_option
from headwater.errors import HeadwaterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pyarrow as pa
    from rich.console import Console

    from headwater.demo import DemoConnection
    from headwater.discovery import Connector
    from headwater.sync import SyncResult

__all__ = ["demo_command"]

_PIPED_WIDTH = 160

# (connection, schema) -> the result of each of the two syncs, None where it failed.
_Results = dict[tuple[str, str], list["SyncResult | None"]]


def _console() -> Console:
    from rich.console import Console

    console = Console(file=sys.stdout)
    return console if console.is_terminal else Console(file=sys.stdout, width=_PIPED_WIDTH)


@click.command("demo")
@warehouse_option(
    "Warehouse folder or object-store URI; the demo's tables go to WAREHOUSE/CONNECTOR_demo/SCHEMA."
)
@click.option(
    "--connector",
    "names",
    multiple=True,
    metavar="NAME",
    help="A connector to run; repeat for more. Default: every installed one with an emulator.",
)
@with_native_stderr_filtered
def demo_command(warehouse: str, names: tuple[str, ...]) -> None:
    """Sync installed connectors against their API emulators on 127.0.0.1, twice; no account.

    Each connector's emulator (written from its API's documentation) is served as a real HTTP
    server, and the connector syncs every schema from it into WAREHOUSE/CONNECTOR_demo. Then
    new and updated rows arrive, and a second sync reads only those. The demo ends with the
    rows of each table and a query joining two of them, both through DuckDB as in `headwater
    query`. Run it again: it continues from the state saved in the tables.
    """
    from headwater.demo import demo_connectors
    from headwater.discovery import get_registry
    from headwater.warehouse import table_location

    try:
        table_location(warehouse, "demo", "schema")
    except ValueError as error:
        raise UserError(str(error)) from None
    connectors, skipped = demo_connectors(get_registry(), names)
    if not connectors:
        raise UserError(
            "no installed connector has an emulator to run the demo against;"
            " install one next to headwater, e.g. `pip install -e plugins/connector-github`"
            " from a clone of the repository"
        )
    console = _console()
    try:
        results, demos = _sync_twice(console, connectors, skipped, warehouse)
        _summary(console, demos, results, warehouse)
    except KeyboardInterrupt:
        click.echo(
            "\ninterrupted: the emulators are stopped. Every batch committed so far stays in"
            f" {warehouse}; the next `headwater demo` continues from it.",
            err=True,
        )
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader of stdout went away (`headwater demo | head`): stop quietly, as a
        # well-behaved command does; the servers are already stopped.
        from headwater.display import silence

        silence(sys.stdout)
        sys.exit(ExitCode.FAILED)
    failed = [f"{connection}.{schema}" for (connection, schema), r in results.items() if None in r]
    report_failures(failed, len(results), "tables")


def _sync_twice(
    console: Console, connectors: Sequence[Connector], skipped: Sequence[str], warehouse: str
) -> tuple[_Results, list[DemoConnection]]:
    from headwater.demo import open_demo_connection
    from headwater.errors import EmulatorUnavailableError

    results: _Results = {}
    with contextlib.ExitStack() as servers:
        demos = []
        unavailable = []
        for connector in connectors:
            try:
                demos.append(open_demo_connection(connector, servers))
            except EmulatorUnavailableError as error:
                unavailable.append(f"{connector.source_type} (its emulator cannot start: {error})")
        if not demos:
            raise UserError("no connector's emulator could start: " + "; ".join(unavailable))
        _introduce(console, demos, skipped, warehouse)
        if unavailable:
            console.print(
                f"Not in the demo: {'; '.join(unavailable)}", highlight=False, style="dim"
            )
        _heading(console, "First sync: every schema, from each emulator")
        for demo in demos:
            _sync_connection(console, demo, warehouse, results)
        _heading(console, "Meanwhile, in the APIs: new rows arrive and existing ones change")
        for demo in demos:
            touched = demo.add_rows()
            if touched:
                console.print(f"{demo.name}: {', '.join(touched)}", highlight=False)
        _heading(console, "Second sync: only what changed since the first")
        for demo in demos:
            _sync_connection(console, demo, warehouse, results)
    return results, demos


def _introduce(
    console: Console, demos: Sequence[DemoConnection], skipped: Sequence[str], warehouse: str
) -> None:
    from rich.table import Table

    table = Table(
        title=f"API emulators on 127.0.0.1; tables go to {warehouse.rstrip('/')}/CONNECTION/",
        title_justify="left",
    )
    table.add_column("connector")
    table.add_column("emulator")
    table.add_column("schemas", justify="right")
    table.add_column("connection")
    for demo in demos:
        version = demo.connector.version
        table.add_row(
            f"{demo.name} {version}" if version else demo.name,
            demo.base_url,
            str(len(demo.schemas)),
            demo.connection,
        )
    console.print(table)
    if skipped:
        console.print(
            f"Not in the demo (no emulator): {', '.join(skipped)}", highlight=False, style="dim"
        )


def _heading(console: Console, text: str) -> None:
    if console.is_terminal:
        console.rule(f"[bold]{text}", align="left")
    else:
        console.print(f"\n== {text}", highlight=False)


def _sync_connection(
    console: Console, demo: DemoConnection, warehouse: str, results: _Results
) -> None:
    from headwater.cli.sync_output import SyncOutput
    from headwater.sync import sync_schema

    console.print(f"[bold]{demo.name}[/bold] [dim]from {demo.base_url}[/dim]", highlight=False)

    output = SyncOutput.open(
        name=demo.name,
        schemas=tuple(schema.name for schema in demo.schemas),
        runtime=demo.runtime,
        config=demo.config,
        quiet=False,
        log_format="text",
        summary=False,  # the demo ends with its own table of every connection
    )
    with output:
        for schema in demo.schemas:
            output.started(schema.name)
            result: SyncResult | None = None
            try:
                result = sync_schema(
                    demo.connector,
                    demo.config,
                    schema.name,
                    warehouse,
                    output.runtime,
                    source_schema=schema,
                )
            except HeadwaterError as error:
                output.failed(schema.name, str(error))
            else:
                output.finished(schema.name, result)
            results.setdefault((demo.connection, schema.name), []).append(result)


def _query(warehouse: str, sql: str) -> pa.Table:
    import duckdb

    from headwater.warehouse.query import query_warehouse

    try:
        return query_warehouse(warehouse, sql)
    except duckdb.Error as error:
        raise Failed(f"the summary query failed: {error}") from None


def _summary(
    console: Console, demos: Sequence[DemoConnection], results: _Results, warehouse: str
) -> None:
    from rich.table import Table

    from headwater.demo import join_query, row_count_sql

    synced = [key for key, outcomes in results.items() if outcomes[0] is not None]
    if not synced:
        return
    _heading(console, "What the warehouse holds now")
    count_sql = row_count_sql(synced)
    counts = dict(zip(*_query(warehouse, count_sql).to_pydict().values(), strict=True))
    table = Table(
        title=f"Rows per table, read back with headwater query ({warehouse})",
        title_justify="left",
    )
    table.add_column("table")
    table.add_column("mode")
    table.add_column("1st sync", justify="right")
    table.add_column("2nd sync", justify="right")
    table.add_column("rows now", justify="right")
    previous = None
    for connection, schema in synced:
        first, *rest = results[(connection, schema)]
        second = rest[0] if rest else None
        assert first is not None
        if connection != previous:
            if previous is not None:
                table.add_section()
            table.add_row(f"[bold]{connection}[/bold]")
            previous = connection
        table.add_row(
            f"  {schema}",
            first.sync_mode.value,
            f"{first.rows_written:,}",
            "failed" if second is None else f"{second.rows_written:,}",
            f"{counts[f'{connection}.{schema}']:,}",
        )
    table.caption = "1st sync, 2nd sync: rows each sync wrote. rows now: the table's live rows."
    table.caption_justify = "left"
    console.print(table)

    def columns_of(connection: str, schema: str) -> list[str] | None:
        if (connection, schema) not in synced:
            return None
        empty = _query(warehouse, f'select * from "{connection}"."{schema}" limit 0')
        return list(empty.schema.names)

    join = join_query(demos, columns_of)
    if join is not None:
        command = shlex.join(["headwater", "query", "--warehouse", warehouse, join.sql])
        console.print(
            f"\n{join.child} joined to {join.parent} ({join.connection}):", highlight=False
        )
        console.print(f"$ {command}", highlight=False, markup=False, soft_wrap=True)
        _print_result(console, _query(warehouse, join.sql))
    console.print(
        f"\nThe tables are yours to explore: `headwater tables --warehouse {warehouse}`,"
        f' `headwater query --warehouse {warehouse} "select ..."`.',
        highlight=False,
        markup=False,
    )


def _print_result(console: Console, result: pa.Table) -> None:
    from rich.table import Table

    table = Table()
    for name in result.column_names:
        table.add_column(name)
    for row in result.to_pylist():
        table.add_row(*("NULL" if value is None else str(value) for value in row.values()))
    console.print(table)
