"""Partitioning a table: the scheme a ``SourceResponse`` asks for, and each row's bucket.

Every partitioned table has one string partition column, :data:`PARTITION_COLUMN`, computed
from the row. Three schemes:

- ``datetime``: the month (``2024-05``), ISO week (``2024-W19``), day (``2024-05-13``) or hour
  (``2024-05-13T10``) of one stable datetime field, in UTC;
- ``md5``: ``int(md5(key values)) % partition_count``, a bucket number from ``0``;
- ``numerical``: ``value // partition_size * partition_size``, the lower bound of the range.

A value that is missing or cannot be read (a datetime field holding ``"soon"``, a numerical
field holding ``"n/a"``) goes to the bucket :data:`UNPARSEABLE`, so one odd row never fails a
sync. The partition key must be immutable per row: a row never moves between buckets, which
is what lets MERGE compare buckets to skip files.

The scheme is fixed when a table is first written and recorded in its state; a connector
that later asks for another scheme is reported, never mixed in (see :mod:`headwater.sync`).

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from headwater.sources.pipeline import PartitionFormat, PartitionMode

if TYPE_CHECKING:
    import pyarrow as pa

    from headwater.sources.pipeline import SourceResponse

__all__ = [
    "PARTITION_COLUMN",
    "PartitionScheme",
    "UNPARSEABLE",
    "parse_datetime",
    "partition_bucket",
    "partition_column",
]

PARTITION_COLUMN = "_headwater_partition"
"""The string column holding each row's bucket in a partitioned table."""

UNPARSEABLE = "__unparseable__"
"""The bucket of rows whose partition key is missing or cannot be read."""

# Integers above this are Unix times in milliseconds: 1e11 seconds is the year 5138.
_MILLISECONDS_FROM = 10**11
_KEY_SEPARATOR = "\x1f"  # the ASCII unit separator: never part of an id


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


@attrs.frozen(kw_only=True)
class PartitionScheme:
    """How a table is partitioned; stored in the table's state so later syncs reuse it.

    .. versionadded:: 0.1
    """

    mode: PartitionMode = attrs.field(converter=PartitionMode)
    keys: tuple[str, ...] = attrs.field(converter=_names)
    format: PartitionFormat | None = attrs.field(
        default=None, converter=attrs.converters.optional(PartitionFormat)
    )
    count: int | None = None
    size: int | None = None

    @classmethod
    def from_response(cls, response: SourceResponse) -> PartitionScheme | None:
        """The scheme a source asks for, or ``None`` for an unpartitioned table."""
        if response.partition_mode is None or not response.partition_keys:
            return None
        mode = response.partition_mode
        return cls(
            mode=mode,
            keys=response.partition_keys,
            format=response.partition_format if mode is PartitionMode.DATETIME else None,
            count=response.partition_count if mode is PartitionMode.MD5 else None,
            size=response.partition_size if mode is PartitionMode.NUMERICAL else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "keys": list(self.keys),
            "format": self.format.value if self.format else None,
            "count": self.count,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartitionScheme:
        return cls(
            mode=data["mode"],
            keys=data["keys"],
            format=data.get("format"),
            count=data.get("count"),
            size=data.get("size"),
        )

    def describe(self) -> str:
        """One line for messages: ``datetime month of created_at``."""
        keys = ", ".join(self.keys)
        if self.mode is PartitionMode.DATETIME:
            return f"datetime {self.format} of {keys}"
        if self.mode is PartitionMode.MD5:
            return f"md5 of {keys} into {self.count} buckets"
        return f"numerical ranges of {self.size} over {keys}"


def parse_datetime(value: object) -> dt.datetime | None:
    """Read ``value`` as an aware UTC datetime, or ``None`` when it is not one.

    Datetimes without a zone are taken as UTC; a date is its midnight; a string must be ISO
    8601; a number is a Unix time in seconds, or milliseconds from 10^11 on.

    .. versionadded:: 0.1
    """
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    if isinstance(value, str):
        try:
            return parse_datetime(dt.datetime.fromisoformat(value.strip()))
        except ValueError:
            return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        try:
            seconds = float(value)
            if not math.isfinite(seconds):
                return None
            if abs(seconds) >= _MILLISECONDS_FROM:
                seconds /= 1000
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _datetime_bucket(value: object, fmt: PartitionFormat) -> str:
    moment = parse_datetime(value)
    if moment is None:
        return UNPARSEABLE
    if fmt is PartitionFormat.MONTH:
        return f"{moment.year:04d}-{moment.month:02d}"
    if fmt is PartitionFormat.WEEK:
        year, week, _ = moment.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if fmt is PartitionFormat.DAY:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%dT%H")


def _md5_bucket(values: Sequence[object], count: int) -> str:
    text = _KEY_SEPARATOR.join("" if v is None else str(v) for v in values)
    digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
    return str(int(digest, 16) % count)


def _numerical_bucket(value: object, size: int) -> str:
    if value is None or isinstance(value, bool):
        return UNPARSEABLE
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        return UNPARSEABLE
    if not number.is_finite():
        return UNPARSEABLE
    return str(int((number / size).to_integral_value(rounding=ROUND_FLOOR)) * size)


def partition_bucket(scheme: PartitionScheme, values: Sequence[object]) -> str:
    """The bucket of one row, given the values of ``scheme.keys`` in order.

    .. versionadded:: 0.1
    """
    if scheme.mode is PartitionMode.DATETIME:
        assert scheme.format is not None
        return _datetime_bucket(values[0], scheme.format)
    if scheme.mode is PartitionMode.MD5:
        assert scheme.count is not None
        return _md5_bucket(values, scheme.count)
    assert scheme.size is not None
    return _numerical_bucket(values[0], scheme.size)


def partition_column(scheme: PartitionScheme, batch: pa.RecordBatch) -> pa.Array:
    """The :data:`PARTITION_COLUMN` values of every row of ``batch``.

    A key column the batch lacks counts as missing in every row.

    .. versionadded:: 0.1
    """
    import pyarrow as pa

    names = set(batch.schema.names)
    if scheme.mode is PartitionMode.DATETIME and scheme.keys[0] in names:
        assert scheme.format is not None
        fast = _datetime_buckets(batch.column(scheme.keys[0]), scheme.format)
        if fast is not None:
            return fast
    columns = [
        batch.column(key).to_pylist() if key in names else [None] * batch.num_rows
        for key in scheme.keys
    ]
    buckets = [partition_bucket(scheme, row) for row in zip(*columns, strict=True)]
    return pa.array(buckets, type=pa.string())


_STRFTIME = {
    PartitionFormat.MONTH: "%Y-%m",
    PartitionFormat.DAY: "%Y-%m-%d",
    PartitionFormat.HOUR: "%Y-%m-%dT%H",
}


def _datetime_buckets(column: pa.Array, fmt: PartitionFormat) -> pa.Array | None:
    """The datetime buckets of a whole column in Arrow compute (a few hundred nanoseconds a
    row, where the row-by-row path takes microseconds), or ``None`` where that path must
    decide: numbers (seconds or milliseconds per value), text that is not all ISO 8601 with a
    zone (naive and zoned text mixed, dates alone, stray spaces), and years outside
    1000-9999. The buckets are the row-by-row path's, value for value (tested)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    try:
        if pa.types.is_timestamp(kind):
            # A naive timestamp is taken as UTC: the cast only labels the same values.
            moments = column.cast(pa.timestamp(kind.unit, tz="UTC"))
        elif pa.types.is_date(kind):
            moments = column.cast(pa.timestamp("s")).cast(pa.timestamp("s", tz="UTC"))
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            moments = column.cast(pa.timestamp("us", tz="UTC"))
        else:
            return None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # UTC wall time without the zone: the same values, and no zone lookups per value.
    wall = moments.cast(pa.timestamp(moments.type.unit))
    # Each row's bucket start, then each distinct start formatted once: a batch holds a few
    # buckets, so formatting is per bucket, not per row.
    starts = pc.dictionary_encode(pc.floor_temporal(wall, unit=fmt.value))
    distinct = starts.dictionary
    low, high = pc.min_max(pc.year(distinct)).values()
    if low.is_valid and (low.as_py() < 1000 or high.as_py() > 9999):
        return None
    if fmt is PartitionFormat.WEEK:
        year = pc.cast(pc.iso_year(distinct), pa.string())
        week = pc.utf8_lpad(pc.cast(pc.iso_week(distinct), pa.string()), 2, "0")
        labels = pc.binary_join_element_wise(year, week, "-W")
    else:
        labels = pc.strftime(distinct, format=_STRFTIME[fmt])
    return pc.fill_null(pc.take(labels, starts.indices), UNPARSEABLE).cast(pa.string())
