"""Structuring user input into the generated config class: types, references, every problem."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from cattrs.errors import BaseValidationError, CattrsError
from test_config_samples import SECRET, forget_package, generate, sample_source_config, valid_input

from headwater import Secret, TextField
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.config.converter import config_converter
from headwater.config.problems import problems_from_exception
from headwater.errors import ConfigError

DELETE = object()


@pytest.fixture(scope="module")
def config_class(tmp_path_factory: pytest.TempPathFactory) -> Iterator[type[Any]]:
    # One generated package for the whole module: structuring never changes it.
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield generate(tmp_path_factory.mktemp("generated"), monkeypatch)
    forget_package()


def structure(config_class: type[Any], raw: Mapping[str, Any], **kwargs: Any) -> Any:
    kwargs.setdefault("resolvers", BUILTIN_RESOLVERS)
    return structure_source_config(config_class, sample_source_config(), raw, **kwargs)


def problems_of(config_class: type[Any], raw: Mapping[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        structure(config_class, raw, **kwargs)
    return [str(problem) for problem in caught.value.problems]


def changed(**changes: Any) -> dict[str, Any]:
    """The valid input with top-level or dotted (``auth.token``) keys changed or deleted."""
    raw = copy.deepcopy(valid_input())
    for dotted, value in changes.items():
        *parents, key = dotted.split("__")
        table = raw
        for parent in parents:
            table = table.setdefault(parent, {})
        if value is DELETE:
            table.pop(key, None)
        else:
            table[key] = value
    return raw


# --- valid input -------------------------------------------------------------------------------


def test_valid_input_becomes_a_typed_instance(config_class: type[Any]) -> None:
    raw = {
        "repository": "posthog/posthog",
        "notify_email": "data@example.com",
        "base_url": "https://github.example.com/api/v3",
        "description": "line one\nline two",
        "webhook_secret": "whsec",
        "page_size": 50,
        "request_timeout": 30,
        "visibility": "public",
        "auth": {"selection": "app", "app_id": 12345, "private_key": "-----BEGIN KEY-----"},
        "proxy": {"url": "http://proxy.internal"},
        "ca_bundle": "-----BEGIN CERTIFICATE-----",
        "google_drive": "integration-7",
    }
    config = structure(config_class, raw)
    assert config.repository == "posthog/posthog"
    assert config.page_size == 50
    assert config.request_timeout == 30.0
    assert isinstance(config.request_timeout, float)
    assert config.visibility == "public"
    assert type(config.auth).__name__ == "GithubConfigAuthApp"
    assert config.auth.app_id == 12345
    assert config.auth.private_key == Secret("-----BEGIN KEY-----")
    assert config.webhook_secret == Secret("whsec")
    assert config.proxy.url == "http://proxy.internal"
    assert config.proxy.port == 8080
    assert config.ca_bundle == "-----BEGIN CERTIFICATE-----"


def test_defaults_fill_what_the_user_left_out(config_class: type[Any]) -> None:
    config = structure(config_class, valid_input())
    assert config.base_url == "https://api.github.com"
    assert config.page_size == 100
    assert config.visibility == "all"
    assert config.proxy is None
    assert config.notify_email is None
    assert type(config.auth).__name__ == "GithubConfigAuthToken"
    assert config.auth.token.reveal() == "ghp_example"


def test_an_empty_switch_group_table_switches_it_on_with_defaults(config_class: type[Any]) -> None:
    config = structure(config_class, changed(proxy={"url": "https://proxy.example.com"}))
    assert config.proxy.port == 8080


def test_problem_paths_start_at_the_given_path(config_class: type[Any]) -> None:
    assert problems_of(config_class, changed(page_size="10"), path="$.source") == [
        "expected int @ $.source.page_size"
    ]


# --- every message -----------------------------------------------------------------------------

CASES = [
    # (changes to the valid input, the one problem expected)
    ({"repository": DELETE}, "missing required field 'repository' @ $.repository"),
    ({"auth": DELETE}, "missing required field 'auth' @ $.auth"),
    ({"repository": 5}, "expected string @ $.repository"),
    ({"page_size": "10"}, "expected int @ $.page_size"),
    ({"page_size": 10.0}, "expected int @ $.page_size"),
    ({"page_size": True}, "expected int @ $.page_size"),
    ({"request_timeout": "1"}, "expected number @ $.request_timeout"),
    ({"request_timeout": False}, "expected number @ $.request_timeout"),
    ({"request_timeout": math.nan}, "expected a finite number @ $.request_timeout"),
    ({"request_timeout": math.inf}, "expected a finite number @ $.request_timeout"),
    ({"ca_bundle": 5}, "expected string @ $.ca_bundle"),
    ({"webhook_secret": 5}, "expected string @ $.webhook_secret"),
    (
        {"reposatory": "x"},
        "unknown field 'reposatory' (did you mean 'repository'?) @ $.reposatory",
    ),
    ({"colour": "x"}, "unknown field 'colour' @ $.colour"),
    ({"visibility": "secret"}, "expected one of 'all', 'public', 'private' @ $.visibility"),
    ({"visibility": 1}, "expected one of 'all', 'public', 'private' @ $.visibility"),
    ({"auth__selection": "oauth"}, "expected one of 'token', 'app' @ $.auth.selection"),
    ({"auth__selection": 1}, "expected one of 'token', 'app' @ $.auth.selection"),
    (
        {"auth__selection": DELETE},
        "missing required field 'selection' (one of 'token', 'app') @ $.auth.selection",
    ),
    ({"auth": "token"}, "expected table @ $.auth"),
    ({"auth__token": DELETE}, "missing required field 'token' @ $.auth.token"),
    ({"auth__tokn": "x"}, "unknown field 'tokn' (did you mean 'token'?) @ $.auth.tokn"),
    ({"auth__token": ""}, "must not be empty @ $.auth.token"),
    (
        {"auth": {"selection": "app", "app_id": "7", "private_key": "k"}},
        "expected int @ $.auth.app_id",
    ),
    (
        {"auth": {"selection": "app", "app_id": 0, "private_key": "k"}},
        "must be at least 1 @ $.auth.app_id",
    ),
    ({"proxy": True}, "expected table @ $.proxy"),
    ({"proxy": {}}, "missing required field 'url' @ $.proxy.url"),
    (
        {"proxy": {"url": "http://p", "port": 70000}},
        "must be at most 65535 @ $.proxy.port",
    ),
    ({"proxy": {"url": "p:3128"}}, "expected an http(s) URL with a host @ $.proxy.url"),
    ({"page_size": 0}, "must be at least 1 @ $.page_size"),
    ({"page_size": 101}, "must be at most 100 @ $.page_size"),
    ({"request_timeout": 0.1}, "must be at least 0.5 @ $.request_timeout"),
    ({"notify_email": "nobody"}, "expected an email address @ $.notify_email"),
    ({"notify_email": "a@b"}, "expected an email address @ $.notify_email"),
    ({"base_url": "ftp://example.com"}, "expected an http(s) URL with a host @ $.base_url"),
    ({"base_url": "https://"}, "expected an http(s) URL with a host @ $.base_url"),
    ({"base_url": "example.com"}, "expected an http(s) URL with a host @ $.base_url"),
    ({"base_url": "https://exa mple.com"}, "expected an http(s) URL with a host @ $.base_url"),
    ({"repository": ""}, "must not be empty @ $.repository"),
    ({"repository": "   "}, "must not be empty @ $.repository"),
]


@pytest.mark.parametrize(("changes", "expected"), CASES, ids=[case[1] for case in CASES])
def test_each_mistake_has_one_clear_problem(
    config_class: type[Any], changes: dict[str, Any], expected: str
) -> None:
    assert problems_of(config_class, changed(**changes)) == [expected]


@pytest.mark.parametrize(
    "changes",
    [
        {"notify_email": ""},  # optional and empty: not set
        {"description": ""},
        {"request_timeout": 1},  # an int is a fine float
        {"base_url": "http://localhost:8080/api"},
        {"proxy": {"url": "https://[::1]:3128"}},
    ],
)
def test_acceptable_edge_values(config_class: type[Any], changes: dict[str, Any]) -> None:
    structure(config_class, changed(**changes))


def test_input_that_is_not_a_table_is_refused(config_class: type[Any]) -> None:
    assert problems_of(config_class, ["not", "a", "table"]) == ["expected table @ $"]  # type: ignore[arg-type]


def test_every_problem_is_reported_at_once_in_form_order(config_class: type[Any]) -> None:
    raw = {
        "reposatory": "posthog/posthog",
        "notify_email": "nobody",
        "page_size": "10",
        "visibility": "secret",
        "auth": {"selection": "app", "app_id": "x"},
        "proxy": {"url": "ftp://p", "colour": "red"},
    }
    with pytest.raises(ConfigError) as caught:
        structure(config_class, raw)
    assert [str(problem) for problem in caught.value.problems] == [
        "missing required field 'repository' @ $.repository",
        "expected an email address @ $.notify_email",
        "expected int @ $.page_size",
        "expected one of 'all', 'public', 'private' @ $.visibility",
        "expected int @ $.auth.app_id",
        "missing required field 'private_key' @ $.auth.private_key",
        "expected an http(s) URL with a host @ $.proxy.url",
        "unknown field 'colour' @ $.proxy.colour",
        "unknown field 'reposatory' (did you mean 'repository'?) @ $.reposatory",
    ]
    message = str(caught.value)
    assert message.startswith("invalid GitHub configuration: 9 problems\n  - missing required")
    assert "Traceback" not in message


# --- references --------------------------------------------------------------------------------


def test_env_references_are_resolved(
    config_class: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_TEST_GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("HEADWATER_TEST_REPOSITORY", "posthog/posthog")
    raw = changed(
        repository="env:HEADWATER_TEST_REPOSITORY", auth__token="env:HEADWATER_TEST_GITHUB_TOKEN"
    )
    config = structure(config_class, raw)
    assert config.repository == "posthog/posthog"
    assert config.auth.token.reveal() == SECRET


def test_file_references_are_resolved(config_class: type[Any], tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(SECRET + "\n", encoding="utf-8")
    config = structure(config_class, changed(auth__token=f"file:{token_file}"))
    assert config.auth.token.reveal() == SECRET


def test_a_missing_env_variable_is_reported_at_its_path(
    config_class: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEADWATER_TEST_UNSET", raising=False)
    raw = changed(auth__token="env:HEADWATER_TEST_UNSET", notify_email="env:HEADWATER_TEST_UNSET")
    # Reported once each: not again as a bad email address.
    assert problems_of(config_class, raw) == [
        "environment variable HEADWATER_TEST_UNSET is not set @ $.notify_email",
        "environment variable HEADWATER_TEST_UNSET is not set @ $.auth.token",
    ]


def test_strings_with_an_unknown_prefix_are_plain_values(config_class: type[Any]) -> None:
    config = structure(config_class, changed(base_url="https://api.github.com"))
    assert config.base_url == "https://api.github.com"
    config = structure(config_class, changed(auth__token="vault:secret/github"))
    assert config.auth.token.reveal() == "vault:secret/github"


def test_a_plugin_resolver_is_used_and_its_failures_are_contained(config_class: type[Any]) -> None:
    def vault(argument: str) -> str:
        if argument == "broken":
            raise RuntimeError(f"connection to vault failed for {SECRET}")
        if argument == "absent":
            raise KeyError("no secret at vault path absent")
        return f"from-vault-{argument}"

    resolvers = {**BUILTIN_RESOLVERS, "vault": vault}
    config = structure(config_class, changed(auth__token="vault:github"), resolvers=resolvers)
    assert config.auth.token.reveal() == "from-vault-github"
    problems = problems_of(
        config_class,
        changed(auth__token="vault:broken", webhook_secret="vault:absent"),
        resolvers=resolvers,
    )
    assert problems == [
        "no secret at vault path absent @ $.webhook_secret",
        "the 'vault' resolver failed (RuntimeError) @ $.auth.token",
    ]


# --- secrets stay secret -----------------------------------------------------------------------


def test_secret_values_never_appear_in_reprs(
    config_class: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADWATER_TEST_GITHUB_TOKEN", SECRET)
    raw = changed(auth__token="env:HEADWATER_TEST_GITHUB_TOKEN", webhook_secret=SECRET)
    config = structure(config_class, raw)
    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    assert "Secret('***')" in repr(config)


@pytest.mark.parametrize(
    "changes",
    [
        {"page_size": SECRET},
        {"visibility": SECRET},
        {"notify_email": SECRET},
        {"base_url": SECRET},
        {"auth__selection": SECRET},
        {"auth__token": 12345, "webhook_secret": [SECRET]},
        {"proxy": SECRET},
        {"repository": [SECRET]},
    ],
)
def test_secret_values_never_appear_in_problems(
    config_class: type[Any], changes: dict[str, Any]
) -> None:
    with pytest.raises(ConfigError) as caught:
        structure(config_class, changed(**changes))
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.problems)


REPOSITORY = TextField(
    name="repository",
    label="Repository",
    pattern=r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+",
    pattern_hint="owner/repo, such as PostHog/posthog",
)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("PostHog/posthog", None),
        ("posthog", "expected owner/repo, such as PostHog/posthog @ $.repository"),
        ("a/b/c", "expected owner/repo, such as PostHog/posthog @ $.repository"),
        (" PostHog/posthog", "expected owner/repo, such as PostHog/posthog @ $.repository"),
    ],
)
def test_a_text_pattern_is_checked_on_load_against_the_whole_value(value, problem):
    from headwater.config.checks import check_field_values

    problems = [str(p) for p in check_field_values([REPOSITORY], {"repository": value})]

    assert problems == ([problem] if problem else [])


def test_a_text_pattern_reaches_the_form_schema_anchored():
    from headwater import SourceConfig, SourceSpec
    from headwater.config import form_json_schema

    spec = SourceSpec(source_type="gh", contract_major=1, label="GH", load="connector_gh.s:S")
    schema = form_json_schema(spec, SourceConfig(label="GH", fields=[REPOSITORY]))

    assert schema["properties"]["repository"]["pattern"] == (
        r"^(?:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)$"
    )


def test_a_field_pattern_must_be_a_regular_expression():
    with pytest.raises(ValueError, match="is not a regular expression"):
        TextField(name="repository", label="Repository", pattern="[unclosed")


# --- paths of nested tables, lists and odd keys ----------------------------------------------


@attrs.frozen(kw_only=True)
class Page:
    size: int


@attrs.frozen(kw_only=True)
class Pages:
    pages: list[Page]
    named: dict[str, Page]
    first: Page | None = None


def test_problems_in_lists_nested_tables_and_odd_keys_have_their_paths() -> None:
    raw = {
        "pages": [{"size": 1}, {"size": "ten"}, {}],
        "named": {"a.b": {"size": 2, "sise": 3}, "plain": {"size": True}, "ok": {"size": 4}},
        "first": {"size": 1.5},
    }
    with pytest.raises((BaseValidationError, CattrsError)) as caught:
        config_converter().structure(raw, Pages)
    assert sorted(str(p) for p in problems_from_exception(caught.value, "$.source")) == [
        "expected int @ $.source.first.size",
        "expected int @ $.source.named.plain.size",
        "expected int @ $.source.pages[1].size",
        "missing required field 'size' @ $.source.pages[2].size",
        "unknown field 'sise' (did you mean 'size'?) @ $.source.named['a.b'].sise",
    ]
