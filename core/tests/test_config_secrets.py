"""The built-in secret resolvers: ``env:NAME`` and ``file:PATH``."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.config import BUILTIN_RESOLVERS, resolve_env, resolve_file


def test_env_returns_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_TEST_TOKEN", "abc")
    assert resolve_env("HEADWATER_TEST_TOKEN") == "abc"


def test_env_returns_an_empty_variable_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_TEST_TOKEN", "")
    assert resolve_env("HEADWATER_TEST_TOKEN") == ""


def test_env_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEADWATER_TEST_TOKEN", raising=False)
    with pytest.raises(LookupError) as caught:
        resolve_env("HEADWATER_TEST_TOKEN")
    assert caught.value.args == ("environment variable HEADWATER_TEST_TOKEN is not set",)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("secret", "secret"),
        ("secret\n", "secret"),
        ("secret\r\n", "secret"),
        ("secret\n\n", "secret\n"),
        (
            "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
            "-----BEGIN KEY-----\nabc\n-----END KEY-----",
        ),
        ("", ""),
    ],
)
def test_file_strips_exactly_one_trailing_newline(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "secret.txt"
    path.write_bytes(content.encode("utf-8"))
    assert resolve_file(str(path)) == expected


def test_file_expands_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".github-token").write_text("from-home\n", encoding="utf-8")
    assert resolve_file("~/.github-token") == "from-home"


def test_file_names_the_unreadable_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(LookupError, match=r"cannot read secret file .*missing\.txt"):
        resolve_file(str(missing))


def test_file_refuses_binary_content_without_showing_it(tmp_path: Path) -> None:
    path = tmp_path / "binary"
    path.write_bytes(b"\xff\xfesecret")
    with pytest.raises(LookupError) as caught:
        resolve_file(str(path))
    assert "not UTF-8" in str(caught.value)
    assert "secret" not in str(caught.value).replace("secret file", "")


def test_the_builtin_resolvers_are_env_and_file() -> None:
    assert dict(BUILTIN_RESOLVERS) == {"env": resolve_env, "file": resolve_file}
    with pytest.raises(TypeError):
        BUILTIN_RESOLVERS["vault"] = resolve_env  # type: ignore[index]


def test_file_refuses_a_fifo_instead_of_waiting_on_it(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "token"
    os.mkfifo(fifo)

    with pytest.raises(LookupError, match="is not a regular file"):
        resolve_file(str(fifo))


def test_file_refuses_a_file_too_large_to_be_a_credential(tmp_path: Path) -> None:
    from headwater.config.secrets import MAX_SECRET_FILE

    big = tmp_path / "token"
    big.write_text("x" * (MAX_SECRET_FILE + 1))

    with pytest.raises(LookupError, match="more than a credential"):
        resolve_file(str(big))


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("evn:GITHUB_TOKEN", "'evn:' is no reference prefix (did you mean env:GITHUB_TOKEN?)"),
        ("ENV:GITHUB_TOKEN", "references are lower case: write env:GITHUB_TOKEN"),
        ("env:", "the 'env' reference names nothing; write env:NAME"),
        ("File:~/.secrets/token", "references are lower case: write file:~/.secrets/token"),
        ("fiel:/run/secrets/token", "did you mean file:/run/secrets/token?"),
    ],
)
def test_a_mistyped_reference_is_refused_not_sent_as_the_value(value: str, problem: str) -> None:
    from headwater.config.references import resolve_references

    _, problems = resolve_references({"token": value}, BUILTIN_RESOLVERS)

    assert len(problems) == 1
    assert problems[0].path == "$.token"
    assert problem in problems[0].message


@pytest.mark.parametrize(
    "value", ["https://api.example.com", "ghp_abc:def", "en:US", "a:b", "12:30", "plain"]
)
def test_values_that_only_contain_a_colon_pass_through(value: str) -> None:
    from headwater.config.references import resolve_references

    resolved, problems = resolve_references({"field": value}, BUILTIN_RESOLVERS)

    assert problems == []
    assert resolved == {"field": value}
