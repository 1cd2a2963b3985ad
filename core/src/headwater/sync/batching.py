"""Turning what ``items()`` yields into Arrow record batches of a bounded size.

A source's ``items()`` may yield dicts, lists of dicts (a page) and Arrow tables or record
batches, in any mix. Rows are collected until a batch holds :attr:`BatchLimits.max_rows` rows
or about :attr:`BatchLimits.max_bytes` bytes, then built into one record batch fitted to the
table's shape (see :mod:`headwater.sync.evolution`): every known column, in the table's
order, with the table's types. Arrow tables are cut to the same limits. Only the rows of one
batch are held at a time, so memory is bounded by the batch size, not the table size.

The byte size of a pending batch is estimated from its values (text length, 8 bytes a number),
which is what matters for the Arrow arrays built from them.

Pages of dicts take the column-wise fast path of :mod:`headwater.sync.columnar` when they
can; single dict rows join it at the flush, column-wise. What the fast path cannot build
exactly goes through the per-value path here (``classify``, ``resolve``, ``convert`` value by
value), with the same output by construction. While a batch fills, its column-wise rows are
sealed into Arrow arrays every couple of thousand rows, so the Python objects held stay
bounded by that, not by the batch.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from headwater.errors import RowError
from headwater.runtime import ProgressEvent, ProgressKind
from headwater.sources.pipeline import ResumePoint
from headwater.sync.columnar import ColumnarRows, fast_arrays, value_bytes
from headwater.sync.columns import (
    ColumnType,
    JsonText,
    arrow_type,
    classify,
    column_type_of,
    convert,
    dump_json,
    dump_json_texts,
    sanitize_name,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from headwater.runtime import ProgressSink
    from headwater.sync.evolution import TableShape

__all__ = ["BatchLimits", "RowBatcher"]

_JSON_SLICE = 1024  # rows of a nested Arrow column encoded as JSON at a time
# The pending batch's column-wise rows are turned into Arrow arrays every this many rows or
# estimated bytes, so only that many are held as Python objects (several times their Arrow
# size) whatever the batch size.
_SEAL_ROWS = 2048
_SEAL_BYTES = 4 * 2**20


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


class RowBatcher:
    """Builds record batches for one schema sync from a source's items.

    ``shape`` is the table's shape, updated in place as batches bring new columns or wider
    types. Emits a ``page`` progress event for every list or Arrow table a source yields.
    ``aligned`` ends batches only at resume points from the start, for a read known to yield
    them (a resumed one); otherwise the first point switches to that.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        *,
        schema_name: str,
        shape: TableShape,
        limits: BatchLimits,
        progress: ProgressSink,
        aligned: bool = False,
    ) -> None:
        self.schema_name = schema_name
        self.shape = shape
        self.limits = limits
        self._progress = progress
        self._names: dict[Any, str] = {}
        # The pending batch: runs of rows from the per-value path and column-wise pages.
        self._segments: list[list[dict[str, Any]] | ColumnarRows] = []
        self._count = 0
        self._bytes = 0
        # Rows and bytes of the column-wise segments at the end not sealed yet.
        self._open = (0, 0)
        # Resume points: the last one seen, whether no row came after it, whether the source
        # yields them at all, and Arrow batches held until the point that covers them.
        self._resume: dict[str, Any] | None = None
        self._exact = False
        self._aligned = aligned
        self._ready: list[pa.RecordBatch] = []
        self.resume: dict[str, Any] | None = None
        """The resume state that covers the rows of every batch yielded so far."""
        self.resume_exact = False
        """Whether the last batch yielded ends exactly at :attr:`resume`."""
        self.finished = False
        """Whether the source has yielded everything: the batches from then on end the read."""

    def batches(self, items: Iterable[Any]) -> Iterator[pa.RecordBatch]:
        """Record batches of every row of ``items``, in order.

        After each batch is yielded, :attr:`resume` is the state of the last
        :class:`~headwater.ResumePoint` whose rows the batches so far hold,
        :attr:`resume_exact` says whether this batch ends exactly there, and
        :attr:`finished` whether the source has nothing more (this batch ends the read).
        """
        import pyarrow as pa

        for item in items:
            if isinstance(item, ResumePoint):
                yield from self._mark(item)
                continue
            if self._aligned:
                yield from self._add_aligned(item)
                continue
            if isinstance(item, Mapping):
                self._add(item)
            elif isinstance(item, list | tuple):
                self._page(len(item))
                columns = self._columns(item)
                if columns is not None:
                    yield from self._add_columns(columns)
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
        # Every row is read: the batches from here hold the end of the read.
        self.finished = True
        if self._count:
            yield self._flush()
        yield from self._release()

    # --- resume points -----------------------------------------------------------------------

    # Once a source yields a ResumePoint, batches end only at resume points (or at the end of
    # the read), so the state committed with a batch covers exactly its rows: a resumed read
    # repeats nothing. A page is then never split across batches; a batch may exceed the
    # limits by what the source yields between two points (one page, for the REST reader).

    def _mark(self, point: ResumePoint) -> Iterator[pa.RecordBatch]:
        self._aligned = True
        if self._ready:
            yield from self._release(point.state)
        self._resume = dict(point.state)
        self._exact = True
        if self._count and self._full():
            yield self._flush()

    def _add_aligned(self, item: Any) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        if isinstance(item, pa.Table | pa.RecordBatch):
            self._page(item.num_rows)
            if self._count:
                yield self._flush()
            # Held until the next point, which covers them (the table is in memory already).
            self._ready.extend(self._arrow(item))
            self._exact = False
            return
        if isinstance(item, Mapping):
            page: Sequence[Any] = [item]
        elif isinstance(item, list | tuple):
            self._page(len(item))
            page = item
        else:
            raise self._not_a_row(item, "items()")
        if self._ready:
            yield from self._release()  # Arrow batches that no point after them covers
        columns = self._columns(page)
        if self._count and self._exact:
            # At a resume point: end the batch here if this page would take it past a limit.
            size = columns.size() if columns is not None else 0
            if (
                self._count + len(page) > self.limits.max_rows
                or self._bytes + size >= self.limits.max_bytes
            ):
                yield self._flush()
        if columns is not None:
            self._segments.append(columns)
            self._count += columns.count
            size = columns.size()
            self._bytes += size
            self._seal_if_due(columns.count, size)
        else:
            for row in page:
                if not isinstance(row, Mapping):
                    raise self._not_a_row(row, "a list")
                self._add(row)
        if page:
            self._exact = False

    def _release(self, state: Mapping[str, Any] | None = None) -> Iterator[pa.RecordBatch]:
        """The held Arrow batches; the last one is covered by ``state`` (if given)."""
        ready, self._ready = self._ready, []
        for index, batch in enumerate(ready):
            if state is not None and index == len(ready) - 1:
                self.resume, self.resume_exact = dict(state), True
            else:
                self.resume, self.resume_exact = self._resume, False
            yield batch

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
            size += value_bytes(value)
        if not self._segments or isinstance(self._segments[-1], ColumnarRows):
            self._segments.append([])
            self._open = (0, 0)  # the column-wise segments before it stay as they are
        last = self._segments[-1]
        assert isinstance(last, list)
        last.append(clean)
        self._count += 1
        self._bytes += size

    def _full(self) -> bool:
        return self._count >= self.limits.max_rows or self._bytes >= self.limits.max_bytes

    # --- pages, column-wise ------------------------------------------------------------------

    def _columns(self, page: Sequence[Any]) -> ColumnarRows | None:
        """``page`` column-wise, or ``None`` if it needs the per-value path."""
        return ColumnarRows.of_page(page, self._name)

    def _add_columns(self, page: ColumnarRows) -> Iterator[pa.RecordBatch]:
        """Add a column-wise page, flushing at exactly the rows the per-value path would."""
        count = page.count
        total = page.size()
        if (
            self._count + count <= self.limits.max_rows
            and self._bytes + total < self.limits.max_bytes
        ):
            # No row before the last reaches a limit: the page joins the batch whole.
            self._segments.append(page)
            self._count += count
            self._bytes += total
            if self._full():
                yield self._flush()
            else:
                self._seal_if_due(count, total)
            return
        before = list(itertools.accumulate(page.row_sizes(), initial=0))  # bytes of rows < i
        start = 0
        while start < count:
            end = min(count, start + self.limits.max_rows - self._count)
            # The first row at which the byte estimate reaches the limit ends the batch.
            wanted = self.limits.max_bytes - self._bytes + before[start]
            end = min(end, bisect.bisect_left(before, wanted, lo=start + 1))
            self._segments.append(page if start == 0 and end == count else page.rows(start, end))
            self._count += end - start
            self._bytes += before[end] - before[start]
            if self._full():
                yield self._flush()
            else:
                self._seal_if_due(end - start, before[end] - before[start])
            start = end

    def _seal_if_due(self, rows: int, size: int) -> None:
        """Seal the column-wise segments at the end once they hold enough rows or bytes."""
        rows, size = self._open[0] + rows, self._open[1] + size
        if rows < _SEAL_ROWS and size < _SEAL_BYTES:
            self._open = (rows, size)
            return
        self._open = (0, 0)
        run: list[ColumnarRows] = []
        while self._segments:
            last = self._segments[-1]
            if not isinstance(last, ColumnarRows) or last.sealed:
                break
            run.append(last)
            self._segments.pop()
        run.reverse()
        self._segments.append(ColumnarRows.seal(run))

    def _fast(self, segments: list[ColumnarRows], count: int) -> pa.RecordBatch | None:
        """The batch of column-wise ``segments``, or ``None`` if any value needs the slow path."""
        arrays = fast_arrays(segments, count, self.shape)
        return None if arrays is None else self._assemble(arrays, count)

    def _flush(self) -> pa.RecordBatch:
        import pyarrow as pa

        self.resume, self.resume_exact = self._resume, self._exact
        segments, self._segments = self._segments, []
        count, self._count, self._bytes = self._count, 0, 0
        self._open = (0, 0)
        batch = self._fast(
            [
                segment if isinstance(segment, ColumnarRows) else ColumnarRows.of_rows(segment)
                for segment in segments
            ],
            count,
        )
        if batch is not None:
            return batch
        # Each column's values in row order, columns in order of first appearance, as the
        # per-value path has always seen them.
        values: dict[str, list[Any]] = {}
        offset = 0
        for segment in segments:
            if isinstance(segment, ColumnarRows):
                for name in segment.values:
                    part = segment.python(name)
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
            # One chunk (a slice of the table, most often) is used as it is: combining copies.
            column = chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()
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
            # A slice at a time: only one slice's values exist as Python objects at once.
            parts = [
                pa.array(dump_json_texts(column.slice(start, _JSON_SLICE).to_pylist()), pa.string())
                for start in range(0, len(column), _JSON_SLICE)
            ]
            if len(parts) == 1:
                return parts[0]
            return pa.concat_arrays(parts) if parts else pa.array([], pa.string())
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
