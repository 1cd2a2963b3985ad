"""What the host hands a source for one schema sync, and what the source hands back.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from headwater.sources.schema import IncrementalFieldType

__all__ = [
    "PartitionFormat",
    "PartitionMode",
    "ResumePoint",
    "SortMode",
    "SourceInputs",
    "SourceResponse",
]


class PartitionMode(enum.StrEnum):
    """How rows are bucketed into Delta partitions.

    .. versionadded:: 0.1
    """

    MD5 = "md5"
    NUMERICAL = "numerical"
    DATETIME = "datetime"


class PartitionFormat(enum.StrEnum):
    """The bucket width of ``datetime`` partitioning.

    .. versionadded:: 0.1
    """

    MONTH = "month"
    WEEK = "week"
    DAY = "day"
    HOUR = "hour"


class SortMode(enum.StrEnum):
    """The order in which an endpoint returns rows of its incremental field.

    .. versionadded:: 0.1
    """

    ASC = "asc"
    DESC = "desc"


def _column_names(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    # A lone string is one column name, not a sequence of one-letter names.
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def _resume_token(value: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"ResumePoint.state must be a mapping, not {type(value).__name__}")
    return dict(value)


@attrs.frozen
class ResumePoint:
    """A mark in what ``items()`` yields: everything yielded before it is covered by ``state``.

    A resumable source yields one after each page: ``state`` is what it needs to continue
    the read *after* everything it yielded so far (a next URL, a cursor, a page number, a
    fan-out position), as JSON-ready values and without credentials. The host commits the
    state of the last point a batch reaches in the same Delta commit as the batch's rows; a
    sync that finds an unfinished read hands it back as :attr:`SourceInputs.resume_state`,
    with the same incremental bounds the interrupted read had. The REST machinery yields
    these by itself; a plain :class:`~headwater.Source` opts in by yielding them.

    A source that finds a resume state the API no longer accepts (an expired cursor) raises
    :class:`~headwater.errors.ResumeExpiredError`; the host then reads again from the
    watermark. A point iterates as an empty page, so code that flattens the pages of
    ``items()`` (``[row for page in items() for row in page]``) needs no change.

    .. versionadded:: 0.2
    """

    state: Mapping[str, Any] = attrs.field(converter=_resume_token)

    # A point holds no rows: code that flattens pages (``for row in page``) passes over it.
    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0


@attrs.frozen(kw_only=True)
class SourceInputs:
    """Everything a source needs to read one schema, decided by the host.

    ``db_incremental_field_last_value`` is the inclusive lower bound of an incremental read
    (``None`` on the first sync). ``db_incremental_field_earliest_value`` is the oldest value
    a previous, unfinished read of a ``desc`` endpoint reached. ``resume_state`` is the
    :class:`ResumePoint` state of an interrupted read, to continue after; the bounds are then
    those the interrupted read had, so a cursor or page number means the same rows.

    .. versionadded:: 0.1
    """

    schema_name: str
    should_use_incremental_field: bool = False
    incremental_field: str | None = None
    incremental_field_type: IncrementalFieldType | None = attrs.field(
        default=None, converter=attrs.converters.optional(IncrementalFieldType)
    )
    db_incremental_field_last_value: Any = None
    db_incremental_field_earliest_value: Any = None
    start_date: dt.datetime | None = None
    backfill_window: dt.timedelta | None = None
    resume_state: Mapping[str, Any] | None = None

    def __attrs_post_init__(self) -> None:
        if self.should_use_incremental_field and not (
            self.incremental_field and self.incremental_field_type
        ):
            raise ValueError(
                f"schema {self.schema_name!r}: an incremental read needs"
                " incremental_field and incremental_field_type"
            )


@attrs.frozen(kw_only=True)
class SourceResponse:
    """The rows of one schema and how to store them.

    ``items`` is a zero-argument callable returning a plain iterable whose elements are
    dicts, lists of dicts, or Arrow tables, and :class:`ResumePoint` marks for a resumable
    read; the host calls it once per sync, so nothing is read before the writer is ready.

    ``sort_mode`` is the order of the incremental field; ``interleaved`` says the rows come
    from several streams in that order at once.

    Partitioning: ``datetime`` needs ``partition_keys`` (one stable creation datetime) and
    ``partition_format``; ``md5`` needs ``partition_count``; ``numerical`` needs
    ``partition_size``.

    .. versionadded:: 0.1
    """

    name: str
    items: Callable[[], Iterable[Any]]
    primary_keys: tuple[str, ...] | None = attrs.field(default=None, converter=_column_names)
    partition_mode: PartitionMode | None = attrs.field(
        default=None, converter=attrs.converters.optional(PartitionMode)
    )
    partition_keys: tuple[str, ...] | None = attrs.field(default=None, converter=_column_names)
    partition_format: PartitionFormat | None = attrs.field(
        default=None, converter=attrs.converters.optional(PartitionFormat)
    )
    partition_count: int | None = None
    partition_size: int | None = None
    sort_mode: SortMode = attrs.field(default=SortMode.ASC, converter=SortMode)
    rows_to_sync: int | None = None
    interleaved: bool = False
    """Rows come from several ordered streams at once (fan-out: each parent's children are in
    order, the parents' are not): the watermark then moves only when the read completes.

    .. versionadded:: 0.2
    """

    def __attrs_post_init__(self) -> None:
        if not callable(self.items):
            raise TypeError(
                f"SourceResponse {self.name!r}: items must be a zero-argument callable"
                " returning an iterable, not the iterable itself"
            )
        if self.primary_keys is not None and not self.primary_keys:
            raise ValueError(f"SourceResponse {self.name!r}: primary_keys is empty; use None")
        mode = self.partition_mode
        if mode is None:
            return
        if not self.partition_keys:
            raise ValueError(
                f"SourceResponse {self.name!r}: {mode} partitioning needs partition_keys"
            )
        if mode is PartitionMode.DATETIME and self.partition_format is None:
            raise ValueError(
                f"SourceResponse {self.name!r}: datetime partitioning needs partition_format"
            )
        if mode is PartitionMode.MD5 and not (self.partition_count and self.partition_count > 0):
            raise ValueError(
                f"SourceResponse {self.name!r}: md5 partitioning needs a positive partition_count"
            )
        if mode is PartitionMode.NUMERICAL and not (
            self.partition_size and self.partition_size > 0
        ):
            raise ValueError(
                f"SourceResponse {self.name!r}: numerical partitioning needs"
                " a positive partition_size"
            )
