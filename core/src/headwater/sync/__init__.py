"""The sync engine: one schema of one connection, from a source's rows into its Delta table.

:func:`sync_schema` works for any :class:`~headwater.SourceResponse`, API-backed or not. It
decides the mode, reads the previous state from the table's commits, batches rows into Arrow
(with stable, evolving schemas), writes them through :mod:`headwater.warehouse` with the new
state in the same commit, and returns a :class:`SyncResult`. See ``docs/sync.md``.

Importing this package is light; pyarrow and deltalake load when a sync runs.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.sync.batching import BatchLimits, RowBatcher
from headwater.sync.columns import ColumnType, classify
from headwater.sync.engine import sync_schema
from headwater.sync.evolution import TableShape
from headwater.sync.keys import check_primary_keys, deduplicate, row_keys
from headwater.sync.plan import WriteStrategy, plan_sync
from headwater.sync.reset import reset_schema
from headwater.sync.result import SyncResult
from headwater.sync.state import Layout, SchemaState
from headwater.sync.watermark import (
    Advance,
    ColumnValues,
    Position,
    Watermarks,
    column_values,
    comparable,
    decode_value,
    encode_value,
)

__all__ = [
    "Advance",
    "BatchLimits",
    "ColumnType",
    "ColumnValues",
    "Layout",
    "Position",
    "RowBatcher",
    "SchemaState",
    "SyncResult",
    "TableShape",
    "Watermarks",
    "WriteStrategy",
    "check_primary_keys",
    "classify",
    "column_values",
    "comparable",
    "decode_value",
    "deduplicate",
    "encode_value",
    "plan_sync",
    "reset_schema",
    "row_keys",
    "sync_schema",
]
