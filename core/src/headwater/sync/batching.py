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
with (already clean) string keys is kept as one list of values per column (a row lacking a
key holds ``None`` there), nested values encoded as JSON a column at a time. A batch is then
built with one ``pa.array`` per column, skipping the per-value ``classify`` and ``convert``,
when every value is of exactly the Python type its column takes unchanged (or an ``int`` in a
``float64`` column, which Arrow converts exactly or refuses); single dict rows join it at the
flush, column-wise. Anything else (conflicting or widening types, decimals, subclasses,
values Arrow rejects) goes through the per-value path, which has the same output by
construction: both paths hand the same values to the same ``pa.array`` calls.

While a batch fills, its column-wise rows are converted to Arrow every couple of thousand rows
(each column of one exact type to that type's array, as the fast path would), so the Python
objects held stay bounded by that, not by the batch. A batch that needs the per-value path
gets the Python values back from those arrays: values of the same types, equal, and built into
the same Arrow values again.

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import types
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from headwater.errors import RowError
from headwater.runtime import ProgressEvent, ProgressKind
from headwater.sources.pipeline import ResumePoint
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

_NUMBER_BYTES = 8
_JSON_SLICE = 1024  # rows of a nested Arrow column encoded as JSON at a time
# The pending batch's column-wise rows are turned into Arrow arrays every this many rows or
# estimated bytes, so only that many are held as Python objects (several times their Arrow
# size) whatever the batch size.
_SEAL_ROWS = 2048
_SEAL_BYTES = 4 * 2**20

# Types that are never dicts, lists or tuples, so a column of only these needs no JSON pass.
_PLAIN: frozenset[type] = frozenset(
    {types.NoneType, bool, int, float, str, bytes, dt.date, dt.datetime}
)
# A column of only these is encoded as JSON text as a whole (see dump_json_texts).
_NESTED: frozenset[type] = frozenset({types.NoneType, dict, list, tuple})
# Exact types whose size is their len() and that are false exactly when empty, so a column
# of only these (and None) is sized without a call per value.
_TEXT: frozenset[type] = frozenset({str, bytes, bytearray, JsonText})
# The exact Python types whose values a column of each type takes as they are: for these,
# ``classify`` gives the column's type and ``convert`` returns the value unchanged, so the
# fast path may hand them straight to ``pa.array``. Exact types, because subclasses (bool is
# an int, datetime a date, JsonText a str) classify differently. Decimals need a per-value
# fit check, so they are left out. The one conversion allowed: an int in a float64 column,
# which ``convert`` makes ``float(value)``; ``pa.array`` gives the same double for every int
# within 2**53 and raises for any other (a fallback), so both paths agree.
_FAST: Mapping[ColumnType, frozenset[type]] = types.MappingProxyType(
    {
        ColumnType.BOOL: frozenset({bool}),
        ColumnType.INT: frozenset({int}),  # out of int64 range: pa.array raises, slow path
        ColumnType.FLOAT: frozenset({float, int}),
        ColumnType.STRING: frozenset({str}),
        ColumnType.BINARY: frozenset({bytes}),
        ColumnType.DATE: frozenset({dt.date}),
        ColumnType.TIMESTAMP: frozenset({dt.datetime}),
        ColumnType.JSON: frozenset({JsonText}),
    }
)

# The type a new column takes from the exact types of its values, where ``resolve`` gives it
# without variants: one type, or ints and floats (int64 widened to float64 in either order).
_NEW: Mapping[frozenset[type], ColumnType] = types.MappingProxyType(
    {
        frozenset({bool}): ColumnType.BOOL,
        frozenset({int}): ColumnType.INT,
        frozenset({float}): ColumnType.FLOAT,
        frozenset({int, float}): ColumnType.FLOAT,
        frozenset({str}): ColumnType.STRING,
        frozenset({bytes}): ColumnType.BINARY,
        frozenset({dt.date}): ColumnType.DATE,
        frozenset({dt.datetime}): ColumnType.TIMESTAMP,
        frozenset({JsonText}): ColumnType.JSON,
    }
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
    """Rows kept column-wise: ``count`` rows, the values of each column (nested values
    already JSON text; a row lacking the column holds ``None``), and the exact types of each
    column's non-null values (of the whole page, so possibly more than this slice holds; that
    only costs a fallback).

    A column's values are a list, or (once ``sealed``, see :func:`_sealed`) an Arrow array
    when all its values have one exact type. The columns named in ``json`` hold their JSON
    text as plain ``str`` (their kind says ``JsonText``); :meth:`python` gives the per-value
    path Python values and :class:`JsonText` back.

    ``keys`` holds the keys of each row when rows differ in their keys, ``None`` when every
    row has every column in the same order: a slice's columns are those its own rows have, in
    their order (which decides where new columns go), and a row's byte estimate counts only
    its own keys. Only a page not sealed yet is sliced or sized.
    """

    count: int
    values: dict[str, Any]  # list[Any] | pa.Array
    kinds: dict[str, frozenset[type]]
    json: frozenset[str] = frozenset()
    keys: list[tuple[str, ...]] | None = None
    sealed: bool = False

    def python(self, name: str) -> list[Any]:
        """The values of column ``name`` as the per-value path takes them."""
        part = self.values[name]
        values = part if isinstance(part, list) else part.to_pylist()
        if name in self.json:
            return [None if v is None else JsonText(v) for v in values]
        return values

    def rows(self, start: int, end: int) -> _Columns:
        """Rows ``start`` to ``end`` (exclusive)."""
        if self.keys is None:
            names: Iterable[str] = self.values
            keys = None
        else:
            keys = self.keys[start:end]
            names = dict.fromkeys(itertools.chain.from_iterable(keys))
        return _Columns(
            end - start,
            {name: self.values[name][start:end] for name in names},
            {name: self.kinds[name] for name in names},
            self.json,
            keys,
        )


def _dump_nested(column: list[Any]) -> list[Any]:
    # The same test as RowBatcher._add, so a page gives the same text either way.
    return [
        dump_json(v) if isinstance(v, dict | list | tuple) and not isinstance(v, JsonText) else v
        for v in column
    ]


@functools.cache
def _is_text(kinds: frozenset[type]) -> bool:
    return any(issubclass(kind, str | bytes | bytearray) for kind in kinds)


def _row_bytes(page: _Columns) -> list[int]:
    """Each row's byte estimate, as ``RowBatcher._add`` computes it: per value its size plus
    8 bytes (a row lacking a column has no value there, so only its present keys count)."""
    texts = [
        list(map(_size, page.values[name])) for name, kinds in page.kinds.items() if _is_text(kinds)
    ]
    # Every value counts 16 (8 plus 8 for a number or None); a text column's value then
    # counts its size instead of 8, and a missing one (None here) size 8, so 8 - 8.
    widths = [len(page.values)] * page.count if page.keys is None else list(map(len, page.keys))
    bases = [2 * _NUMBER_BYTES * width - _NUMBER_BYTES * len(texts) for width in widths]
    if not texts:
        return bases
    return [base + sum(row) for base, row in zip(bases, zip(*texts, strict=True), strict=True)]


def _page_bytes(page: _Columns) -> int:
    """``sum(_row_bytes(page))``, without a list per text column where it can."""
    width = len(page.values) * page.count if page.keys is None else sum(map(len, page.keys))
    total = 2 * _NUMBER_BYTES * width
    for name, kinds in page.kinds.items():
        if not _is_text(kinds):
            continue
        column = page.values[name]
        nulls = column.count(None)
        if kinds <= _TEXT:
            # None and empty values are the ones filter drops; empty ones have no size.
            sizes = sum(map(len, filter(None, column))) + _NUMBER_BYTES * nulls
        else:
            sizes = sum(map(_size, column))
        total += sizes - _NUMBER_BYTES * page.count
    return total


def _sealed(run: list[_Columns]) -> _Columns:
    """Consecutive column-wise rows as one segment whose single-type columns are Arrow.

    A column whose values all have one exact type becomes the array the fast path would build
    of them (``_NEW``); one of mixed types, or one Arrow refuses, stays a list. Columns keep
    their order of first appearance.
    """
    import pyarrow as pa

    names = dict.fromkeys(itertools.chain.from_iterable(segment.values for segment in run))
    values: dict[str, list[Any] | pa.Array] = {}
    kinds: dict[str, frozenset[type]] = {}
    json: set[str] = set()
    for name in names:
        seen = frozenset().union(*(segment.kinds.get(name, ()) for segment in run))
        # Only JSON text: plain str or JsonText alike, all marked JSON by ``json``. Else a
        # segment's plain-str JSON text becomes JsonText, to stay apart from real strings.
        whole_json = seen == {JsonText}
        column: list[Any] = []
        for segment in run:
            if name not in segment.values:
                column.extend(itertools.repeat(None, segment.count))
            elif name in segment.json and not whole_json:
                column.extend(segment.python(name))
            else:
                column.extend(segment.values[name])
        kinds[name] = seen
        if whole_json:
            json.add(name)
        target = _NEW.get(seen) if len(seen) == 1 else None
        if target is not None:
            try:
                values[name] = pa.array(column, type=arrow_type(target))
                continue
            except (OverflowError, ValueError, TypeError, pa.ArrowException):
                pass  # e.g. an int beyond int64: kept as it is for the per-value path
        values[name] = column
    return _Columns(sum(s.count for s in run), values, kinds, frozenset(json), sealed=True)


def _rows_column_wise(rows: list[dict[str, Any]]) -> _Columns:
    """Rows the per-value path has cleaned (``RowBatcher._add``), column-wise."""
    names = dict.fromkeys(itertools.chain.from_iterable(rows))
    values = {name: [row.get(name) for row in rows] for name in names}
    kinds = {}
    for name, column in values.items():
        seen = set(map(type, column))
        seen.discard(types.NoneType)
        kinds[name] = frozenset(seen)
    return _Columns(len(rows), values, kinds)


def _exact_kinds(segments: list[_Columns], name: str) -> frozenset[type]:
    """The exact types of the non-null values of column ``name`` in ``segments``."""
    seen: set[type] = set()
    for segment in segments:
        part = segment.values.get(name)
        if part is None:
            continue
        if isinstance(part, list):
            seen.update(map(type, part))
        elif part.null_count < len(part):
            seen.update(segment.kinds[name])  # an array holds values of its one kind
    seen.discard(types.NoneType)
    return frozenset(seen)


def _built(segments: list[_Columns], name: str, wanted: pa.DataType) -> pa.Array:
    """Column ``name`` of ``segments`` as one array of type ``wanted``: sealed arrays of that
    type as they are, the rest by ``pa.array`` from their values.

    :raises: what ``pa.array`` raises for a value that does not fit ``wanted``.
    """
    import pyarrow as pa

    pieces: list[pa.Array] = []
    values: list[Any] = []
    for segment in segments:
        part = segment.values.get(name)
        if part is None:
            values.extend(itertools.repeat(None, segment.count))
        elif isinstance(part, list):
            values.extend(part)
        elif part.type == wanted:
            if values:
                pieces.append(pa.array(values, type=wanted))
                values = []
            pieces.append(part)
        else:
            values.extend(part.to_pylist())  # e.g. int64 for a float64 column
    if values or not pieces:
        pieces.append(pa.array(values, type=wanted))
    return pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)


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
        self._segments: list[list[dict[str, Any]] | _Columns] = []
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
            size = _page_bytes(columns) if columns is not None else 0
            if (
                self._count + len(page) > self.limits.max_rows
                or self._bytes + size >= self.limits.max_bytes
            ):
                yield self._flush()
        if columns is not None:
            self._segments.append(columns)
            self._count += columns.count
            size = _page_bytes(columns)
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
            size += _size(value) + _NUMBER_BYTES
        if not self._segments or isinstance(self._segments[-1], _Columns):
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

    def _columns(self, page: Sequence[Any]) -> _Columns | None:
        """``page`` column-wise, or ``None`` if it needs the per-value path.

        Only plain dicts whose keys are each already a clean column name: then a row's clean
        dict would hold exactly its own keys, and names that collide after cleaning cannot
        arise. Columns are in order of first appearance, as the per-value path meets them.
        """
        if not page or set(map(type, page)) != {dict}:
            return None
        first = tuple(page[0])
        rows: list[tuple[str, ...]] | None = None
        if all(map(first.__eq__, map(tuple, page))):
            # The same keys in the same order: the values of all rows, one after the other,
            # are the columns interleaved.
            keys = first
            flat = list(itertools.chain.from_iterable(map(dict.values, page)))
            columns = [flat[index :: len(keys)] for index in range(len(keys))]
        else:
            keys = tuple(dict.fromkeys(itertools.chain.from_iterable(page)))
            columns = [[row.get(key) for row in page] for key in keys]
            rows = list(map(tuple, page))
        for key in keys:
            if type(key) is not str or self._name(key) != key:
                return None
        values: dict[str, list[Any]] = {}
        kinds: dict[str, frozenset[type]] = {}
        json: set[str] = set()
        for key, column in zip(keys, columns, strict=True):
            seen = set(map(type, column))
            if not seen <= _PLAIN:
                try:
                    if seen <= _NESTED:
                        column = dump_json_texts(column)
                        seen = {JsonText}
                        json.add(key)
                    else:
                        column = _dump_nested(column)
                        seen = set(map(type, column))
                except TypeError:  # orjson.JSONEncodeError: let the per-value path raise it
                    return None
            seen.discard(types.NoneType)
            values[key] = column
            kinds[key] = frozenset(seen)
        return _Columns(len(page), values, kinds, frozenset(json), rows)

    def _add_columns(self, page: _Columns) -> Iterator[pa.RecordBatch]:
        """Add a column-wise page, flushing at exactly the rows the per-value path would."""
        count = page.count
        total = _page_bytes(page)
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
        before = list(itertools.accumulate(_row_bytes(page), initial=0))  # bytes of rows < i
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
        run: list[_Columns] = []
        while self._segments:
            last = self._segments[-1]
            if not isinstance(last, _Columns) or last.sealed:
                break
            run.append(last)
            self._segments.pop()
        run.reverse()
        self._segments.append(_sealed(run))

    def _fast(self, segments: list[_Columns], count: int) -> pa.RecordBatch | None:
        """The batch of column-wise ``segments``, or ``None`` if any value needs the slow path.

        Only when every value is of the exact type its column takes unchanged, or an int in a
        float64 column (a new column: when its values' types give it a type without variants,
        see ``_NEW``): then ``resolve`` would neither widen nor split a known column, and
        ``convert`` would return each value as it is or as the double Arrow makes of it, so
        building each column directly gives the same batch.
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
            if target is None:
                # A new column takes the type resolve would give it, if that needs no variants.
                target = _NEW.get(frozenset(seen))
            if target is None or not seen <= _FAST.get(target, frozenset()):
                return None
            targets[name] = target
        arrays: dict[str, pa.Array] = {}
        for name, target in list(targets.items()):
            if name not in known and len(kinds[name]) > 1:
                # The kinds are whole pages'; if this batch's part of them holds only ints,
                # resolve makes the new column int64, not float64.
                target = targets[name] = _NEW.get(_exact_kinds(segments, name), target)
            try:
                arrays[name] = _built(segments, name, arrow_type(target))
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

        self.resume, self.resume_exact = self._resume, self._exact
        segments, self._segments = self._segments, []
        count, self._count, self._bytes = self._count, 0, 0
        self._open = (0, 0)
        batch = self._fast(
            [
                segment if isinstance(segment, _Columns) else _rows_column_wise(segment)
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
            if isinstance(segment, _Columns):
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
