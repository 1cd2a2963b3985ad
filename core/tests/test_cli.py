"""The CLI as a user meets it: a throwaway connector installed, commands run in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli


@pytest.fixture
def acme(make_connector, site):
    """The throwaway `acme` connector with its generated config class written."""
    package = make_connector("acme", version="1.2.3")
    result = run_cli("generate", "acme")
    assert result.returncode == 0, result.stderr
    assert (site / package / "_config.py").exists()
    return package


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = """
[source]
repository = "acme/widgets"
token = "env:ACME_TOKEN"
"""


@pytest.mark.parametrize(
    ("token", "code", "stream", "text"),
    [
        ("good", 0, "stdout", "ok: acme accepted the credentials"),
        ("bad", 1, "stderr", "failed: the token was rejected: create a new one"),
    ],
)
def test_check_exits_with_the_credential_verdict(acme, tmp_path, token, code, stream, text):
    config = write_config(tmp_path, GOOD)

    result = run_cli("check", "acme", "--config", str(config), env={"ACME_TOKEN": token})

    assert result.returncode == code
    assert text in getattr(result, stream)


@pytest.mark.parametrize("token", ["good", "bad"])
def test_check_refuses_schema_choices_sync_would_refuse(acme, tmp_path, token):
    config = write_config(tmp_path, GOOD + "\n[schemas.isues]\nenabled = false\n")

    result = run_cli("check", "acme", "--config", str(config), env={"ACME_TOKEN": token})

    assert result.returncode == 2
    assert "unknown schema 'isues' (did you mean 'issues'?) @ $.schemas.isues" in result.stderr


BAD_FILES = [
    (
        "[source]\ntoken = 'env:ACME_TOKEN'\n",
        ["missing required field 'repository' @ $.source.repository"],
    ),
    (
        "[source]\nrepository = 'x'\ntoken = 'env:NOT_SET_ANYWHERE'\nreposatory = 1\n",
        [
            "environment variable NOT_SET_ANYWHERE is not set @ $.source.token",
            "unknown field 'reposatory' (did you mean 'repository'?) @ $.source.reposatory",
        ],
    ),
    ("[source\n", ["acme.toml"]),
]


@pytest.mark.parametrize(("body", "expected"), BAD_FILES)
def test_a_bad_config_file_is_one_clear_error_with_every_problem(acme, tmp_path, body, expected):
    config = write_config(tmp_path, body)

    result = run_cli("check", "acme", "--config", str(config), env={"ACME_TOKEN": "good"})

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in result.stderr


def test_secret_values_never_reach_the_output(acme, tmp_path):
    config = write_config(tmp_path, GOOD + "unexpected = 'x'\n")
    secret = "ghp_v3ry-s3cret-value"

    results = [
        run_cli("check", "acme", "--config", str(config), env={"ACME_TOKEN": secret}),
        run_cli(
            "check",
            "acme",
            "--config",
            str(write_config(tmp_path, GOOD)),
            env={"ACME_TOKEN": secret},
        ),
        run_cli("schemas", "acme", "--config", str(config), env={"ACME_TOKEN": secret}),
    ]

    for result in results:
        assert secret not in result.stdout + result.stderr


def test_schemas_lists_tables_and_modes(acme, tmp_path):
    config = write_config(tmp_path, GOOD)

    table = run_cli("schemas", "acme", "--config", str(config), env={"ACME_TOKEN": "good"})
    as_json = run_cli(
        "schemas", "acme", "--config", str(config), "--json", env={"ACME_TOKEN": "good"}
    )

    assert table.returncode == 0, table.stderr
    assert "issues" in table.stdout
    assert "incremental, full_refresh" in table.stdout
    payload = json.loads(as_json.stdout)
    assert [s["name"] for s in payload] == ["issues", "labels"]
    assert payload[0]["incremental_fields"] == [
        {"field": "updated_at", "label": "Updated", "type": "datetime"}
    ]


def test_schemas_rejects_a_choice_for_an_unknown_schema(acme, tmp_path):
    config = write_config(tmp_path, GOOD + "\n[schemas.isues]\nenabled = true\n")

    result = run_cli("schemas", "acme", "--config", str(config), env={"ACME_TOKEN": "good"})

    assert result.returncode == 2
    assert "isues" in result.stderr
    assert "issues" in result.stderr


def test_info_shows_fields_and_schemas(acme):
    result = run_cli("info", "acme")

    assert result.returncode == 0, result.stderr
    assert "Acme (acme)" in result.stdout
    assert "connector-acme 1.2.3" in result.stdout
    assert "status: beta" in result.stdout
    assert "token" in result.stdout
    assert "required, secret" in result.stdout
    assert "updated_at (datetime)" in result.stdout


def test_spec_prints_the_form_json_schema(acme):
    result = run_cli("spec", "acme")

    schema = json.loads(result.stdout)
    assert schema["properties"]["token"]["writeOnly"] is True
    assert "writeOnly" not in schema["properties"]["repository"]
    assert sorted(schema["required"]) == ["repository", "token"]


def test_generate_check_names_a_stale_file(acme, site):
    generated = site / acme / "_config.py"
    assert run_cli("generate", "--check").returncode == 0

    generated.write_text(generated.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    stale = run_cli("generate", "--check")

    assert stale.returncode == 1
    assert str(generated) in stale.stderr
    assert run_cli("generate").returncode == 0
    assert run_cli("generate", "--check").returncode == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["info", "nosuch"], "no connector named 'nosuch' is installed"),
        (["spec", "nosuch"], "no connector named 'nosuch' is installed"),
        (["check", "acme", "--config", "/does/not/exist.toml"], "exist.toml"),
        (["schemas", "acme"], "Missing option '--config'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_user_errors_exit_2_with_one_message(acme, args, fragment):
    result = run_cli(*args)

    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["connectors"],
        ["info"],
        ["spec"],
        ["check"],
        ["schemas"],
        ["generate"],
        ["sync"],
        ["reset"],
        ["tables"],
        ["query"],
        ["maintain"],
        ["demo"],
        ["new"],
        ["contract"],
        ["serve"],
    ],
)
def test_help_everywhere(command):
    result = run_cli(*command, "--help")

    assert result.returncode == 0
    assert "Usage:" in result.stdout


def test_the_exit_codes_documented_are_the_codes_the_cli_uses():
    from headwater.cli.app import ExitCode, outcome

    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    section = docs.split("## For scripts: exit codes and JSON", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    documented = [int(cell) for cell in rows if cell.isdigit()]
    assert documented == [code.value for code in ExitCode]
    assert [outcome(failed, 3) for failed in (0, 1, 2, 3)] == [
        ExitCode.OK, ExitCode.PARTIAL, ExitCode.PARTIAL, ExitCode.FAILED,
    ]  # fmt: skip
    assert outcome(1, 1) is ExitCode.FAILED
