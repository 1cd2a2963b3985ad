"""Partition buckets and table locations."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pyarrow as pa
import pytest

from headwater import PartitionFormat, SourceResponse
from headwater.warehouse import (
    UNPARSEABLE,
    PartitionScheme,
    parse_datetime,
    partition_bucket,
    partition_column,
    table_location,
)

UTC = dt.UTC


def datetimes(fmt):
    return PartitionScheme(mode="datetime", keys=["created"], format=fmt)


@pytest.mark.parametrize(
    ("fmt", "value", "bucket"),
    [
        ("month", "2024-05-13T10:20:00Z", "2024-05"),
        ("week", dt.datetime(2024, 5, 13, tzinfo=UTC), "2024-W20"),
        ("week", dt.date(2024, 12, 30), "2025-W01"),
        ("day", "2024-05-13T23:30:00-02:00", "2024-05-14"),
        ("hour", dt.datetime(2024, 5, 13, 10, 59), "2024-05-13T10"),
        ("day", 1715594400, "2024-05-13"),
        ("day", 1715594400000, "2024-05-13"),
        ("month", "next tuesday", UNPARSEABLE),
        ("month", None, UNPARSEABLE),
        ("month", float("nan"), UNPARSEABLE),
        ("month", True, UNPARSEABLE),
    ],
)
def test_datetime_buckets_are_utc_periods_and_odd_values_get_their_own(fmt, value, bucket):
    assert partition_bucket(datetimes(fmt), [value]) == bucket


@pytest.mark.parametrize(
    ("size", "value", "bucket"),
    [
        (100, 5, "0"),
        (100, 250, "200"),
        (100, -1, "-100"),
        (10, "42", "40"),
        (10, 4.5, "0"),
        (10, "many", UNPARSEABLE),
        (10, None, UNPARSEABLE),
    ],
)
def test_numerical_buckets_are_the_lower_bound_of_their_range(size, value, bucket):
    scheme = PartitionScheme(mode="numerical", keys=["n"], size=size)

    assert partition_bucket(scheme, [value]) == bucket


def test_md5_buckets_are_stable_and_cover_every_key_value():
    scheme = PartitionScheme(mode="md5", keys=["org", "id"], count=8)

    buckets = {partition_bucket(scheme, ["acme", n]) for n in range(200)}

    expected = int(hashlib.md5(b"acme\x1f7").hexdigest(), 16) % 8
    assert partition_bucket(scheme, ["acme", 7]) == str(expected)
    assert buckets == {str(n) for n in range(8)}


def test_the_partition_column_is_computed_for_a_whole_batch():
    batch = pa.record_batch({"created": ["2024-01-05", "2024-02-01", None]})

    column = partition_column(datetimes("month"), batch)

    assert column.to_pylist() == ["2024-01", "2024-02", UNPARSEABLE]


def test_the_scheme_comes_from_the_response_and_round_trips_through_json():
    response = SourceResponse(
        name="x",
        items=lambda: [],
        partition_mode="md5",
        partition_keys=["id"],
        partition_count=4,
        partition_format="day",  # ignored for md5
    )

    scheme = PartitionScheme.from_response(response)

    assert scheme == PartitionScheme(mode="md5", keys=["id"], count=4)
    assert PartitionScheme.from_json(scheme.to_json()) == scheme
    assert PartitionScheme.from_response(SourceResponse(name="x", items=lambda: [])) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01T00:00:00+01:00", dt.datetime(2025, 12, 31, 23, tzinfo=UTC)),
        (dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, tzinfo=UTC)),
        (b"2026", None),
    ],
)
def test_parse_datetime_reads_datetimes_dates_and_iso_text(value, expected):
    assert parse_datetime(value) == expected


def test_tables_live_under_warehouse_connection_schema(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    local = table_location("./wh", "github_posthog", "issues")
    uri = table_location("file:///data/wh", "c", "s")
    s3 = table_location("s3://bucket/wh/", "c", "s", storage_options={"AWS_REGION": "x"})

    assert local.uri == str(tmp_path / "wh" / "github_posthog" / "issues")
    assert local.is_local
    assert Path(uri.uri) == Path("/data/wh/c/s")
    assert (s3.uri, s3.is_local, dict(s3.storage_options)) == (
        "s3://bucket/wh/c/s",
        False,
        {"AWS_REGION": "x"},
    )


@pytest.mark.parametrize(
    ("warehouse", "connection", "schema", "message"),
    [
        ("wh", "../up", "s", "connection name '../up' cannot be a table folder"),
        ("wh", "c", "a/b", "schema name 'a/b' cannot be a table folder"),
        ("ftp://host/wh", "c", "s", "has the scheme 'ftp'"),
    ],
)
def test_a_location_that_cannot_be_a_table_is_refused(warehouse, connection, schema, message):
    with pytest.raises(ValueError, match=message):
        table_location(warehouse, connection, schema)


_EDGES = [
    dt.datetime(2020, 12, 31, 23, 59, 59, tzinfo=dt.UTC),  # ISO week 53 of 2020
    dt.datetime(2021, 1, 1, tzinfo=dt.UTC),  # still 2020-W53
    dt.datetime(2021, 1, 3, 23, tzinfo=dt.UTC),
    dt.datetime(2021, 1, 4, tzinfo=dt.UTC),  # 2021-W01
    dt.datetime(2024, 2, 29, 12, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))),  # Dec 31 in UTC
    dt.datetime(2026, 6, 30, 22, 15, tzinfo=dt.timezone(dt.timedelta(hours=-5))),  # July 1
    None,
]


def _columns() -> dict[str, tuple[pa.Array, bool]]:
    """Columns of the same moments as the engine may hold them, and whether the column-wise
    path must take them (True) or hand them to the row-by-row path (False)."""
    utc = [None if v is None else v.astimezone(dt.UTC) for v in _EDGES]
    naive = [None if v is None else v.replace(tzinfo=None) for v in utc]
    return {
        "timestamp[us, UTC]": (pa.array(utc, pa.timestamp("us", tz="UTC")), True),
        "timestamp[ms, +02:00]": (pa.array(utc, pa.timestamp("ms", tz="+02:00")), True),
        "timestamp[ns] naive (as UTC)": (pa.array(naive, pa.timestamp("ns")), True),
        "date32": (pa.array([None if v is None else v.date() for v in utc], pa.date32()), True),
        "ISO text with Z": (
            pa.array([None if v is None else v.isoformat().replace("+00:00", "Z") for v in utc]),
            True,
        ),
        "ISO text with offsets": (
            pa.array([None if v is None else v.isoformat() for v in _EDGES]),
            True,
        ),
        "ISO text, naive and zoned mixed": (
            pa.array(["2026-01-01T00:00:00", "2026-01-01T00:00:00Z", None]),
            False,
        ),
        "dates as text": (pa.array(["2026-01-31", "2021-01-03", None]), False),
        "text that is not a datetime": (pa.array(["soon", "2026-01-01T00:00:00Z", ""]), False),
        "epoch seconds and milliseconds": (pa.array([1_767_225_600, 1_767_225_600_000]), False),
        "a year before 1000": (pa.array(["0999-12-31T00:00:00Z", "2026-01-01T00:00:00Z"]), False),
        "all null": (pa.array([None, None], pa.timestamp("us", tz="UTC")), True),
    }


@pytest.mark.parametrize("fmt", list(PartitionFormat))
@pytest.mark.parametrize("name", list(_columns()))
def test_datetime_buckets_column_wise_equal_the_row_by_row_buckets(name, fmt):
    from headwater.warehouse.partitioning import _datetime_buckets

    column, fast = _columns()[name]
    scheme = PartitionScheme(mode="datetime", keys=["created"], format=fmt)
    batch = pa.RecordBatch.from_arrays([column], ["created"])

    buckets = partition_column(scheme, batch).to_pylist()

    expected = [partition_bucket(scheme, [value]) for value in column.to_pylist()]
    assert buckets == expected
    assert (_datetime_buckets(column, fmt) is not None) is fast
