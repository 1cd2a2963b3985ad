"""Incremental request parameters: bounds, formats, lookback, clamping."""

from __future__ import annotations

import datetime as dt

import pytest

from headwater import SortMode, SourceInputs
from headwater.rest import (
    EpochMilliseconds,
    EpochSeconds,
    IncrementalParams,
    Iso8601,
    incremental_params,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def inputs(last=None, kind="datetime", *, start_date=None, earliest=None, incremental=True):
    return SourceInputs(
        schema_name="events",
        should_use_incremental_field=incremental,
        incremental_field="created" if incremental else None,
        incremental_field_type=kind if incremental else None,
        db_incremental_field_last_value=last,
        db_incremental_field_earliest_value=earliest,
        start_date=start_date,
    )


@pytest.mark.parametrize(
    ("spec", "given", "expected"),
    [
        (
            IncrementalParams(start_param="since"),
            inputs(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
            {"since": "2026-01-02T03:04:05Z"},
        ),
        (
            IncrementalParams(start_param="since"),
            inputs("2026-01-02T03:04:05+02:00"),
            {"since": "2026-01-02T01:04:05Z"},
        ),
        (
            IncrementalParams(start_param="updated_after", format=Iso8601(fmt="%Y-%m-%d")),
            inputs(dt.datetime(2026, 1, 2, 3, 4, 5)),
            {"updated_after": "2026-01-02"},
        ),
        (
            IncrementalParams(start_param="created[gte]", format=EpochSeconds()),
            inputs(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
            {"created[gte]": "1767225600"},
        ),
        (
            IncrementalParams(start_param="from", format=EpochMilliseconds()),
            inputs(1767225600, "timestamp"),
            {"from": "1767225600000"},
        ),
        (
            IncrementalParams(start_param="since_id", format=str),
            inputs(5_000_000_000_000, "integer"),
            {"since_id": "5000000000000"},
        ),
        # Without a format, the field's type chooses: numbers are sent as numbers (an
        # integer watermark once went out as an ISO datetime of that many seconds)...
        (
            IncrementalParams(start_param="since_id"),
            inputs(5_000_000_000_000, "integer"),
            {"since_id": "5000000000000"},
        ),
        (
            IncrementalParams(start_param="min_version"),
            inputs(12.5, "numeric"),
            {"min_version": "12.5"},
        ),
        (
            IncrementalParams(start_param="after"),
            inputs("65f1c0ffee", "objectid"),
            {"after": "65f1c0ffee"},
        ),
        # ...and dates, datetimes and timestamps (epoch seconds) as ISO 8601.
        (
            IncrementalParams(start_param="since"),
            inputs(1767225600, "timestamp"),
            {"since": "2026-01-01T00:00:00Z"},
        ),
        (
            IncrementalParams(start_param="day"),
            inputs("2026-01-05", "date"),
            {"day": "2026-01-05"},
        ),
        (
            IncrementalParams(start_param="since", lookback=dt.timedelta(hours=1)),
            inputs(dt.datetime(2026, 1, 2, 3, 0, tzinfo=dt.UTC)),
            {"since": "2026-01-02T02:00:00Z"},
        ),
        (
            IncrementalParams(start_param="since_id", format=str, lookback=10),
            inputs(100, "integer"),
            {"since_id": "90"},
        ),
        (
            IncrementalParams(start_param="date", format=Iso8601()),
            inputs("2026-01-05", "date"),
            {"date": "2026-01-05"},
        ),
        # A watermark in the future (a skewed clock) is clamped to now...
        (
            IncrementalParams(start_param="since"),
            inputs(dt.datetime(2027, 1, 1, tzinfo=dt.UTC)),
            {"since": "2026-03-01T12:00:00Z"},
        ),
        (
            IncrementalParams(start_param="from", format=EpochSeconds()),
            inputs(int(NOW.timestamp()) + 3600, "timestamp"),
            {"from": str(int(NOW.timestamp()))},
        ),
        # ...unless told not to.
        (
            IncrementalParams(start_param="since", clamp_to_now=False),
            inputs(dt.datetime(2027, 1, 1, tzinfo=dt.UTC)),
            {"since": "2027-01-01T00:00:00Z"},
        ),
        # First sync: the start date bounds it; no start date, no bound.
        (
            IncrementalParams(start_param="since"),
            inputs(None, start_date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)),
            {"since": "2025-06-01T00:00:00Z"},
        ),
        (IncrementalParams(start_param="since"), inputs(None), {}),
        # A full refresh reads every row: the start date bounds incremental reads only.
        (
            IncrementalParams(start_param="since"),
            inputs(
                dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                incremental=False,
                start_date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
            ),
            {},
        ),
        (
            IncrementalParams(start_param="created[gte]", end_param="created[lte]"),
            inputs(None, incremental=False, start_date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)),
            {"created[lte]": "2026-03-01T12:00:00Z"},
        ),
        # ...unless the endpoint documents a window from the start date on every read.
        (
            IncrementalParams(start_param="since", start_date_bounds_every_read=True),
            inputs(None, incremental=False, start_date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)),
            {"since": "2025-06-01T00:00:00Z"},
        ),
        # A floor is the lower bound of a read without one (an API that takes a pair only).
        (
            IncrementalParams(start_param="start", end_param="end", floor=EPOCH),
            inputs(None, incremental=False, start_date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)),
            {"start": "1970-01-01T00:00:00Z", "end": "2026-03-01T12:00:00Z"},
        ),
        (
            IncrementalParams(start_param="start", end_param="end", floor=EPOCH),
            inputs(None),
            {"start": "1970-01-01T00:00:00Z", "end": "2026-03-01T12:00:00Z"},
        ),
        (
            IncrementalParams(start_param="start", floor=EPOCH),
            inputs(None, start_date=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)),
            {"start": "2025-06-01T00:00:00Z"},
        ),
        (
            IncrementalParams(start_param="start", floor=EPOCH, lookback=dt.timedelta(days=1)),
            inputs(dt.datetime(2026, 1, 2, tzinfo=dt.UTC)),
            {"start": "2026-01-01T00:00:00Z"},
        ),
        (
            IncrementalParams(start_param="start", end_param="end"),
            inputs(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
            {"start": "2026-01-01T00:00:00Z", "end": "2026-03-01T12:00:00Z"},
        ),
        (
            IncrementalParams(start_param="start", format=lambda value: f"<{value:%Y}>"),
            inputs(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
            {"start": "<2026>"},
        ),
    ],
)
def test_incremental_params(spec, given, expected):
    assert incremental_params(spec, given, now=NOW) == expected


def test_a_desc_endpoint_resumes_below_the_earliest_value_it_reached():
    spec = IncrementalParams(start_param="start", end_param="end")
    given = inputs(
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC), earliest=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    )

    params = incremental_params(spec, given, now=NOW, sort_mode=SortMode.DESC)

    assert params == {"start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}


def test_no_spec_or_no_inputs_means_no_params():
    assert incremental_params(None, inputs(dt.datetime(2026, 1, 1)), now=NOW) == {}
    assert incremental_params(IncrementalParams(start_param="since"), None, now=NOW) == {}
