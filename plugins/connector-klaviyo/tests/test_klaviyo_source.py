"""The source: its form, config, schemas, credential check and pipeline hand-off."""

from __future__ import annotations

import pytest

from connector_klaviyo._config import KlaviyoConfig
from connector_klaviyo.source import KlaviyoSource
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
    assert first.headers["revision"] == "2025-01-15"
    assert first.headers["Accept"] == "application/vnd.api+json"
