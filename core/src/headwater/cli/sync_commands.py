"""``headwater sync`` and ``headwater reset``: the sync engine from the command line.

Both loop over a connection's schemas, calling :func:`headwater.sync.sync_schema` (or
:func:`headwater.sync.reset_schema`) once per schema, and print one line per schema. The
engine and its heavy dependencies (pyarrow, deltalake) are imported inside the commands, so
other commands and ``headwater connectors`` stay fast.

.. versionadded:: 0.1
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from headwater.cli.app import UserError, deprecated_option, report_failures
from headwater.cli.native_stderr import with_native_stderr_filtered
from headwater.discovery import get_registry
from headwater.errors import HeadwaterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from headwater.config import UserConfig
    from headwater.discovery import Connector
    from headwater.runtime import Runtime
    from headwater.sources import Source, SourceSchema
    from headwater.sync import SyncResult

__all__ = ["reset_command", "sync_command", "warehouse_option"]

F = TypeVar("F", bound=Callable[..., Any])

TEXT = "text"
JSON = "json"
WAREHOUSE_ENV = "HEADWATER_WAREHOUSE"
DEFAULT_WAREHOUSE = "./warehouse"

_config_option = click.option(
    "--config",
    "-c",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config file: [source] fields (values may be env:NAME), [schemas.NAME] choices.",
)
_schema_option = click.option(
    "--schema",
    "-s",
    "schema_names",
    multiple=True,
    metavar="SCHEMA",
    help="A schema (table) to include; repeat for more. Default: every enabled schema.",
)


def warehouse_option(
    help: str = "Warehouse folder or object-store URI (s3://bucket/path); tables go to"
    " WAREHOUSE/CONNECTION/SCHEMA.",
) -> Callable[[F], F]:
    """The ``--warehouse`` / ``-w`` option every command that reads or writes tables takes.

    .. versionadded:: 0.1
    """
    return click.option(
        "--warehouse",
        "-w",
        default=DEFAULT_WAREHOUSE,
        show_default=True,
        envvar=WAREHOUSE_ENV,
        show_envvar=True,
        callback=_not_blank,
        help=help,
    )


def _not_blank(context: click.Context, parameter: click.Parameter, value: str | None) -> Any:
    # An empty value would quietly mean "here" (a warehouse) or "the default" (a connection).
    if value is not None and not value.strip():
        raise click.BadParameter(
            "is empty; give a value or leave the option out for its default", context, parameter
        )
    return value


_warehouse_option = warehouse_option()
_connection_option = click.option(
    "--connection",
    default=None,
    callback=_not_blank,
    help="Folder of this connection's tables; default: the config's `connection`, else NAME.",
)


@attrs.frozen(kw_only=True)
class _Target:
    connector: Connector
    source: Source[Any]
    config: UserConfig
    schemas: tuple[SourceSchema, ...]
    runtime: Runtime


def _target(
    name: str,
    config_path: Path,
    connection: str | None,
    schema_names: Sequence[str],
    warehouse: str,
) -> _Target:
    from headwater.config import check_schema_choices, load_config_class, load_user_config
    from headwater.errors import ConfigError
    from headwater.runtime import Runtime
    from headwater.warehouse import table_location

    registry = get_registry()
    connector = registry.connector(name)
    source = connector.load_source()
    config = load_user_config(
        config_path,
        config_class=load_config_class(connector.spec),
        source_config=source.get_source_config(),
        resolvers=registry.secret_resolvers(),
    )
    if connection is not None:
        config = attrs.evolve(config, connection=connection)
    try:
        # Checked before anything is read: a bad warehouse URI or connection name is a typo.
        table_location(warehouse, config.connection or connector.source_type, "schema")
    except ValueError as error:
        raise UserError(str(error)) from None
    runtime = Runtime()
    offered = list(source.get_schemas(config.source, runtime))
    problems = check_schema_choices(config.schemas, offered)
    if problems:
        raise ConfigError(problems, context=str(config_path))
    by_name = {schema.name: schema for schema in offered}
    if schema_names:
        for wanted in schema_names:
            if wanted not in by_name:
                close = difflib.get_close_matches(wanted, sorted(by_name), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise UserError(
                    f"{name} has no schema {wanted!r}{hint}; it offers: {', '.join(by_name)}"
                )
        chosen = [by_name[wanted] for wanted in dict.fromkeys(schema_names)]
    else:
        chosen = [
            schema
            for schema in offered
            if schema.name not in config.schemas or config.schemas[schema.name].enabled
        ]
    return _Target(
        connector=connector,
        source=source,
        config=config,
        schemas=tuple(chosen),
        runtime=runtime,
    )


@click.command("sync")
@click.argument("name")
@_config_option
@_schema_option
@_warehouse_option
@_connection_option
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Ignore the saved state: read everything again and replace each table in one commit.",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Print nothing but errors (on stderr); the exit code tells the outcome.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON event per line on stdout, for schedulers and log collectors, instead of"
    " live progress and a summary.",
)
@click.option("--log-format", type=click.Choice([TEXT, JSON]), default=None, hidden=True)
@with_native_stderr_filtered
def sync_command(
    name: str,
    config_path: Path,
    schema_names: tuple[str, ...],
    warehouse: str,
    connection: str | None,
    full_refresh: bool,
    quiet: bool,
    as_json: bool,
    log_format: str | None,
) -> None:
    """Sync a connector's schemas into Delta tables under WAREHOUSE/CONNECTION/SCHEMA.

    Incremental schemas continue from the state saved in their tables. On a terminal, a live
    table shows pages, rows, rows/s, retries and waits per schema, then a summary table:
    rows written, mode, duration and the new watermark (piped: a line per schema).
    """
    from headwater.cli.sync_output import SyncOutput

    if log_format is not None:  # the 0.1 spelling
        new = "--json" if log_format == JSON else "no option (text is the default)"
        deprecated_option(f"--log-format {log_format}", new)
        as_json = as_json or log_format == JSON
    target = _target(name, config_path, connection, schema_names, warehouse)
    if not target.schemas:
        raise UserError(f"no schema of {name} is enabled in {config_path}; nothing to sync")
    output = SyncOutput.open(
        name=name,
        schemas=tuple(schema.name for schema in target.schemas),
        runtime=target.runtime,
        config=target.config,
        quiet=quiet,
        log_format=JSON if as_json else TEXT,
    )
    from headwater.errors import user_message

    # The connector's own words for a failure it knows (a rejected token, a missing scope).
    rules = list(target.source.get_non_retryable_errors())
    with output:
        for schema in target.schemas:
            output.started(schema.name)
            try:
                result = _sync_one(target, schema, warehouse, output.runtime, full_refresh)
            except HeadwaterError as error:
                output.failed(schema.name, user_message(error, rules))
                continue
            output.finished(schema.name, result)
    report_failures([name for name, _ in output.failures], len(target.schemas))


def _sync_one(
    target: _Target,
    schema: SourceSchema,
    warehouse: str,
    runtime: Runtime,
    full_refresh: bool,
) -> SyncResult:
    from headwater.sync import sync_schema

    return sync_schema(
        target.connector,
        target.config,
        schema.name,
        warehouse,
        runtime,
        full_refresh=full_refresh,
        source_schema=schema,
    )


@click.command("reset")
@click.argument("name")
@_config_option
@_schema_option
@_warehouse_option
@_connection_option
@with_native_stderr_filtered
def reset_command(
    name: str,
    config_path: Path,
    schema_names: tuple[str, ...],
    warehouse: str,
    connection: str | None,
) -> None:
    """Drop the sync state of a connector's tables; the next sync rewrites each one.

    The rows stay, queryable, until that sync replaces them in one commit.
    """
    from headwater.sync import reset_schema

    target = _target(name, config_path, connection, schema_names, warehouse)
    failures: list[tuple[str, str]] = []
    for schema in target.schemas:
        try:
            dropped = reset_schema(
                target.connector, target.config, schema.name, warehouse, target.runtime
            )
        except HeadwaterError as error:
            failures.append((schema.name, str(error)))
            if len(target.schemas) > 1:
                click.echo(f"{schema.name}: failed: {error}", err=True)
            continue
        if dropped:
            click.echo(f"{schema.name}: state dropped; the next sync rewrites the table")
        else:
            click.echo(f"{schema.name}: no table yet; nothing to reset")
    report_failures([name for name, _ in failures], len(target.schemas))
