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
from headwater.sync.columnar import ColumnarRows, fast_arrays, value_bytes
from headwater.sync.columns import (
    JSON_METADATA,
    ColumnType,
    JsonText,
    arrow_field,
    arrow_type,
    classify,
    column_type_of,
    convert,
    dump_json,
    dump_json_texts,
    sanitize_name,
)
from headwater.sync.engine import RESUME_SAVED, open_source, sync_schema
from headwater.sync.evolution import Resolution, TableShape, variant_name, widen
from headwater.sync.keys import check_primary_keys, deduplicate, row_keys
from headwater.sync.plan import SyncPlan, WriteStrategy, plan_sync
from headwater.sync.reset import reset_schema
from headwater.sync.result import SyncResult
from headwater.sync.state import STATE_FORMAT, Layout, SchemaState
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
    "ColumnarRows",
    "JSON_METADATA",
    "JsonText",
    "Layout",
    "Position",
    "RESUME_SAVED",
    "Resolution",
    "RowBatcher",
    "STATE_FORMAT",
    "SchemaState",
    "SyncPlan",
    "SyncResult",
    "TableShape",
    "Watermarks",
    "WriteStrategy",
    "arrow_field",
    "arrow_type",
    "check_primary_keys",
    "classify",
    "column_type_of",
    "column_values",
    "comparable",
    "convert",
    "decode_value",
    "deduplicate",
    "dump_json",
    "dump_json_texts",
    "encode_value",
    "fast_arrays",
    "open_source",
    "plan_sync",
    "reset_schema",
    "row_keys",
    "sanitize_name",
    "sync_schema",
    "value_bytes",
    "variant_name",
    "widen",
]
