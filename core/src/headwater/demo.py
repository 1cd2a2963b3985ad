"""The offline demo: installed connectors synced against their own emulators, twice.

Every connector that ships a contract kit (``SourceSpec(kit=...)``) also ships an emulator of
its API, written from the API's documentation, and a config that works against it. The demo
serves each emulator as a real HTTP server on 127.0.0.1
(:class:`~headwater.emulator.EmulatorServer`) and points the connector at it through
``Runtime(base_url=...)``: the connector's own code (auth, pagination, fan-out, retries) does
real requests over real sockets, and the engine writes real Delta tables. Only the API is
pretend.

The demo's tables go to the connection ``<connector>_demo`` (``github_demo.issues``), so they
never mix with a real connection named after the connector in the same warehouse.

This module holds the parts the ``headwater demo`` command (:mod:`headwater.cli.demo_command`)
puts together; they carry no output of their own.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from headwater.errors import EmulatorUnavailableError, PluginError
from headwater.warehouse.query import quote_identifier

if TYPE_CHECKING:
    import httpx

    from headwater.config import UserConfig
    from headwater.discovery import Connector, Registry
    from headwater.emulator import ContractKit, Emulator, Handler
    from headwater.runtime import Runtime
    from headwater.sources import SourceSchema

__all__ = [
    "DEMO_SUFFIX",
    "DemoConnection",
    "JoinQuery",
    "demo_connectors",
    "join_query",
    "open_demo_connection",
    "row_count_sql",
]

DEMO_SUFFIX = "_demo"
"""Appended to a connector's name to name the demo's connection (its warehouse folder)."""

# Columns that make a parent row recognizable in the join's result, most telling first. The
# join falls back to the parent's join fields when the parent has none of them.
_LABEL_COLUMNS = ("title", "name", "login", "email", "slug", "key")


@attrs.frozen(kw_only=True)
class DemoConnection:
    """One connector, its emulator served on 127.0.0.1, and a config that works against it.

    ``runtime`` sends the connector's requests to :attr:`base_url`; ``schemas`` are every
    schema the connector offers for the kit's config.

    .. versionadded:: 0.1
    """

    connector: Connector
    kit: ContractKit[Any]
    emulator: Emulator
    base_url: str
    config: UserConfig
    runtime: Runtime
    schemas: tuple[SourceSchema, ...]

    @property
    def name(self) -> str:
        return self.connector.source_type

    @property
    def connection(self) -> str:
        """The demo's connection name: the folder of its tables, the prefix in queries."""
        return self.name + DEMO_SUFFIX

    def add_rows(self) -> list[str]:
        """Make rows arrive in the emulator, as between two syncs; the schemas it touched.

        The kit's ``add_rows`` adds rows later than every existing one, and for some schemas
        updates existing rows too (a GitHub issue gets closed), so the next incremental sync
        has both new rows and changed rows to merge.
        """
        add = self.kit.add_rows
        if add is None:
            return []
        touched = []
        for schema in self.schemas:
            if schema.supports_incremental or schema.supports_append:
                add(self.emulator, schema.name)
                touched.append(schema.name)
        return touched


def demo_connectors(
    registry: Registry, names: Sequence[str] = ()
) -> tuple[list[Connector], list[str]]:
    """The connectors the demo can run, and the names of those it cannot (no emulator).

    ``names`` picks connectors (default: every installed one); a name that is not installed,
    or whose connector has no emulator, raises :class:`~headwater.errors.PluginError`.

    .. versionadded:: 0.1
    """
    if names:
        chosen = [registry.connector(name) for name in dict.fromkeys(names)]
        missing = [c.source_type for c in chosen if c.spec.kit is None]
        if missing:
            raise PluginError(
                f"{', '.join(missing)}: no emulator (the connector declares no contract kit),"
                " so the demo cannot run it; `headwater sync` runs it against the real API"
            )
        return chosen, []
    connectors = registry.connectors()
    runnable = [c for c in connectors if c.spec.kit is not None]
    skipped = [c.source_type for c in connectors if c.spec.kit is None]
    return runnable, skipped


def open_demo_connection(
    connector: Connector, stack: contextlib.ExitStack, *, delay: float = 0.0
) -> DemoConnection:
    """Serve ``connector``'s emulator on 127.0.0.1 until ``stack`` closes; the connection.

    ``delay`` seconds pass before each request is answered (a slower API, so that a read
    lasts long enough to be interrupted; ``python -m headwater.temporal.demo`` uses it).

    :raises PluginError: when the connector's kit is not a
        :class:`~headwater.emulator.ContractKit` or its config is rejected.
    :raises EmulatorUnavailableError: when the kit's emulator cannot start here.

    .. versionadded:: 0.1
    """
    from headwater.config import (
        BUILTIN_RESOLVERS,
        UserConfig,
        load_config_class,
        structure_source_config,
    )
    from headwater.emulator import ContractKit, EmulatorServer
    from headwater.runtime import Runtime

    name = connector.source_type
    kit = connector.load_kit()
    if not isinstance(kit, ContractKit):
        raise PluginError(f"{name}: its kit is a {type(kit).__name__}, not a ContractKit")
    source = connector.load_source()
    try:
        source_config = structure_source_config(
            load_config_class(connector.spec),
            source.get_source_config(),
            kit.valid_config,
            resolvers=BUILTIN_RESOLVERS,
        )
    except EmulatorUnavailableError:
        raise  # the kit's sample config needs its server (a database), which cannot start
    except Exception as error:
        raise PluginError(f"{name}: its kit's config is rejected: {error}") from error
    emulator = kit.emulator()
    server = stack.enter_context(EmulatorServer(_delayed(emulator, delay) if delay else emulator))
    runtime = Runtime(base_url=server.base_url)
    schemas = tuple(source.get_schemas(source_config, runtime))
    return DemoConnection(
        connector=connector,
        kit=kit,
        emulator=emulator,
        base_url=server.base_url,
        config=UserConfig(connection=name + DEMO_SUFFIX, source=source_config),
        runtime=runtime,
        schemas=schemas,
    )


def _delayed(handler: Handler, seconds: float) -> Handler:
    def answer(request: httpx.Request) -> httpx.Response:
        time.sleep(seconds)  # the API's latency, played
        return handler(request)

    return answer


def row_count_sql(tables: Sequence[tuple[str, str]]) -> str:
    """One query counting the rows of each ``(connection, schema)`` table, in that order.

    .. versionadded:: 0.1
    """
    if not tables:
        raise ValueError("row_count_sql needs at least one table")
    parts = [
        f"select {position} as position, '{connection}.{schema}' as tbl,"
        f" count(*) as row_count from {quote_identifier(connection)}.{quote_identifier(schema)}"
        for position, (connection, schema) in enumerate(tables)
    ]
    return "select tbl, row_count from (" + " union all ".join(parts) + ") order by position"


@attrs.frozen(kw_only=True)
class JoinQuery:
    """A query joining a fan-out schema to its parent: the parents with the most children.

    .. versionadded:: 0.1
    """

    connection: str
    parent: str
    child: str
    sql: str


def join_query(
    connections: Sequence[DemoConnection],
    columns_of: Callable[[str, str], Sequence[str] | None],
) -> JoinQuery | None:
    """The example join of the demo: the first connection with a fan-out schema, joined.

    A fan-out schema's rows carry their parent's fields (the kit's
    :class:`~headwater.emulator.ParentLink` says which), so a join needs nothing from the
    connector beyond its kit. ``columns_of(connection, schema)`` returns a synced table's
    column names, or ``None`` when it has no table. ``None`` when no connection has a
    fan-out schema whose tables both exist.

    .. versionadded:: 0.1
    """
    for demo in sorted(connections, key=lambda demo: demo.name):
        for schema in demo.schemas:
            link = demo.kit.schema_kit(schema.name).parent
            if link is None:
                continue
            parent_columns = columns_of(demo.connection, link.schema)
            child_columns = columns_of(demo.connection, schema.name)
            if parent_columns is None or child_columns is None:
                continue
            if not set(link.columns) <= set(child_columns):
                continue
            label = next((c for c in _LABEL_COLUMNS if c in parent_columns), None)
            shown = [label] if label is not None else list(dict.fromkeys(link.columns.values()))
            q = quote_identifier
            on = " and ".join(
                f"c.{q(child)} = p.{q(parent)}" for child, parent in link.columns.items()
            )
            select = ", ".join(f"p.{q(column)}" for column in shown)
            count = q(schema.name)
            sql = (
                f"select {select}, count(*) as {count}"
                f" from {q(demo.connection)}.{q(link.schema)} p"
                f" join {q(demo.connection)}.{q(schema.name)} c on {on}"
                f" group by {select} order by {count} desc, {select} limit 5"
            )
            return JoinQuery(
                connection=demo.connection, parent=link.schema, child=schema.name, sql=sql
            )
    return None
