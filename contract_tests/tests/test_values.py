"""Incremental values: what each declared type accepts, and how values order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from headwater.sources import IncrementalFieldType as Kind
from headwater_contract.values import comparable, type_problem

UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "kind", "problem"),
    [
        (5, Kind.INTEGER, None),
        ("5", Kind.INTEGER, "a str, not an integer"),
        (True, Kind.INTEGER, "a bool, not an integer"),
        (1.5, Kind.NUMERIC, None),
        (Decimal("2.5"), Kind.NUMERIC, None),
        ("2025-01-01T10:00:00Z", Kind.DATETIME, None),
        (dt.datetime(2025, 1, 1, tzinfo=UTC), Kind.DATETIME, None),
        ("2025-01-01", Kind.DATETIME, "a date without a time, not a datetime"),
        ("yesterday", Kind.DATETIME, "not an ISO-8601 datetime"),
        ("2025-01-01", Kind.DATE, None),
        ("2025-01-01T00:00:00Z", Kind.DATE, "a date and time, not a date (YYYY-MM-DD)"),
        ("soon", Kind.DATE, "not a date (YYYY-MM-DD)"),
        (1_700_000_000, Kind.TIMESTAMP, None),
        ("2025-01-01T10:00:00+02:00", Kind.TIMESTAMP, None),
        ("5f1e2d3c4b5a697887766554", Kind.OBJECTID, None),
        ("5f1e", Kind.OBJECTID, "a str that is not a 24-digit hexadecimal ObjectId"),
    ],
)
def test_each_type_accepts_what_it_says(value, kind, problem):
    assert type_problem(value, kind) == problem


def test_datetimes_compare_in_utc_whatever_their_offset_or_form():
    a = comparable("2025-01-01T10:00:00+02:00", Kind.DATETIME)
    b = comparable("2025-01-01T09:00:00Z", Kind.DATETIME)
    c = comparable(dt.datetime(2025, 1, 1, 9, 30), Kind.DATETIME)  # naive: read as UTC

    assert a < b < c
    assert comparable(0, Kind.TIMESTAMP) == dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert comparable("x", Kind.INTEGER) is None


@pytest.mark.parametrize(
    ("name", "mutable"),
    [
        ("created_at", set()),
        ("dateCreated", set()),
        ("firstSeen", set()),
        ("first_seen", set()),
        ("lastSeen", {"last", "seen"}),
        ("updated_at", {"updated"}),
        ("dateModified", {"modified"}),
    ],
)
def test_partition_key_names_that_say_the_value_changes(name, mutable):
    from headwater_contract.checks.schemas import _mutable_words

    assert _mutable_words(name) == mutable
