"""Incremental request parameters: asking the API only for rows past the watermark.

An endpoint that can filter (``?since=2026-01-01T00:00:00Z``, ``?created[gte]=1767225600``)
declares :class:`IncrementalParams`: the parameter names, how to write a value (ISO-8601 in a
chosen format, epoch seconds, or any function), a lookback that re-reads a margin below the
watermark (for rows committed late), and whether to clamp to now (a watermark in the future,
from a clock skew, must not hide new rows). :func:`incremental_params` turns those and the
host's :class:`~headwater.SourceInputs` into the query parameters of the first request; the
reader keeps them on every page.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs

from headwater.sources import IncrementalFieldType, SortMode, SourceInputs

__all__ = [
    "Bounds",
    "EpochMilliseconds",
    "EpochSeconds",
    "IncrementalParams",
    "Iso8601",
    "ValueFormat",
    "comparable",
    "incremental_bounds",
    "incremental_params",
]

ValueFormat = Callable[[Any], str]
"""Writes a bound (a datetime, date or number) as the API expects it in a query string.

.. versionadded:: 0.1
"""


@attrs.frozen(kw_only=True)
class Iso8601:
    """ISO-8601 text. ``fmt`` is a :meth:`~datetime.datetime.strftime` format; the default
    writes UTC with a ``Z`` and whole seconds (``2026-01-01T00:00:00Z``), which every API
    accepts. Naive datetimes are taken as UTC; dates are written as dates.

    .. versionadded:: 0.1
    """

    fmt: str = "%Y-%m-%dT%H:%M:%SZ"

    def __call__(self, value: Any) -> str:
        if isinstance(value, dt.datetime):
            return _utc(value).strftime(self.fmt)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, dt.UTC).strftime(self.fmt)
        return str(value)


@attrs.frozen(kw_only=True)
class EpochSeconds:
    """Whole seconds since 1970-01-01 UTC (Stripe's ``created[gte]``).

    .. versionadded:: 0.1
    """

    def __call__(self, value: Any) -> str:
        return str(int(_timestamp(value)))


@attrs.frozen(kw_only=True)
class EpochMilliseconds:
    """Milliseconds since 1970-01-01 UTC.

    .. versionadded:: 0.1
    """

    def __call__(self, value: Any) -> str:
        return str(int(_timestamp(value) * 1000))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _timestamp(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return _utc(value).timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    return float(value)


def _lookback(value: dt.timedelta | float) -> dt.timedelta | float:
    if isinstance(value, dt.timedelta):
        return value
    return float(value)


@attrs.frozen(kw_only=True)
class IncrementalParams:
    """How an endpoint filters by its incremental field.

    ``start_param`` receives the lower bound: the watermark of an incremental sync; on the
    first incremental read (no watermark yet) the configured start date; else ``floor``; no
    bound, no parameter. A full refresh reads every row: the start date does not bound it,
    unless ``start_date_bounds_every_read`` says the endpoint documents otherwise.
    ``end_param`` (optional) receives the upper bound: now, or for a ``desc`` endpoint
    resuming an unfinished read, the earliest value it reached. ``lookback`` (a timedelta, or
    a number for integer fields) is taken off the lower bound; ``clamp_to_now`` keeps bounds
    from lying in the future.

    ``in_request=False`` is for an API that sorts by the field but cannot filter by it
    (GitHub's pull requests): the bounds are not sent, the reader applies them to the rows
    instead (:func:`incremental_bounds`), and a newest-first (``desc``) read ends after the
    first page that reaches below the lower bound, since every later page is older still.
    The parameter names then only name the bounds.

    .. versionadded:: 0.1
    """

    start_param: str
    end_param: str | None = None
    format: ValueFormat | None = None
    """How a bound is written. ``None``: by the field's type: numbers (``integer``,
    ``numeric``) as they are, ``objectid`` as text, dates, datetimes and timestamps as
    :class:`Iso8601`.

    .. versionchanged:: 0.2
       The default was :class:`Iso8601` for every field, which sent an integer watermark as
       the datetime of that many seconds.
    """
    lookback: dt.timedelta | float = attrs.field(default=0.0, converter=_lookback)
    clamp_to_now: bool = True
    in_request: bool = True
    """.. versionadded:: 0.1"""
    start_date_bounds_every_read: bool = False
    """The configured start date bounds every read of this endpoint, full refreshes included,
    not only the first incremental one: for an endpoint whose rows are a window from the start
    date by design (Sentry's project events). Document it where the endpoint is documented.

    .. versionadded:: 0.2
    """
    floor: Any = None
    """The lower bound of a read that has no other (a full refresh, or a first incremental
    read without a start date), sent as is: for an API that takes a window only as a pair
    (Sentry's ``start`` with ``end``), the earliest value it can hold, such as the Unix epoch.
    ``None``: such a read sends no lower bound.

    .. versionadded:: 0.2
    """


@attrs.frozen(kw_only=True)
class Bounds:
    """The bounds of one incremental read, as values of the field (before formatting).

    ``lower`` is inclusive (the watermark less the lookback, the start date of a first
    incremental read, or the endpoint's floor); ``upper``
    is now, or the earliest value an unfinished newest-first read reached, and ``resumed``
    says which. ``None``: no such bound.

    .. versionadded:: 0.1
    """

    lower: Any = None
    upper: Any = None
    resumed: bool = False


def incremental_bounds(
    spec: IncrementalParams | None,
    inputs: SourceInputs | None,
    *,
    now: dt.datetime,
    sort_mode: SortMode = SortMode.ASC,
) -> Bounds:
    """The bounds of one read, from ``spec`` and the host's ``inputs``.

    The start date bounds an incremental read that has no watermark yet; a full refresh
    (``should_use_incremental_field`` false) reads every row, so it is not bounded by the
    start date unless ``spec.start_date_bounds_every_read``.

    .. versionchanged:: 0.2
       A full refresh is no longer bounded by the start date; ``spec.floor`` bounds a read
       that has no other lower bound.

    .. versionadded:: 0.1
    """
    if spec is None or inputs is None:
        return Bounds()
    sort_mode = SortMode(sort_mode)
    kind = inputs.incremental_field_type
    incremental = inputs.should_use_incremental_field
    lower: Any = None
    if incremental and inputs.db_incremental_field_last_value is not None:
        lower = _parse(inputs.db_incremental_field_last_value, kind)
    elif inputs.start_date is not None and (incremental or spec.start_date_bounds_every_read):
        lower = inputs.start_date
    if lower is not None:
        lower = _minus(lower, spec.lookback)
        if spec.clamp_to_now:
            lower = _clamp(lower, now, kind)
    elif spec.floor is not None:
        lower = spec.floor
    upper: Any = None
    resumed = False
    if spec.end_param is not None or not spec.in_request:
        upper = now
        earliest = inputs.db_incremental_field_earliest_value
        if sort_mode is SortMode.DESC and inputs.should_use_incremental_field and earliest:
            # The earlier read got down to `earliest`; continue below it. Lower bounds are
            # inclusive and MERGE absorbs the overlap, so the bound itself is read again.
            upper = _parse(earliest, kind)
            resumed = True
            if spec.clamp_to_now:
                upper = _clamp(upper, now, kind)
    return Bounds(lower=lower, upper=upper, resumed=resumed)


def incremental_params(
    spec: IncrementalParams | None,
    inputs: SourceInputs | None,
    *,
    now: dt.datetime,
    sort_mode: SortMode = SortMode.ASC,
) -> dict[str, str]:
    """The query parameters that bound one read, from ``spec`` and the host's ``inputs``
    (none when ``spec.in_request`` is false).

    .. versionadded:: 0.1
    """
    if spec is None or inputs is None or not spec.in_request:
        return {}
    bounds = incremental_bounds(spec, inputs, now=now, sort_mode=sort_mode)
    write = spec.format or _by_type(inputs.incremental_field_type)
    params: dict[str, str] = {}
    if bounds.lower is not None:
        params[spec.start_param] = write(bounds.lower)
    if spec.end_param is not None:
        params[spec.end_param] = write(bounds.upper)
    return params


_AS_WRITTEN = frozenset(
    {IncrementalFieldType.INTEGER, IncrementalFieldType.NUMERIC, IncrementalFieldType.OBJECTID}
)


def _by_type(kind: IncrementalFieldType | None) -> ValueFormat:
    """The format of a bound whose endpoint names none: numbers and ids as they are."""
    return str if kind in _AS_WRITTEN else _ISO


_ISO = Iso8601()


def comparable(value: Any, kind: IncrementalFieldType | str | None) -> Any:
    """A row's value of the incremental field, made comparable with a :class:`Bounds` value:
    ISO text parsed for datetime and date fields (naive datetimes as UTC); ``None`` when it
    cannot be read as the field's type.

    .. versionadded:: 0.1
    """
    if value is None:
        return None
    kind = IncrementalFieldType(kind) if kind is not None else None
    if kind is IncrementalFieldType.DATETIME:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
        return _utc(value) if isinstance(value, dt.datetime) else None
    if kind is IncrementalFieldType.DATE:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value[:10])
            except ValueError:
                return None
        return value if isinstance(value, dt.date) else None
    if isinstance(value, bool):
        return None
    return value if isinstance(value, int | float) else None


def _parse(value: Any, kind: IncrementalFieldType | None) -> Any:
    # The host stores watermarks as they came from rows; datetimes may arrive as ISO text.
    if not isinstance(value, str):
        return value
    if kind is IncrementalFieldType.DATETIME:
        return dt.datetime.fromisoformat(value)
    if kind is IncrementalFieldType.DATE:
        return dt.date.fromisoformat(value[:10])
    return value


def _minus(value: Any, lookback: dt.timedelta | float) -> Any:
    if isinstance(lookback, dt.timedelta):
        if not lookback:
            return value
        if isinstance(value, dt.date):
            return value - lookback
        if isinstance(value, int | float):
            # An epoch-seconds field with a timedelta lookback.
            return type(value)(value - lookback.total_seconds())
        return value
    if not lookback:
        return value
    if isinstance(value, int | float):
        return type(value)(value - lookback)
    if isinstance(value, dt.datetime | dt.date):
        return value - dt.timedelta(seconds=lookback)
    return value


def _clamp(value: Any, now: dt.datetime, kind: IncrementalFieldType | None) -> Any:
    if isinstance(value, dt.datetime):
        return min(_utc(value), now)
    if isinstance(value, dt.date):
        return min(value, now.date())
    # Numbers are clamped only as timestamps: an integer watermark may be an id.
    if isinstance(value, int | float) and kind is IncrementalFieldType.TIMESTAMP:
        return min(value, type(value)(now.timestamp()))
    return value
