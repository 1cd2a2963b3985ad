"""Endpoint declarations, JSON paths, safe path filling, and the SourceResponse they become."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from headwater import (
    IncrementalField,
    ManualClock,
    PartitionFormat,
    PartitionMode,
    Runtime,
    SortMode,
    SourceInputs,
)
from headwater.emulator import Emulator, emulator_transport, json_response
from headwater.rest import (
    ClientConfig,
    Endpoint,
    IncrementalParams,
    LinkHeaderPaginator,
    Selector,
    SelectorError,
    encode_segment,
    endpoint_response,
    fill_path,
)
from headwater.rest._selectors import MISSING

if TYPE_CHECKING:
    import httpx

CREATED = IncrementalField(field="created", label="Created", type="datetime")
UPDATED = IncrementalField(field="updated", label="Updated", type="datetime")

DOC = {"data": {"items": [{"id": 1}, {"id": 2}], "odd.key": {"rows": [3]}}, "next": None}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DOC),
        ("", DOC),
        ("data.items", [{"id": 1}, {"id": 2}]),
        ("$.data.items", [{"id": 1}, {"id": 2}]),
        ("data.items[1].id", 2),
        ("data.items[-1]", {"id": 2}),
        ('data["odd.key"].rows', [3]),
        ("data['odd.key'].rows[0]", 3),
        ("next", None),
        ("data.missing", MISSING),
        ("data.items[5]", MISSING),
        ("data.items.id", MISSING),
    ],
)
def test_selectors_find_values(path, expected):
    assert Selector(path).find(DOC) == expected


@pytest.mark.parametrize("path", ["data..items", "data.", "data[x]", "data[", "a]"])
def test_a_bad_json_path_is_refused_at_declaration(path):
    with pytest.raises(SelectorError, match=repr(path).replace("[", r"\[")):
        Selector(path)


def test_selectors_compare_by_meaning():
    assert Selector("$.data") == Selector("data")
    assert Endpoint(name="a", path="/a", primary_keys="id", data_selector="data").data_selector == (
        Selector("data")
    )


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("plain", "plain"),
        ("a/b", "a%2Fb"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("../x", "..%2Fx"),
        ("x?y#z", "x%3Fy%23z"),
        ("{repo}", "%7Brepo%7D"),
        ("a b", "a%20b"),
        (42, "42"),
    ],
)
def test_values_become_one_path_segment(value, segment):
    assert encode_segment(value) == segment


def test_fill_path_fills_once_and_names_what_is_missing():
    assert fill_path("/o/{org}/r/{repo}", {"org": "{repo}", "repo": "x"}) == "/o/%7Brepo%7D/r/x"
    assert fill_path("/o/{org}/r/{repo}", {"org": "a"}, partial=True) == "/o/a/r/{repo}"
    with pytest.raises(ValueError, match=r"needs a value for \{repo\}"):
        fill_path("/o/{org}/r/{repo}", {"org": "a"})
    with pytest.raises(ValueError, match="empty value"):
        fill_path("/o/{org}", {"org": ""})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"page_size": 0}, "page_size must be at least 1"),
        ({"max_pages": 0}, "max_pages must be at least 1"),
        ({"method": "DELETE"}, "GET or POST"),
        ({"no_rows_statuses": [200]}, "not an error status"),
        ({"path_values": {"org": "a"}}, r"path_values \['org'\] match no placeholder"),
        ({"primary_keys": []}, "at least one field"),
        (
            {"incremental_fields": [IncrementalField(field="a", label="A", type="datetime")]},
            "not how to filter",
        ),
        (
            # One parameter for two fields: the watermark of one would be sent as the other.
            {
                "incremental": IncrementalParams(start_param="created_after"),
                "incremental_fields": [CREATED, UPDATED],
            },
            r"2 incremental fields \('created', 'updated'\) but one IncrementalParams",
        ),
        (
            {
                "incremental": {"created": IncrementalParams(start_param="created_after")},
                "incremental_fields": [CREATED, UPDATED],
            },
            r"no IncrementalParams for 'updated'",
        ),
        (
            {
                "incremental": {
                    "created": IncrementalParams(start_param="created_after"),
                    "updated": IncrementalParams(start_param="updated_after"),
                    "seen": IncrementalParams(start_param="seen_after"),
                },
                "incremental_fields": [CREATED, UPDATED],
            },
            r"IncrementalParams for 'seen', which is not in incremental_fields",
        ),
        ({"incremental": {}, "incremental_fields": [CREATED]}, "not how to filter"),
    ],
)
def test_an_endpoint_refuses_contradictions(fields, message):
    with pytest.raises(ValueError, match=message):
        Endpoint(**{"name": "items", "path": "/items", "primary_keys": "id", **fields})


def test_params_are_written_as_apis_expect():
    endpoint = Endpoint(
        name="i", path="/i", primary_keys="id", params={"all": True, "n": 5, "skip": None}
    )
    assert endpoint.params == {"all": "true", "n": "5"}


def test_an_endpoint_offers_its_schema():
    field = IncrementalField(field="updated_at", label="Updated", type="datetime")
    endpoint = Endpoint(
        name="issues",
        path="/issues",
        primary_keys="id",
        incremental=IncrementalParams(start_param="since"),
        incremental_fields=[field],
        description="Issues",
    )

    schema = endpoint.schema()

    assert schema.name == "issues"
    assert schema.supports_incremental
    assert schema.supports_append
    assert schema.incremental_fields == (field,)
    plain = Endpoint(name="labels", path="/labels", primary_keys="name").schema()
    assert not plain.supports_incremental


class Issues(Emulator):
    def handle(self, request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        since = request.url.params.get("since")
        rows = [{"id": page, "created_at": "2026-01-01T00:00:00Z", "since": since}]
        headers = {}
        if page < 3:
            headers["Link"] = f'<https://api.example.com/issues?page={page + 1}>; rel="next"'
        return json_response(200, rows, headers)


ISSUES = Endpoint(
    name="issues",
    path="/issues",
    primary_keys=["repo", "id"],
    paginator=LinkHeaderPaginator(),
    incremental=IncrementalParams(start_param="since"),
    incremental_fields=[IncrementalField(field="updated_at", label="Updated", type="datetime")],
    partition_key="created_at",
    partition_format="week",
    sort_mode="desc",
)


def test_endpoint_response_describes_the_table_and_reads_lazily():
    api = Issues()
    clock = ManualClock()
    runtime = Runtime(transport=emulator_transport(api), clock=clock, sleep=clock.sleep)
    inputs = SourceInputs(
        schema_name="issues",
        should_use_incremental_field=True,
        incremental_field="updated_at",
        incremental_field_type="datetime",
        db_incremental_field_last_value=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )

    response = endpoint_response(
        ClientConfig(base_url="https://api.example.com"), ISSUES, inputs, runtime
    )

    assert api.requests == []
    assert response.name == "issues"
    assert response.primary_keys == ("repo", "id")
    assert response.partition_mode is PartitionMode.DATETIME
    assert response.partition_keys == ("created_at",)
    assert response.partition_format is PartitionFormat.WEEK
    assert response.sort_mode is SortMode.DESC
    pages = list(response.items())
    assert [row["id"] for page in pages for row in page] == [1, 2, 3]
    assert {row["since"] for page in pages for row in page} == {"2026-01-01T00:00:00Z"}


def test_endpoint_response_resumes_from_the_inputs():
    api = Issues()
    runtime = Runtime(transport=emulator_transport(api))
    inputs = SourceInputs(
        schema_name="issues",
        resume_state={"next_url": "https://api.example.com/issues?page=3"},
    )

    response = endpoint_response(
        ClientConfig(base_url="https://api.example.com"), ISSUES, inputs, runtime
    )

    assert [row["id"] for page in response.items() for row in page] == [3]


def test_an_unpartitioned_endpoint_has_no_partitioning():
    endpoint = Endpoint(name="labels", path="/labels", primary_keys="name")
    response = endpoint_response(
        ClientConfig(base_url="https://api.example.com"),
        endpoint,
        SourceInputs(schema_name="labels"),
        Runtime(),
    )
    assert response.partition_mode is None
    assert response.partition_keys is None


class Tickets(Emulator):
    """Filters ``created`` by ``created_after`` and ``updated`` by ``updated_after``."""

    ROWS = (
        {"id": 1, "created": "2026-01-01T00:00:00Z", "updated": "2026-03-01T00:00:00Z"},
        {"id": 2, "created": "2026-02-01T00:00:00Z", "updated": "2026-02-01T00:00:00Z"},
        {"id": 3, "created": "2026-03-01T00:00:00Z", "updated": "2026-03-01T00:00:00Z"},
    )

    def handle(self, request: httpx.Request) -> httpx.Response:
        rows = list(self.ROWS)
        for field in ("created", "updated"):
            bound = request.url.params.get(f"{field}_after")
            if bound is not None:
                rows = [row for row in rows if row[field] >= bound]
        return json_response(200, rows)


TICKETS = Endpoint(
    name="tickets",
    path="/tickets",
    primary_keys="id",
    incremental={
        "created": IncrementalParams(start_param="created_after"),
        "updated": IncrementalParams(start_param="updated_after"),
    },
    incremental_fields=[CREATED, UPDATED],
)


@pytest.mark.parametrize(
    ("field", "param", "ids"),
    [("created", "created_after", [3]), ("updated", "updated_after", [1, 3])],
)
def test_each_incremental_field_is_filtered_by_its_own_parameter(field, param, ids):
    api = Tickets()
    inputs = SourceInputs(
        schema_name="tickets",
        should_use_incremental_field=True,
        incremental_field=field,
        incremental_field_type="datetime",
        db_incremental_field_last_value=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    runtime = Runtime(transport=emulator_transport(api))

    response = endpoint_response(ClientConfig(base_url="https://t.test"), TICKETS, inputs, runtime)

    assert [row["id"] for page in response.items() for row in page] == ids
    (request,) = api.requests
    assert dict(request.url.params) == {param: "2026-03-01T00:00:00Z"}


def test_the_filter_of_a_field_is_named_and_an_unknown_field_is_refused():
    assert TICKETS.filter_for("updated") == IncrementalParams(start_param="updated_after")
    # No field chosen (a full read bounded by a start date): the first declared field's.
    assert TICKETS.filter_for(None) == IncrementalParams(start_param="created_after")
    with pytest.raises(ValueError, match=r"no incremental field 'seen'.*'created', 'updated'"):
        TICKETS.filter_for("seen")
    assert ISSUES.filter_for("updated_at") == IncrementalParams(start_param="since")
    plain = Endpoint(name="labels", path="/labels", primary_keys="name")
    assert plain.filter_for(None) is None
