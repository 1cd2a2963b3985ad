"""Reading the API: JSON:API rows, pagination, filters, fan-out, failures."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from connector_klaviyo._config import KlaviyoConfig
from connector_klaviyo.settings import GreaterThan, KlaviyoSource, flatten
from connector_klaviyo.testing import PRIVATE_KEY, KlaviyoApi, error_body, kit, throttled
from headwater import ManualClock, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import StatusFailure
from headwater.errors import (
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    classify,
)
from headwater.rest import RestClient

SOURCE = KlaviyoSource()
CONFIG = structure_source_config(
    KlaviyoConfig,
    SOURCE.get_source_config(),
    {"private_api_key": PRIVATE_KEY},
    resolvers=BUILTIN_RESOLVERS,
)


def read(api, schema, *, clock=None, **inputs):
    clock = clock or ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep)
    response = SOURCE.source_for_pipeline(
        CONFIG, SourceInputs(schema_name=schema, **inputs), runtime
    )
    return [row for page in response.items() for row in page]


def second_below(value):
    moment = dt.datetime.fromisoformat(value) - dt.timedelta(seconds=1)
    return f"{moment.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


def incremental(field, last_value):
    return {
        "should_use_incremental_field": True,
        "incremental_field": field,
        "incremental_field_type": "datetime",
        "db_incremental_field_last_value": last_value,
    }


# --- rows and pages ----------------------------------------------------------------------------


def test_a_resource_is_flattened_with_its_relationship_ids():
    resource = {
        "type": "event",
        "id": "E1",
        "attributes": {"datetime": "2025-03-01T08:00:00+00:00", "uuid": "u"},
        "relationships": {
            "metric": {"data": {"type": "metric", "id": "M1"}},
            "profile": {"data": {"type": "profile", "id": "P1"}},
            "attributions": {"data": [{"type": "attribution", "id": "A1"}]},
        },
        "links": {"self": "https://a.klaviyo.com/api/events/E1"},
    }

    assert flatten(resource) == {
        "id": "E1",
        "type": "event",
        "datetime": "2025-03-01T08:00:00+00:00",
        "uuid": "u",
        "metric_id": "M1",
        "profile_id": "P1",
    }


def test_profiles_are_read_across_pages_by_their_next_links():
    api = KlaviyoApi()

    rows = read(api, "profiles")

    assert len(rows) == 230
    assert len({row["id"] for row in rows}) == 230
    assert len(api.requests) == 3
    first, second = api.requests[0].url, api.requests[1].url
    assert (first.params["page[size]"], first.params["sort"]) == ("100", "updated")
    assert "page[cursor]" not in first.params
    # The next link is followed as sent: it carries the request's parameters once each.
    assert second.params["page[cursor]"]
    assert second.params.get_list("page[size]") == ["100"]
    # A profile without `updated` (nullable) sorts first.
    assert [row["updated"] or "" for row in rows] == sorted(row["updated"] or "" for row in rows)


def test_events_come_oldest_first_in_pages_of_the_largest_size_with_their_relationships():
    api = KlaviyoApi()

    rows = read(api, "events")

    assert len(rows) == 1030
    assert len(api.requests) == 2  # up to 1000 a page (200 without page[size])
    assert api.requests[0].url.params["page[size]"] == "1000"
    assert [row["datetime"] for row in rows] == sorted(row["datetime"] for row in rows)
    assert all(row["metric_id"] and row["profile_id"] for row in rows)


def test_flows_are_read_fifty_a_page():
    api = KlaviyoApi()

    rows = read(api, "flows")

    assert len(rows) == 60
    assert api.requests[0].url.params["page[size]"] == "50"


@pytest.mark.parametrize(
    ("schema", "channel"), [("email_campaigns", "email"), ("sms_campaigns", "sms")]
)
def test_campaigns_are_read_per_channel(schema, channel):
    api = KlaviyoApi()

    rows = read(api, schema)

    expected = {row["id"] for row in api.store.rows("campaigns") if row["channel"] == channel}
    assert {row["id"] for row in rows} == expected
    assert len(api.requests) == 2
    for request in api.requests:
        assert request.url.params.get_list("filter") == [f"equals(messages.channel,'{channel}')"]


# --- incremental reads -------------------------------------------------------------------------


def test_the_bound_is_a_greater_than_filter_optionally_combined_with_a_base_filter():
    assert GreaterThan(field="updated")("2025-03-01T08:00:00+00:00") == (
        "greater-than(updated,2025-03-01T08:00:00+00:00)"
    )
    base = "equals(messages.channel,'sms')"
    moment = dt.datetime(2025, 3, 1, 8, 0, 1, tzinfo=dt.UTC)
    assert GreaterThan(field="updated_at", base=base)(moment) == (
        "and(equals(messages.channel,'sms'),greater-than(updated_at,2025-03-01T08:00:01Z))"
    )


def test_profiles_are_read_since_the_watermark_inclusive():
    api = KlaviyoApi()
    watermark = max(row["updated"] for row in read(api, "profiles") if row["updated"])
    api.add_rows("profiles")

    rows = read(api, "profiles", **incremental("updated", watermark))

    sent = api.requests[-1].url.params["filter"]
    assert sent == f"greater-than(updated,{second_below(watermark)})"  # inclusive
    assert all(row["updated"] >= watermark for row in rows)
    assert len(rows) == 4  # the one at the watermark, the updated one, two new ones


def test_events_are_read_since_the_watermark():
    api = KlaviyoApi()
    watermark = max(row["datetime"] for row in read(api, "events"))
    api.add_rows("events")

    rows = read(api, "events", **incremental("datetime", watermark))

    assert api.requests[-1].url.params["filter"].startswith("greater-than(datetime,")
    assert len(rows) == 3


def test_a_campaign_bound_is_combined_with_the_channel_filter():
    api = KlaviyoApi()
    watermark = max(row["updated_at"] for row in read(api, "email_campaigns"))
    api.add_rows("email_campaigns")

    rows = read(api, "email_campaigns", **incremental("updated_at", watermark))

    params = api.requests[-1].url.params
    assert params.get_list("filter") == [
        f"and(equals(messages.channel,'email'),greater-than(updated_at,{second_below(watermark)}))"
    ]
    assert {row["status"] for row in rows} == {"Sent", "Draft"}
    assert len(rows) == 3  # at the watermark, the updated one and the new email campaign


def test_the_start_date_bounds_a_first_incremental_read():
    api = KlaviyoApi()
    first = {
        **incremental("updated", None),
        "start_date": dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC),
    }

    rows = read(api, "lists", **first)

    assert api.requests[0].url.params["filter"] == "greater-than(updated,2025-03-01T09:59:59Z)"
    assert all(row["updated"] >= "2025-03-01T10:00:00+00:00" for row in rows)


def test_a_watermark_in_the_future_is_clamped_to_now():
    api = KlaviyoApi()
    clock = ManualClock()

    read(api, "flows", clock=clock, **incremental("updated", "2099-01-01T00:00:00+00:00"))

    now = clock.now()
    assert api.requests[0].url.params["filter"] == f"greater-than(updated,{now:%Y-%m-%dT%H:%M:%SZ})"


def test_metrics_are_read_whole():
    api = KlaviyoApi()

    rows = read(api, "metrics")

    assert len(rows) == 55
    assert "filter" not in api.requests[0].url.params


# --- fan-out -----------------------------------------------------------------------------------


def test_list_profiles_are_read_per_list_and_carry_the_list_id():
    api = KlaviyoApi()

    rows = read(api, "list_profiles")

    members = {(row["list_id"], row["profile_id"]) for row in api.store.rows("memberships")}
    assert {(row["list_id"], row["id"]) for row in rows} == members
    assert len(rows) == len(members)
    assert "_lists_id" not in rows[0]  # renamed to list_id
    first_list = api.store.rows("lists")[0]["id"]
    pages = [r for r in api.requests if r.url.path == f"/api/lists/{first_list}/profiles"]
    assert len(pages) == 2  # 120 members, 100 a page


def test_a_list_deleted_between_the_two_reads_is_skipped():
    api = KlaviyoApi()
    gone = api.store.rows("lists")[1]["id"]
    api.inject(
        StatusFailure(status=404, json=error_body(404, "not_found", "Not found.", "No list.")),
        path=f"/api/lists/{gone}/profiles",
    )

    rows = read(api, "list_profiles")

    assert gone not in {row["list_id"] for row in rows}
    assert rows


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "error", "says"),
    [
        (401, "not_authenticated", AuthenticationError, "rejected the private API key"),
        (403, "permission_denied", PermissionDeniedError, "'profiles:read'"),
        (400, "invalid", BadRequestError, None),
    ],
)
def test_permanent_failures_fail_at_once(status, code, error, says):
    api = KlaviyoApi()
    body = error_body(status, code, "Refused.", "Refused.")
    api.inject(StatusFailure(status=status, json=body), times=10)

    with pytest.raises(error) as caught:
        read(api, "profiles")

    assert len(api.requests) == 1
    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    if says is None:
        assert rule is None
    else:
        assert rule is not None
        assert says in rule.message
    assert PRIVATE_KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("schema", "scope"),
    [
        ("events", "'events:read'"),
        ("email_campaigns", "'campaigns:read'"),
        ("flows", "'flows:read'"),
        ("lists", "'lists:read'"),
        ("metrics", "'metrics:read'"),
    ],
)
def test_a_403_names_the_scope_the_table_needs(schema, scope):
    api = KlaviyoApi()
    body = error_body(403, "permission_denied", "Forbidden.", "Missing scope.")
    api.inject(StatusFailure(status=403, json=body))

    with pytest.raises(PermissionDeniedError) as caught:
        read(api, schema)

    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert scope in rule.message


def test_a_403_on_list_members_names_both_scopes():
    api = KlaviyoApi()
    first = api.store.rows("lists")[0]["id"]
    body = error_body(403, "permission_denied", "Forbidden.", "Missing scope.")
    api.inject(StatusFailure(status=403, json=body), path=f"/api/lists/{first}/profiles")

    with pytest.raises(PermissionDeniedError) as caught:
        read(api, "list_profiles")

    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert "'lists:read' and 'profiles:read'" in rule.message


def test_an_unknown_revision_has_its_own_message():
    api = KlaviyoApi()
    body = error_body(400, "invalid", "Invalid input.", "The revision 2025-01-15 is retired.")
    api.inject(StatusFailure(status=400, json=body))

    with pytest.raises(BadRequestError) as caught:
        read(api, "metrics")

    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert "upgrade connector-klaviyo" in rule.message


@pytest.mark.parametrize(
    ("schema", "field", "key"),
    [
        ("profiles", "updated", "id"),
        ("events", "datetime", "id"),
        ("email_campaigns", "updated_at", "id"),
        ("sms_campaigns", "updated_at", "id"),
        ("flows", "updated", "id"),
        ("lists", "updated", "id"),
    ],
)
def test_a_row_added_at_the_watermark_comes_in_the_read_from_it(schema, field, key):
    api = KlaviyoApi()
    before = read(api, schema)
    dated = sorted(row[field] for row in before if row[field])
    watermark = dated[len(dated) // 2]

    kit.add_row_at(api, schema, field, watermark)
    rows = read(api, schema, **incremental(field, watermark))

    known = {row[key] for row in before}
    assert [row[field] for row in rows if row[key] not in known] == [watermark]
    assert all(row[field] >= watermark for row in rows)


@pytest.mark.parametrize(
    ("path", "query", "parameter", "detail"),
    [
        ("profiles", "page[size]=101", "page[size]", "between 1 and 100"),
        ("profiles", "page[size]=0", "page[size]", "between 1 and 100"),
        ("flows", "page[size]=51", "page[size]", "between 1 and 50"),
        ("lists/L000001/profiles", "page[size]=many", "page[size]", "between 1 and 100"),
        ("profiles", "sort=-name", "sort", "'-name' is not a valid sort"),
        ("events", "sort=created", "sort", "'created' is not a valid sort"),
        ("metrics", "sort=created", "sort", "'created' is not a valid sort"),
        ("campaigns", "sort=updated_at", "filter", "A channel filter is required"),
        ("campaigns", "filter=equals(status,'Draft')", "filter", "A channel filter is required"),
        ("campaigns", "filter=equals(messages.channel,'fax')", "filter", "channel filter"),
    ],
)
def test_the_emulator_refuses_what_klaviyo_documents(path, query, parameter, detail):
    api = KlaviyoApi()

    answer = _ask(api, f"/api/{path}?{query}")

    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert (error["code"], error["source"]) == ("invalid", {"parameter": parameter})
    assert detail in error["detail"]
    assert len(api.requests) == 1  # a refused request is recorded too


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("profiles", "page[size]=100&sort=-updated"),
        ("flows", "page[size]=50&sort=updated"),
        ("campaigns", "filter=equals(messages.channel,'sms')&sort=-created_at"),
        (
            "campaigns",
            "filter=and(equals(messages.channel,'email'),greater-than(updated_at,2025-03-01T08:00:00Z))",
        ),
    ],
)
def test_the_emulator_accepts_what_klaviyo_documents(path, query):
    assert _ask(KlaviyoApi(), f"/api/{path}?{query}").status_code == 200


def _ask(api, path_and_query):
    headers = {"Authorization": f"Klaviyo-API-Key {PRIVATE_KEY}", "revision": "2025-01-15"}
    return api(httpx.Request("GET", f"https://a.klaviyo.com{path_and_query}", headers=headers))


@pytest.mark.parametrize(
    "query",
    [
        "filter=greater-or-equal(updated,2025-03-01T08:00:00Z)",  # not documented for profiles
        "filter=greater-than(updated,'2025-03-01T08:00:00Z')",  # a quoted datetime
        "page[size]=101",
    ],
)
def test_the_emulator_refuses_what_the_api_refuses(query):
    api = KlaviyoApi()
    clock = ManualClock()

    with (
        pytest.raises(BadRequestError, match="400"),
        RestClient(SOURCE.client_config(CONFIG), kit.runtime(api, clock=clock)) as client,
    ):
        client.get_json(f"/api/profiles?{query}")


def test_a_rate_limit_is_waited_out():
    api = KlaviyoApi()
    api.inject(throttled(retry_after=30))
    clock = ManualClock()

    rows = read(api, "lists", clock=clock)

    assert len(rows) == 12
    assert clock.slept == [30.0]


# --- revision 2026-10-15 (issue 16, item 6) ----------------------------------------------------


def _ask_at(api, path_and_query, revision):
    headers = {"Authorization": f"Klaviyo-API-Key {PRIVATE_KEY}", "revision": revision}
    return api(httpx.Request("GET", f"https://a.klaviyo.com{path_and_query}", headers=headers))


@pytest.mark.parametrize(
    ("revision", "query", "status"),
    [
        ("2025-01-15", "page[size]=1000", 400),  # no page[size] on events before 2026-01-15
        ("2026-01-15", "page[size]=1000", 200),
        ("2026-10-15", "page[size]=1000", 200),
        ("2026-10-15", "page[size]=1001", 400),
        ("2026-10-15", "page[size]=0", 400),
    ],
)
def test_the_emulator_takes_an_event_page_size_only_where_the_revision_documents_it(
    revision, query, status
):
    assert _ask_at(KlaviyoApi(), f"/api/events?{query}", revision).status_code == status


@pytest.mark.parametrize(
    ("path", "value", "status"),
    [
        ("profiles", "subscriptions,predictive_analytics", 200),
        ("profiles", "subscriptions", 200),
        ("profiles", "subscriptions,lifetime_value", 400),
        ("lists/{list}/profiles", "subscriptions", 400),  # not documented there
        ("lists/{list}/profiles", None, 200),
    ],
)
def test_the_emulator_takes_the_documented_additional_profile_fields(path, value, status):
    api = KlaviyoApi()
    path = path.format(list=api.store.rows("lists")[0]["id"])
    query = "" if value is None else f"?additional-fields[profile]={value}"

    answer = _ask_at(api, f"/api/{path}{query}", "2026-10-15")

    assert answer.status_code == status


def test_the_emulator_leaves_consent_out_unless_it_is_asked_for():
    api = KlaviyoApi()
    plain = _ask_at(api, "/api/profiles", "2026-10-15").json()["data"][0]["attributes"]
    asked = _ask_at(
        api, "/api/profiles?additional-fields[profile]=subscriptions", "2026-10-15"
    ).json()["data"][0]["attributes"]

    assert "subscriptions" not in plain
    assert asked["subscriptions"]["email"]["marketing"]["consent"]
    assert "predictive_analytics" not in asked


def test_profiles_carry_their_consent_and_predictive_analytics():
    api = KlaviyoApi()

    rows = read(api, "profiles")

    sent = api.requests[0].url.params
    assert sent["additional-fields[profile]"] == "subscriptions,predictive_analytics"
    assert all(row["subscriptions"]["email"]["marketing"]["consent"] for row in rows)
    assert all("churn_probability" in row["predictive_analytics"] for row in rows)
    assert len(rows) == 230


def test_list_members_do_not_ask_for_fields_their_page_does_not_document():
    api = KlaviyoApi()

    rows = read(api, "list_profiles")

    assert rows
    children = [r for r in api.requests if r.url.path.endswith("/profiles")]
    assert all("additional-fields[profile]" not in r.url.params for r in children)


def test_a_profile_without_updated_is_read():
    api = KlaviyoApi(undated_profile=True)

    rows = read(api, "profiles")

    undated = [row for row in rows if row["updated"] is None]
    assert [row["email"] for row in undated] == ["person5@example.com"]
    assert undated[0]["created"]  # still partitioned by its creation time
