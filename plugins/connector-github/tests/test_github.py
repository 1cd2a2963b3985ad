"""Reading GitHub: pagination, incremental filters, fan-out, rate limits and failures."""

from __future__ import annotations

import httpx
import pytest

from connector_github._config import GithubConfig
from connector_github.settings import GithubSource
from connector_github.testing import REPOSITORY, TOKEN, GithubApi, kit, rate_limited
from headwater import ManualClock, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import StatusFailure
from headwater.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    classify,
)

SOURCE = GithubSource()
CONFIG = structure_source_config(
    GithubConfig,
    SOURCE.get_source_config(),
    {"repository": REPOSITORY, "token": TOKEN},
    resolvers=BUILTIN_RESOLVERS,
)


def read(api, schema, clock=None, **inputs):
    clock = clock or ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep)
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


@pytest.mark.parametrize(
    ("schema", "rows", "requests"),
    [
        ("issues", 110, 3),  # 215 issues listed (105 are pull requests): 100 + 100 + 15
        ("pull_requests", 105, 2),
        ("commits", 210, 3),
        ("stargazers", 150, 2),
        ("releases", 101, 2),
        ("workflow_runs", 120, 2),
    ],
)
def test_every_page_is_read_once_following_the_link_header(schema, rows, requests):
    api = GithubApi()

    read_rows = read(api, schema)

    assert len(read_rows) == rows
    assert len(api.requests) == requests
    assert all(r.url.params["per_page"] == "100" for r in api.requests)
    assert [r.url.params.get("page") for r in api.requests][1:] == [
        str(n) for n in range(2, requests + 1)
    ]


def test_pull_requests_are_left_out_of_issues():
    rows = read(GithubApi(), "issues")

    assert not any("pull_request" in row for row in rows)
    assert len({row["id"] for row in rows}) == 110


def test_issues_are_asked_for_in_every_state_oldest_update_first():
    api = GithubApi()

    rows = read(api, "issues")

    params = api.requests[0].url.params
    assert (params["state"], params["sort"], params["direction"]) == ("all", "updated", "asc")
    assert {row["state"] for row in rows} == {"open", "closed"}
    assert [row["updated_at"] for row in rows] == sorted(row["updated_at"] for row in rows)


def test_stargazers_come_with_starred_at_through_the_star_media_type():
    api = GithubApi()

    rows = read(api, "stargazers")

    assert api.requests[0].headers["Accept"] == "application/vnd.github.star+json"
    assert all(row["starred_at"] and row["user_id"] == row["user"]["id"] for row in rows)


def test_workflow_runs_are_unwrapped_from_their_envelope():
    rows = read(GithubApi(), "workflow_runs")

    assert {"id", "status", "created_at"} <= set(rows[0])


def test_commits_carry_their_commit_dates_at_the_top_level():
    rows = read(GithubApi(), "commits")

    assert all(row["committed_at"] == row["commit"]["committer"]["date"] for row in rows)
    assert all(row["authored_at"] == row["commit"]["author"]["date"] for row in rows)


def test_an_empty_repository_has_no_commits():
    api = GithubApi(empty=True)

    assert read(api, "commits") == []
    assert api.requests[0].url.path.endswith("/commits")


# --- incremental reads -----------------------------------------------------------------------


def test_issues_are_read_since_the_watermark():
    api = GithubApi()
    watermark = max(row["updated_at"] for row in read(api, "issues"))
    api.add_rows("issues")

    rows = read(api, "issues", **incremental("updated_at", watermark))

    assert api.requests[-1].url.params["since"] == watermark
    assert all(row["updated_at"] >= watermark for row in rows)
    assert len(rows) == 4  # the one at the watermark, the updated one, two new ones


def test_commits_are_read_since_the_watermark_until_now():
    api = GithubApi()
    watermark = max(row["committed_at"] for row in read(api, "commits"))
    api.add_rows("commits")

    rows = read(api, "commits", **incremental("committed_at", watermark))

    params = api.requests[-1].url.params
    assert params["since"] == watermark
    assert params["until"] == "2026-01-01T00:00:00Z"  # the runtime clock's now
    assert len(rows) == 3
    assert [row["committed_at"] for row in rows] == sorted(
        (row["committed_at"] for row in rows), reverse=True
    )


def test_an_interrupted_commits_read_resumes_below_its_earliest_value():
    api = GithubApi()
    rows = read(api, "commits")
    earliest = rows[99]["committed_at"]

    resumed = read(api, "commits", **incremental("committed_at", None, earliest))

    assert api.requests[-1].url.params["until"] == earliest
    assert all(row["committed_at"] <= earliest for row in resumed)
    assert len(resumed) == 111  # below and at the earliest value


def test_pull_requests_stop_at_the_watermark():
    api = GithubApi()
    watermark = max(row["updated_at"] for row in read(api, "pull_requests"))
    api.add_rows("pull_requests")
    before = len(api.requests)

    rows = read(api, "pull_requests", **incremental("updated_at", watermark))

    assert len(api.requests) - before == 1  # newest first: the first page reaches below it
    params = api.requests[-1].url.params
    assert (params["sort"], params["direction"]) == ("updated", "desc")
    assert "updated_from" not in params  # the pulls list has no filter parameter
    assert len(rows) == 4
    assert all(row["updated_at"] >= watermark for row in rows)


def test_a_resumed_pull_requests_read_skips_rows_above_its_earliest_value():
    api = GithubApi()
    rows = read(api, "pull_requests")
    earliest = rows[99]["updated_at"]

    resumed = read(api, "pull_requests", **incremental("updated_at", None, earliest))

    assert {row["id"] for row in resumed} == {row["id"] for row in rows[99:]}


@pytest.mark.parametrize(
    ("schema", "field"),
    [("issues", "updated_at"), ("pull_requests", "updated_at"), ("commits", "committed_at")],
)
def test_a_row_added_at_the_watermark_comes_in_the_read_from_it(schema, field):
    api = GithubApi()
    before = read(api, schema)
    watermark = sorted(row[field] for row in before)[len(before) // 2]
    key = "sha" if schema == "commits" else "id"

    kit.add_row_at(api, schema, field, watermark)
    rows = read(api, schema, **incremental(field, watermark))

    known = {row[key] for row in before}
    assert [row[field] for row in rows if row[key] not in known] == [watermark]
    assert all(row[field] >= watermark for row in rows)


# --- the documented parameter rules --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        (
            "issues",
            "since=yesterday",
            "The since parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            "commits",
            "until=2025-03-01T08:00:00Z&since=03/01/2025",
            "The since parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ",
        ),
        (
            "commits",
            "until=tomorrow",
            "The until parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ",
        ),
        ("issues", "state=merged", "Validation Failed: state 'merged'"),
        ("pulls", "state=draft", "Validation Failed: state 'draft'"),
        ("issues", "direction=sideways", "Validation Failed: direction 'sideways'"),
        ("issues", "sort=popularity", "Validation Failed: sort 'popularity'"),
        ("pulls", "direction=up", "Validation Failed: direction 'up'"),
        ("pulls", "sort=comments", "Validation Failed: sort 'comments'"),
    ],
)
def test_the_emulator_refuses_what_github_refuses(path, query, message):
    api = GithubApi()

    answer = _ask(api, f"/repos/{REPOSITORY}/{path}?{query}")

    assert answer.status_code == 422
    assert answer.json()["message"] == message
    assert len(api.requests) == 1  # a refused request is recorded too


@pytest.mark.parametrize(
    ("path", "query", "rows"),
    [
        ("issues", "state=all&sort=updated&direction=asc&since=2025-03-01T08:00:00Z", 30),
        ("issues", "since=2025-03-01", 30),  # a date alone is ISO 8601 too
        ("commits", "since=2025-03-01T08:00:00%2B00:00&until=2026-01-01T00:00:00Z", 30),
        ("pulls", "per_page=500&state=all", 100),  # more than the maximum is served as 100
    ],
)
def test_the_emulator_accepts_what_github_accepts(path, query, rows):
    api = GithubApi()

    answer = _ask(api, f"/repos/{REPOSITORY}/{path}?{query}")

    assert answer.status_code == 200
    assert len(answer.json()) == rows


def _ask(api, path_and_query):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return api(httpx.Request("GET", f"https://api.github.com{path_and_query}", headers=headers))


# --- fan-out -----------------------------------------------------------------------------------


def test_reviews_are_read_per_pull_request_with_its_fields():
    api = GithubApi()
    pulls = {row["id"]: row["number"] for row in read(api, "pull_requests")}

    rows = read(api, "pull_request_reviews")

    assert len(rows) == len(api.store.rows("reviews"))
    assert all(pulls[row["_pull_requests_id"]] == row["pull_number"] for row in rows)
    assert "_pull_requests_number" not in rows[0]  # renamed to pull_number


def test_a_pull_request_gone_between_the_two_reads_is_skipped():
    api = GithubApi()
    with_reviews = next(r for r in api.store.rows("reviews"))
    api.inject(
        StatusFailure(status=404, json={"message": "Not Found"}),
        path=f"/repos/{REPOSITORY}/pulls/{with_reviews['pull_number']}/reviews",
    )

    rows = read(api, "pull_request_reviews")

    expected = [
        r for r in api.store.rows("reviews") if r["pull_number"] != with_reviews["pull_number"]
    ]
    assert len(rows) == len(expected)


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "says"),
    [
        (401, {"message": "Bad credentials"}, AuthenticationError, "rejected the token"),
        (
            403,
            {"message": "Resource not accessible by personal access token"},
            PermissionDeniedError,
            "'Issues'",
        ),
        (404, {"message": "Not Found"}, NotFoundError, "no such repository"),
    ],
)
def test_permanent_failures_fail_at_once_with_a_rule(status, body, error, says):
    api = GithubApi()
    api.inject(StatusFailure(status=status, json=body), times=10)

    with pytest.raises(error) as caught:
        read(api, "issues")

    assert len(api.requests) == 1
    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert says in rule.message
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("schema", "permission"),
    [
        ("pull_requests", "'Pull requests'"),
        ("commits", "'Contents'"),
        ("releases", "'Contents'"),
        ("workflow_runs", "'Actions'"),
        ("stargazers", "'Metadata'"),
    ],
)
def test_a_plain_403_names_the_permission_the_endpoint_needs(schema, permission):
    api = GithubApi()
    api.inject(StatusFailure(status=403, json={"message": "Must have admin rights"}))

    with pytest.raises(PermissionDeniedError) as caught:
        read(api, schema)

    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert permission in rule.message


@pytest.mark.parametrize(
    ("failure", "waited"),
    [
        (StatusFailure(status=429, headers={"Retry-After": "30"}), 30.0),
        (  # a secondary rate limit: 403 with retry-after
            StatusFailure(
                status=403,
                headers={"retry-after": "45"},
                json={"message": "You have exceeded a secondary rate limit."},
            ),
            45.0,
        ),
        (rate_limited(403, reset_in=90, now=ManualClock().now()), 90.0),  # primary: reset
        (rate_limited(429, reset_in=20, now=ManualClock().now()), 20.0),
        (rate_limited(403, reset_in=1800, now=ManualClock().now()), 1800.0),  # up to an hour
    ],
)
def test_rate_limits_are_waited_out(failure, waited):
    api = GithubApi()
    api.inject(failure)
    clock = ManualClock()

    rows = read(api, "releases", clock=clock)

    assert len(rows) == 101
    assert clock.slept == [waited]


def test_a_secondary_rate_limit_without_headers_is_backed_off_not_fatal():
    api = GithubApi()
    body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}
    api.inject(StatusFailure(status=403, json=body))
    clock = ManualClock()

    rows = read(api, "releases", clock=clock)

    assert len(rows) == 101
    assert clock.slept == [60.0]  # "wait at least one minute", in GitHub's words
