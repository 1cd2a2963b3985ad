"""Reads of one table: order, inclusive lower bounds, and where a resumed read continues,
NULLs in the incremental column included."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from connector_postgres._config import PostgresConfig
from connector_postgres.source import PostgresSource
from headwater import Secret
from headwater.runtime import Runtime
from headwater.sources import ResumePoint, SourceInputs

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def shop(database):
    # Rows 1-7 changed an hour apart (3 and 4 at the same moment); 8-10 never changed (NULL).
    database.run(
        "create table tickets (id int primary key, changed_at timestamptz)",
        """insert into tickets
           select g, case when g <= 7 then timestamptz '2024-01-01 00:00Z'
                                            + (g - (g = 4)::int) * interval '1 hour' end
           from generate_series(1, 10) g""",
    )
    return database


def read(database, *, lower=None, resume=None, incremental=True):
    config = database.config()
    structured = PostgresConfig(**{**config, "password": Secret(config["password"])})
    inputs = SourceInputs(
        schema_name="tickets",
        should_use_incremental_field=incremental,
        incremental_field="changed_at" if incremental else None,
        incremental_field_type="datetime" if incremental else None,
        db_incremental_field_last_value=lower,
        resume_state=resume,
    )
    items = list(PostgresSource().source_for_pipeline(structured, inputs, Runtime()).items())
    batches = [item for item in items if isinstance(item, pa.RecordBatch)]
    points = [item.state for item in items if isinstance(item, ResumePoint)]
    ids = [i for batch in batches for i in batch.column("id").to_pylist()]
    return ids, points


def at(hours):
    return START + dt.timedelta(hours=hours)


def test_a_first_read_orders_by_column_then_key_with_nulls_last(shop):
    ids, points = read(shop)
    assert ids == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    # A point before the first batch (the start), then after each batch its last row.
    assert points[0] == {"key": None}
    assert points[-1] == {"key": ["10"], "value": None}


def test_a_later_read_is_inclusive_and_leaves_out_nulls(shop):
    ids, _ = read(shop, lower=at(3))
    assert ids == [3, 4, 5, 6, 7]  # 3 and 4 are at the watermark: both come


@pytest.mark.parametrize(
    ("resume", "expected"),
    [
        ({"key": None}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        ({"key": ["3"], "value": at(3).isoformat()}, [4, 5, 6, 7, 8, 9, 10]),
        ({"key": ["7"], "value": at(7).isoformat()}, [8, 9, 10]),
        ({"key": ["8"], "value": None}, [9, 10]),
    ],
    ids=["start", "tie-on-the-value", "last-dated", "in-the-nulls"],
)
def test_a_resumed_first_read_continues_after_its_position(shop, resume, expected):
    assert read(shop, resume=resume)[0] == expected


def test_a_resumed_later_read_keeps_its_lower_bound(shop):
    ids, _ = read(shop, lower=at(3), resume={"key": ["4"], "value": at(3).isoformat()})
    assert ids == [5, 6, 7]


def test_a_full_read_orders_and_resumes_by_key(shop):
    assert read(shop, incremental=False)[0] == list(range(1, 11))
    assert read(shop, incremental=False, resume={"key": ["6"]})[0] == [7, 8, 9, 10]
