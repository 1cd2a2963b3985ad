"""Turning what ``items()`` yields into Arrow record batches of a bounded size.

A source's ``items()`` may yield dicts, lists of dicts (a page) and Arrow tables or record
batches, in any mix. Rows are collected until a batch holds :attr:`BatchLimits.max_rows` rows
or about :attr:`BatchLimits.max_bytes` bytes, then built into one record batch fitted to the
table's shape (see :mod:`headwater.sync.evolution`): every known column, in the table's
order, with the table's types. Arrow tables are cut to the same limits. Only the rows of one
batch are held at a time, so memory is bounded by the batch size, not the table size.

The byte size of a pending batch is estimated from its values (text length, 8 bytes a number),
which is what matters for the Arrow arrays built from them.

Pages of dicts take a column-wise fast path when they can: a page whose rows are plain dicts
with the same (already clean) keys is kept as one list of values per column, and a batch made
only of such pages whose values are all of exactly the Python type the table's column already
has is built with one ``pa.array`` per column, skipping the per-value ``classify`` and
``convert``. Anything else (new columns, conflicting or widening types, decimals, subclasses,
values Arrow rejects) goes through the per-value path, which has the same output by
construction: both paths hand the same values to the same ``pa.array`` calls.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
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

# Types that are never dicts, lists or tuples, so a column of only these needs no JSON pass.
_PLAIN: frozenset[type] = frozenset(
    {types.NoneType, bool, int, float, str, bytes, dt.date, dt.datetime}
)
# The exact Python types whose values a column of each type takes as they are: for these,
# ``classify`` gives the column's type and ``convert`` returns the value unchanged, so the
# fast path may hand them straight to ``pa.array``. Exact types, because subclasses (bool is
# an int, datetime a date, JsonText a str) classify differently. Decimals need a per-value
# fit check, and ints in a float column are widened value by value, so both are left out.
_FAST: Mapping[ColumnType, frozenset[type]] = types.MappingProxyType(
    {
        ColumnType.BOOL: frozenset({bool}),
        ColumnType.INT: frozenset({int}),  # out of int64 range: pa.array raises, slow path
        ColumnType.FLOAT: frozenset({float}),
        ColumnType.STRING: frozenset({str}),
        ColumnType.BINARY: frozenset({bytes}),
        ColumnType.DATE: frozenset({dt.date}),
        ColumnType.TIMESTAMP: frozenset({dt.datetime}),
        ColumnType.JSON: frozenset({JsonText}),
    }
)

# The type a new column takes from values of one exact Python type (each is in one set).
_NEW: Mapping[type, ColumnType] = types.MappingProxyType(
    {kind: column for column, kinds in _FAST.items() for kind in kinds}
)


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


@attrs.frozen
class _Columns:
    """Rows of a page kept column-wise: ``count`` rows, the values of each column (nested
    values already JSON text), and the exact types of each column's non-null values (of the
    whole page, so possibly more than this slice holds; that only costs a fallback)."""

    count: int
    values: dict[str, list[Any]]
    kinds: dict[str, frozenset[type]]


def _dump_nested(column: list[Any]) -> list[Any]:
    # The same test as RowBatcher._add, so a page gives the same text either way.
    return [
        dump_json(v) if isinstance(v, dict | list | tuple) and not isinstance(v, JsonText) else v
        for v in column
    ]


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
        # The pending batch: runs of rows from the per-value path and column-wise pages.
        self._segments: list[list[dict[str, Any]] | _Columns] = []
        self._count = 0
        self._bytes = 0

    def batches(self, items: Iterable[Any]) -> Iterator[pa.RecordBatch]:
        """Record batches of every row of ``items``, in order."""
        import pyarrow as pa

        for item in items:
            if isinstance(item, Mapping):
                self._add(item)
            elif isinstance(item, list | tuple):
                self._page(len(item))
                columns = self._columns(item)
                if columns is not None:
                    yield from self._add_columns(columns, len(item))
                    continue
                for row in item:
                    if not isinstance(row, Mapping):
                        raise self._not_a_row(row, "a list")
                    self._add(row)
                    if self._full():
                        yield self._flush()
                continue
            elif isinstance(item, pa.Table | pa.RecordBatch):
                self._page(item.num_rows)
                if self._count:
                    yield self._flush()
                yield from self._arrow(item)
                continue
            else:
                raise self._not_a_row(item, "items()")
            if self._full():
                yield self._flush()
        if self._count:
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
        if not self._segments or isinstance(self._segments[-1], _Columns):
            self._segments.append([])
        last = self._segments[-1]
        assert isinstance(last, list)
        last.append(clean)
        self._count += 1
        self._bytes += size

    def _full(self) -> bool:
        return self._count >= self.limits.max_rows or self._bytes >= self.limits.max_bytes

    # --- pages, column-wise ------------------------------------------------------------------

    def _columns(self, page: Sequence[Any]) -> _Columns | None:
        """``page`` column-wise, or ``None`` if it needs the per-value path.

        Only plain dicts that all have the same keys, each already a clean column name: then
        a row's clean dict would hold exactly these columns, and missing keys or names that
        collide after cleaning cannot arise.
        """
        if not page or type(page[0]) is not dict:
            return None
        # The same keys in the same order: a batch cut from any row of the page then meets
        # the columns in the order the per-value path would (it matters for new columns).
        keys = tuple(page[0])
        for row in page:
            if type(row) is not dict or tuple(row) != keys:
                return None
        for key in keys:
            if type(key) is not str or self._name(key) != key:
                return None
        values: dict[str, list[Any]] = {}
        kinds: dict[str, frozenset[type]] = {}
        for key in keys:
            column = [row[key] for row in page]
            seen = set(map(type, column))
            if not seen <= _PLAIN:
                try:
                    column = _dump_nested(column)
                except TypeError:  # orjson.JSONEncodeError: let the per-value path raise it
                    return None
                seen = set(map(type, column))
            seen.discard(types.NoneType)
            values[key] = column
            kinds[key] = frozenset(seen)
        return _Columns(len(page), values, kinds)

    def _add_columns(self, page: _Columns, count: int) -> Iterator[pa.RecordBatch]:
        """Add a column-wise page, flushing at exactly the rows the per-value path would."""
        # Each row's estimate is what _add computes: per value its size plus 8 bytes.
        texts = [
            [_size(v) for v in page.values[name]]
            for name, kinds in page.kinds.items()
            if any(issubclass(kind, str | bytes | bytearray) for kind in kinds)
        ]
        base = 2 * _NUMBER_BYTES * len(page.values) - _NUMBER_BYTES * len(texts)
        sizes = [base + sum(row) for row in zip(*texts, strict=True)] if texts else [base] * count
        before = list(itertools.accumulate(sizes, initial=0))  # before[i]: bytes of rows < i
        start = 0
        while start < count:
            end = min(count, start + self.limits.max_rows - self._count)
            # The first row at which the byte estimate reaches the limit ends the batch.
            wanted = self.limits.max_bytes - self._bytes + before[start]
            end = min(end, bisect.bisect_left(before, wanted, lo=start + 1))
            if start == 0 and end == count:
                self._segments.append(page)
            else:
                self._segments.append(
                    _Columns(
                        end - start,
                        {name: column[start:end] for name, column in page.values.items()},
                        page.kinds,
                    )
                )
            self._count += end - start
            self._bytes += before[end] - before[start]
            if self._full():
                yield self._flush()
            start = end

    def _fast(self, segments: list[_Columns], count: int) -> pa.RecordBatch | None:
        """The batch of column-wise ``segments``, or ``None`` if any value needs the slow path.

        Only when every value is of the exact type its column takes unchanged (a new column:
        when all its values have one such type): then ``resolve`` would neither widen nor split
        a column, and ``convert`` would return each value as it is, so building each column
        directly gives the same batch.
        """
        import pyarrow as pa

        known = self.shape.columns
        # Columns in order of first appearance, as the per-value path resolves them.
        kinds: dict[str, set[type]] = {}
        for segment in segments:
            for name, present in segment.kinds.items():
                kinds.setdefault(name, set()).update(present)
        targets: dict[str, ColumnType] = {}
        for name, seen in kinds.items():
            if not seen:
                continue  # only nulls: a known column is filled with nulls, a new one waits
            target = known.get(name)
            if target is None and len(seen) == 1:
                # A new column of one type takes that type, with no variants, as in resolve.
                target = _NEW.get(next(iter(seen)))
            if target is None or not seen <= _FAST.get(target, frozenset()):
                return None
            targets[name] = target
        arrays: dict[str, pa.Array] = {}
        for name, target in targets.items():
            if len(segments) == 1:
                column = segments[0].values[name]
            else:
                column = []
                for segment in segments:
                    part = segment.values.get(name)
                    column.extend([None] * segment.count if part is None else part)
            try:
                arrays[name] = pa.array(column, type=arrow_type(target))
            except (OverflowError, ValueError, TypeError, pa.ArrowException):
                return None  # e.g. an int beyond int64: the slow path sends it to a variant
        # Only now that every column is built may the shape grow, so a fallback above leaves
        # it untouched; new columns are appended in the order the per-value path would.
        for name, target in targets.items():
            if name in known:
                continue
            if arrays[name].null_count == count:
                # The kinds are the whole page's; this slice of it only holds nulls.
                del arrays[name]
            else:
                self.shape.resolve(name, [target])
        return self._assemble(arrays, count)

    def _flush(self) -> pa.RecordBatch:
        import pyarrow as pa

        segments, self._segments = self._segments, []
        count, self._count, self._bytes = self._count, 0, 0
        fast = [segment for segment in segments if isinstance(segment, _Columns)]
        if len(fast) == len(segments):
            batch = self._fast(fast, count)
            if batch is not None:
                return batch
        # Each column's values in row order, columns in order of first appearance, as the
        # per-value path has always seen them.
        values: dict[str, list[Any]] = {}
        offset = 0
        for segment in segments:
            if isinstance(segment, _Columns):
                for name, part in segment.values.items():
                    column = values.get(name)
                    if column is None:
                        column = values[name] = [None] * count
                    column[offset : offset + segment.count] = part
                offset += segment.count
                continue
            for index, row in enumerate(segment, offset):
                for name, value in row.items():
                    column = values.get(name)
                    if column is None:
                        column = values[name] = [None] * count
                    column[index] = value
            offset += len(segment)
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
