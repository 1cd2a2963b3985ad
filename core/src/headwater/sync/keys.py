"""Row identity within a batch: primary-key checks, de-duplication and row fingerprints.

An incremental sync MERGEs on primary keys, so every row of a batch must carry them
(:func:`check_primary_keys`) and each key may appear once (:func:`deduplicate`, the last
occurrence winning). Append mode remembers the rows it has seen at the watermark's boundary
value, by key: :func:`row_keys` gives each row's primary key as text, or, for a schema
without primary keys, a fingerprint of the row's values.

.. versionadded:: 0.2
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from headwater.errors import PrimaryKeyError
from headwater.warehouse.partitioning import PARTITION_COLUMN

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["check_primary_keys", "deduplicate", "row_keys"]


def check_primary_keys(batch: pa.RecordBatch, keys: Sequence[str], *, schema: str) -> None:
    """Raise unless every row of ``batch`` has a non-null value for each of ``keys``.

    ``schema`` names the schema in the error.

    :raises PrimaryKeyError: naming the key and how many rows lack it.

    .. versionadded:: 0.2
    """
    for key in keys:
        if key not in batch.schema.names:
            raise PrimaryKeyError(
                f"schema {schema!r}: {batch.num_rows} row(s) lack the primary key"
                f" {key!r}, missing or null (the connector declares primary keys"
                f" {', '.join(keys)}); every row of an incremental schema needs its keys"
            )
        nulls = batch.column(key).null_count
        if nulls:
            raise PrimaryKeyError(
                f"schema {schema!r}: {nulls} row(s) have a null primary key {key!r};"
                " every row of an incremental schema needs its keys"
            )


def _float_identity(value: float) -> object:
    # What tells two floats apart as a key, the way Arrow's hash grouping does.
    if math.isnan(value):
        return "nan"
    return (value, math.copysign(1.0, value))


def deduplicate(batch: pa.RecordBatch, keys: Sequence[str]) -> pa.RecordBatch:
    """``batch`` with one row per value of ``keys``, the last occurrence winning.

    Keys are compared as Arrow groups them (every NaN alike, 0.0 and -0.0 apart), in
    Python: Arrow's group_by would load Acero and pyarrow.dataset with every filesystem,
    about 30 MB more resident memory for a sync, to deduplicate one batch.

    .. versionadded:: 0.2
    """
    import pyarrow as pa

    columns = []
    for key in keys:
        column = batch.column(key)
        values = column.to_pylist()
        if pa.types.is_floating(column.type):
            values = [_float_identity(value) for value in values]
        columns.append(values)
    last = {key: index for index, key in enumerate(zip(*columns, strict=True))}
    if len(last) == batch.num_rows:
        return batch
    return batch.take(pa.array(sorted(last.values()), type=pa.int64()))


def row_keys(batch: pa.RecordBatch, keys: Sequence[str] | None) -> Callable[[int], str]:
    """A function from a row index of ``batch`` to its key as text.

    With ``keys``, the row's primary-key values as JSON; without, ``"row:"`` and an MD5 of
    the row's non-null values (the partition column left out), so a column added later
    (null in older rows) does not change the fingerprint of a row. Columns are read from
    Arrow only when a key is first asked for.

    .. versionadded:: 0.2
    """
    cache: dict[str, list[Any]] = {}

    def column(name: str) -> list[Any]:
        if name not in cache:
            cache[name] = (
                batch.column(name).to_pylist()
                if name in batch.schema.names
                else [None] * batch.num_rows
            )
        return cache[name]

    def key_of(index: int) -> str:
        if keys:
            return orjson.dumps([column(k)[index] for k in keys], default=str).decode()
        row = {n: column(n)[index] for n in batch.schema.names if n != PARTITION_COLUMN}
        present = {n: v for n, v in row.items() if v is not None}
        text = orjson.dumps(present, default=str, option=orjson.OPT_SORT_KEYS)
        return "row:" + hashlib.md5(text, usedforsecurity=False).hexdigest()

    return key_of
