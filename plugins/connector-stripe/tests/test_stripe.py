"""Reading Stripe: pagination, the `created` filter, connected accounts, rate limits, failures."""

from __future__ import annotations

import base64
import datetime as dt

import httpx
import pytest

from connector_stripe._config import StripeConfig
from connector_stripe.envelope import stripe_message
from connector_stripe.settings import StripeSource
from connector_stripe.testing import (
    CONNECTED_ACCOUNT,
    EMBEDDED,
    OBJECTS,
    RESTRICTED_KEY,
    SECRET_KEY,
    StripeApi,
    error_body,
    kit,
    rate_limited,
)
from headwater import ManualClock, ResumePoint, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import StatusFailure
from headwater.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    classify,
)

SOURCE = StripeSource()
NOW = 1767225600  # ManualClock's now, 2026-01-01T00:00:00Z, in Unix seconds


def config(**raw: str) -> StripeConfig:
    return structure_source_config(
        StripeConfig,
        SOURCE.get_source_config(),
        {"secret_key": SECRET_KEY, **raw},
        resolvers=BUILTIN_RESOLVERS,
    )


def read(api, schema, clock=None, cfg=None, **inputs):
    clock = clock or ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep)
    response = SOURCE.source_for_pipeline(
        cfg or config(), SourceInputs(schema_name=schema, **inputs), runtime
    )
    return [row for page in response.items() if isinstance(page, list) for row in page]


def incremental(last=None, earliest=None):
    return {
        "should_use_incremental_field": True,
        "incremental_field": "created",
        "incremental_field_type": "timestamp",
        "db_incremental_field_last_value": last,
        "db_incremental_field_earliest_value": earliest,
    }


# --- pagination ----------------------------------------------------------------------------


@pytest.mark.parametrize(("schema", "seeded"), [(name, n) for name, (_, _, n) in OBJECTS.items()])
def test_every_page_is_read_once_following_starting_after(schema, seeded):
    api = StripeApi()

    rows = read(api, schema)

    expected = len(api.store.rows(schema))
    assert len(rows) == expected == seeded
    assert len({row["id"] for row in rows}) == expected
    assert len(api.requests) == 2  # 100, then the rest
    first, second = api.requests
    assert first.url.params["limit"] == second.url.params["limit"] == "100"
    assert "starting_after" not in first.url.params
    assert second.url.params["starting_after"] == rows[99]["id"]


def test_rows_come_newest_first():
    rows = read(StripeApi(), "charges")

    assert [row["created"] for row in rows] == sorted(
        (row["created"] for row in rows), reverse=True
    )


def test_canceled_subscriptions_are_read_too():
    api = StripeApi()

    rows = read(api, "subscriptions")

    assert api.requests[0].url.params["status"] == "all"
    assert {row["status"] for row in rows} == {"active", "canceled"}


def test_the_key_is_sent_as_the_basic_auth_user_name():
    api = StripeApi()

    read(api, "prices")

    expected = base64.b64encode(f"{SECRET_KEY}:".encode()).decode()
    assert api.requests[0].headers["Authorization"] == f"Basic {expected}"
    assert "Stripe-Account" not in api.requests[0].headers


def test_a_connected_account_is_read_through_the_stripe_account_header():
    api = StripeApi()

    rows = read(api, "charges", cfg=config(account_id=CONNECTED_ACCOUNT))

    assert api.requests[0].headers["Stripe-Account"] == CONNECTED_ACCOUNT
    assert len(rows) == 3
    assert {row["id"] for row in rows} == {
        row["id"] for row in api.store.rows(StripeApi.table("charges", CONNECTED_ACCOUNT))
    }


# --- incremental reads -----------------------------------------------------------------------


def test_new_objects_are_read_from_the_watermark_on():
    api = StripeApi()
    watermark = max(row["created"] for row in read(api, "charges"))
    api.add_rows("charges")

    rows = read(api, "charges", **incremental(watermark))

    params = api.requests[-1].url.params
    assert params["created[gte]"] == str(watermark)
    assert params["created[lte]"] == str(NOW)
    assert all(row["created"] >= watermark for row in rows)
    new = {row["id"] for row in api.store.rows("charges")[-2:]}
    assert new <= {row["id"] for row in rows}
    assert len(rows) == 3  # the two new charges and the one at the watermark


@pytest.mark.parametrize("schema", ["charges", "subscriptions", "prices"])
def test_an_object_added_at_the_watermark_comes_in_the_read_from_it(schema):
    api = StripeApi()
    before = read(api, schema)
    watermark = before[len(before) // 2]["created"]

    kit.add_row_at(api, schema, "created", watermark)
    rows = read(api, schema, **incremental(watermark))

    known = {row["id"] for row in before}
    assert [row["created"] for row in rows if row["id"] not in known] == [watermark]
    assert all(row["created"] >= watermark for row in rows)


def test_a_change_after_creation_is_not_seen_by_the_created_filter():
    # The documented limit of an incremental read on `created` (api_inventory.md, "Changes").
    api = StripeApi()
    watermark = max(row["created"] for row in read(api, "charges"))
    api.add_rows("charges")  # also refunds the oldest charge

    rows = read(api, "charges", **incremental(watermark))

    oldest = api.store.rows("charges")[0]
    assert oldest["refunded"] is True
    assert oldest["id"] not in {row["id"] for row in rows}


def test_the_start_date_bounds_the_first_incremental_read():
    api = StripeApi()
    rows = read(api, "customers")
    middle = rows[60]["created"]

    start = dt.datetime.fromtimestamp(middle, tz=dt.UTC)
    bounded = read(api, "customers", start_date=start, **incremental())

    assert api.requests[-1].url.params["created[gte]"] == str(middle)
    assert {row["id"] for row in bounded} == {row["id"] for row in rows if row["created"] >= middle}


@pytest.mark.parametrize("schema", ["customers", "products"])
def test_a_full_refresh_reads_objects_created_before_the_start_date_too(schema):
    # The start date bounds incremental reads only (docs/sync.md): a full refresh is the
    # whole account, old customers and products included.
    api = StripeApi()
    everything = read(api, schema)
    start = dt.datetime.fromtimestamp(everything[60]["created"], tz=dt.UTC)

    rows = read(api, schema, start_date=start)

    assert all("created[gte]" not in request.url.params for request in api.requests)
    assert {row["id"] for row in rows} == {row["id"] for row in api.store.rows(schema)}


def test_an_interrupted_read_resumes_below_its_earliest_value():
    api = StripeApi()
    rows = read(api, "balance_transactions")
    earliest = rows[99]["created"]

    resumed = read(api, "balance_transactions", **incremental(None, earliest))

    assert api.requests[-1].url.params["created[lte]"] == str(earliest)
    assert all(row["created"] <= earliest for row in resumed)
    assert {row["id"] for row in rows[100:]} <= {row["id"] for row in resumed}


def test_a_malformed_bound_is_refused_by_the_api_as_stripe_says():
    api = StripeApi()
    api.inject(
        StatusFailure(
            status=400,
            json=error_body(
                "Invalid integer: soon", code="parameter_invalid_integer", param="created[gte]"
            ),
        )
    )

    with pytest.raises(BadRequestError) as caught:
        read(api, "charges")

    assert "invalid_request_error (parameter_invalid_integer): Invalid integer: soon" in str(
        caught.value
    )


# --- nested lists: invoice lines and subscription items ---------------------------------------


NESTED = [
    # table, parent list, parent column, embedded field, sub-list path of a parent
    ("invoice_lines", "invoices", "invoice_id", "lines", "/v1/invoices/{}/lines"),
    ("subscription_items", "subscriptions", "subscription_id", "items", "/v1/subscription_items"),
]


@pytest.mark.parametrize(("table", "parent", "column", "field", "path"), NESTED)
def test_every_entry_of_a_nested_list_is_read_beyond_the_embedded_page(
    table, parent, column, field, path
):
    api = StripeApi()
    parents = api.store.rows(parent)
    cut = [row for row in parents if row[field]["has_more"]]
    assert cut, "the emulator embeds a truncated list for some parents"

    rows = read(api, table)

    expected = {
        (row["id"], entry_id)
        for row in parents
        for entry_id in (e["id"] for e in api.store.rows(_entries(table, row["id"])))
    }
    assert {(row[column], row["id"]) for row in rows} == expected
    assert len(rows) == len(expected)  # each entry once
    longest = cut[0]
    mine = [row for row in rows if row[column] == longest["id"]]
    assert len(mine) == len(api.store.rows(_entries(table, longest["id"]))) > EMBEDDED


@pytest.mark.parametrize(("table", "parent", "column", "field", "path"), NESTED)
def test_only_a_truncated_nested_list_costs_a_request_and_it_starts_after_the_embedded_page(
    table, parent, column, field, path
):
    api = StripeApi()
    cut = [row for row in api.store.rows(parent) if row[field]["has_more"]]

    read(api, table)

    parent_path = f"/v1/{parent}"
    lists = [r for r in api.requests if r.url.path == parent_path]
    rest = [r for r in api.requests if r.url.path != parent_path]
    assert len(lists) == 2  # the parent list, 100 a page
    assert len(rest) == len(cut)
    for request, row in zip(rest, cut[::-1], strict=True):  # parents come newest first
        if "{}" in path:
            assert request.url.path == path.format(row["id"])
        else:
            assert request.url.params["subscription"] == row["id"]
        assert request.url.params["starting_after"] == row[field]["data"][-1]["id"]
        assert request.url.params["limit"] == "100"


def test_subscription_items_of_canceled_subscriptions_are_read_too():
    api = StripeApi()

    rows = read(api, "subscription_items")

    canceled = {row["id"] for row in api.store.rows("subscriptions") if row["status"] == "canceled"}
    assert canceled
    assert canceled <= {row["subscription_id"] for row in rows}


def test_a_nested_read_resumes_with_the_next_page_of_parents():
    api = StripeApi()
    runtime = kit.runtime(api)
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name="invoice_lines"), runtime
    )
    items = iter(response.items())
    first = next(items)
    point = next(items)
    assert isinstance(point, ResumePoint)
    requests = len(api.requests)

    resumed = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name="invoice_lines", resume_state=point.state), runtime
    )
    rest = [row for page in resumed.items() if isinstance(page, list) for row in page]

    assert api.requests[requests].url.params["starting_after"]  # the second page of invoices
    everything = read(StripeApi(), "invoice_lines")
    assert len(first) + len(rest) == len(everything)
    assert {r["id"] for r in first}.isdisjoint({r["id"] for r in rest})


def _entries(table, parent_id):
    entry = "line_items" if table == "invoice_lines" else "subscription_items"
    return f"{entry}/{parent_id}"


INVALID_KEY = error_body("Invalid API Key provided: sk_test_****0001")
NO_PERMISSION = error_body(
    "The provided key 'rk_test_****0002' does not have the required permissions for this"
    " endpoint on account 'acct_1'. Having the 'rak_charge_read' permission would allow this"
    " request to continue."
)
NO_ACCOUNT = error_body(
    "The provided key 'sk_test_****0001' does not have access to account 'acct_9' (or that"
    " account does not exist). Application access may have been revoked.",
    code="account_invalid",
)
UNKNOWN_URL = error_body("Unrecognized request URL (GET: /v1/charge).")


@pytest.mark.parametrize(
    ("status", "body", "error", "stripe_says", "rule_says"),
    [
        (401, INVALID_KEY, AuthenticationError, "Invalid API Key provided", "rejected the secret"),
        (403, NO_PERMISSION, PermissionDeniedError, "rak_charge_read", "restricted key lacks"),
        (403, NO_ACCOUNT, PermissionDeniedError, "(account_invalid)", "connected account"),
        (404, UNKNOWN_URL, NotFoundError, "Unrecognized request URL", "check `account_id`"),
        (400, error_body("Received unknown parameter: x"), BadRequestError, "unknown", "refused"),
    ],
)
def test_permanent_failures_fail_at_once_with_stripes_message_and_a_rule(
    status, body, error, stripe_says, rule_says
):
    api = StripeApi()
    api.inject(StatusFailure(status=status, json=body), times=10)

    with pytest.raises(error) as caught:
        read(api, "charges")

    assert len(api.requests) == 1
    assert stripe_says in str(caught.value)
    assert str(caught.value).startswith(f"HTTP {status} for http")
    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert rule_says in rule.message
    assert SECRET_KEY not in str(caught.value)


def test_a_restricted_key_without_the_permission_is_refused_by_the_emulator_too():
    api = StripeApi()

    with pytest.raises(PermissionDeniedError, match="rak_customer_read"):
        read(api, "customers", cfg=config(secret_key=RESTRICTED_KEY))
    assert len(read(StripeApi(), "charges", cfg=config(secret_key=RESTRICTED_KEY))) == 130


def test_an_unknown_connected_account_is_refused_with_a_rule():
    with pytest.raises(PermissionDeniedError) as caught:
        read(StripeApi(), "charges", cfg=config(account_id="acct_9Unknown"))

    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert "connected account" in rule.message


@pytest.mark.parametrize(
    ("failure", "waited"),
    [
        (rate_limited(), None),  # Stripe sends no Retry-After: backoff
        (StatusFailure(status=429, headers={"Retry-After": "7"}), 7.0),
    ],
)
def test_rate_limits_are_waited_out(failure, waited):
    api = StripeApi()
    api.inject(failure)
    clock = ManualClock()

    rows = read(api, "refunds", clock=clock)

    assert len(rows) == 101
    assert len(clock.slept) == 1
    if waited is not None:
        assert clock.slept == [waited]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            '{"error": {"type": "invalid_request_error", "code": "resource_missing",'
            ' "message": "No such charge: \'ch_1\'"}}',
            "invalid_request_error (resource_missing): No such charge: 'ch_1'",
        ),
        (  # cut off by the client's excerpt: read by pattern
            '{"error": {"message": "Invalid API Key provided: sk_test_****0001", "type": "inv',
            "error: Invalid API Key provided: sk_test_****0001",
        ),
        ('{"message": "not stripe"}', None),
        ("<html>bad gateway</html>", None),
    ],
)
def test_stripes_error_envelope_is_read_even_when_cut_off(body, said):
    assert stripe_message(body) == said


def test_rows_carry_their_creation_instant_as_a_datetime_for_partitioning():
    rows = read(StripeApi(), "invoices")

    first = rows[0]
    created_at = dt.datetime.fromisoformat(first["created_at"])
    assert created_at.timestamp() == first["created"]
    assert created_at.tzinfo is not None


# --- the emulator answers as the docs say ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "code", "param", "message"),
    [
        ("charges", "limit=101", "parameter_invalid_integer", "limit", "less than or equal to 100"),
        ("charges", "limit=0", "parameter_invalid_integer", "limit", "greater than or equal to 1"),
        ("charges", "limit=ten", "parameter_invalid_integer", "limit", "less than or equal to 100"),
        (
            "refunds",
            "created[gte]=yesterday",
            "parameter_invalid_integer",
            "created[gte]",
            "Invalid integer: yesterday",
        ),
        ("prices", "created[lte]=1.5", "parameter_invalid_integer", "created[lte]", "1.5"),
        ("charges", "sort=asc", "parameter_unknown", "sort", "Received unknown parameter: sort"),
        ("customers", "status=all", "parameter_unknown", "status", "unknown parameter: status"),
        (
            "charges",
            "starting_after=a&ending_before=b",
            None,
            "ending_before",
            "Received both starting_after and ending_before",
        ),
        ("subscriptions", "status=gone", None, "status", "Invalid status: gone"),
        ("charges", "starting_after=ch_nope", "resource_missing", "starting_after", "No such"),
        ("subscription_items", "limit=10", "parameter_missing", "subscription", "subscription"),
        (
            "subscription_items",
            "subscription=sub_1&created[gte]=1",
            "parameter_unknown",
            "created[gte]",
            "unknown parameter",
        ),
        ("invoices/in_00000004Emu/lines", "limit=101", "parameter_invalid_integer", "limit", "100"),
    ],
)
def test_the_emulator_refuses_what_stripe_refuses(path, query, code, param, message):
    api = StripeApi()
    client = httpx.Client(transport=httpx.MockTransport(api), auth=(SECRET_KEY, ""))

    answer = client.get(f"https://api.stripe.com/v1/{path}?{query}")

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["type"], error.get("code"), error["param"]) == (
        "invalid_request_error",
        code,
        param,
    )
    assert message in error["message"]
    assert len(api.requests) == 1  # a refused request is recorded too


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("charges", "limit=100&created[gte]=1740816000&created[lte]=1740902400"),
        ("subscriptions", "status=all&limit=1"),
        ("invoices", "status=paid&customer=cus_1"),
        ("charges", "expand[]=data.customer&expand[]=data.invoice"),
    ],
)
def test_the_emulator_accepts_what_stripe_accepts(path, query):
    api = StripeApi()
    client = httpx.Client(transport=httpx.MockTransport(api), auth=(SECRET_KEY, ""))

    assert client.get(f"https://api.stripe.com/v1/{path}?{query}").status_code == 200


def test_the_emulator_pages_back_with_ending_before():

    api = StripeApi()
    client = httpx.Client(
        transport=httpx.MockTransport(api), headers={"Authorization": f"Bearer {SECRET_KEY}"}
    )
    first = client.get("https://api.stripe.com/v1/refunds?limit=5").json()
    second = client.get(
        f"https://api.stripe.com/v1/refunds?limit=5&starting_after={first['data'][-1]['id']}"
    ).json()

    back = client.get(
        f"https://api.stripe.com/v1/refunds?limit=5&ending_before={second['data'][0]['id']}"
    ).json()

    assert [row["id"] for row in back["data"]] == [row["id"] for row in first["data"]]
    assert first["has_more"] is True
    assert (first["object"], first["url"]) == ("list", "/v1/refunds")
