"""The source: its form, config, schemas, credential check and pipeline hand-off."""

from __future__ import annotations

import pytest

from connector_klaviyo._config import KlaviyoConfig
from connector_klaviyo.settings import KlaviyoSource
from connector_klaviyo.testing import PRIVATE_KEY, KlaviyoApi, error_body, kit
from headwater import Runtime, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import ResetFailure, StatusFailure
from headwater.errors import ConfigError

SOURCE = KlaviyoSource()


def config(**overrides: str) -> KlaviyoConfig:
    raw = {"private_api_key": PRIVATE_KEY, **overrides}
    return structure_source_config(
        KlaviyoConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
    )


def test_the_source_type_is_the_entry_point_name():
    assert SOURCE.source_type == "klaviyo"


def test_the_form_asks_for_a_secret_private_api_key():
    fields = {field.name: field for field in SOURCE.get_source_config().fields}

    assert list(fields) == ["private_api_key"]
    assert fields["private_api_key"].label
    assert type(fields["private_api_key"]).__name__ == "SecretField"


def test_the_release_status_is_alpha_and_unreleased():
    form = SOURCE.get_source_config()

    assert (str(form.release_status), form.unreleased) == ("alpha", True)


def test_the_key_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("KLAVIYO_PRIVATE_API_KEY", PRIVATE_KEY)

    resolved = config(private_api_key="env:KLAVIYO_PRIVATE_API_KEY")

    assert resolved.private_api_key.reveal() == PRIVATE_KEY
    assert PRIVATE_KEY not in repr(resolved)


@pytest.mark.parametrize("raw", [{}, {"private_api_key": ""}])
def test_a_config_without_a_key_is_rejected_at_its_path(raw):
    with pytest.raises(ConfigError) as caught:
        structure_source_config(
            KlaviyoConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
        )

    assert "$.private_api_key" in str(caught.value)


SCHEMAS = [
    # name, incremental fields
    ("profiles", ["updated"]),
    ("events", ["datetime"]),
    ("email_campaigns", ["updated_at"]),
    ("sms_campaigns", ["updated_at"]),
    ("flows", ["updated"]),
    ("lists", ["updated"]),
    ("metrics", []),
    ("list_profiles", []),
]


def test_it_lists_every_schema():
    names = [schema.name for schema in SOURCE.get_schemas(config(), Runtime())]

    assert names == [name for name, _ in SCHEMAS]


@pytest.mark.parametrize(("name", "fields"), SCHEMAS)
def test_incremental_fields_are_offered_where_the_api_can_filter(name, fields):
    schema = {s.name: s for s in SOURCE.get_catalog_schemas()}[name]

    assert [field.field for field in schema.incremental_fields] == fields
    assert schema.supports_incremental is bool(fields)


def test_valid_credentials_are_accepted_with_one_account_request():
    api = KlaviyoApi()

    assert SOURCE.validate_credentials(config(), kit.runtime(api)) == (True, None)
    assert [request.url.path for request in api.requests] == ["/api/accounts"]


@pytest.mark.parametrize(
    ("status", "code", "says"),
    [
        (401, "not_authenticated", "rejected the private API key"),
        (403, "permission_denied", "accounts:read"),
        (400, "invalid", "refused the request"),
    ],
)
def test_refused_credentials_say_what_to_fix(status, code, says):
    api = KlaviyoApi()
    body = error_body(status, code, "Refused.", "Refused.")
    api.inject(StatusFailure(status=status, json=body), times=10)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api))

    assert not ok
    assert says in message
    assert PRIVATE_KEY not in message
    assert len(api.requests) == 1  # permanent: not retried


def test_a_wrong_key_is_refused_by_the_api():
    ok, message = SOURCE.validate_credentials(
        config(private_api_key="pk_wrong0000000000000000"), kit.runtime(KlaviyoApi())
    )

    assert not ok
    assert "rejected the private API key" in message


def test_an_unreachable_api_returns_a_message():
    api = KlaviyoApi()
    api.inject(ResetFailure(), times=100)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api, sleep=lambda _: None))

    assert not ok
    assert "could not be reached" in message


HANDOFF = [
    # schema, primary keys, partition keys, sort mode
    ("profiles", ("id",), ("created",), "asc"),
    ("events", ("id",), ("datetime",), "asc"),
    ("email_campaigns", ("id",), ("created_at",), "asc"),
    ("sms_campaigns", ("id",), ("created_at",), "asc"),
    ("flows", ("id",), ("created",), "asc"),
    ("lists", ("id",), ("created",), "asc"),
    ("metrics", ("id",), ("created",), "asc"),
    ("list_profiles", ("list_id", "id"), ("created",), "asc"),
]


@pytest.mark.parametrize(("schema", "keys", "partition", "sort"), HANDOFF)
def test_the_hand_off_declares_keys_partitioning_and_order(schema, keys, partition, sort):
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name=schema), kit.runtime(KlaviyoApi())
    )

    assert response.name == schema
    assert response.primary_keys == keys
    assert response.partition_keys == partition
    assert str(response.partition_mode) == "datetime"
    assert str(response.partition_format) == "month"
    assert str(response.sort_mode) == sort


def test_the_configured_key_and_the_pinned_revision_reach_the_requests():
    api = KlaviyoApi()
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name="lists"), kit.runtime(api)
    )

    rows = [row for page in response.items() for row in page]

    assert len(rows) == 12
    first = api.requests[0]
    assert first.url.path == "/api/lists"
    assert first.headers["Authorization"] == f"Klaviyo-API-Key {PRIVATE_KEY}"
    assert first.headers["revision"] == "2026-10-15"
    assert first.headers["Accept"] == "application/vnd.api+json"


# --- `headwater sync` (issue 16, items 6 and 7) ------------------------------------------------


def _sync_cli(tmp_path, monkeypatch, api, key, *arguments, schemas=""):
    """`headwater sync klaviyo` in process, its requests going to ``api``."""
    from click.testing import CliRunner

    import headwater.runtime
    from headwater.cli.app import cli

    # The command builds its own Runtime; this one reaches the emulator, not Klaviyo.
    monkeypatch.setattr(headwater.runtime, "Runtime", lambda **fields: kit.runtime(api, **fields))
    path = tmp_path / "klaviyo.toml"
    path.write_text(f'[source]\nprivate_api_key = "{key}"\n{schemas}')
    command = ["sync", "klaviyo", "-c", str(path), "-w", str(tmp_path / "w"), *arguments]
    return CliRunner().invoke(cli, command)


@pytest.mark.parametrize(
    ("key", "status", "schema", "says"),
    [
        ("pk_notTheRightOne4242", None, "profiles", "rejected the private API key"),
        (PRIVATE_KEY, 403, "events", "give it 'events:read'"),
        (PRIVATE_KEY, 403, "profiles", "give it 'profiles:read'"),
    ],
)
def test_a_sync_that_is_refused_prints_the_connector_s_message(
    tmp_path, monkeypatch, key, status, schema, says
):
    from connector_klaviyo.testing import error_body

    api = KlaviyoApi()
    if status is not None:
        body = error_body(403, "permission_denied", "Permission denied.", "Missing scope.")
        api.inject(StatusFailure(status=403, json=body), times=100)

    result = _sync_cli(tmp_path, monkeypatch, api, key, "-s", schema)

    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"{schema}: failed:")]
    assert len(lines) == 1, result.stderr
    assert says in lines[0]
    assert key not in result.output + result.stderr


INCREMENTAL_PROFILES = (
    '[schemas.profiles]\nsync_mode = "incremental"\nincremental_field = "updated"\n'
)


def _finished(result):
    import json

    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return [event for event in events if "rows_written" in event]


def test_a_row_without_the_incremental_value_is_written_and_counted_but_moves_nothing(
    tmp_path, monkeypatch
):
    from deltalake import DeltaTable

    api = KlaviyoApi(undated_profile=True)
    newest = max(row["updated"] for row in api.store.rows("profiles") if row["updated"])
    sync = ("-s", "profiles", "--json")

    first = _sync_cli(tmp_path, monkeypatch, api, PRIVATE_KEY, *sync, schemas=INCREMENTAL_PROFILES)

    assert first.exit_code == 0, first.stderr
    [outcome] = _finished(first)
    assert (outcome["rows_read"], outcome["rows_written"]) == (230, 230)  # the undated one too
    assert outcome["watermark"].startswith(newest[:19])  # the newest dated value, not null
    table = DeltaTable(str(tmp_path / "w" / "klaviyo" / "profiles")).to_pyarrow_table()
    assert table.num_rows == 230
    assert table.column("updated").null_count == 1

    api.add_rows("profiles")
    second = _sync_cli(tmp_path, monkeypatch, api, PRIVATE_KEY, *sync, schemas=INCREMENTAL_PROFILES)

    assert second.exit_code == 0, second.stderr
    [again] = _finished(second)
    assert again["rows_written"] == 4  # at the watermark, the changed one, two new ones
    table = DeltaTable(str(tmp_path / "w" / "klaviyo" / "profiles")).to_pyarrow_table()
    assert table.num_rows == 232
    assert table.column("updated").null_count == 1  # still there, untouched
