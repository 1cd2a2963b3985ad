"""Fitting a record batch to a table's schema: same columns, same order, same types.

Every batch a sync writes carries every column of the table, in the table's order, so a
MERGE replaces whole rows (a column the row no longer has becomes null) and Delta never sees
two spellings of one schema. Columns the batch lacks are null; types are cast, which only
ever widens (the batch builder decides types; see :mod:`headwater.sync.evolution`).

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["conform"]


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with exactly the fields of ``schema``: missing columns null, types cast.

    .. versionadded:: 0.1
    """
    import pyarrow as pa

    if batch.schema.equals(schema, check_metadata=True):
        return batch
    names = batch.schema.names
    arrays = []
    for field in schema:
        if field.name not in names:
            arrays.append(pa.nulls(batch.num_rows, type=field.type))
            continue
        column = batch.column(field.name)
        arrays.append(column if column.type == field.type else column.cast(field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
