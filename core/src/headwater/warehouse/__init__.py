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
from headwater.warehouse.inventory import TableSummary, find_tables, summarize_table
from headwater.warehouse.location import (
    OBJECT_STORE_SCHEMES,
    TableLocation,
    describe_store_error,
    is_object_store,
    storage_failures,
    table_location,
    unreadable_table,
    warehouse_error,
    warehouse_root,
)
from headwater.warehouse.lock import (
    DEFAULT_LEASE,
    LOCK_PATH,
    Holder,
    LeaseLock,
    LocalLock,
    TableLock,
    lock_table,
)
from headwater.warehouse.maintenance import DEFAULT_RETENTION, MaintenanceResult, maintain_table
from headwater.warehouse.partitioning import (
    PARTITION_COLUMN,
    UNPARSEABLE,
    PartitionScheme,
    parse_datetime,
    partition_bucket,
    partition_column,
)
from headwater.warehouse.query import (
    flat_view_name,
    query_tables,
    query_warehouse,
    quote_identifier,
)
from headwater.warehouse.staging import STAGING_PATH, StagedTable
from headwater.warehouse.state_log import (
    APP_ID,
    STATE_KEY,
    check_sequence,
    commit_properties,
    mirrored_sequence,
    read_state_document,
    state_sequence,
)
from headwater.warehouse.writer import TableWriter, merge_predicate

__all__ = [
    "APP_ID",
    "DEFAULT_LEASE",
    "DEFAULT_RETENTION",
    "Holder",
    "LOCK_PATH",
    "LeaseLock",
    "LocalLock",
    "MaintenanceResult",
    "OBJECT_STORE_SCHEMES",
    "PARTITION_COLUMN",
    "PartitionScheme",
    "STAGING_PATH",
    "STATE_KEY",
    "StagedTable",
    "TableLocation",
    "TableLock",
    "TableSummary",
    "TableWriter",
    "UNPARSEABLE",
    "check_sequence",
    "commit_properties",
    "conform",
    "describe_store_error",
    "find_tables",
    "flat_view_name",
    "is_object_store",
    "lock_table",
    "maintain_table",
    "merge_predicate",
    "mirrored_sequence",
    "parse_datetime",
    "partition_bucket",
    "partition_column",
    "query_tables",
    "query_warehouse",
    "quote_identifier",
    "read_state_document",
    "state_sequence",
    "storage_failures",
    "summarize_table",
    "table_location",
    "unreadable_table",
    "warehouse_error",
    "warehouse_root",
]
