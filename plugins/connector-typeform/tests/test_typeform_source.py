"""The source: its form, config, schemas, credential check and pipeline hand-off."""

from __future__ import annotations

import pytest

from connector_typeform._config import TypeformConfig
from connector_typeform.settings import TypeformSource
from connector_typeform.testing import TOKEN, TypeformApi, forbidden, kit
from headwater import Runtime, Secret, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import ResetFailure, StatusFailure
from headwater.errors import ConfigError, classify

SOURCE = TypeformSource()
HOSTS = ["https://api.typeform.com", "https://api.eu.typeform.com", "https://api.typeform.eu"]


def config(**overrides: str) -> TypeformConfig:
    raw = {"token": TOKEN, **overrides}
    return structure_source_config(
        TypeformConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
    )


def built_in_code(base_url: str) -> TypeformConfig:
    """A config made in code, which skips the checks a config file goes through."""
    return TypeformConfig(token=Secret(TOKEN), base_url=base_url)  # type: ignore[arg-type]


def test_the_source_type_is_the_entry_point_name():
    assert SOURCE.source_type == "typeform"


def test_the_form_asks_for_a_secret_token_and_a_region_among_typeforms_hosts():
    fields = {field.name: field for field in SOURCE.get_source_config().fields}

    assert list(fields) == ["token", "base_url"]
    assert all(field.label for field in fields.values())
    assert type(fields["token"]).__name__ == "SecretField"
    assert type(fields["base_url"]).__name__ == "SelectField"
    assert [option.value for option in fields["base_url"].options] == HOSTS
    assert config().base_url == "https://api.typeform.com"


def test_the_token_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TYPEFORM_TOKEN", TOKEN)

    resolved = config(token="env:TYPEFORM_TOKEN")

    assert resolved.token.reveal() == TOKEN
    assert TOKEN not in repr(resolved)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({}, "$.token"),
        ({"token": TOKEN, "base_url": "https://evil.example.com"}, "$.base_url"),
        ({"token": TOKEN, "base_url": "https://api.typeform.com.evil.example"}, "$.base_url"),
        ({"token": TOKEN, "base_url": "eu"}, "$.base_url"),
    ],
)
def test_incomplete_or_foreign_configs_are_rejected_at_their_path(raw, path):
    with pytest.raises(ConfigError) as caught:
        structure_source_config(
            TypeformConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
        )

    assert path in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_foreign_host_built_in_code_fails_before_any_request_with_a_clear_error():
    api = TypeformApi()

    ok, message = SOURCE.validate_credentials(
        built_in_code("https://evil.example.com"), kit.runtime(api)
    )

    assert not ok
    assert "$.base_url" in message
    assert "unknown Typeform API host" in message
    assert api.requests == []


def test_a_sync_on_a_foreign_host_fails_at_its_path_with_a_rule():
    with pytest.raises(ConfigError) as caught:
        SOURCE.source_for_pipeline(
            built_in_code("https://evil.example.com"),
            SourceInputs(schema_name="forms"),
            kit.runtime(TypeformApi()),
        )

    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert "https://api.eu.typeform.com" in rule.message


SCHEMAS = [
    # name, incremental fields
    ("forms", []),
    ("form_fields", []),
    ("responses", ["submitted_at"]),
]


def test_it_lists_every_schema():
    names = [schema.name for schema in SOURCE.get_schemas(config(), Runtime())]

    assert names == [name for name, _ in SCHEMAS]


@pytest.mark.parametrize(("name", "fields"), SCHEMAS)
def test_incremental_fields_are_offered_where_the_api_can_filter(name, fields):
    schema = {s.name: s for s in SOURCE.get_catalog_schemas()}[name]

    assert [field.field for field in schema.incremental_fields] == fields
    assert schema.supports_incremental is bool(fields)


@pytest.mark.parametrize("host", HOSTS)
def test_valid_credentials_are_accepted_on_every_region(host):
    api = TypeformApi()

    assert SOURCE.validate_credentials(config(base_url=host), kit.runtime(api)) == (True, None)
    assert str(api.requests[0].url).startswith(f"{host}/forms?")


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (StatusFailure(status=401), "rejected the personal access token"),
        (forbidden("forms:read"), "forms:read"),
        (StatusFailure(status=400, json={"code": "VALIDATION_ERROR"}), "could not be reached"),
    ],
)
def test_refused_credentials_say_what_to_fix(failure, says):
    api = TypeformApi()
    api.inject(failure, times=10)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api))

    assert not ok
    assert says in message
    assert TOKEN not in message
    assert len(api.requests) == 1  # permanent: not retried


def test_a_wrong_token_is_refused_by_the_emulator_itself():
    ok, message = SOURCE.validate_credentials(
        TypeformConfig(token=Secret("tfp_wrong0001")),
        kit.runtime(TypeformApi()),
    )

    assert not ok
    assert "rejected" in message


def test_an_unreachable_api_returns_a_message():
    api = TypeformApi()
    api.inject(ResetFailure(), times=100)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api, sleep=lambda _: None))

    assert not ok
    assert "could not be reached" in message


HANDOFF = [
    # schema, primary keys, partition keys, sort mode
    # forms: not partitioned, some list items have no created_at.
    ("forms", ("id",), None, "asc"),
    ("form_fields", ("form_id", "id"), None, "asc"),
    ("responses", ("form_id", "token"), ("submitted_at",), "desc"),
]


@pytest.mark.parametrize(("schema", "keys", "partition", "sort"), HANDOFF)
def test_the_hand_off_declares_keys_partitioning_and_order(schema, keys, partition, sort):
    api = TypeformApi()
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name=schema), kit.runtime(api)
    )

    assert response.name == schema
    assert response.primary_keys == keys
    assert response.partition_keys == partition
    if partition is not None:
        assert str(response.partition_mode) == "datetime"
        assert str(response.partition_format) == "month"
    assert str(response.sort_mode) == sort
    assert api.requests == []  # nothing is read before the host iterates


# --- `headwater sync` (issue 16, items 5 and 7) ------------------------------------------------


def _sync_cli(tmp_path, monkeypatch, api, token, schema):
    """`headwater sync typeform` in process, its requests going to ``api``."""
    from click.testing import CliRunner

    import headwater.runtime
    from headwater.cli.app import cli

    # The command builds its own Runtime; this one reaches the emulator, not Typeform.
    monkeypatch.setattr(headwater.runtime, "Runtime", lambda **fields: kit.runtime(api, **fields))
    path = tmp_path / "typeform.toml"
    path.write_text(f'[source]\ntoken = "{token}"\n')
    arguments = ["sync", "typeform", "-c", str(path), "-w", str(tmp_path / "w"), "-s", schema]
    return CliRunner().invoke(cli, arguments)


@pytest.mark.parametrize(
    ("token", "failure", "schema", "says"),
    [
        ("tfp_notTheRightOne42", None, "forms", "rejected the personal access token"),
        # A token without responses:read lists forms, and is refused their responses.
        (TOKEN, "responses:read", "responses", "lacks the responses:read scope"),
        (TOKEN, "forms:read", "form_fields", "lacks the forms:read scope"),
    ],
)
def test_a_sync_that_is_refused_prints_the_connector_s_message(
    tmp_path, monkeypatch, token, failure, schema, says
):
    api = TypeformApi(forms=1)
    if failure == "responses:read":
        api.inject(forbidden(failure), times=100, path="/forms/frm00000/responses")
    elif failure is not None:
        api.inject(forbidden(failure), times=100)

    result = _sync_cli(tmp_path, monkeypatch, api, token, schema)

    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"{schema}: failed:")]
    assert len(lines) == 1, result.stderr
    assert says in lines[0]
    assert token not in result.output + result.stderr


def test_a_sync_writes_every_form_those_listed_without_created_at_too(tmp_path, monkeypatch):
    from deltalake import DeltaTable

    api = TypeformApi(forms=60)

    result = _sync_cli(tmp_path, monkeypatch, api, TOKEN, "forms")

    assert result.exit_code == 0, result.stderr
    table = DeltaTable(str(tmp_path / "w" / "typeform" / "forms")).to_pyarrow_table()
    assert table.num_rows == 60
    undated = [row for row in table.to_pylist() if row["created_at"] is None]
    assert sorted(row["id"] for row in undated) == ["frm00007", "frm00050"]
    assert DeltaTable(str(tmp_path / "w" / "typeform" / "forms")).metadata().partition_columns == []


def test_a_sync_writes_the_questions_of_every_form(tmp_path, monkeypatch):
    from deltalake import DeltaTable

    api = TypeformApi(forms=5)

    result = _sync_cli(tmp_path, monkeypatch, api, TOKEN, "form_fields")

    assert result.exit_code == 0, result.stderr
    table = DeltaTable(str(tmp_path / "w" / "typeform" / "form_fields")).to_pyarrow_table()
    assert table.num_rows == len(api.store.rows("form_fields"))
