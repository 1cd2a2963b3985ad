"""Watermarks: how far a schema's incremental reads have got, and when that may move.

The position of a schema is what the next sync asks the source for:

- ``watermark`` is the inclusive lower bound of the next read (the seed's
  ``db_incremental_field_last_value``), with ``watermark_keys``, the keys of the rows written
  *at* that value;
- ``earliest`` is how far down an unfinished read of a ``desc`` endpoint (newest first) got
  (the seed's ``db_incremental_field_earliest_value``), with the keys written at it; and
  ``pending`` is the highest value that unfinished read wrote, which becomes the watermark
  once the read completes.

When it moves:

- **asc** endpoints advance the watermark with every batch: once a batch is committed every
  row up to its highest value is in the table.
- **desc** endpoints, and schemas whose rows interleave across fan-out parents, only know that
  at the end; they record ``earliest``/``pending`` with each batch and move the watermark when
  the read completes. A crashed read resumes below ``earliest``.

Lower bounds are inclusive, so a sync re-reads the rows at the watermark. MERGE absorbs them;
**append** drops any row that was already written: below the watermark, at it with a known
key, or (when resuming an unfinished ``desc`` read) above ``earliest``. A row's key is its
primary key, or a fingerprint of the whole row when the schema has none.

Values are compared as their incremental-field type says: datetimes (from datetimes, dates,
ISO strings or Unix times), dates, integers, numbers or ObjectId strings. A row whose value
cannot be read that way is written but does not move the watermark.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from headwater.sources.schema import IncrementalFieldType
from headwater.warehouse.partitioning import parse_datetime

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "Advance",
    "ColumnValues",
    "Position",
    "Watermarks",
    "column_values",
    "comparable",
    "decode_value",
    "encode_value",
]

_DATETIMES = (IncrementalFieldType.DATETIME, IncrementalFieldType.TIMESTAMP)


def comparable(value: Any, field_type: IncrementalFieldType) -> Any:
    """``value`` as the Python type watermarks of ``field_type`` compare in, or ``None``.

    .. versionadded:: 0.1
    """
    if value is None or isinstance(value, bool):
        return None
    if field_type in _DATETIMES:
        return parse_datetime(value)
    if field_type is IncrementalFieldType.DATE:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        moment = parse_datetime(value) if isinstance(value, str) else None
        return moment.date() if moment else None
    if field_type is IncrementalFieldType.OBJECTID:
        return str(value)
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    if field_type is IncrementalFieldType.INTEGER:
        return int(number) if number == number.to_integral_value() else None
    result = float(number)
    return result if math.isfinite(result) else None


def encode_value(value: Any, field_type: IncrementalFieldType) -> Any:
    """A watermark as JSON: ISO text for datetimes and dates, else the number or string.

    .. versionadded:: 0.1
    """
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def decode_value(raw: Any, field_type: IncrementalFieldType) -> Any:
    """The inverse of :func:`encode_value`: what a source receives as its lower bound.

    .. versionadded:: 0.1
    """
    if raw is None:
        return None
    if field_type in _DATETIMES:
        return parse_datetime(raw)
    if field_type is IncrementalFieldType.DATE:
        return dt.date.fromisoformat(raw)
    if field_type is IncrementalFieldType.INTEGER:
        return int(raw)
    if field_type is IncrementalFieldType.NUMERIC:
        return float(raw)
    return str(raw)


class Advance(enum.StrEnum):
    """When a schema's watermark moves.

    .. versionadded:: 0.1
    """

    PER_BATCH = "per_batch"
    AT_COMPLETION = "at_completion"


@attrs.frozen(kw_only=True)
class Position:
    """How far a schema's reads have got (see the module docs).

    .. versionadded:: 0.1
    """

    watermark: Any = None
    watermark_keys: frozenset[str] = frozenset()
    earliest: Any = None
    earliest_keys: frozenset[str] = frozenset()
    pending: Any = None
    pending_keys: frozenset[str] = frozenset()

    @property
    def unfinished(self) -> bool:
        """Whether a read that advances only at completion was interrupted."""
        return self.earliest is not None or self.pending is not None


KeyOf = Callable[[int], str]


class ColumnValues(Sequence[Any]):
    """A batch's comparable incremental values kept as one Arrow array (timestamps in UTC,
    dates, integers), so the extremes a commit records and the rows at them are found
    column-wise instead of through a Python object per row. Indexing and iteration give what
    :func:`comparable` gives for the same values.

    .. versionadded:: 0.2
    """

    def __init__(self, array: pa.Array) -> None:
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [_as_python(value) for value in self.array[index].to_pylist()]
        return _as_python(self.array[index].as_py())

    def __iter__(self) -> Iterator[Any]:
        return (_as_python(value) for value in self.array.to_pylist())

    def extreme(self, *, up: bool) -> tuple[Any, list[int]]:
        """The highest (``up``) or lowest value, and the indices of the rows holding it."""
        import pyarrow.compute as pc

        if self.array.null_count == len(self.array):
            return None, []
        best = pc.max(self.array) if up else pc.min(self.array)
        at = pc.indices_nonzero(pc.fill_null(pc.equal(self.array, best), False))
        return _as_python(best.as_py()), at.to_pylist()

    def filter(self, mask: pa.Array) -> ColumnValues:
        return ColumnValues(self.array.filter(mask))


def _as_python(value: Any) -> Any:
    # Arrow gives UTC datetimes with a zoneinfo zone; comparable() gives datetime.UTC.
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def column_values(column: pa.Array, field_type: IncrementalFieldType) -> ColumnValues | None:
    """``column``'s comparable values as a :class:`ColumnValues`, when Arrow holds them in a
    type that maps one to one (a timestamp for a datetime field, naive ones as UTC; a date for
    a date field; an integer for an integer field); ``None`` for the row-by-row path.

    .. versionadded:: 0.2
    """
    import pyarrow as pa

    kind = column.type
    if field_type in _DATETIMES and pa.types.is_timestamp(kind):
        return ColumnValues(column.cast(pa.timestamp(kind.unit, tz="UTC")))
    if field_type is IncrementalFieldType.DATE and pa.types.is_date32(kind):
        return ColumnValues(column)
    if field_type is IncrementalFieldType.INTEGER and pa.types.is_integer(kind):
        return ColumnValues(column)
    return None


def _extreme(values: Sequence[Any], key_of: KeyOf, *, up: bool) -> tuple[Any, frozenset[str]]:
    best: Any = None
    if isinstance(values, ColumnValues):
        best, at = values.extreme(up=up)
        return best, frozenset(key_of(i) for i in at)
    for value in values:
        if value is not None and (best is None or (value > best if up else value < best)):
            best = value
    if best is None:
        return None, frozenset()
    return best, frozenset(key_of(i) for i, value in enumerate(values) if value == best)


def _toward(
    current: Any, keys: frozenset[str], value: Any, new_keys: frozenset[str], *, up: bool
) -> tuple[Any, frozenset[str]]:
    if value is None:
        return current, keys
    if current is None or (value > current if up else value < current):
        return value, new_keys
    if value == current:
        return current, keys | new_keys
    return current, keys


class Watermarks:
    """The position of one schema through one sync.

    ``start`` is the position the sync began from. :meth:`after` computes the position a
    batch's commit will carry; :meth:`accept` makes it current once committed.
    ``filter_written`` (append) makes :meth:`admit` drop rows already written.
    ``track_earliest`` records ``earliest`` for reads that advance at completion; only a
    ``desc`` read, which goes down in order, can resume from it (rows that interleave across
    fan-out parents cannot).

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        *,
        start: Position,
        advance: Advance,
        filter_written: bool,
        track_earliest: bool = True,
    ) -> None:
        self.start = start
        self.track_earliest = track_earliest
        self.position = start
        self.advance = advance
        self.filter_written = filter_written
        self._moved_earliest = False
        self._batch_moves_earliest = False

    def admit(self, values: Sequence[Any], key_of: KeyOf) -> list[bool]:
        """For each row (by its comparable value): whether to write it."""
        if not self.filter_written or (
            self.position.watermark is None and self.start.earliest is None
        ):
            return [True] * len(values)  # nothing written yet that a row could repeat
        if self.start.earliest is None:
            if isinstance(values, ColumnValues):
                lowest, _ = values.extreme(up=False)
            else:
                lowest = min((value for value in values if value is not None), default=None)
            if lowest is None or lowest > self.position.watermark:
                return [True] * len(values)  # every row is above what was written
        return [not self._written(value, index, key_of) for index, value in enumerate(values)]

    def _written(self, value: Any, index: int, key_of: KeyOf) -> bool:
        if value is None:
            return False  # cannot tell: write it
        mark = self.position.watermark
        if mark is not None and (
            value < mark or (value == mark and key_of(index) in self.position.watermark_keys)
        ):
            return True
        # Resuming an unfinished desc read: it wrote everything from ``earliest`` up.
        top = self.start.earliest
        return top is not None and (
            value > top or (value == top and key_of(index) in self.start.earliest_keys)
        )

    def after(self, values: Sequence[Any], key_of: KeyOf) -> Position:
        """The position once a batch whose rows have ``values`` is committed."""
        high, high_keys = _extreme(values, key_of, up=True)
        now = self.position
        if self.advance is Advance.PER_BATCH:
            mark, keys = _toward(now.watermark, now.watermark_keys, high, high_keys, up=True)
            return attrs.evolve(now, watermark=mark, watermark_keys=keys)
        low, low_keys = _extreme(values, key_of, up=False)
        if not self.track_earliest:
            low, low_keys = None, frozenset()
        self._batch_moves_earliest = low is not None
        pending, pending_keys = _toward(now.pending, now.pending_keys, high, high_keys, up=True)
        if low is None:
            earliest, earliest_keys = now.earliest, now.earliest_keys
        elif self._moved_earliest or (now.earliest is not None and low == now.earliest):
            earliest, earliest_keys = _toward(
                now.earliest, now.earliest_keys, low, low_keys, up=False
            )
        else:
            # The first batch of a run restarts ``earliest``: an unfinished read that is read
            # again from the top has only written down to here in this run.
            earliest, earliest_keys = low, low_keys
        return attrs.evolve(
            now,
            earliest=earliest,
            earliest_keys=earliest_keys,
            pending=pending,
            pending_keys=pending_keys,
        )

    def accept(self, position: Position) -> None:
        """Make ``position`` current (its batch was committed)."""
        if self._batch_moves_earliest:
            self._moved_earliest = True
        self.position = position

    def complete(self) -> Position:
        """The position once the read has completed: ``pending`` becomes the watermark."""
        now = self.position
        mark, keys = _toward(
            now.watermark, now.watermark_keys, now.pending, now.pending_keys, up=True
        )
        return Position(watermark=mark, watermark_keys=keys)
