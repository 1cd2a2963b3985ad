"""The change feed: syncs on `changed` read Stripe's Events API, through the host's engine."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from deltalake import DeltaTable

from connector_stripe._config import StripeConfig
from connector_stripe.settings import StripeSource
from connector_stripe.testing import RESTRICTED_KEY, SECRET_KEY, StripeApi, kit
from headwater import ManualClock, SourceInputs
from headwater.config import SchemaChoice, UserConfig
from headwater.errors import PermissionDeniedError
from headwater.runtime import ProgressEvent, ProgressKind
from headwater.sync import sync_schema

SOURCE = StripeSource()
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = 86400


class Sink:
    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []

    def emit(self, event: ProgressEvent) -> None:
        self.events.append(event)

    def messages(self) -> list[str]:
        return [e.detail for e in self.events if e.kind is ProgressKind.NOTICE and e.detail]


def sync(api, schema, warehouse, clock, sink=None, key=SECRET_KEY):
    config = UserConfig(
        source=StripeConfig(secret_key=_secret(key)),
        schemas={schema: SchemaChoice(sync_mode="incremental", incremental_field="changed")},
    )
    fields = {"progress": sink} if sink is not None else {}
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep, **fields)
    return sync_schema(SOURCE, config, schema, warehouse, runtime)


def _secret(key):
    from headwater import Secret

    return Secret(key)


def table(result) -> dict[str, dict]:
    return {row["id"]: row for row in DeltaTable(result.table_uri).to_pyarrow_table().to_pylist()}


def test_the_first_sync_reads_every_object_and_starts_the_feed_at_its_own_time(tmp_path):
    api, clock = StripeApi(), ManualClock(NOW)

    first = sync(api, "customers", str(tmp_path), clock)

    rows = table(first)
    assert set(rows) == {row["id"] for row in api.store.rows("customers")}
    assert first.watermark == NOW
    assert {row["changed"] for row in rows.values()} == {int(NOW.timestamp())}
    assert all(row.get("_headwater_deleted_at") is None for row in rows.values())
    assert all(r.url.path == "/v1/customers" for r in api.requests)


@pytest.mark.parametrize("schema", ["customers", "products", "prices", "invoices"])
def test_an_update_and_a_deletion_after_the_first_sync_are_in_the_table_after_the_second(
    schema, tmp_path
):
    api, clock = StripeApi(), ManualClock(NOW)
    first = sync(api, schema, str(tmp_path), clock)
    old, gone, again = (row["id"] for row in api.store.rows(schema)[:3])
    clock.advance(3600)
    start = int(NOW.timestamp())
    api.update(schema, old, start + 60, metadata={"tier": "gold"})
    api.update(schema, again, start + 70, metadata={"step": "1"})
    api.update(schema, again, start + 80, metadata={"step": "2"})  # the newest wins
    api.delete(schema, gone, start + 90)
    before = len(api.requests)

    second = sync(api, schema, str(tmp_path), clock)

    rows = table(second)
    assert len(rows) == len(table(first))  # merged: nothing added, nothing lost
    assert "gold" in str(rows[old]["metadata"])
    assert "2" in str(rows[again]["metadata"])
    assert rows[gone]["_headwater_deleted_at"] == "2026-01-01T00:01:30Z"
    assert rows[old]["_headwater_deleted_at"] is None
    assert rows[old]["changed"] == start + 60
    assert second.watermark == NOW + dt.timedelta(seconds=90)
    feed = api.requests[before:]
    assert {r.url.path for r in feed} == {"/v1/events"}
    assert feed[0].url.params["created[gte]"] == str(start)
    assert feed[0].url.params["type"].endswith(".*")


def test_a_canceled_subscription_is_updated_not_marked_deleted(tmp_path):
    # `customer.subscription.deleted` means canceled: the subscription is still listed.
    api, clock = StripeApi(), ManualClock(NOW)
    sync(api, "subscriptions", str(tmp_path), clock)
    active = next(r["id"] for r in api.store.rows("subscriptions") if r["status"] == "active")
    clock.advance(60)
    api.delete("subscriptions", active, int(NOW.timestamp()) + 30)

    rows = table(sync(api, "subscriptions", str(tmp_path), clock))

    assert rows[active]["status"] == "canceled"
    assert rows[active].get("_headwater_deleted_at") is None


def test_a_new_object_comes_through_its_created_event(tmp_path):
    api, clock = StripeApi(), ManualClock(NOW)
    sync(api, "products", str(tmp_path), clock)
    clock.advance(60)
    new = api._new("products", created=int(NOW.timestamp()) + 10)

    rows = table(sync(api, "products", str(tmp_path), clock))

    assert rows[new["id"]]["name"] == new["name"]


def test_a_watermark_older_than_the_events_retention_falls_back_to_a_full_read_and_says_so(
    tmp_path,
):
    api, clock = StripeApi(), ManualClock(NOW)
    sync(api, "customers", str(tmp_path), clock)
    clock.advance(31 * DAY)
    api.today = int(clock.now().timestamp())
    changed = api.store.rows("customers")[5]["id"]
    api.update("customers", changed, api.today - 3600, email="late@example.com")
    sink = Sink()
    before = len(api.requests)

    second = sync(api, "customers", str(tmp_path), clock, sink)

    said = [m for m in sink.messages() if "30 days" in m]
    assert len(said) == 1, sink.messages()
    assert "full refresh" in said[0]
    assert "--full-refresh" in said[0]
    assert {r.url.path for r in api.requests[before:]} == {"/v1/customers"}
    assert table(second)[changed]["email"] == "late@example.com"
    assert second.watermark == clock.now()


def test_a_watermark_within_the_retention_reads_the_events_without_a_word(tmp_path):
    api, clock = StripeApi(), ManualClock(NOW)
    sync(api, "customers", str(tmp_path), clock)
    clock.advance(29 * DAY)
    api.today = int(clock.now().timestamp())
    sink = Sink()

    sync(api, "customers", str(tmp_path), clock, sink)

    assert not [m for m in sink.messages() if "30 days" in m]
    assert api.requests[-1].url.path == "/v1/events"


def test_an_interrupted_feed_is_read_again_from_the_watermark_not_below_its_earliest_value():
    # Resuming below the earliest event read would let an older event replace a newer one.
    api = StripeApi()
    start = int(NOW.timestamp())
    ident = api.store.rows("prices")[0]["id"]
    api.update("prices", ident, start + 10, nickname="old")
    api.update("prices", ident, start + 20, nickname="new")
    inputs = SourceInputs(
        schema_name="prices",
        should_use_incremental_field=True,
        incremental_field="changed",
        incremental_field_type="timestamp",
        db_incremental_field_last_value=start,
        db_incremental_field_earliest_value=start + 15,
    )
    clock = ManualClock(NOW + dt.timedelta(minutes=5))
    response = SOURCE.source_for_pipeline(
        StripeConfig(secret_key=_secret(SECRET_KEY)), inputs, kit.runtime(api, clock=clock)
    )

    rows = [row for page in response.items() for row in page]

    assert [(row["id"], row["nickname"]) for row in rows] == [(ident, "new")]
    assert api.requests[-1].url.params["created[lte]"] == str(start + 300)


def test_a_restricted_key_without_read_on_events_fails_with_the_permission_rule(tmp_path):
    api, clock = StripeApi(), ManualClock(NOW)
    inputs = SourceInputs(
        schema_name="customers",
        should_use_incremental_field=True,
        incremental_field="changed",
        incremental_field_type="timestamp",
        db_incremental_field_last_value=int(NOW.timestamp()),
    )
    response = SOURCE.source_for_pipeline(
        StripeConfig(secret_key=_secret(RESTRICTED_KEY)), inputs, kit.runtime(api, clock=clock)
    )

    with pytest.raises(PermissionDeniedError, match="rak_event_read"):
        list(response.items())


# --- the emulator's Events API answers as the docs say ----------------------------------------


def _get(api, query):
    client = httpx.Client(transport=httpx.MockTransport(api), auth=(SECRET_KEY, ""))
    return client.get(f"https://api.stripe.com/v1/events?{query}")


def test_the_emulator_lists_events_newest_first_filtered_by_a_type_pattern():
    api = StripeApi()
    start = int(NOW.timestamp())
    ids = [row["id"] for row in api.store.rows("products")[:2]]
    api.update("products", ids[0], start - 20, active=False)
    api.delete("products", ids[1], start - 10)
    api.update("prices", api.store.rows("prices")[0]["id"], start - 5, active=False)

    body = _get(api, "type=product.*").json()

    assert [e["type"] for e in body["data"]] == ["product.deleted", "product.updated"]
    assert body["data"][0]["data"]["object"]["id"] == ids[1]
    assert body["has_more"] is False
    listed = _get(api, "types[]=price.updated&types[]=product.deleted").json()["data"]
    assert [e["type"] for e in listed] == ["price.updated", "product.deleted"]


def test_the_emulator_keeps_events_of_the_last_30_days_only():
    api = StripeApi()
    ident = api.store.rows("customers")[0]["id"]
    api.update("customers", ident, api.today - 31 * DAY, name="old")
    api.update("customers", ident, api.today - 29 * DAY, name="recent")

    listed = _get(api, "type=customer.updated").json()["data"]

    assert [e["data"]["object"]["name"] for e in listed] == ["recent"]


@pytest.mark.parametrize(
    ("query", "param", "message"),
    [
        ("type=a.*&types[]=b.created", "types[]", "either type or types"),
        ("created[gte]=soon", "created[gte]", "Invalid integer: soon"),
        ("object=charge", "object", "Received unknown parameter: object"),
        ("limit=0", "limit", "greater than or equal to 1"),
        ("&".join(f"types[]=t{i}.updated" for i in range(21)), "types", "at most 20"),
    ],
)
def test_the_emulator_refuses_what_the_events_api_refuses(query, param, message):
    answer = _get(StripeApi(), query)

    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param
    assert message in answer.json()["error"]["message"]


def test_headwater_sync_shows_the_fallback_to_a_full_read(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import headwater.runtime
    from headwater.cli.app import cli

    api, clock = StripeApi(), ManualClock(NOW)
    monkeypatch.setattr(
        headwater.runtime,
        "Runtime",
        lambda **fields: kit.runtime(api, **{**fields, "clock": clock, "sleep": clock.sleep}),
    )
    path = tmp_path / "stripe.toml"
    path.write_text(
        f'[source]\nsecret_key = "{SECRET_KEY}"\n\n[schemas.customers]\n'
        'sync_mode = "incremental"\nincremental_field = "changed"\n'
    )
    arguments = ["sync", "stripe", "-c", str(path), "-w", str(tmp_path / "w"), "-s", "customers"]
    assert CliRunner().invoke(cli, arguments).exit_code == 0
    clock.advance(40 * DAY)

    # The message is a progress event: `--json` shows every one (the text display shows
    # counts only, in headwater 0.2).
    result = CliRunner().invoke(cli, [*arguments, "--json"])

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    said = [line for line in lines if "30 days Stripe keeps events" in line.get("detail", "")]
    assert len(said) == 1, result.output
    assert said[0]["schema"] == "customers"
