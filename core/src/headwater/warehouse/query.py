"""SQL over a warehouse's tables with DuckDB.

Each table is handed to DuckDB as ``DeltaTable.to_pyarrow_dataset()``: the live files of the
table's current version only, so rows a MERGE replaced or a full refresh dropped never show.
(DuckDB's own ``delta`` extension would do the same, but it downloads at runtime, which an
offline machine cannot.)

Each table gets two names, the same view:

- ``<connection>.<schema>``, a DuckDB schema per connection (quote names that are not plain
  identifiers: ``"my-shop".orders``);
- ``<connection>__<schema>``, in the default schema, for tools that expect one level.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from headwater.warehouse.inventory import find_tables

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["flat_view_name", "query_warehouse"]


def flat_view_name(connection: str, schema: str) -> str:
    """The one-level name of a table's view: ``<connection>__<schema>``.

    .. versionadded:: 0.1
    """
    return f"{connection}__{schema}"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def query_warehouse(warehouse: str, sql: str) -> pa.Table:
    """Run ``sql`` over every table of a local ``warehouse``; the result as an Arrow table.

    :raises duckdb.Error: when the SQL is wrong (its message names the problem).

    .. versionadded:: 0.1
    """
    import duckdb
    from deltalake import DeltaTable

    connection = duckdb.connect()
    try:
        connections: set[str] = set()
        for owner, schema, location in find_tables(warehouse):
            dataset = DeltaTable(
                location.uri, storage_options=location.options() or None
            ).to_pyarrow_dataset()
            flat = flat_view_name(owner, schema)
            connection.register(flat, dataset)
            if owner not in connections:
                connections.add(owner)
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {_quoted(owner)}")
            connection.execute(
                f"CREATE VIEW {_quoted(owner)}.{_quoted(schema)}"
                f" AS SELECT * FROM main.{_quoted(flat)}"
            )
        return connection.sql(sql).fetch_arrow_table()
    finally:
        connection.close()
