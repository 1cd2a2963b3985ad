"""The source: its form, config, schemas, credential check and pipeline hand-off."""

from __future__ import annotations

import pytest

from connector_stripe._config import StripeConfig
from connector_stripe.settings import StripeSource
from connector_stripe.testing import CONNECTED_ACCOUNT, RESTRICTED_KEY, SECRET_KEY, StripeApi, kit
from headwater import Runtime, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import ResetFailure, StatusFailure
from headwater.errors import ConfigError, classify

SOURCE = StripeSource()
LISTS = [
    "charges",
    "customers",
    "invoices",
    "subscriptions",
    "payment_intents",
    "refunds",
    "balance_transactions",
    "products",
    "prices",
]
NESTED = ["invoice_lines", "subscription_items"]
SCHEMAS = [*LISTS, *NESTED]


def config(**overrides: str) -> StripeConfig:
    raw = {"secret_key": SECRET_KEY, **overrides}
    return structure_source_config(
        StripeConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
    )


def test_the_source_type_is_the_entry_point_name():
    assert SOURCE.source_type == "stripe"


def test_the_form_asks_for_a_secret_key_and_an_optional_connected_account():
    fields = {field.name: field for field in SOURCE.get_source_config().fields}

    assert list(fields) == ["secret_key", "account_id"]
    assert all(field.label for field in fields.values())
    assert type(fields["secret_key"]).__name__ == "SecretField"
    assert type(fields["account_id"]).__name__ == "TextField"
    assert config().account_id is None


def test_the_key_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)

    resolved = config(secret_key="env:STRIPE_SECRET_KEY")

    assert resolved.secret_key.reveal() == SECRET_KEY
    assert SECRET_KEY not in repr(resolved)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({}, "$.secret_key"),
        ({"secret_key": SECRET_KEY, "account_id": "1032D82eZvKYlo2C"}, "$.account_id"),
        ({"secret_key": SECRET_KEY, "account_id": "acct_1/../x"}, "$.account_id"),
    ],
)
def test_incomplete_configs_are_rejected_at_their_path(raw, path):
    with pytest.raises(ConfigError) as caught:
        structure_source_config(
            StripeConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
        )

    assert path in str(caught.value)
    assert SECRET_KEY not in str(caught.value)


def test_it_lists_every_schema():
    names = [schema.name for schema in SOURCE.get_schemas(config(), Runtime())]

    assert names == SCHEMAS


@pytest.mark.parametrize("name", LISTS)
def test_created_is_offered_but_full_refresh_is_the_default(name):
    schema = {s.name: s for s in SOURCE.get_catalog_schemas()}[name]

    fields = [(f.field, str(f.type)) for f in schema.incremental_fields]
    changing = name in {"customers", "invoices", "subscriptions", "products", "prices"}
    # `created` first; `changed` (the Events API) where Stripe reports the object's changes.
    assert fields == [("created", "timestamp")] + ([("changed", "timestamp")] if changing else [])
    assert schema.supports_incremental
    # Objects change after creation and the lists filter on `created` only.
    assert str(schema.effective_default_sync_mode) == "full_refresh"


def test_valid_credentials_are_accepted():
    api = StripeApi()

    assert SOURCE.validate_credentials(config(), kit.runtime(api)) == (True, None)
    assert api.requests[0].url.path == "/v1/charges"
    assert api.requests[0].url.params["limit"] == "1"


def test_a_restricted_key_with_read_on_charges_is_accepted():
    assert SOURCE.validate_credentials(
        config(secret_key=RESTRICTED_KEY), kit.runtime(StripeApi())
    ) == (True, None)


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (401, "rejected the secret key"),
        (403, "may not list charges"),
        (404, "answered 404"),
        (400, "refused the check"),
    ],
)
def test_refused_credentials_say_what_to_fix(status, says):
    api = StripeApi()
    api.inject(StatusFailure(status=status), times=10)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api))

    assert not ok
    assert says in message
    assert SECRET_KEY not in message
    assert len(api.requests) == 1  # permanent: not retried


def test_an_unknown_key_is_rejected_by_the_emulator():
    ok, message = SOURCE.validate_credentials(
        config(secret_key="sk_test_51SomeoneElsesKey9999"), kit.runtime(StripeApi())
    )

    assert not ok
    assert "rejected the secret key" in message
    assert "9999" not in message


def test_a_connected_account_the_key_cannot_reach_quotes_stripe():
    ok, message = SOURCE.validate_credentials(
        config(account_id="acct_9Unknown"), kit.runtime(StripeApi())
    )

    assert not ok
    assert "connected account acct_9Unknown" in message
    assert "does not have access to account" in message


def test_a_reachable_connected_account_is_accepted():
    api = StripeApi()

    assert SOURCE.validate_credentials(config(account_id=CONNECTED_ACCOUNT), kit.runtime(api)) == (
        True,
        None,
    )
    assert api.requests[0].headers["Stripe-Account"] == CONNECTED_ACCOUNT


@pytest.mark.parametrize(
    "key", ["pk_test_51Publishable0001", "whsec_0001abcd", "sktest51NoUnderscore"]
)
def test_a_key_that_is_not_secret_fails_before_any_request(key):
    api = StripeApi()

    ok, message = SOURCE.validate_credentials(config(secret_key=key), kit.runtime(api))

    assert not ok
    assert "$.secret_key" in message
    assert "expected a secret key" in message
    assert api.requests == []
    assert key not in message


def test_a_sync_with_a_publishable_key_fails_at_its_path_with_a_rule():
    with pytest.raises(ConfigError) as caught:
        SOURCE.source_for_pipeline(
            config(secret_key="pk_test_51Publishable0001"),
            SourceInputs(schema_name="charges"),
            kit.runtime(StripeApi()),
        )

    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert "publishable" in rule.message


def test_an_unreachable_api_returns_a_message():
    api = StripeApi()
    api.inject(ResetFailure(), times=100)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api, sleep=lambda _: None))

    assert not ok
    assert "could not be reached" in message


@pytest.mark.parametrize("name", NESTED)
def test_nested_lists_are_full_refresh_tables_keyed_by_their_parent(name):
    schema = {s.name: s for s in SOURCE.get_catalog_schemas()}[name]
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name=name), kit.runtime(StripeApi())
    )

    assert not schema.supports_incremental
    assert str(schema.effective_default_sync_mode) == "full_refresh"
    parent = "invoice_id" if name == "invoice_lines" else "subscription_id"
    assert response.primary_keys == (parent, "id")
    assert response.partition_keys is None


@pytest.mark.parametrize("schema", LISTS)
def test_the_hand_off_declares_keys_partitioning_and_order(schema):
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name=schema), kit.runtime(StripeApi())
    )

    assert response.name == schema
    assert response.primary_keys == ("id",)
    assert response.partition_keys == ("created_at",)
    assert str(response.partition_mode) == "datetime"
    assert str(response.partition_format) == "month"
    assert str(response.sort_mode) == "desc"


def test_a_lasting_server_error_in_the_check_is_reported_as_unreachable():
    api = StripeApi()
    api.inject(StatusFailure(status=503), times=100)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api, sleep=lambda _: None))

    assert not ok
    assert "could not be reached" in message
    assert "503" in message


# --- what `headwater sync` prints (issue 16, item 7) -------------------------------------------


def _sync_cli(tmp_path, monkeypatch, api, key, account=None):
    """`headwater sync stripe` in process, its requests going to ``api``."""
    from click.testing import CliRunner

    import headwater.runtime
    from headwater.cli.app import cli

    # The command builds its own Runtime; this one reaches the emulator instead of Stripe.
    monkeypatch.setattr(headwater.runtime, "Runtime", lambda **fields: kit.runtime(api, **fields))
    path = tmp_path / "stripe.toml"
    extra = f'account_id = "{account}"\n' if account else ""
    path.write_text(f'[source]\nsecret_key = "{key}"\n{extra}')
    arguments = ["sync", "stripe", "-c", str(path), "-w", str(tmp_path / "w"), "-s", "customers"]
    return CliRunner().invoke(cli, arguments)


@pytest.mark.parametrize(
    ("key", "account", "says", "stripe_says"),
    [
        (
            "sk_test_51SomeoneElsesKey9999",
            None,
            "Stripe rejected the secret key: copy a current key from Developers > API keys",
            "Invalid API Key provided",
        ),
        (
            RESTRICTED_KEY,
            None,
            "restricted key lacks a read permission this table needs",
            "rak_customer_read",
        ),
        (
            SECRET_KEY,
            "acct_9Unknown",
            "may not act for the configured connected account: check `account_id`",
            "does not have access to account",
        ),
    ],
)
def test_a_sync_that_is_refused_prints_the_connector_s_message(
    tmp_path, monkeypatch, key, account, says, stripe_says
):
    result = _sync_cli(tmp_path, monkeypatch, StripeApi(), key, account)

    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("customers: failed:")]
    assert len(lines) == 1, result.stderr
    assert says in lines[0]
    assert stripe_says in lines[0]
    assert key[-12:] not in result.output + result.stderr
