"""The source: its form, config, schemas, credential check and pipeline hand-off."""

from __future__ import annotations

import pytest

from connector_github._config import GithubConfig
from connector_github.settings import GithubSource
from connector_github.testing import METADATA_ONLY_TOKEN, REPOSITORY, TOKEN, GithubApi, kit
from headwater import Runtime, Secret, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import ResetFailure, StatusFailure
from headwater.errors import ConfigError, classify

SOURCE = GithubSource()


def config(**overrides: str) -> GithubConfig:
    raw = {"repository": REPOSITORY, "token": TOKEN, **overrides}
    return structure_source_config(
        GithubConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
    )


def built_in_code(repository: str) -> GithubConfig:
    """A config made in code, which skips the checks a config file goes through."""
    return GithubConfig(repository=repository, token=Secret(TOKEN))


def test_the_source_type_is_the_entry_point_name():
    assert SOURCE.source_type == "github"


def test_the_form_asks_for_a_repository_and_a_secret_token():
    fields = {field.name: field for field in SOURCE.get_source_config().fields}

    assert list(fields) == ["repository", "token"]
    assert all(field.label for field in fields.values())
    assert type(fields["repository"]).__name__ == "TextField"
    assert type(fields["token"]).__name__ == "SecretField"


def test_the_token_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)

    resolved = config(token="env:GITHUB_TOKEN")

    assert resolved.token.reveal() == TOKEN
    assert TOKEN not in repr(resolved)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"token": TOKEN}, "$.repository"),
        ({"repository": REPOSITORY}, "$.token"),
        ({"repository": "", "token": TOKEN}, "$.repository"),
    ],
)
def test_incomplete_configs_are_rejected_at_their_path(raw, path):
    with pytest.raises(ConfigError) as caught:
        structure_source_config(
            GithubConfig, SOURCE.get_source_config(), raw, resolvers=BUILTIN_RESOLVERS
        )

    assert path in str(caught.value)
    assert TOKEN not in str(caught.value)


SCHEMAS = [
    # name, incremental fields
    ("issues", ["updated_at"]),
    ("pull_requests", ["updated_at"]),
    ("commits", ["committed_at"]),
    ("stargazers", []),
    ("releases", []),
    ("workflow_runs", []),
    ("pull_request_reviews", []),
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
    assert SOURCE.validate_credentials(config(), kit.runtime(GithubApi())) == (True, None)


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (401, "rejected the token"),
        (403, "may not read octo-org/octo-repo"),
        (404, "shows no repository 'octo-org/octo-repo'"),
    ],
)
def test_refused_credentials_say_what_to_fix(status, says):
    api = GithubApi()
    api.inject(StatusFailure(status=status), times=10)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api))

    assert not ok
    assert says in message
    assert len(api.requests) == 1  # permanent: not retried


def test_an_unknown_repository_is_reported():
    ok, message = SOURCE.validate_credentials(
        config(repository="octo-org/missing"), kit.runtime(GithubApi())
    )

    assert not ok
    assert "octo-org/missing" in message


MALFORMED = ["octo-repo", "octo-org/", "/octo-repo", "a/b/c", "a b/c"]


@pytest.mark.parametrize("repository", MALFORMED)
def test_a_repository_not_of_the_form_owner_repo_is_refused_when_the_config_loads(repository):
    with pytest.raises(ConfigError) as caught:
        config(repository=repository)

    assert [str(problem) for problem in caught.value.problems] == [
        "expected owner/repo, like octo-org/octo-repo @ $.repository"
    ]


@pytest.mark.parametrize("repository", MALFORMED)
def test_a_malformed_repository_built_in_code_fails_before_any_request(repository):
    api = GithubApi()

    ok, message = SOURCE.validate_credentials(built_in_code(repository), kit.runtime(api))

    assert not ok
    assert "expected owner/repo" in message
    assert "$.repository" in message
    assert api.requests == []


def test_a_sync_of_a_malformed_repository_fails_at_its_path_with_a_rule():
    with pytest.raises(ConfigError) as caught:
        SOURCE.source_for_pipeline(
            built_in_code("octo-repo"),
            SourceInputs(schema_name="issues"),
            kit.runtime(GithubApi()),
        )

    assert "$.repository" in str(caught.value)
    rule = classify(caught.value, SOURCE.get_non_retryable_errors())
    assert rule is not None
    assert "owner/repo" in rule.message


def test_an_unreachable_api_returns_a_message():
    api = GithubApi()
    api.inject(ResetFailure(), times=100)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api, sleep=lambda _: None))

    assert not ok
    assert "could not be reached" in message


HANDOFF = [
    # schema, primary keys, partition keys, sort mode
    ("issues", ("id",), ("created_at",), "asc"),
    ("pull_requests", ("id",), ("created_at",), "desc"),
    ("commits", ("sha",), ("committed_at",), "desc"),
    ("stargazers", ("user_id",), ("starred_at",), "asc"),
    ("releases", ("id",), ("created_at",), "asc"),
    ("workflow_runs", ("id",), ("created_at",), "desc"),
    ("pull_request_reviews", ("id",), None, "asc"),
]


@pytest.mark.parametrize(("schema", "keys", "partition", "sort"), HANDOFF)
def test_the_hand_off_declares_keys_partitioning_and_order(schema, keys, partition, sort):
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name=schema), kit.runtime(GithubApi())
    )

    assert response.name == schema
    assert response.primary_keys == keys
    assert response.partition_keys == partition
    if partition is not None:
        assert str(response.partition_mode) == "datetime"
        assert str(response.partition_format) == "month"
    assert str(response.sort_mode) == sort


def test_the_configured_repository_and_token_reach_the_requests():
    api = GithubApi()
    response = SOURCE.source_for_pipeline(
        config(repository="Octo-Org/Octo-Repo"),
        SourceInputs(schema_name="releases"),
        kit.runtime(api),
    )

    rows = [row for page in response.items() for row in page]

    assert len(rows) == 101
    first = api.requests[0]
    assert first.url.path == "/repos/Octo-Org/Octo-Repo/releases"
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.headers["Accept"] == "application/vnd.github+json"
    assert first.headers["X-GitHub-Api-Version"] == "2022-11-28"


# --- what `headwater sync` prints (issue 16, item 7) -------------------------------------------


def _sync_cli(tmp_path, monkeypatch, token, schema):
    """`headwater sync github` in process, its requests going to the emulator."""
    from click.testing import CliRunner

    import headwater.runtime
    from headwater.cli.app import cli

    api = GithubApi()
    # The command builds its own Runtime; this one reaches the emulator, not api.github.com.
    monkeypatch.setattr(headwater.runtime, "Runtime", lambda **fields: kit.runtime(api, **fields))
    path = tmp_path / "github.toml"
    path.write_text(f'[source]\nrepository = "{REPOSITORY}"\ntoken = "{token}"\n')
    arguments = ["sync", "github", "-c", str(path), "-w", str(tmp_path / "w"), "-s", schema]
    return CliRunner().invoke(cli, arguments)


@pytest.mark.parametrize(
    ("token", "schema", "says"),
    [
        ("ghp_notTheRightOne42", "issues", "GitHub rejected the token (Bad credentials)"),
        (METADATA_ONLY_TOKEN, "issues", "needs the repository permission 'Issues' (read)"),
        (METADATA_ONLY_TOKEN, "pull_requests", "permission 'Pull requests' (read)"),
        (METADATA_ONLY_TOKEN, "workflow_runs", "permission 'Actions' (read)"),
    ],
)
def test_a_sync_that_is_refused_prints_the_connector_s_message(
    tmp_path, monkeypatch, token, schema, says
):
    result = _sync_cli(tmp_path, monkeypatch, token, schema)

    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith(f"{schema}: failed:")]
    assert len(lines) == 1, result.stderr
    assert says in lines[0]
    assert token not in result.output + result.stderr


def test_a_metadata_only_token_passes_the_credential_check():
    # The check reads the repository itself, which the Metadata permission covers.
    checked = SOURCE.validate_credentials(
        config(token=METADATA_ONLY_TOKEN), kit.runtime(GithubApi())
    )

    assert checked == (True, None)
