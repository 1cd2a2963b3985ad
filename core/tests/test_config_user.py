"""The user's TOML config file: loading, every problem at once, and schema choices."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_config_samples import SECRET, forget_package, generate, sample_source_config

from headwater import IncrementalField, SourceSchema, SyncMode
from headwater.config import (
    BUILTIN_RESOLVERS,
    SchemaChoice,
    UserConfig,
    check_schema_choices,
    load_user_config,
)
from headwater.errors import ConfigError

UTC = dt.UTC

VALID_SOURCE = """
[source]
repository = "posthog/posthog"

[source.auth]
selection = "token"
token = "ghp_example"
"""


@pytest.fixture(scope="module")
def config_class(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[Any]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield generate(tmp_path_factory.mktemp("generated"), monkeypatch)
    forget_package()


@pytest.fixture
def write(tmp_path: Path) -> Any:
    def write(text: str, name: str = "github.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def load(path: Path, config_class: type[Any]) -> UserConfig:
    return load_user_config(
        path,
        config_class=config_class,
        source_config=sample_source_config(),
        resolvers=BUILTIN_RESOLVERS,
    )


def problems_of(path: Path, config_class: type[Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path, config_class)
    return [str(problem) for problem in caught.value.problems]


# --- a good file -------------------------------------------------------------------------------


def test_a_complete_file_loads(
    config_class: type[Any], write: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_TEST_GITHUB_TOKEN", SECRET)
    path = write(
        """
        connection = "github_posthog"
        start_date = 2024-01-01

        [source]
        repository = "posthog/posthog"
        page_size = 50

        [source.auth]
        selection = "token"
        token = "env:HEADWATER_TEST_GITHUB_TOKEN"

        [schemas.issues]
        enabled = true
        sync_mode = "incremental"
        incremental_field = "updated_at"

        [schemas.commits]
        enabled = false
        """
    )
    config = load(path, config_class)
    assert config.connection == "github_posthog"
    assert config.start_date == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert config.source.repository == "posthog/posthog"
    assert config.source.page_size == 50
    assert config.source.auth.token.reveal() == SECRET
    assert config.schemas == {
        "issues": SchemaChoice(
            enabled=True, sync_mode=SyncMode.INCREMENTAL, incremental_field="updated_at"
        ),
        "commits": SchemaChoice(enabled=False),
    }
    assert SECRET not in repr(config)


def test_a_minimal_file_uses_defaults(config_class: type[Any], write: Any) -> None:
    config = load(write(VALID_SOURCE), config_class)
    assert config.connection is None
    assert config.start_date is None
    assert config.schemas == {}


@pytest.mark.parametrize(
    ("toml_value", "expected"),
    [
        ("2024-01-01", dt.datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T10:30:00Z", dt.datetime(2024, 1, 1, 10, 30, tzinfo=UTC)),
        ("2024-01-01T10:30:00+02:00", dt.datetime(2024, 1, 1, 8, 30, tzinfo=UTC)),
        ("2024-01-01T10:30:00", dt.datetime(2024, 1, 1, 10, 30, tzinfo=UTC)),  # local: read as UTC
        ('"2024-01-01"', dt.datetime(2024, 1, 1, tzinfo=UTC)),
        ('"2024-01-01T10:30:00Z"', dt.datetime(2024, 1, 1, 10, 30, tzinfo=UTC)),
        ('"2024-01-01T10:30:00-05:00"', dt.datetime(2024, 1, 1, 15, 30, tzinfo=UTC)),
    ],
)
def test_start_date_becomes_an_aware_utc_datetime(
    config_class: type[Any], write: Any, toml_value: str, expected: dt.datetime
) -> None:
    config = load(write(f"start_date = {toml_value}\n{VALID_SOURCE}"), config_class)
    assert config.start_date == expected
    assert config.start_date is not None
    assert config.start_date.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "toml_value", ["0001-01-01", "0001-01-01T00:30:00+01:00", "1969-12-31", "9999-12-31"]
)
def test_a_start_date_out_of_range_is_a_problem_not_an_overflow(
    config_class: type[Any], write: Any, toml_value: str
) -> None:
    problems = problems_of(write(f"start_date = {toml_value}\n{VALID_SOURCE}"), config_class)

    assert problems == ["expected a date from 1970-01-01 to 2999-12-31 @ $.start_date"]


@pytest.mark.parametrize("depth", [33, 500, 3000])
def test_values_nested_too_deep_are_a_problem_not_a_recursion_error(
    config_class: type[Any], write: Any, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    problems = problems_of(write(f"{VALID_SOURCE}\nextra = {nested}\n"), config_class)

    assert problems == ["values nest more than 32 levels deep @ $"]


@pytest.mark.parametrize("toml_value", ['"yesterday"', "10:30:00", "5", '"2024-13-01"', "true"])
def test_start_date_that_is_no_date_is_a_problem(
    config_class: type[Any], write: Any, toml_value: str
) -> None:
    assert problems_of(write(f"start_date = {toml_value}\n{VALID_SOURCE}"), config_class) == [
        "expected a date or date-time, such as 2024-01-01 or 2024-01-01T00:00:00Z @ $.start_date"
    ]


@pytest.mark.parametrize("name", ["github_posthog", "posthog-main", "GH2", "a"])
def test_connection_names_that_make_safe_folders(
    config_class: type[Any], write: Any, name: str
) -> None:
    assert load(write(f'connection = "{name}"\n{VALID_SOURCE}'), config_class).connection == name


@pytest.mark.parametrize(
    ("toml_value", "message"),
    [
        (
            '"../etc"',
            "expected a folder name of letters, digits, '_' and '-' (at most 100 characters)",
        ),
        (
            '"a b"',
            "expected a folder name of letters, digits, '_' and '-' (at most 100 characters)",
        ),
        ('""', "expected a folder name of letters, digits, '_' and '-' (at most 100 characters)"),
        (
            '"a/b"',
            "expected a folder name of letters, digits, '_' and '-' (at most 100 characters)",
        ),
        ("5", "expected string"),
    ],
)
def test_connection_names_that_are_not_safe_folders(
    config_class: type[Any], write: Any, toml_value: str, message: str
) -> None:
    path = write(f"connection = {toml_value}\n{VALID_SOURCE}")
    assert problems_of(path, config_class) == [f"{message} @ $.connection"]


# --- problems ----------------------------------------------------------------------------------


def test_every_problem_of_the_file_is_reported_at_once(config_class: type[Any], write: Any) -> None:
    path = write(
        """
        conection = "x"
        connection = "no spaces please"

        [source]
        repository = "posthog/posthog"
        page_size = "50"

        [source.auth]
        selection = "oauth"

        [schemas.issues]
        sync_mode = "sometimes"
        enabld = true

        [schemas.commits]
        enabled = "yes"
        """
    )
    with pytest.raises(ConfigError) as caught:
        load(path, config_class)
    assert [str(problem) for problem in caught.value.problems] == [
        "unknown field 'conection' (did you mean 'connection'?) @ $.conection",
        "expected a folder name of letters, digits, '_' and '-' (at most 100 characters)"
        " @ $.connection",
        "expected int @ $.source.page_size",
        "expected one of 'token', 'app' @ $.source.auth.selection",
        "expected one of 'incremental', 'append', 'full_refresh' @ $.schemas.issues.sync_mode",
        "unknown field 'enabld' (did you mean 'enabled'?) @ $.schemas.issues.enabld",
        "expected boolean @ $.schemas.commits.enabled",
    ]
    assert str(caught.value).startswith(f"{path}: 7 problems")


def test_a_missing_source_table_reports_its_required_fields(
    config_class: type[Any], write: Any
) -> None:
    assert problems_of(write('connection = "x"\n'), config_class) == [
        "missing required field 'repository' @ $.source.repository",
        "missing required field 'auth' @ $.source.auth",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('source = "github"\n', "expected table @ $.source"),
        (f'schemas = "all"\n{VALID_SOURCE}', "expected table @ $.schemas"),
        (f"{VALID_SOURCE}\n[schemas]\nissues = 5\n", "expected table @ $.schemas.issues"),
    ],
)
def test_tables_that_are_not_tables(
    config_class: type[Any], write: Any, text: str, expected: str
) -> None:
    assert problems_of(write(text), config_class) == [expected]


def test_a_toml_syntax_error_names_the_file_and_line(config_class: type[Any], write: Any) -> None:
    path = write(
        """\
        connection = "github"
        [source]
        repository = posthog/posthog
        """
    )
    with pytest.raises(ConfigError) as caught:
        load(path, config_class)
    assert str(caught.value) == (f"{path}: invalid TOML at line 3, column 14: invalid value @ $")


def test_a_syntax_error_inside_a_secret_does_not_show_it(
    config_class: type[Any], write: Any
) -> None:
    path = write(f'[source]\nrepository = "x"\ntoken = "{SECRET}\u0001"\n')
    with pytest.raises(ConfigError) as caught:
        load(path, config_class)
    assert "line 3" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert "\u0001" not in str(caught.value)


def test_a_missing_file_names_the_file(config_class: type[Any], tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as caught:
        load(path, config_class)
    assert str(caught.value) == f"{path}: cannot read the file (No such file or directory) @ $"


def test_a_file_that_is_not_utf8_names_the_line(config_class: type[Any], tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'connection = "x"\n[source]\nrepository = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"latin1\.toml: invalid TOML at line 3: not UTF-8"):
        load(path, config_class)


def test_secrets_in_a_bad_file_stay_secret(
    config_class: type[Any], write: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_TEST_GITHUB_TOKEN", SECRET)
    path = write(
        f"""
        [source]
        repository = "posthog/posthog"
        page_size = "{SECRET}"
        webhook_secret = "{SECRET}"
        visibility = "{SECRET}"

        [source.auth]
        selection = "token"
        token = "env:HEADWATER_TEST_GITHUB_TOKEN"
        """
    )
    with pytest.raises(ConfigError) as caught:
        load(path, config_class)
    assert SECRET not in str(caught.value)


# --- schema choices ----------------------------------------------------------------------------

SCHEMAS = [
    SourceSchema(
        name="issues",
        supports_incremental=True,
        incremental_fields=[
            IncrementalField(field="updated_at", label="Updated at", type="datetime"),
            IncrementalField(field="created_at", label="Created at", type="datetime"),
        ],
    ),
    SourceSchema(
        name="stargazers",
        supports_append=True,
        incremental_fields=[IncrementalField(field="starred_at", label="Starred", type="datetime")],
    ),
    SourceSchema(name="branches"),
]


def test_choices_the_schemas_support_are_fine() -> None:
    choices = {
        "issues": SchemaChoice(sync_mode=SyncMode.INCREMENTAL, incremental_field="created_at"),
        "stargazers": SchemaChoice(sync_mode=SyncMode.APPEND),
        "branches": SchemaChoice(enabled=False, sync_mode=SyncMode.FULL_REFRESH),
    }
    assert check_schema_choices(choices, SCHEMAS) == []


@pytest.mark.parametrize(
    ("name", "choice", "expected"),
    [
        (
            "isues",
            SchemaChoice(),
            "unknown schema 'isues' (did you mean 'issues'?) @ $.schemas.isues",
        ),
        ("releases", SchemaChoice(), "unknown schema 'releases' @ $.schemas.releases"),
        (
            "branches",
            SchemaChoice(sync_mode=SyncMode.INCREMENTAL),
            "schema 'branches' does not support sync mode 'incremental';"
            " expected one of 'full_refresh' @ $.schemas.branches.sync_mode",
        ),
        (
            "issues",
            SchemaChoice(sync_mode=SyncMode.APPEND),
            "schema 'issues' does not support sync mode 'append';"
            " expected one of 'incremental', 'full_refresh' @ $.schemas.issues.sync_mode",
        ),
        (
            "issues",
            SchemaChoice(incremental_field="closed_at"),
            "schema 'issues' does not offer incremental field 'closed_at';"
            " expected one of 'updated_at', 'created_at' @ $.schemas.issues.incremental_field",
        ),
        (
            "branches",
            SchemaChoice(incremental_field="name"),
            "schema 'branches' does not offer incremental field 'name';"
            " it has no incremental fields @ $.schemas.branches.incremental_field",
        ),
    ],
)
def test_choices_the_schemas_do_not_support(name: str, choice: SchemaChoice, expected: str) -> None:
    assert [str(problem) for problem in check_schema_choices({name: choice}, SCHEMAS)] == [expected]
