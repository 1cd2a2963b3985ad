"""Reading Sentry: pagination, windows, fan-out, the two-level tag values, limits, failures."""

from __future__ import annotations

import datetime as dt
import threading
import time

import httpx
import pytest

from connector_sentry import settings
from connector_sentry._config import SentryConfig
from connector_sentry.settings import SentrySource
from connector_sentry.tag_values import TagValues
from connector_sentry.testing import ORGANIZATION, TOKEN, SentryApi, kit, rate_limited
from connector_sentry.windows import issue_row
from headwater import ManualClock, ProgressKind, ResumePoint, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import StatusFailure, json_response
from headwater.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    classify,
)
from headwater.rest import RestClient

SOURCE = SentrySource()
CONFIG = structure_source_config(
    SentryConfig,
    SOURCE.get_source_config(),
    {"organization": ORGANIZATION, "auth_token": TOKEN},
    resolvers=BUILTIN_RESOLVERS,
)
ISSUES = f"/api/0/organizations/{ORGANIZATION}/issues/"


def read(api, schema, clock=None, handler=None, **inputs):
    clock = clock or ManualClock()
    runtime = kit.runtime(handler or api, clock=clock, sleep=clock.sleep)
    response = SOURCE.source_for_pipeline(
        CONFIG, SourceInputs(schema_name=schema, **inputs), runtime
    )
    return [row for page in response.items() for row in page]


def incremental(field, last=None, earliest=None):
    return {
        "should_use_incremental_field": True,
        "incremental_field": field,
        "incremental_field_type": "datetime",
        "db_incremental_field_last_value": last,
        "db_incremental_field_earliest_value": earliest,
    }


# --- pagination ----------------------------------------------------------------------------


@pytest.mark.parametrize(("schema", "rows", "requests"), [("projects", 101, 2), ("issues", 120, 2)])
def test_the_link_header_is_followed_until_results_false(schema, rows, requests):
    api = SentryApi()

    read_rows = read(api, schema)

    assert len(read_rows) == rows
    assert len({row["id"] for row in read_rows}) == rows
    assert len(api.requests) == requests
    assert [r.url.params.get("cursor") for r in api.requests] == [None, "0:100:0"]


def test_a_next_link_without_results_true_ends_the_read():
    # Sentry always sends a next link; on the last page it says results="false".
    api = SentryApi()

    def handler(request):
        answer = api(request)
        answer.headers["Link"] = answer.headers["Link"].replace('results="true"', 'results="false"')
        return answer

    assert len(read(api, "projects", handler=handler)) == 100
    assert len(api.requests) == 1


def test_issues_are_asked_for_in_every_status_most_recently_seen_first():
    api = SentryApi()

    rows = read(api, "issues")

    params = api.requests[0].url.params
    assert (params["query"], params["sort"]) == ("", "date")
    assert {row["status"] for row in rows} == {"unresolved", "resolved", "ignored"}
    assert [row["lastSeen"] for row in rows] == sorted((r["lastSeen"] for r in rows), reverse=True)


# --- windows and incremental reads -------------------------------------------------------------


def test_issues_are_read_from_the_watermark_on():
    api = SentryApi()
    watermark = max(row["lastSeen"] for row in read(api, "issues"))
    api.add_rows("issues")

    rows = read(api, "issues", **incremental("lastSeen", watermark))

    params = api.requests[-1].url.params
    assert params["start"] == watermark
    assert params["end"] == "2026-01-01T00:00:00Z"  # the runtime clock's now
    assert all(row["lastSeen"] >= watermark for row in rows)
    assert len(rows) == 3  # the one at the watermark, the one seen again, the new one


def test_a_resumed_issues_read_keeps_below_its_earliest_value():
    api = SentryApi()
    rows = read(api, "issues")
    earliest = rows[99]["lastSeen"]

    resumed = read(api, "issues", **incremental("lastSeen", None, earliest))

    assert api.requests[-1].url.params["end"] == earliest
    assert {row["id"] for row in resumed} == {row["id"] for row in rows[99:]}


def test_the_start_date_bounds_the_project_events_window():
    api = SentryApi()
    events = sorted(row["dateCreated"] for row in api.store.rows("events"))
    start = events[-10]

    rows = read(
        api, "project_events", start_date=dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    )

    assert len(rows) == 10
    children = [r for r in api.requests if r.url.path.endswith("/events/")]
    assert all(r.url.params["start"] == start for r in children)


# --- fan-out -------------------------------------------------------------------------------------


def test_project_events_carry_the_project_id_and_slug():
    api = SentryApi()
    projects = {row["id"]: row["slug"] for row in read(api, "projects")}

    rows = read(api, "project_events")

    assert len(rows) == len(api.store.rows("events"))
    assert all(projects[row["project_id"]] == row["project_slug"] for row in rows)
    assert all(row["project_id"] == row["projectID"] for row in rows)
    # One project has more than a page of events: its cursor was followed.
    assert any(r.url.params.get("cursor") == "0:100:0" for r in api.requests)


@pytest.mark.parametrize("schema", ["issue_events", "issue_hashes"])
def test_issue_children_carry_the_issue_id(schema):
    api = SentryApi()

    rows = read(api, schema)

    table = "events" if schema == "issue_events" else "hashes"
    assert len(rows) == len(api.store.rows(table))
    assert all(row["issue_id"] for row in rows)
    if schema == "issue_events":
        assert all(row["issue_id"] == row["groupID"] for row in rows)


def test_children_of_many_parents_are_fetched_concurrently():
    api = SentryApi()
    lock = threading.Lock()
    in_flight = [0, 0]  # now, most

    def slow(request):
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        time.sleep(0.005)
        try:
            return api(request)
        finally:
            with lock:
                in_flight[0] -= 1

    rows = read(api, "project_events", handler=slow)

    assert len(rows) == len(api.store.rows("events"))
    assert 1 < in_flight[1] <= 10  # bounded worker threads


@pytest.mark.parametrize("slug", ["../../organizations/acme", "a/b", "%2e%2e", "x?cursor=9:9:9"])
def test_a_hostile_project_slug_stays_one_path_segment(slug):
    api = SentryApi()
    api.add_project(slug)

    read(api, "project_events")

    paths = {r.url.raw_path.split(b"?")[0] for r in api.requests if b"/events/" in r.url.raw_path}
    assert len(paths) == 102
    assert all(path.count(b"/") == 7 for path in paths)  # /api/0/projects/acme/<one>/events/
    assert not any(b"cursor=9" in r.url.raw_path for r in api.requests)


def test_a_hostile_issue_id_stays_one_path_segment():
    api = SentryApi()
    issue = {**api.store.rows("issues")[0], "id": "../../../projects/acme/x"}
    api.store.add("issues", [issue])

    rows = read(api, "issue_tag_values")  # the API knows no such issue: 404, skipped

    assert len(rows) == len(api.store.rows("tag_values"))
    hostile = [r for r in api.requests if b"projects" in r.url.raw_path]
    assert hostile
    assert all(
        r.url.raw_path.startswith(b"/api/0/organizations/acme/issues/..%2F") for r in hostile
    )


def test_an_issue_gone_between_the_two_reads_is_skipped():
    api = SentryApi()
    gone = api.store.rows("issues")[1]["id"]
    api.inject(StatusFailure(status=404, json={"detail": "Not found"}), path=f"{ISSUES}{gone}/")

    rows = read(api, "issue_events")

    assert gone not in {row["issue_id"] for row in rows}
    assert len(rows) == len([e for e in api.store.rows("events") if e["groupID"] != gone])


# --- tag values: the two-level fan-out ---------------------------------------------------------


def test_tag_values_are_read_per_issue_and_tag_with_composite_keys():
    api = SentryApi()

    rows = read(api, "issue_tag_values")

    expected = {(r["issue_id"], r["key"], r["value"]) for r in api.store.rows("tag_values")}
    assert len(rows) == len(expected)
    assert {(r["issue_id"], r["key"], r["value"]) for r in rows} == expected
    url_values = [r for r in rows if r["key"] == "url"]
    assert len(url_values) == 150  # two pages of one tag, Link header followed


def _tag_values(api, clock=None, **options):
    clock = clock or ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep)
    client = RestClient(SOURCE.client_config(CONFIG), runtime)
    return client, TagValues(client, ORGANIZATION, **options)


def test_a_lasting_server_error_on_one_tag_is_skipped_and_reported():
    api = SentryApi()
    first = api.store.rows("issues")[0]["id"]
    api.inject(StatusFailure(status=503), times=100, path=f"{ISSUES}{first}/tags/url/values/")
    clock = ManualClock()
    client, reader = _tag_values(api, clock)

    with client:
        rows = [row for page in reader for row in page]

    assert [(s.value, s.status) for s in reader.skipped] == [(f"{first}/url", 503)]
    assert len(rows) == len(api.store.rows("tag_values")) - 150
    assert any(r["issue_id"] == first and r["key"] == "level" for r in rows)
    assert clock.slept  # retried before it was given up


def test_a_tag_is_read_for_at_most_the_page_cap():
    api = SentryApi()
    client, reader = _tag_values(api, max_pages=1)

    with client:
        rows = [row for page in reader for row in page]

    first = api.store.rows("issues")[0]["id"]
    assert reader.capped == [f"{first}/url"]
    assert len([r for r in rows if r["key"] == "url"]) == 100


def test_a_tag_value_read_resumes_after_the_last_finished_page_of_issues():
    api = SentryApi()
    first_page = {row["id"] for row in read(api, "issues")[:100]}
    client, reader = _tag_values(api)
    with client:
        assert reader.resume_state is None  # nothing finished yet: start over
        seen = []
        for page in reader:
            seen.extend(page)
            if reader.resume_state is not None:
                break  # interrupted while the second page of issues is in progress
        state = reader.resume_state
    assert first_page <= {row["issue_id"] for row in seen}

    before = len(api.requests)
    client, resumed = _tag_values(api, resume=state)
    with client:
        rest = [row for page in resumed for row in page]

    assert resumed.resume_state is None  # complete
    assert api.requests[before].url.params["cursor"] == "0:100:0"  # the issues, page two
    assert not first_page & {row["issue_id"] for row in rest}
    everything = {(r["issue_id"], r["key"], r["value"]) for r in seen + rest}
    stored = {(r["issue_id"], r["key"], r["value"]) for r in api.store.rows("tag_values")}
    assert everything == stored


# --- rate limits and failures ------------------------------------------------------------------


def test_a_rate_limit_waits_until_the_sentry_reset():
    api = SentryApi()
    clock = ManualClock()
    api.inject(rate_limited(reset_in=25, now=clock.now()))

    rows = read(api, "projects", clock=clock)

    assert len(rows) == 101
    assert clock.slept == [25.0]


@pytest.mark.parametrize(
    ("status", "body", "error", "says"),
    [
        (401, {"detail": "Invalid token"}, AuthenticationError, "rejected the auth token"),
        (
            403,
            {"detail": "You do not have permission to perform this action."},
            PermissionDeniedError,
            "event:read",
        ),
        (404, {"detail": "The requested resource does not exist"}, NotFoundError, "region"),
    ],
)
@pytest.mark.parametrize("schema", ["projects", "issues", "issue_tag_values"])
def test_permanent_failures_fail_at_once_with_a_rule(schema, status, body, error, says):
    api = SentryApi()
    api.inject(StatusFailure(status=status, json=body), times=10)

    with pytest.raises(error) as caught:
        read(api, schema)

    assert len(api.requests) == 1
    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert says in rule.message
    assert TOKEN not in str(caught.value)


def test_a_bad_request_fails_at_once_without_a_rule():
    api = SentryApi()

    def handler(request):
        return json_response(400, {"detail": "start: Invalid date format"})

    with pytest.raises(BadRequestError, match="Invalid date"):
        read(api, "issues", handler=handler)


def test_skips_reach_the_progress_sink():
    api = SentryApi()
    first = api.store.rows("issues")[0]["id"]
    api.inject(StatusFailure(status=503), times=100, path=f"{ISSUES}{first}/tags/url/values/")
    events = []

    class Sink:
        def emit(self, event):
            events.append(event)

    clock = ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep, progress=Sink())
    response = SOURCE.source_for_pipeline(
        CONFIG, SourceInputs(schema_name="issue_tag_values"), runtime
    )
    list(response.items())

    messages = [e.detail for e in events if e.kind is ProgressKind.NOTICE]
    assert messages == [f"tag '{first}/url' skipped (HTTP 503)"]


def test_a_next_link_without_the_results_flag_is_not_followed():
    api = SentryApi()

    def handler(request):
        answer = api(request)
        answer.headers["Link"] = answer.headers["Link"].replace('; results="true"', "")
        return answer

    assert len(read(api, "projects", handler=handler)) == 100
    assert len(api.requests) == 1


def test_an_issue_whose_tag_keys_keep_failing_is_skipped_and_reported():
    api = SentryApi()
    second = api.store.rows("issues")[1]["id"]
    api.inject(StatusFailure(status=500), times=100, path=f"{ISSUES}{second}/tags/")
    client, reader = _tag_values(api)

    with client:
        rows = [row for page in reader for row in page]

    assert [(s.parent, s.value, s.status) for s in reader.skipped] == [("issues", second, 500)]
    assert second not in {row["issue_id"] for row in rows}
    assert len(rows) == len([r for r in api.store.rows("tag_values") if r["issue_id"] != second])


def test_tag_values_yield_a_resume_point_that_covers_exactly_the_rows_before_it():
    api = SentryApi()
    clock = ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep)
    inputs = SourceInputs(schema_name="issue_tag_values")
    items = list(SOURCE.source_for_pipeline(CONFIG, inputs, runtime).items())
    [(index, point)] = [(i, item) for i, item in enumerate(items) if isinstance(item, ResumePoint)]
    before = [row for page in items[:index] for row in page]

    rest = read(api, "issue_tag_values", resume_state=point.state)

    def key(row):
        return (row["issue_id"], row["key"], row["value"])

    stored = {key(r) for r in api.store.rows("tag_values")}
    assert not {key(r) for r in before} & {key(r) for r in rest}  # nothing read twice
    assert {key(r) for r in before} | {key(r) for r in rest} == stored  # nothing lost


# --- the documented parameter rules --------------------------------------------------------------


def _ask(api, path, query):
    request = httpx.Request(
        "GET", f"https://sentry.io{path}?{query}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return api(request)


NOW = "2025-03-02T08:00:00Z"


@pytest.mark.parametrize(
    ("where", "query", "detail"),
    [
        ("issues", f"query=&end={NOW}", "start and end are both required"),
        ("issues", f"start={NOW}", "start and end are both required"),
        ("issue_events", f"start={NOW}", "start and end are both required"),
        ("project_events", f"start={NOW}", "Invalid date range parameters provided"),
        ("project_events", f"end={NOW}", "Invalid date range parameters provided"),
        ("issues", f"start=yesterday&end={NOW}", "start: Invalid date format"),
        ("project_events", f"start={NOW}&end=03/02/2025", "end: Invalid date format"),
        ("tag_values", "sort=random", "Invalid sort: random"),
    ],
)
def test_the_emulator_refuses_what_sentry_refuses(where, query, detail):
    api = SentryApi()
    path = _path(api, where)

    answer = _ask(api, path, query)

    assert (answer.status_code, answer.json()) == (400, {"detail": detail})
    assert [r.url.path for r in api.requests] == [path]  # a refused request is recorded too


@pytest.mark.parametrize(
    ("where", "query"),
    [
        ("issues", "query="),
        ("issues", f"query=&start=2025-03-01T08:00:00Z&end={NOW}"),
        ("issues", f"query=&start={NOW}&statsPeriod=14d"),  # statsPeriod wins over start/end
        ("project_events", "start=2025-03-01&end=2025-03-02T08:00:00.123%2B00:00"),
        ("tag_values", "sort=-count"),
    ],
)
def test_the_emulator_accepts_what_sentry_accepts(where, query):
    api = SentryApi()

    assert _ask(api, _path(api, where), query).status_code == 200


def _path(api, where):
    issue = api.store.rows("issues")[0]["id"]
    return {
        "issues": ISSUES,
        "issue_events": f"{ISSUES}{issue}/events/",
        "project_events": f"/api/0/projects/{ORGANIZATION}/project-1/events/",
        "tag_values": f"{ISSUES}{issue}/tags/url/values/",
    }[where]


WATERMARK = "2025-03-01T20:00:00Z"


@pytest.mark.parametrize(
    ("schema", "inputs"),
    [
        ("issues", {}),
        ("issues", incremental("lastSeen")),  # a first incremental read: no watermark yet
        ("issues", incremental("lastSeen", WATERMARK)),
        ("issues", incremental("lastSeen", None, WATERMARK)),  # resumed, still no watermark
        ("issues", {"start_date": dt.datetime(2025, 3, 1, 20, tzinfo=dt.UTC)}),
        ("project_events", {}),
        ("project_events", {"start_date": dt.datetime(2025, 3, 1, 20, tzinfo=dt.UTC)}),
    ],
)
def test_a_time_window_is_always_sent_as_a_pair(schema, inputs):
    # Sentry takes `start` and `end` together or not at all; one alone is a 400.
    api = SentryApi()

    read(api, schema, **inputs)

    windows = [r.url.params for r in api.requests if r.url.path.endswith(("/issues/", "/events/"))]
    assert windows
    assert all(("start" in params) == ("end" in params) for params in windows)


def test_a_read_without_a_lower_bound_asks_from_the_epoch_and_returns_every_row():
    api = SentryApi()

    rows = read(api, "project_events")

    children = [r.url.params for r in api.requests if r.url.path.endswith("/events/")]
    assert {params["start"] for params in children} == {"1970-01-01T00:00:00Z"}
    assert len(rows) == len(api.store.rows("events"))


def test_a_row_added_at_the_watermark_comes_in_the_read_from_it():
    api = SentryApi()
    before = read(api, "issues")
    watermark = before[len(before) // 2]["lastSeen"]

    kit.add_row_at(api, "issues", "lastSeen", watermark)
    rows = read(api, "issues", **incremental("lastSeen", watermark))

    known = {row["id"] for row in before}
    assert [row["lastSeen"] for row in rows if row["id"] not in known] == [watermark]
    assert all(row["lastSeen"] >= watermark for row in rows)


# --- issue columns (issue 16, item 1) ----------------------------------------------------------


def test_the_emulator_sends_an_issue_s_count_as_a_string_and_its_project_as_an_object():
    api = SentryApi()
    client = RestClient(SOURCE.client_config(CONFIG), kit.runtime(api))

    with client:
        path = ISSUES.removeprefix("/api/0")
        listed = client.get_json(path, params={"query": ""})
        one = client.get_json(f"{path}{listed[0]['id']}/")

    assert isinstance(listed[0]["count"], str)
    assert listed[0]["count"].isdigit()
    assert set(listed[0]["project"]) == {"id", "slug", "name"}
    assert one == listed[0]


def test_an_issue_s_count_is_an_integer_and_its_project_joins_the_projects():
    api = SentryApi()
    projects = {row["id"]: row["slug"] for row in read(api, "projects")}
    sent = {row["id"]: row for row in api.store.rows("issues")}

    rows = read(api, "issues")

    assert rows
    for row in rows:
        assert row["count"] == int(sent[row["id"]]["count"])
        assert isinstance(row["count"], int)
        assert projects[row["project_id"]] == row["project_slug"]
        assert row["project"]["id"] == row["project_id"]  # the object stays too


def test_a_count_that_is_no_number_is_kept_as_it_came():
    assert issue_row({"id": "1", "count": "many", "project": None}) == {
        "id": "1",
        "count": "many",
        "project": None,
        "project_id": None,
        "project_slug": None,
    }


def test_a_resumed_issues_read_has_the_issue_columns_too():
    api = SentryApi()
    newest = max(row["lastSeen"] for row in api.store.rows("issues"))

    rows = read(api, "issues", **incremental("lastSeen", "2025-01-01T00:00:00Z", newest))

    assert rows
    assert all(isinstance(row["count"], int) and row["project_id"] for row in rows)


# --- the undocumented list of an issue's tag keys (issue 16, item 1) ---------------------------


def _messages(api):
    events = []

    class Sink:
        def emit(self, event):
            events.append(event)

    clock = ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep, progress=Sink())
    response = SOURCE.source_for_pipeline(
        CONFIG, SourceInputs(schema_name="issue_tag_values"), runtime
    )
    rows = [row for page in response.items() for row in page]
    return rows, [e.detail for e in events if e.kind is ProgressKind.NOTICE]


def test_a_tag_key_list_that_is_not_served_skips_the_schema_with_one_reason():
    api = SentryApi()
    api.lists_tag_keys = False

    rows, messages = _messages(api)

    assert rows == []
    assert len(messages) == 1
    assert "not a documented Sentry endpoint" in messages[0]
    assert "answered 404" in messages[0]
    # Once known, the list is not asked for every remaining issue.
    asked = [r for r in api.requests if r.url.path.endswith("/tags/")]
    assert len(asked) <= settings.CHILDREN_OF_ISSUES.max_workers


def test_a_404_for_an_issue_that_is_gone_skips_that_issue_only():
    api = SentryApi()
    second = api.store.rows("issues")[1]["id"]
    # The tag keys and the issue itself: both gone.
    gone = StatusFailure(status=404, json={"detail": "Not found"})
    api.inject(gone, times=2, path=f"{ISSUES}{second}/")

    rows, messages = _messages(api)

    assert messages == [f"the tag keys of issue {second!r} skipped (HTTP 404)"]
    assert len(rows) == len([r for r in api.store.rows("tag_values") if r["issue_id"] != second])
