"""The source: its form, config, schemas, credential check and pipeline hand-off."""

from __future__ import annotations

import pytest

from connector_sentry._config import SentryConfig
from connector_sentry.settings import SentrySource
from connector_sentry.testing import ORGANIZATION, TOKEN, SentryApi, kit
from headwater import Runtime, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import ResetFailure, StatusFailure
from headwater.errors import ConfigError, NotFoundError

SOURCE = SentrySource()


def config(**overrides: str) -> SentryConfig:
    raw = {"organization": ORGANIZATION, "auth_token": TOKEN, **overrides}
    return structure_source_config(
        SentryConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
    )


def test_the_source_type_is_the_entry_point_name():
    assert SOURCE.source_type == "sentry"


def test_the_form_asks_for_an_organization_a_region_and_a_secret_token():
    fields = {field.name: field for field in SOURCE.get_source_config().fields}

    assert list(fields) == ["organization", "region", "auth_token"]
    assert type(fields["organization"]).__name__ == "TextField"
    assert type(fields["auth_token"]).__name__ == "SecretField"
    region = fields["region"]
    assert [option.value for option in region.options] == [
        "sentry.io",
        "us.sentry.io",
        "de.sentry.io",
    ]
    assert region.default == "sentry.io"


def test_the_token_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)

    resolved = config(auth_token="env:SENTRY_AUTH_TOKEN")

    assert resolved.auth_token.reveal() == TOKEN
    assert TOKEN not in repr(resolved)
    assert resolved.region == "sentry.io"


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"auth_token": TOKEN}, "$.organization"),
        ({"organization": ORGANIZATION}, "$.auth_token"),
        ({"organization": ORGANIZATION, "auth_token": TOKEN, "region": "eu.sentry.io"}, "$.region"),
    ],
)
def test_incomplete_configs_are_rejected_at_their_path(raw, path):
    with pytest.raises(ConfigError) as caught:
        structure_source_config(
            SentryConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
        )

    assert path in str(caught.value)
    assert TOKEN not in str(caught.value)


SCHEMAS = [
    # name, incremental fields
    ("projects", []),
    ("issues", ["lastSeen"]),
    ("project_events", []),
    ("issue_events", []),
    ("issue_hashes", []),
    ("issue_tag_values", []),
]


def test_it_lists_every_schema():
    names = [schema.name for schema in SOURCE.get_schemas(config(), Runtime())]

    assert names == [name for name, _ in SCHEMAS]


@pytest.mark.parametrize(("name", "fields"), SCHEMAS)
def test_incremental_fields_are_offered_where_the_api_can_filter(name, fields):
    schema = {s.name: s for s in SOURCE.get_catalog_schemas()}[name]

    assert [field.field for field in schema.incremental_fields] == fields
    assert schema.supports_incremental is bool(fields)


def test_valid_credentials_are_accepted():
    api = SentryApi()

    assert SOURCE.validate_credentials(config(), kit.runtime(api)) == (True, None)
    assert api.requests[0].url.path == "/api/0/organizations/acme/"


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (401, "rejected the auth token"),
        (403, "may not read organization 'acme'"),
        (404, "shows no organization 'acme' on sentry.io"),
    ],
)
def test_refused_credentials_say_what_to_fix(status, says):
    api = SentryApi()
    api.inject(StatusFailure(status=status, json={"detail": "no"}), times=10)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api))

    assert not ok
    assert says in message
    assert len(api.requests) == 1  # permanent: not retried


def test_a_wrong_token_is_refused_by_the_api():
    ok, message = SOURCE.validate_credentials(
        config(auth_token="sntrys_notTheRightOne"), kit.runtime(SentryApi())
    )

    assert not ok
    assert "rejected the auth token" in message


def test_an_organization_in_another_region_is_not_found_there():
    ok, message = SOURCE.validate_credentials(
        config(region="de.sentry.io"), kit.runtime(SentryApi())
    )

    assert not ok
    assert "de.sentry.io" in message


@pytest.mark.parametrize("slug", ["Acme", "acme/other", "../acme", "a b"])
def test_an_organization_that_is_no_slug_fails_before_any_request(slug):
    api = SentryApi()

    ok, message = SOURCE.validate_credentials(config(organization=slug), kit.runtime(api))

    assert not ok
    assert "$.organization" in message
    assert api.requests == []


def test_a_sync_of_a_malformed_organization_fails_at_its_path():
    with pytest.raises(ConfigError) as caught:
        SOURCE.source_for_pipeline(
            config(organization="a/b"), SourceInputs(schema_name="issues"), kit.runtime(SentryApi())
        )

    assert "$.organization" in str(caught.value)


def test_an_unreachable_api_returns_a_message():
    api = SentryApi()
    api.inject(ResetFailure(), times=100)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api, sleep=lambda _: None))

    assert not ok
    assert "could not be reached" in message


HANDOFF = [
    # schema, primary keys, partition keys, sort mode
    ("projects", ("id",), ("dateCreated",), "asc"),
    ("issues", ("id",), ("firstSeen",), "desc"),
    ("project_events", ("project_id", "id"), ("dateCreated",), "desc"),
    ("issue_events", ("issue_id", "id"), ("dateCreated",), "asc"),
    ("issue_hashes", ("issue_id", "id"), None, "asc"),
    ("issue_tag_values", ("issue_id", "key", "value"), ("firstSeen",), "asc"),
]


@pytest.mark.parametrize(("schema", "keys", "partition", "sort"), HANDOFF)
def test_the_hand_off_declares_keys_partitioning_and_order(schema, keys, partition, sort):
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name=schema), kit.runtime(SentryApi())
    )

    assert response.name == schema
    assert response.primary_keys == keys
    assert response.partition_keys == partition
    if partition is not None:
        assert str(response.partition_mode) == "datetime"
        assert str(response.partition_format) == "month"
    assert str(response.sort_mode) == sort


@pytest.mark.parametrize("region", ["sentry.io", "us.sentry.io", "de.sentry.io"])
def test_the_configured_region_organization_and_token_reach_the_requests(region):
    api = SentryApi()
    response = SOURCE.source_for_pipeline(
        config(region=region), SourceInputs(schema_name="projects"), kit.runtime(api)
    )

    if region == "de.sentry.io":  # the emulated organization is stored in the US
        with pytest.raises(NotFoundError):
            list(response.items())
    else:
        assert sum(len(page) for page in response.items()) == 101

    first = api.requests[0]
    assert first.url.host == region
    assert first.url.path == "/api/0/organizations/acme/projects/"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"


def test_errors_have_rules():
    rules = SOURCE.get_non_retryable_errors()
    assert {str(rule.kind) for rule in rules if rule.kind is not None} >= {
        "authentication",
        "permission",
        "not_found",
    }


# --- what `headwater sync` prints (issue 16, item 7) -------------------------------------------


def _sync_cli(tmp_path, monkeypatch, api, token, status=None):
    """`headwater sync sentry` in process, its requests going to ``api``."""
    from click.testing import CliRunner

    import headwater.runtime
    from headwater.cli.app import cli

    if status is not None:
        api.inject(StatusFailure(status=status, json={"detail": "refused"}), times=100)
    # The command builds its own Runtime; this one reaches the emulator instead of sentry.io.
    monkeypatch.setattr(headwater.runtime, "Runtime", lambda **fields: kit.runtime(api, **fields))
    path = tmp_path / "sentry.toml"
    path.write_text(f'[source]\norganization = "{ORGANIZATION}"\nauth_token = "{token}"\n')
    arguments = ["sync", "sentry", "-c", str(path), "-w", str(tmp_path / "w"), "-s", "projects"]
    return CliRunner().invoke(cli, arguments)


@pytest.mark.parametrize(
    ("token", "status", "says"),
    [
        ("sntrys_notTheRightOne42", None, "Sentry rejected the auth token (Invalid token)"),
        (TOKEN, 403, "it needs the org:read, project:read and event:read scopes"),
    ],
)
def test_a_sync_that_is_refused_prints_the_connector_s_message(
    tmp_path, monkeypatch, token, status, says
):
    result = _sync_cli(tmp_path, monkeypatch, SentryApi(), token, status)

    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("projects: failed:")]
    assert len(lines) == 1, result.stderr
    assert says in lines[0]
    assert "sntrys_notTheRightOne42" not in result.output + result.stderr
