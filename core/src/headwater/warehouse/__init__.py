"""The warehouse: Delta tables at ``<warehouse>/<connection>/<schema>``, local or in an object
store, written by one writer at a time, each commit carrying the schema's sync state.

- :mod:`~headwater.warehouse.location`: table URIs and storage options;
- :mod:`~headwater.warehouse.writer`: MERGE, append, replace, rewrite, state-only commits;
- :mod:`~headwater.warehouse.state_log`: state in commit metadata, read back;
- :mod:`~headwater.warehouse.partitioning`: datetime, md5 and numerical buckets;
- :mod:`~headwater.warehouse.lock`: one writer per table;
- :mod:`~headwater.warehouse.inventory`: the tables of a warehouse, their rows, size and state;
- :mod:`~headwater.warehouse.maintenance`: compact, vacuum and checkpoint a table;
- :mod:`~headwater.warehouse.query`: SQL over the tables with DuckDB;
- :mod:`~headwater.warehouse.staging` and :mod:`~headwater.warehouse.conform`: the pieces a
  replacing commit streams through.

Importing this package is light; pyarrow and deltalake load when a table is touched.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.warehouse.conform import conform
from headwater.warehouse.inventory import find_tables, summarize_table
from headwater.warehouse.location import (
    TableLocation,
    is_object_store,
    table_location,
    warehouse_error,
)
from headwater.warehouse.lock import LOCK_PATH, Holder, LeaseLock, lock_table
from headwater.warehouse.partitioning import (
    UNPARSEABLE,
    PartitionScheme,
    parse_datetime,
    partition_bucket,
    partition_column,
)
from headwater.warehouse.staging import STAGING_PATH, StagedTable
from headwater.warehouse.state_log import STATE_KEY, read_state_document, state_sequence
from headwater.warehouse.writer import TableWriter

__all__ = [
    "Holder",
    "LOCK_PATH",
    "LeaseLock",
    "PartitionScheme",
    "STAGING_PATH",
    "STATE_KEY",
    "StagedTable",
    "TableLocation",
    "TableWriter",
    "UNPARSEABLE",
    "conform",
    "find_tables",
    "is_object_store",
    "lock_table",
    "parse_datetime",
    "partition_bucket",
    "partition_column",
    "read_state_document",
    "state_sequence",
    "summarize_table",
    "table_location",
    "warehouse_error",
]
