"""Incremental-field values: does a value have the declared type, and how do two compare.

A schema declares each incremental field's type (``datetime``, ``integer``...) and the host
compares watermarks by it. These are the suite's own, deliberately strict readings of those
types, written from the contract rather than borrowed from the sync engine, so that a value the
engine would only coerce (an integer sent as text) is reported as the mismatch it is.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from headwater.sources import IncrementalFieldType

__all__ = ["comparable", "type_problem"]

_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def type_problem(value: Any, kind: IncrementalFieldType) -> str | None:
    """Why ``value`` is not of incremental type ``kind`` (``None``: it is).

    .. versionadded:: 0.1
    """
    shown = type(value).__name__
    if kind is IncrementalFieldType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"a {shown}, not an integer"
        return None
    if kind is IncrementalFieldType.NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return f"a {shown}, not a number"
        return None
    if kind is IncrementalFieldType.DATE:
        if isinstance(value, dt.datetime) or (
            isinstance(value, str) and not _DATE.match(value) and _parse_datetime(value)
        ):
            return "a date and time, not a date (YYYY-MM-DD)"
        if isinstance(value, dt.date | str):
            return None if _parse_date(value) is not None else "not a date (YYYY-MM-DD)"
        return f"a {shown}, not a date"
    if kind is IncrementalFieldType.OBJECTID:
        if not (isinstance(value, str) and _OBJECT_ID.match(value)):
            return f"a {shown} that is not a 24-digit hexadecimal ObjectId"
        return None
    if kind is IncrementalFieldType.TIMESTAMP and (
        isinstance(value, int | float) and not isinstance(value, bool)
    ):
        return None  # Unix time
    # datetime, or timestamp as a datetime
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, str):
        if _DATE.match(value):
            return "a date without a time, not a datetime"
        return None if _parse_datetime(value) is not None else "not an ISO-8601 datetime"
    return f"a {shown}, not a datetime"


def comparable(value: Any, kind: IncrementalFieldType) -> Any:
    """``value`` as something that orders the way the API's field does; ``None`` if unreadable.

    Datetimes become aware UTC datetimes (naive ones are read as UTC), Unix times included;
    dates become dates; numbers become :class:`~decimal.Decimal`; ObjectIds compare as
    lower-case text (their leading bytes are the creation time).

    .. versionadded:: 0.1
    """
    if value is None or type_problem(value, kind) is not None:
        return None
    if kind is IncrementalFieldType.INTEGER or kind is IncrementalFieldType.NUMERIC:
        return Decimal(str(value))
    if kind is IncrementalFieldType.DATE:
        return _parse_date(value)
    if kind is IncrementalFieldType.OBJECTID:
        return str(value).lower()
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return _parse_datetime(value)


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parse_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
