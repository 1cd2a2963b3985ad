"""``headwater tables``, ``headwater query`` and ``headwater maintain``: the warehouse itself.

These work on what syncs wrote, without a connector or a config: the tables under
``WAREHOUSE/CONNECTION/SCHEMA``, in a local folder or an object store. An object store is
reached as ``headwater sync`` reaches it: credentials and endpoint from the environment, as
Delta Lake's object-store client reads them. pyarrow, deltalake, duckdb and rich load inside
the commands, so the rest of the CLI stays fast.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from headwater.cli.app import UserError, deprecated_option, report_failures
from headwater.cli.native_stderr import with_native_stderr_filtered
from headwater.cli.sync_commands import WAREHOUSE_ENV, warehouse_option

if TYPE_CHECKING:
    import pyarrow as pa
    from rich.console import Console

    from headwater.warehouse.inventory import TableSummary
    from headwater.warehouse.location import TableLocation

_PIPED_WIDTH = 250

__all__ = ["maintain_command", "query_command", "tables_command"]

_warehouse_option = warehouse_option(
    "Warehouse folder or object-store URI (s3://bucket/path); tables are"
    " WAREHOUSE/CONNECTION/SCHEMA."
)


def _tables(warehouse: str) -> list[tuple[str, str, TableLocation]]:
    from headwater.warehouse.inventory import find_tables
    from headwater.warehouse.location import is_object_store, warehouse_root

    try:
        if not is_object_store(warehouse):
            root = Path(warehouse_root(warehouse))
            if not root.is_dir():
                what = "is not a folder" if root.exists() else "does not exist"
                raise UserError(
                    f"no warehouse at {warehouse}: {root} {what} (run `headwater sync` first,"
                    f" or check --warehouse / {WAREHOUSE_ENV})"
                )
        return find_tables(warehouse)
    except (ValueError, OSError) as error:
        raise UserError(str(error)) from None


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _stdout() -> Console:
    from rich.console import Console

    console = Console(file=sys.stdout)
    # Piped output is not cut to 80 columns: a script reading it wants every character.
    return console if console.is_terminal else Console(file=sys.stdout, width=_PIPED_WIDTH)


def _state(summary: TableSummary) -> str:
    if summary.state is None:
        return "no state (next sync rewrites)"
    parts = [summary.sync_mode or "?"]
    if summary.watermark is not None:
        parts.append(f"watermark {summary.watermark}")
    if summary.staged_rows is not None:
        parts.append(
            f"full refresh unfinished: {summary.staged_rows} row(s) staged, the next sync"
            " continues it"
        )
    elif summary.resumes_mid_read:
        parts.append("read unfinished: the next sync continues after its last commit")
    elif summary.complete is False:
        parts.append("incomplete: next sync resumes")
    return ", ".join(parts)


def _json_value(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


@click.command("tables")
@_warehouse_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_native_stderr_filtered
def tables_command(warehouse: str, as_json: bool) -> None:
    """List the warehouse's tables: rows, files, size, last sync and sync state."""
    from headwater.warehouse.inventory import summarize_table

    tables = _tables(warehouse)
    summaries = []
    unreadable: list[str] = []
    for connection, schema, location in tables:
        try:
            summaries.append(summarize_table(connection, schema, location))
        except OSError as error:  # a WarehouseError: one line, no credentials
            unreadable.append(f"{connection}.{schema}")
            click.echo(f"{connection}.{schema}: {error}", err=True)
    if summaries or not unreadable:
        _list_tables(warehouse, summaries, as_json)
    report_failures(unreadable, len(tables), "tables")


def _list_tables(warehouse: str, summaries: list[TableSummary], as_json: bool) -> None:
    if as_json:
        payload = [
            {
                "connection": s.connection,
                "schema": s.schema,
                "uri": s.uri,
                "version": s.version,
                "rows": s.rows,
                "files": s.files,
                "size_bytes": s.size_bytes,
                "last_sync": s.last_sync.isoformat() if s.last_sync else None,
                "sync_mode": s.sync_mode,
                "watermark": s.watermark,
                "complete": s.complete,
                "resumes_mid_read": s.resumes_mid_read,
                "staged_rows": s.staged_rows,
            }
            for s in summaries
        ]
        click.echo(json.dumps(payload, indent=2, default=_json_value))
        return
    if not summaries:
        click.echo(f"No tables in {warehouse}. Run `headwater sync NAME --config FILE` first.")
        return
    from rich.table import Table

    table = Table()
    for heading, justify in (
        ("table", "left"),
        ("rows", "right"),
        ("files", "right"),
        ("size", "right"),
        ("last sync", "left"),
        ("state", "left"),
    ):
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for s in summaries:
        table.add_row(
            f"{s.connection}.{s.schema}",
            f"{s.rows:,}",
            f"{s.files:,}",
            _size(s.size_bytes),
            f"{s.last_sync:%Y-%m-%d %H:%M:%S}" if s.last_sync else "-",
            _state(s),
        )
    _stdout().print(table)


def _print_table(result: pa.Table) -> None:
    from rich.table import Table

    table = Table()
    for name in result.column_names:
        table.add_column(name)
    for row in result.to_pylist():
        table.add_row(*("NULL" if v is None else str(v) for v in row.values()))
    _stdout().print(table)
    click.echo(f"({result.num_rows:,} row{'s' if result.num_rows != 1 else ''})")


@click.command("query")
@click.argument("sql")
@_warehouse_option
@click.option("--json", "as_json", is_flag=True, help="Print an array of JSON objects.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@click.option("--format", "output_format", type=click.Choice(["table", "csv", "json"]), hidden=True)
@with_native_stderr_filtered
def query_command(
    sql: str, warehouse: str, as_json: bool, as_csv: bool, output_format: str | None
) -> None:
    """Run SQL (DuckDB) over the warehouse's tables, each the live rows of its latest version.

    Name a table CONNECTION.SCHEMA (quote names with '-' or '.': "my-shop".orders) or
    CONNECTION__SCHEMA, e.g. headwater query "select count(*) from example.orders".
    Prints a table for people; --json or --csv for programs.
    """
    import duckdb

    from headwater.warehouse.query import query_tables

    if output_format is not None:  # the 0.1 spelling
        deprecated_option(f"--format {output_format}", f"--{output_format}")
        as_json = as_json or output_format == "json"
        as_csv = as_csv or output_format == "csv"
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    output_format = "json" if as_json else "csv" if as_csv else "table"
    tables = _tables(warehouse)  # a bad warehouse is a user error before DuckDB is involved
    left_out: list[str] = []

    def unreadable(name: str, error: OSError) -> None:
        left_out.append(name)
        click.echo(f"{name} left out: {error}", err=True)

    try:
        result = query_tables(tables, sql, on_unreadable=unreadable)
    except OSError as error:
        raise UserError(str(error)) from None
    except duckdb.Error as error:
        note = f" (left out as unreadable: {', '.join(left_out)})" if left_out else ""
        raise UserError(f"the query failed: {error}{note}") from None
    if output_format == "csv":
        import pyarrow.csv as pa_csv

        sink = sys.stdout.buffer
        pa_csv.write_csv(result, sink)
        sink.flush()
    elif output_format == "json":
        click.echo(
            json.dumps(result.to_pylist(), indent=2, default=_json_value, ensure_ascii=False)
        )
    else:
        _print_table(result)


@click.command("maintain")
@_warehouse_option
@click.option(
    "--table",
    "-t",
    "only",
    multiple=True,
    metavar="CONNECTION.SCHEMA",
    help="A table to maintain; repeat for more. Default: every table.",
)
@click.option(
    "--retention-hours",
    type=click.IntRange(min=0),
    default=168,
    show_default=True,
    help="Keep files any version this recent still reads; older versions become unreadable.",
)
@with_native_stderr_filtered
def maintain_command(warehouse: str, only: tuple[str, ...], retention_hours: int) -> None:
    """Compact small files, vacuum unreferenced ones and checkpoint each table.

    Sync state survives. Each table is locked while it is maintained, so a running sync of the
    same table makes this fail for that table instead of interleaving.
    """
    from headwater.errors import HeadwaterError
    from headwater.runtime import SystemClock
    from headwater.warehouse.maintenance import maintain_table

    tables = _tables(warehouse)
    by_name = {f"{connection}.{schema}": location for connection, schema, location in tables}
    unknown = [name for name in only if name not in by_name]
    if unknown:
        raise UserError(
            f"no table {', '.join(map(repr, unknown))} in {warehouse};"
            f" it has: {', '.join(by_name) or 'none'}"
        )
    chosen = {name: by_name[name] for name in (only or by_name)}
    if not chosen:
        click.echo(f"No tables in {warehouse}; nothing to maintain.")
        return
    failures: list[str] = []
    for name, location in chosen.items():
        try:
            result: Any = maintain_table(
                location,
                clock=SystemClock(),
                retention=dt.timedelta(hours=retention_hours),
            )
        except (HeadwaterError, OSError) as error:
            failures.append(name)
            click.echo(f"{name}: failed: {error}", err=True)
            continue
        click.echo(
            f"{name}: {result.files_before} -> {result.files_after} files"
            f" ({result.files_compacted} compacted, {result.files_vacuumed} vacuumed),"
            f" checkpoint at version {result.version}"
        )
    report_failures(failures, len(chosen), "tables")
