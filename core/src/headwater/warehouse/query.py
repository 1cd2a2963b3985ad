"""SQL over a warehouse's tables with DuckDB.

Each table is handed to DuckDB as ``DeltaTable.to_pyarrow_dataset()``: the live files of the
table's current version only, so rows a MERGE replaced or a full refresh dropped never show.
(DuckDB's own ``delta`` extension would do the same, but it downloads at runtime, which an
offline machine cannot.)

Each table gets two names, the same view:

- ``<connection>.<schema>``, a DuckDB schema per connection (quote names that are not plain
  identifiers: ``"my-shop".orders``);
- ``<connection>__<schema>``, in the default schema, for tools that expect one level.

Tables in an object store are read through Delta Lake's object-store client, with the storage
options of their :class:`~headwater.warehouse.location.TableLocation` (or the environment).

.. versionadded:: 0.1
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from headwater.warehouse.inventory import find_tables
from headwater.warehouse.location import unreadable_table

if TYPE_CHECKING:
    import pyarrow as pa

    from headwater.errors import WarehouseError
    from headwater.warehouse.location import TableLocation

__all__ = ["flat_view_name", "query_tables", "query_warehouse", "quote_identifier"]


def flat_view_name(connection: str, schema: str) -> str:
    """The one-level name of a table's view: ``<connection>__<schema>``.

    .. versionadded:: 0.1
    """
    return f"{connection}__{schema}"


_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


@functools.cache
def _keywords() -> frozenset[str]:
    """DuckDB's keywords that cannot stand unquoted as a table or column name."""
    import duckdb

    with duckdb.connect() as connection:
        rows = connection.execute(
            "select keyword_name from duckdb_keywords() where keyword_category <> 'unreserved'"
        ).fetchall()
    return frozenset(row[0] for row in rows)


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier: bare when it can be (SQL shown to people reads
    better), else in double quotes: ``issues``, ``"my-shop"``, ``"order"``.

    .. versionadded:: 0.1
    """
    if _PLAIN.fullmatch(name) and name not in _keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def query_warehouse(
    warehouse: str, sql: str, *, storage_options: Mapping[str, str] | None = None
) -> pa.Table:
    """Run ``sql`` over every table of ``warehouse``; the result as an Arrow table.

    ``warehouse`` and ``storage_options`` are what
    :func:`~headwater.warehouse.inventory.find_tables` takes.

    :raises duckdb.Error: when the SQL is wrong (its message names the problem).
    :raises OSError: when the object store cannot be listed or read.

    .. versionadded:: 0.1
    """
    return query_tables(find_tables(warehouse, storage_options=storage_options), sql)


def query_tables(
    tables: Iterable[tuple[str, str, TableLocation]],
    sql: str,
    *,
    on_unreadable: Callable[[str, WarehouseError], None] | None = None,
) -> pa.Table:
    """Run ``sql`` over ``tables``, ``(connection, schema, location)`` as
    :func:`~headwater.warehouse.inventory.find_tables` gives them.

    A table that cannot be read (a damaged Delta log, an unreachable store) raises, or with
    ``on_unreadable`` is left out of the query and passed to it with its name
    (``connection.schema``); a query that names it then fails as for an unknown table.

    :raises duckdb.Error: when the SQL is wrong (its message names the problem).
    :raises WarehouseError: when a table cannot be read and ``on_unreadable`` is not given.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2 ``on_unreadable``; a damaged table is a ``WarehouseError``.
    """
    import duckdb
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    connection = duckdb.connect()
    try:
        connections: set[str] = set()
        for owner, schema, location in tables:
            try:
                dataset = DeltaTable(
                    location.uri, storage_options=location.options() or None
                ).to_pyarrow_dataset()
            except (DeltaError, OSError) as error:
                # Not chained: the store client's text may quote a signed URL.
                unreadable = unreadable_table(error, f"{owner}.{schema}", location.uri)
                if on_unreadable is None:
                    raise unreadable from None
                on_unreadable(f"{owner}.{schema}", unreadable)
                continue
            flat = flat_view_name(owner, schema)
            connection.register(flat, dataset)
            if owner not in connections:
                connections.add(owner)
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(owner)}")
            connection.execute(
                f"CREATE VIEW {quote_identifier(owner)}.{quote_identifier(schema)}"
                f" AS SELECT * FROM main.{quote_identifier(flat)}"
            )
        return connection.sql(sql).to_arrow_table()
    finally:
        connection.close()
