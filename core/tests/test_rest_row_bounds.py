"""Incremental bounds the API cannot apply (`IncrementalParams(in_request=False)`): the reader
drops rows outside them, and a newest-first read stops at the first page reaching below."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from headwater import IncrementalField, ManualClock, Runtime, SourceInputs
from headwater.emulator import Emulator, emulator_transport, json_response
from headwater.rest import (
    ClientConfig,
    Endpoint,
    IncrementalParams,
    PageNumberPaginator,
    PageReader,
    RestClient,
    comparable,
    incremental_bounds,
)

if TYPE_CHECKING:
    import httpx

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
PAGE = 3


def _at(hours: int) -> str:
    return (dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hours)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


class Pulls(Emulator):
    """12 rows updated an hour apart, served newest (or oldest) first, 3 per page; no filter."""

    def __init__(self, *, newest_first: bool = True, extra: list[dict] | None = None) -> None:
        super().__init__()
        rows = [{"id": n, "updated_at": _at(n)} for n in range(12)] + (extra or [])
        self.store.add("pulls", rows)
        self.newest_first = newest_first

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert "updated_from" not in request.url.params  # never sent: the API has no filter
        assert "updated_to" not in request.url.params
        rows = sorted(
            self.store.rows("pulls"),
            key=lambda row: (row["updated_at"] or "", row["id"]),
            reverse=self.newest_first,
        )
        page = int(request.url.params.get("page", "1"))
        return json_response(200, rows[(page - 1) * PAGE : page * PAGE])


def endpoint(sort_mode: str = "desc") -> Endpoint:
    return Endpoint(
        name="pulls",
        path="/pulls",
        primary_keys=("id",),
        paginator=PageNumberPaginator(),
        page_size=PAGE,
        incremental=IncrementalParams(
            start_param="updated_from", end_param="updated_to", in_request=False
        ),
        incremental_fields=[IncrementalField(field="updated_at", label="Updated", type="datetime")],
        sort_mode=sort_mode,
    )


def inputs(last=None, earliest=None, *, incremental=True, start_date=None) -> SourceInputs:
    return SourceInputs(
        schema_name="pulls",
        should_use_incremental_field=incremental,
        incremental_field="updated_at" if incremental else None,
        incremental_field_type="datetime" if incremental else None,
        db_incremental_field_last_value=last,
        db_incremental_field_earliest_value=earliest,
        start_date=start_date,
    )


def read(api: Pulls, given: SourceInputs, sort_mode: str = "desc") -> list[int]:
    clock = ManualClock(NOW)
    runtime = Runtime(transport=emulator_transport(api), clock=clock, sleep=clock.sleep)
    with RestClient(ClientConfig(base_url="https://api.example.com"), runtime) as client:
        reader = PageReader(client, endpoint(sort_mode), inputs=given)
        ids = [row["id"] for page in reader for row in page]
        assert reader.resume_state is None  # complete, also when it stopped early
    return ids


@pytest.mark.parametrize(
    ("given", "ids", "requests"),
    [
        # A full read: every page, down to the empty one that ends it.
        (inputs(incremental=False), list(range(11, -1, -1)), 5),
        # From the watermark 08:00 (inclusive): rows 11..8; the page holding 8, 7, 6 is the
        # last one read, since the rows after it are older still.
        (inputs(_at(8)), [11, 10, 9, 8], 2),
        (inputs(dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)), [11, 10, 9, 8], 2),
        # A watermark on a page boundary: the next page starts below it, and ends the read.
        (inputs(_at(9)), [11, 10, 9], 2),
        # Above every row: the first page already reaches below.
        (inputs(_at(20)), [], 1),
        # A start date bounds a first sync the same way.
        (inputs(start_date=dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)), [11, 10], 1),
        # Resuming an unfinished read that got down to 05:00: rows above it were read before.
        (inputs(_at(2), earliest=_at(5)), [5, 4, 3, 2], 4),
    ],
)
def test_a_newest_first_read_keeps_the_rows_within_its_bounds_and_stops(given, ids, requests):
    api = Pulls()

    assert read(api, given) == ids
    assert len(api.requests) == requests


def test_an_oldest_first_read_filters_but_cannot_stop_early():
    api = Pulls(newest_first=False)

    assert read(api, inputs(_at(8)), sort_mode="asc") == [8, 9, 10, 11]
    assert len(api.requests) == 5  # every page: a later one may still hold newer rows


def test_rows_whose_field_cannot_be_read_are_kept():
    extra = [{"id": 100, "updated_at": None}, {"id": 101, "updated_at": "not a time"}]

    # The emulator sorts them as text: "not a time" above every date, None ("") below.
    # Kept where they are met; the newest-first read still stops at the first page below.
    assert read(Pulls(extra=extra), inputs(_at(10))) == [101, 11, 10]
    api = Pulls(newest_first=False, extra=extra)
    assert read(api, inputs(_at(10)), sort_mode="asc") == [100, 10, 11, 101]


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("2026-01-01T08:00:00Z", "datetime", dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)),
        ("2026-01-01T10:00:00+02:00", "datetime", dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)),
        (dt.datetime(2026, 1, 1, 8), "datetime", dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)),
        ("yesterday", "datetime", None),
        (1767225600, "datetime", None),
        ("2026-01-01", "date", dt.date(2026, 1, 1)),
        ("2026-01-01T23:00:00Z", "date", dt.date(2026, 1, 1)),
        (42, "integer", 42),
        (4.5, "numeric", 4.5),
        (True, "integer", None),
        ("42", "integer", None),
        (None, "datetime", None),
    ],
)
def test_row_values_are_compared_as_the_fields_type(value, kind, expected):
    assert comparable(value, kind) == expected


def test_the_bounds_are_those_the_query_parameters_would_carry():
    spec = IncrementalParams(start_param="since", end_param="until", lookback=60)
    bounds = incremental_bounds(spec, inputs(_at(8)), now=NOW, sort_mode="desc")

    assert bounds.lower == dt.datetime(2026, 1, 1, 7, 59, tzinfo=dt.UTC)
    assert bounds.upper == NOW
    assert not bounds.resumed
    resumed = incremental_bounds(spec, inputs(_at(2), _at(5)), now=NOW, sort_mode="desc")
    assert resumed.upper == dt.datetime(2026, 1, 1, 5, tzinfo=dt.UTC)
    assert resumed.resumed
