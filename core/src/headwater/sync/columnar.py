"""The column-wise fast path of batching: pages of dicts kept and built a column at a time.

A page whose rows are plain dicts with (already clean) string keys is kept as one list of
values per column (a row lacking a key holds ``None`` there), nested values encoded as JSON a
column at a time (:meth:`ColumnarRows.of_page`). A batch is then built with one ``pa.array``
per column (:func:`fast_arrays`), skipping the per-value ``classify`` and ``convert``, when
every value is of exactly the Python type its column takes unchanged (or an ``int`` in a
``float64`` column, which Arrow converts exactly or refuses). Anything else (conflicting or
widening types, decimals, subclasses, values Arrow rejects) is left to the batcher's per-value
path (:mod:`headwater.sync.batching`), which has the same output by construction: both paths
hand the same values to the same ``pa.array`` calls.

Pending column-wise rows may be sealed (:meth:`ColumnarRows.seal`): each column of one exact
type becomes the Arrow array the fast path would build, so the Python objects held stay
bounded. :meth:`ColumnarRows.python` gives the per-value path the Python values back from
those arrays: values of the same types, equal, and built into the same Arrow values again.

The byte size of pending rows is estimated from their values (:func:`value_bytes`), the same
way for rows kept column-wise and row by row.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from headwater.sync.columns import (
    ColumnType,
    JsonText,
    arrow_type,
    dump_json,
    dump_json_texts,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from headwater.sync.evolution import TableShape

__all__ = ["ColumnarRows", "fast_arrays", "value_bytes"]

_NUMBER_BYTES = 8

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


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | bytearray):
        return len(value)
    return _NUMBER_BYTES


def value_bytes(value: Any) -> int:
    """One value's share of a batch's estimated size: its length for text and bytes, 8 bytes
    for anything else, plus 8 for its place in the row.

    .. versionadded:: 0.2
    """
    return _size(value) + _NUMBER_BYTES


@attrs.frozen
class ColumnarRows:
    """Rows kept column-wise, as the batcher holds pages of dicts: ``count`` rows, the values
    of each column (nested values already JSON text; a row lacking the column holds ``None``),
    and the exact types of each column's non-null values (of the whole page, so possibly more
    than this slice holds; that only costs a fallback).

    A column's values are a list, or (once ``sealed``, see :meth:`seal`) an Arrow array
    when all its values have one exact type. The columns named in ``json`` hold their JSON
    text as plain ``str`` (their kind says ``JsonText``); :meth:`python` gives the per-value
    path Python values and :class:`JsonText` back.

    ``keys`` holds the keys of each row when rows differ in their keys, ``None`` when every
    row has every column in the same order: a slice's columns are those its own rows have, in
    their order (which decides where new columns go), and a row's byte estimate counts only
    its own keys. Only a page not sealed yet is sliced or sized.

    .. versionadded:: 0.2
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

    def rows(self, start: int, end: int) -> ColumnarRows:
        """Rows ``start`` to ``end`` (exclusive)."""
        if self.keys is None:
            names: Iterable[str] = self.values
            keys = None
        else:
            keys = self.keys[start:end]
            names = dict.fromkeys(itertools.chain.from_iterable(keys))
        return ColumnarRows(
            end - start,
            {name: self.values[name][start:end] for name in names},
            {name: self.kinds[name] for name in names},
            self.json,
            keys,
        )

    @classmethod
    def of_page(cls, page: Sequence[Any], name_of: Callable[[str], str]) -> ColumnarRows | None:
        """``page`` column-wise, or ``None`` if it needs the per-value path.

        ``name_of`` gives a key's column name. Only plain dicts whose keys are each already a
        clean column name (``name_of(key) == key``): then a row's clean dict would hold exactly
        its own keys, and names that collide after cleaning cannot arise. Columns are in order
        of first appearance, as the per-value path meets them.
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
            if type(key) is not str or name_of(key) != key:
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
        return cls(len(page), values, kinds, frozenset(json), rows)

    @classmethod
    def of_rows(cls, rows: list[dict[str, Any]]) -> ColumnarRows:
        """Rows the per-value path has cleaned (names sanitized, nested values JSON text)."""
        names = dict.fromkeys(itertools.chain.from_iterable(rows))
        values = {name: [row.get(name) for row in rows] for name in names}
        kinds = {}
        for name, column in values.items():
            seen = set(map(type, column))
            seen.discard(types.NoneType)
            kinds[name] = frozenset(seen)
        return cls(len(rows), values, kinds)

    @classmethod
    def seal(cls, run: list[ColumnarRows]) -> ColumnarRows:
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
        return cls(sum(s.count for s in run), values, kinds, frozenset(json), sealed=True)

    def row_sizes(self) -> list[int]:
        """Each row's byte estimate, as :func:`value_bytes` gives it per value (a row lacking a
        column has no value there, so only its present keys count)."""
        texts = [
            list(map(_size, self.values[name]))
            for name, kinds in self.kinds.items()
            if _is_text(kinds)
        ]
        # Every value counts 16 (8 plus 8 for a number or None); a text column's value then
        # counts its size instead of 8, and a missing one (None here) size 8, so 8 - 8.
        widths = [len(self.values)] * self.count if self.keys is None else list(map(len, self.keys))
        bases = [2 * _NUMBER_BYTES * width - _NUMBER_BYTES * len(texts) for width in widths]
        if not texts:
            return bases
        return [base + sum(row) for base, row in zip(bases, zip(*texts, strict=True), strict=True)]

    def size(self) -> int:
        """``sum(self.row_sizes())``, without a list per text column where it can."""
        width = len(self.values) * self.count if self.keys is None else sum(map(len, self.keys))
        total = 2 * _NUMBER_BYTES * width
        for name, kinds in self.kinds.items():
            if not _is_text(kinds):
                continue
            column = self.values[name]
            nulls = column.count(None)
            if kinds <= _TEXT:
                # None and empty values are the ones filter drops; empty ones have no size.
                sizes = sum(map(len, filter(None, column))) + _NUMBER_BYTES * nulls
            else:
                sizes = sum(map(_size, column))
            total += sizes - _NUMBER_BYTES * self.count
        return total


def _dump_nested(column: list[Any]) -> list[Any]:
    # The same test as RowBatcher._add, so a page gives the same text either way.
    return [
        dump_json(v) if isinstance(v, dict | list | tuple) and not isinstance(v, JsonText) else v
        for v in column
    ]


@functools.cache
def _is_text(kinds: frozenset[type]) -> bool:
    return any(issubclass(kind, str | bytes | bytearray) for kind in kinds)


def _exact_kinds(segments: list[ColumnarRows], name: str) -> frozenset[type]:
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


def _built(segments: list[ColumnarRows], name: str, wanted: pa.DataType) -> pa.Array:
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


def fast_arrays(
    segments: list[ColumnarRows], count: int, shape: TableShape
) -> dict[str, pa.Array] | None:
    """The columns of a batch of ``segments``, or ``None`` if any value needs the per-value path.

    Only when every value is of the exact type its column takes unchanged, or an int in a
    float64 column (a new column: when its values' types give it a type without variants,
    see ``_NEW``): then ``resolve`` would neither widen nor split a known column, and
    ``convert`` would return each value as it is or as the double Arrow makes of it, so
    building each column directly gives the same batch. New columns are added to ``shape``,
    and only when every column could be built.

    .. versionadded:: 0.2
    """
    import pyarrow as pa

    known = shape.columns
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
            shape.resolve(name, [target])
    return arrays
