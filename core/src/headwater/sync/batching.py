"""Turning what ``items()`` yields into Arrow record batches of a bounded size.

A source's ``items()`` may yield dicts, lists of dicts (a page) and Arrow tables or record
batches, in any mix. Rows are collected until a batch holds :attr:`BatchLimits.max_rows` rows
or about :attr:`BatchLimits.max_bytes` bytes, then built into one record batch fitted to the
table's shape (see :mod:`headwater.sync.evolution`): every known column, in the table's
order, with the table's types. Arrow tables are cut to the same limits. Only the rows of one
batch are held at a time, so memory is bounded by the batch size, not the table size.

The byte size of a pending batch is estimated from its values (text length, 8 bytes a number),
which is what matters for the Arrow arrays built from them.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from headwater.errors import RowError
from headwater.runtime import ProgressEvent, ProgressKind
from headwater.sync.columns import (
    ColumnType,
    JsonText,
    arrow_type,
    classify,
    column_type_of,
    convert,
    dump_json,
    sanitize_name,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from headwater.runtime import ProgressSink
    from headwater.sync.evolution import TableShape

__all__ = ["BatchLimits", "RowBatcher"]

_NUMBER_BYTES = 8


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1")


@attrs.frozen(kw_only=True)
class BatchLimits:
    """When a batch is full: at ``max_rows`` rows or about ``max_bytes`` bytes, whichever first.

    Each batch becomes one commit in incremental and append syncs, so larger batches mean
    fewer commits (and fewer, larger files); smaller ones bound memory more tightly.

    .. versionadded:: 0.1
    """

    max_rows: int = attrs.field(default=10_000, validator=_positive)
    max_bytes: int = attrs.field(default=64 * 2**20, validator=_positive)


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    return _NUMBER_BYTES


class RowBatcher:
    """Builds record batches for one schema sync from a source's items.

    ``shape`` is the table's shape, updated in place as batches bring new columns or wider
    types. Emits a ``page`` progress event for every list or Arrow table a source yields.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        *,
        schema_name: str,
        shape: TableShape,
        limits: BatchLimits,
        progress: ProgressSink,
    ) -> None:
        self.schema_name = schema_name
        self.shape = shape
        self.limits = limits
        self._progress = progress
        self._names: dict[Any, str] = {}
        self._rows: list[dict[str, Any]] = []
        self._bytes = 0

    def batches(self, items: Iterable[Any]) -> Iterator[pa.RecordBatch]:
        """Record batches of every row of ``items``, in order."""
        import pyarrow as pa

        for item in items:
            if isinstance(item, Mapping):
                self._add(item)
            elif isinstance(item, list | tuple):
                self._page(len(item))
                for row in item:
                    if not isinstance(row, Mapping):
                        raise self._not_a_row(row, "a list")
                    self._add(row)
                    if self._full():
                        yield self._flush()
                continue
            elif isinstance(item, pa.Table | pa.RecordBatch):
                self._page(item.num_rows)
                if self._rows:
                    yield self._flush()
                yield from self._arrow(item)
                continue
            else:
                raise self._not_a_row(item, "items()")
            if self._full():
                yield self._flush()
        if self._rows:
            yield self._flush()

    # --- dict rows ---------------------------------------------------------------------------

    def _not_a_row(self, item: object, where: str) -> RowError:
        return RowError(
            f"schema {self.schema_name!r}: {where} yielded a {type(item).__name__}; expected"
            " a dict (a row), a list of dicts (a page), or an Arrow table"
        )

    def _page(self, rows: int) -> None:
        self._progress.emit(
            ProgressEvent(kind=ProgressKind.PAGE, schema=self.schema_name, count=rows)
        )

    def _name(self, key: object) -> str:
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = sanitize_name(str(key))
        return name

    def _add(self, row: Mapping[Any, Any]) -> None:
        clean: dict[str, Any] = {}
        size = 0
        for key, value in row.items():
            if isinstance(value, dict | list | tuple) and not isinstance(value, JsonText):
                value = dump_json(value)
            clean[self._name(key)] = value
            size += _size(value) + _NUMBER_BYTES
        self._rows.append(clean)
        self._bytes += size

    def _full(self) -> bool:
        return len(self._rows) >= self.limits.max_rows or self._bytes >= self.limits.max_bytes

    def _flush(self) -> pa.RecordBatch:
        import pyarrow as pa

        rows, self._rows, self._bytes = self._rows, [], 0
        count = len(rows)
        values: dict[str, list[Any]] = {}
        for index, row in enumerate(rows):
            for name, value in row.items():
                column = values.get(name)
                if column is None:
                    column = values[name] = [None] * count
                column[index] = value
        arrays: dict[str, pa.Array] = {}
        for name, column in values.items():
            types = [classify(value, schema=self.schema_name, column=name) for value in column]
            seen = list(dict.fromkeys(t for t in types if t is not None))
            resolution = self.shape.resolve(name, seen)
            if resolution is None:
                continue  # only nulls, and no such column yet: nothing to store
            target = resolution.target
            main: list[Any] = [None] * count
            spill: dict[ColumnType, list[Any]] = {}
            for index, (value, kind) in enumerate(zip(column, types, strict=True)):
                if kind is None:
                    continue
                if kind in resolution.variants:
                    spill.setdefault(kind, [None] * count)[index] = convert(value, kind, kind)
                else:
                    main[index] = convert(value, kind, target)
            arrays[name] = pa.array(main, type=arrow_type(target))
            for kind, spilled in spill.items():
                arrays[resolution.variants[kind]] = pa.array(spilled, type=arrow_type(kind))
        return self._assemble(arrays, count)

    def _assemble(self, arrays: Mapping[str, pa.Array], count: int) -> pa.RecordBatch:
        import pyarrow as pa

        schema = self.shape.arrow_schema()
        columns = [
            arrays[field.name] if field.name in arrays else pa.nulls(count, type=field.type)
            for field in schema
        ]
        return pa.RecordBatch.from_arrays(columns, schema=schema)

    # --- Arrow tables ------------------------------------------------------------------------

    def _arrow(self, data: pa.Table | pa.RecordBatch) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        if table.num_rows == 0:
            return
        average = max(table.nbytes // table.num_rows, 1)
        step = max(min(self.limits.max_rows, self.limits.max_bytes // average), 1)
        for start in range(0, table.num_rows, step):
            yield self._arrow_batch(table.slice(start, step))

    def _arrow_batch(self, table: pa.Table) -> pa.RecordBatch:
        import pyarrow as pa

        count = table.num_rows
        arrays: dict[str, pa.Array] = {}
        for field, chunked in zip(table.schema, table.columns, strict=True):
            name = self._name(field.name)
            kind = column_type_of(field)
            if kind is None:
                continue
            column = chunked.combine_chunks()
            if pa.types.is_dictionary(column.type):
                column = column.dictionary_decode()
            resolution = self.shape.resolve(name, [kind])
            assert resolution is not None
            if kind in resolution.variants:
                name, target = resolution.variants[kind], kind
            else:
                target = resolution.target
            arrays[name] = self._arrow_column(column, kind, target)
        return self._assemble(arrays, count)

    def _arrow_column(self, column: pa.Array, kind: ColumnType, target: ColumnType) -> pa.Array:
        import pyarrow as pa

        if kind is ColumnType.JSON and pa.types.is_nested(column.type):
            return pa.array(
                [None if v is None else dump_json(v) for v in column.to_pylist()], type=pa.string()
            )
        wanted = arrow_type(target)
        if column.type == wanted:
            return column
        try:
            return column.cast(wanted)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        if target is ColumnType.TIMESTAMP:
            # Nanoseconds do not fit microseconds exactly; the warehouse keeps microseconds.
            return column.cast(wanted, safe=False)
        if target is ColumnType.STRING:
            # Times of day, durations, intervals: their text.
            return pa.array(
                [None if v is None else str(v) for v in column.to_pylist()], type=pa.string()
            )
        raise RowError(
            f"schema {self.schema_name!r}: an Arrow column of type {column.type} holds values"
            f" that do not fit {target.value}; cast it in the connector"
        )
