"""Reading Typeform: pagination, incremental windows, the responses fan-out and failures."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import httpx
import pytest

from connector_typeform._config import TypeformConfig
from connector_typeform.form_fields import form_field_rows
from connector_typeform.settings import TypeformSource
from connector_typeform.testing import BUSY_FORM, TOKEN, UNDATED_FORM, TypeformApi, forbidden, kit
from headwater import ManualClock, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import StatusFailure
from headwater.errors import (
    AuthenticationError,
    PermissionDeniedError,
    classify,
)
from headwater.rest import RestClient

SOURCE = TypeformSource()


def config(**overrides):
    return structure_source_config(
        TypeformConfig,
        SOURCE.get_source_config(),
        {"token": TOKEN, **overrides},
        resolvers=BUILTIN_RESOLVERS,
    )


def read(api, schema, clock=None, cfg=None, **inputs):
    clock = clock or ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep)
    response = SOURCE.source_for_pipeline(
        cfg or config(), SourceInputs(schema_name=schema, **inputs), runtime
    )
    return [row for page in response.items() for row in page]


def incremental(last=None, earliest=None):
    return {
        "should_use_incremental_field": True,
        "incremental_field": "submitted_at",
        "incremental_field_type": "datetime",
        "db_incremental_field_last_value": last,
        "db_incremental_field_earliest_value": earliest,
    }


def responses_of(api, form_id):
    return [r for r in api.requests if r.url.path == f"/forms/{form_id}/responses"]


# --- forms: page numbers -----------------------------------------------------------------------


def test_forms_are_read_page_by_page_until_the_page_count():
    api = TypeformApi(forms=405)

    rows = read(api, "forms")

    assert len(rows) == 405
    assert len({row["id"] for row in rows}) == 405
    assert [r.url.params["page"] for r in api.requests[1:]] == ["2", "3"]  # no page past it
    assert all(r.url.params["page_size"] == "200" for r in api.requests)


def test_forms_are_asked_for_oldest_first_so_new_forms_land_on_the_last_page():
    api = TypeformApi()

    rows = read(api, "forms")

    params = api.requests[0].url.params
    assert (params["sort_by"], params["order_by"]) == ("created_at", "asc")
    dated = [row.get("created_at") or "" for row in rows]
    assert dated == sorted(dated)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("https://api.eu.typeform.com", "api.eu.typeform.com"),
        ("https://api.typeform.eu", "api.typeform.eu"),
    ],
)
def test_the_chosen_region_receives_every_request(host, expected):
    api = TypeformApi(forms=3)

    read(api, "responses", cfg=config(base_url=host))

    assert {r.url.host for r in api.requests} == {expected}


# --- responses: fan-out and tokens -------------------------------------------------------------


def test_responses_page_backwards_by_the_last_rows_token():
    api = TypeformApi()

    rows = read(api, "responses")

    assert len(rows) == len(api.store.rows("responses"))
    busy = responses_of(api, BUSY_FORM)
    assert "before" not in busy[0].url.params
    busy_rows = [row for row in rows if row["form_id"] == BUSY_FORM]
    assert busy[1].url.params["before"] == busy_rows[999]["token"]
    assert len(busy) == 3  # 1000, 105, then an empty page ends the form
    assert all(r.url.params["page_size"] == "1000" for r in busy)
    assert not any("sort" in r.url.params for r in busy)  # not allowed with tokens


def test_response_rows_carry_their_form_id_and_come_newest_first_across_forms():
    api = TypeformApi()
    forms = {row["id"] for row in read(api, "forms")}

    rows = read(api, "responses")

    assert {row["form_id"] for row in rows} <= forms
    assert "_forms_id" not in rows[0]
    keys = [(row["submitted_at"], row["token"]) for row in rows]
    assert keys == sorted(keys, reverse=True)
    assert len({(row["form_id"], row["token"]) for row in rows}) == len(rows)


def test_many_forms_are_read_concurrently():
    api = TypeformApi(forms=40, busy_responses=3)
    busy = {"now": 0, "most": 0}
    lock = threading.Lock()

    def slow(request):
        with lock:
            busy["now"] += 1
            busy["most"] = max(busy["most"], busy["now"])
        time.sleep(0.02)
        try:
            return api(request)
        finally:
            with lock:
                busy["now"] -= 1

    clock = ManualClock()
    runtime = kit.runtime(slow, clock=clock, sleep=clock.sleep)
    response = SOURCE.source_for_pipeline(config(), SourceInputs(schema_name="responses"), runtime)
    rows = [row for page in response.items() for row in page]

    assert len(rows) == len(api.store.rows("responses"))
    assert 1 < busy["most"] <= 4  # max_workers


HOSTILE = ["../../accounts/me", "a/b", "x?page_size=1", "frm#frag", "%2E%2E", "a b"]


@pytest.mark.parametrize("form_id", HOSTILE)
def test_a_hostile_form_id_stays_one_path_segment(form_id):
    api = TypeformApi(forms=2, busy_responses=2)
    api.add_form(form_id)
    api.add_response(form_id)

    rows = read(api, "responses")

    assert [row for row in rows if row["form_id"] == form_id]
    paths = {r.url.raw_path.split(b"?")[0].decode() for r in api.requests}
    encoded = quote(form_id, safe="")
    assert paths == {"/forms", f"/forms/{encoded}/responses"} | {
        f"/forms/frm0000{n}/responses" for n in (0, 1)
    }
    hostile = [r for r in api.requests if encoded in r.url.raw_path.decode()]
    assert hostile
    assert all(r.url.params.get("page_size") == "1000" for r in hostile)


def test_a_form_deleted_between_the_two_reads_is_skipped():
    api = TypeformApi(forms=6)
    api.inject(
        StatusFailure(status=404, json={"code": "FORM_NOT_FOUND", "description": "gone"}),
        path="/forms/frm00003/responses",
    )

    rows = read(api, "responses")

    assert "frm00003" not in {row["form_id"] for row in rows}
    others = [r for r in api.store.rows("responses") if r["form_id"] != "frm00003"]
    assert len(rows) == len(others)


# --- incremental windows -----------------------------------------------------------------------


def test_responses_are_read_since_the_watermark_until_now():
    api = TypeformApi()
    watermark = read(api, "responses")[0]["submitted_at"]
    api.add_rows("responses")

    rows = read(api, "responses", **incremental(watermark))

    params = api.requests[-1].url.params
    assert params["since"] == watermark.removesuffix("Z")  # to the second, UTC, no zone
    assert params["until"] == "2026-01-01T00:00:00"  # the runtime clock's now
    assert len(rows) == 3  # the one at the watermark (inclusive) and two new ones
    assert all(row["submitted_at"] >= watermark for row in rows)


def test_an_interrupted_read_resumes_below_its_earliest_value_for_every_form():
    api = TypeformApi()
    everything = read(api, "responses")
    earliest = everything[999]["submitted_at"]
    before = len(api.requests)

    resumed = read(api, "responses", **incremental(None, earliest))

    later = api.requests[before:]
    assert {r.url.params["until"] for r in later if r.url.path.endswith("/responses")} == {
        earliest.removesuffix("Z")
    }
    assert all(row["submitted_at"] <= earliest for row in resumed)
    seen = {row["token"] for row in everything[:1000]} | {row["token"] for row in resumed}
    assert seen == {row["token"] for row in everything}


def test_a_response_added_at_the_watermark_comes_in_the_read_from_it():
    api = TypeformApi()
    before = read(api, "responses")
    watermark = before[len(before) // 2]["submitted_at"]

    kit.add_row_at(api, "responses", "submitted_at", watermark)
    rows = read(api, "responses", **incremental(watermark))

    known = {row["token"] for row in before}
    assert [row["submitted_at"] for row in rows if row["token"] not in known] == [watermark]
    assert all(row["submitted_at"] >= watermark for row in rows)


# --- the documented parameter rules --------------------------------------------------------------


def _ask(api, path_and_query):
    url = f"https://api.typeform.com{path_and_query}"
    return api(httpx.Request("GET", url, headers={"Authorization": f"Bearer {TOKEN}"}))


@pytest.mark.parametrize(
    ("path_and_query", "description"),
    [
        ("/forms/frm00000/responses?since=yesterday", "since must be a timestamp in seconds"),
        ("/forms/frm00000/responses?until=2020-03-20T14:00:59Z", "until must be a timestamp"),
        ("/forms/frm00000/responses?until=2020-03-20", "until must be a timestamp"),
        ("/forms/frm00000/responses?page_size=1001", "page_size must be between 1 and 1000"),
        ("/forms/frm00000/responses?page_size=0", "page_size must be between 1 and 1000"),
        ("/forms?page_size=201", "page_size must be between 1 and 200"),
        ("/forms/frm00000/responses?before=tok1&sort=submitted_at,desc", "sort cannot be used"),
        ("/forms/frm00000/responses?sort=submitted_at,asc&after=tok1", "sort cannot be used"),
    ],
)
def test_the_emulator_refuses_what_typeform_refuses(path_and_query, description):
    api = TypeformApi(forms=1)

    answer = _ask(api, path_and_query)

    assert answer.status_code == 400
    assert answer.json()["code"] == "VALIDATION_ERROR"
    assert description in answer.json()["description"]
    assert len(api.requests) == 1  # a refused request is recorded too


@pytest.mark.parametrize(
    "path_and_query",
    [
        "/forms/frm00000/responses?page_size=1000&since=2020-03-20T14:00:59&until=1893456000",
        "/forms/frm00000/responses?before=tok00000001&since=2020-03-20T14:00:59",
        "/forms?page_size=200&page=1",
    ],
)
def test_the_emulator_accepts_what_typeform_accepts(path_and_query):
    assert _ask(TypeformApi(forms=1), path_and_query).status_code == 200


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "failure", "error", "says"),
    [
        ("forms", StatusFailure(status=401), AuthenticationError, "rejected the personal"),
        ("responses", StatusFailure(status=401), AuthenticationError, "rejected the personal"),
        ("forms", forbidden("forms:read"), PermissionDeniedError, "forms:read"),
    ],
)
def test_permanent_failures_fail_at_once_with_a_rule(schema, failure, error, says):
    api = TypeformApi()
    api.inject(failure, times=10)

    with pytest.raises(error) as caught:
        read(api, schema)

    assert len(api.requests) == 1
    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert says in rule.message
    assert TOKEN not in str(caught.value)


def test_a_403_on_responses_names_the_responses_scope():
    api = TypeformApi(forms=3)
    api.inject(forbidden("responses:read"), times=10, path="/forms/frm00000/responses")

    with pytest.raises(PermissionDeniedError) as caught:
        read(api, "responses")

    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert "responses:read" in rule.message


def test_a_rate_limit_is_waited_out():
    api = TypeformApi()
    api.inject(StatusFailure(status=429, headers={"Retry-After": "3"}))
    clock = ManualClock()

    rows = read(api, "forms", clock=clock)

    assert len(rows) == 205
    assert clock.slept == [3.0]


# --- form_fields: the questions, from each form's definition (issue 16, item 5) ---------------


def test_the_forms_list_has_no_questions_and_the_form_itself_has():
    api = TypeformApi(forms=3)
    with RestClient(SOURCE.client_config(config()), kit.runtime(api)) as client:
        listed = client.get_json("/forms")["items"]
        whole = client.get_json(f"/forms/{listed[0]['id']}")

    assert all("fields" not in item for item in listed)
    assert [field["ref"] for field in whole["fields"]][:2] == ["name", "about_you"]
    assert whole["workspace"]["href"]


def test_form_fields_are_one_row_per_question_keyed_by_form_and_field():
    api = TypeformApi(forms=12)

    rows = read(api, "form_fields")

    keys = [(row["form_id"], row["id"]) for row in rows]
    expected = {(row["form_id"], row["id"]) for row in api.store.rows("form_fields")}
    assert len(keys) == len(set(keys))
    assert set(keys) == expected
    # The same field id in two forms is two rows: the form is part of the key.
    assert sum(1 for _, field in keys if field == "fld1") == 12
    first = next(row for row in rows if row["id"] == "fld1")
    assert (first["title"], first["type"], first["ref"]) == (
        "What is your name?",
        "short_text",
        "name",
    )
    assert first["parent_ref"] is None


def test_questions_inside_a_group_are_flattened_with_their_group_s_ref():
    api = TypeformApi(forms=2)

    rows = [row for row in read(api, "form_fields") if row["form_id"] == "frm00001"]

    by_ref = {row["ref"]: row for row in rows}
    assert by_ref["email"]["parent_ref"] == "about_you"
    assert by_ref["email"]["parent_id"] == by_ref["about_you"]["id"]
    assert (by_ref["email"]["position"], by_ref["age"]["position"]) == (0, 1)
    assert by_ref["about_you"]["type"] == "group"
    # The group keeps its own properties, not its questions again.
    assert by_ref["about_you"]["properties"] == {"button_text": "Continue"}


def test_answers_join_the_questions_on_the_field_id():
    api = TypeformApi(forms=4)

    fields = {(row["form_id"], row["id"]) for row in read(api, "form_fields")}
    responses = read(api, "responses")

    assert responses
    assert all(
        (row["form_id"], answer["field"]["id"]) in fields
        for row in responses
        for answer in row["answers"]
    )


def test_a_form_deleted_before_its_definition_is_read_is_skipped():
    api = TypeformApi(forms=5)
    gone = StatusFailure(status=404, json={"code": "FORM_NOT_FOUND", "description": "gone"})
    api.inject(gone, path="/forms/frm00002")

    rows = read(api, "form_fields")

    assert {row["form_id"] for row in rows} == {"frm00000", "frm00001", "frm00003", "frm00004"}


@pytest.mark.parametrize("form", [{"id": "x"}, {"id": "x", "fields": None}, {"fields": [7]}])
def test_a_form_without_questions_has_no_rows(form):
    assert form_field_rows(form) == []


# --- forms without created_at (issue 16, item 5) -----------------------------------------------


def test_a_form_listed_without_created_at_is_read_and_not_a_partition_key():
    api = TypeformApi(forms=60)

    rows = read(api, "forms")

    undated = [row for row in rows if "created_at" not in row]
    assert UNDATED_FORM in {row["id"] for row in undated}
    assert len(rows) == 60
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name="forms"), kit.runtime(api)
    )
    assert response.partition_keys is None
