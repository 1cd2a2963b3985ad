"""`headwater new`: a connector package in the repository's layout, or a clear refusal."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from headwater.cli import cli
from headwater.config import render_config_module
from headwater.scaffold import ConnectorNames, scaffold_connector
from headwater.scaffold.layout import FILES, source_config

ROOT = Path(__file__).parents[2]

EXPECTED = [
    "pyproject.toml",
    "README.md",
    "CHANGELOG.md",
    "src/connector_google_sheets/__init__.py",
    "src/connector_google_sheets/settings.py",
    "src/connector_google_sheets/testing.py",
    "src/connector_google_sheets/api_inventory.md",
    "src/connector_google_sheets/icon.svg",
    "tests/test_google_sheets_source.py",
    "tests/test_google_sheets.py",
    "src/connector_google_sheets/_config.py",
]


def test_names_follow_from_the_source_type():
    names = ConnectorNames(name="google_sheets")

    assert names.distribution == "connector-google-sheets"
    assert names.package == "connector_google_sheets"
    assert names.camel == "GoogleSheets"
    assert names.label == "Google Sheets"
    assert names.spec().load == "connector_google_sheets.settings:GoogleSheetsSource"


def test_new_writes_the_package_under_plugins_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["new", "google_sheets"])

    assert result.exit_code == 0, result.output
    root = tmp_path / "plugins" / "connector-google-sheets"
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert written == sorted(EXPECTED)
    assert "`headwater contract plugins/connector-google-sheets`" in result.output
    pyproject = (root / "pyproject.toml").read_text()
    assert 'name = "connector-google-sheets"' in pyproject
    assert 'google_sheets = "connector_google_sheets"' in pyproject
    assert '"headwater>=0.1,<0.2"' in pyproject


def test_new_elsewhere_names_the_check_that_works_there(tmp_path):
    target = tmp_path / "elsewhere" / "connector-acme"

    result = CliRunner().invoke(cli, ["new", "acme", "-d", str(target)])

    assert result.exit_code == 0, result.output
    # nox -s contract(NAME) only sees this repository's plugins/; this works for any folder.
    assert f"`headwater contract {target}`" in result.output
    assert "nox" not in result.output
    readme = (target / "README.md").read_text()
    assert "headwater contract .  " in readme
    assert "nox" not in readme


def test_the_generated_config_class_matches_the_generated_fields(tmp_path):
    names = ConnectorNames(name="acme")
    scaffold_connector("acme", tmp_path)

    written = (tmp_path / "src" / "connector_acme" / "_config.py").read_text()

    assert written == render_config_module(names.spec(), source_config(names.label))
    assert "api_token: Secret" in written


def test_nothing_in_a_new_connector_is_a_stub(tmp_path):
    scaffold_connector("acme", tmp_path)

    text = "\n".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())

    for stub in ("TODO", "NotImplementedError", "FIXME", "...\n", "$"):
        assert stub not in text.replace("$.", ""), stub


def test_a_directory_with_files_is_never_overwritten(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")

    result = CliRunner().invoke(cli, ["new", "acme", "--directory", str(tmp_path)])

    assert result.exit_code == 2
    assert "already exists and is not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Acme", "must be lower-case letters"),
        ("acme-books", "must be lower-case letters"),
        ("a" * 33, "longer than 32 characters"),
    ],
)
def test_a_bad_name_is_refused_with_the_reason(tmp_path, name, says):
    result = CliRunner().invoke(cli, ["new", name, "-d", str(tmp_path / "x")])

    assert result.exit_code == 2
    assert says in result.output
    assert not (tmp_path / "x").exists()


def test_a_connector_named_like_a_module_of_the_package_keeps_every_module(tmp_path):
    # No module is named after the connector any more, so no name can overwrite one.
    written = scaffold_connector("settings", tmp_path)

    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert "src/connector_settings/settings.py" in names
    assert len(names) == len(set(names)) == len(FILES) + 1


def test_the_templates_are_package_data_files_in_the_wheel(tmp_path):
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling is not installed (the wheel is built without isolation)")
    # Through the build backend itself (PEP 517), as a build frontend calls it: a virtualenv
    # made by uv has no pip.
    build = "import sys, hatchling.build as b; b.build_wheel(sys.argv[1])"
    subprocess.run(
        [sys.executable, "-c", build, str(tmp_path)],
        cwd=ROOT / "core",
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("headwater-*.whl")

    inside = set(zipfile.ZipFile(wheel).namelist())

    assert {f"headwater/scaffold/templates/{name}" for name in FILES.values()} <= inside


@pytest.mark.skipif(
    importlib.util.find_spec("ruff") is None or importlib.util.find_spec("mypy") is None,
    reason="ruff and mypy are needed",
)
def test_a_new_connector_is_lint_clean_and_type_checks_in_this_repository(tmp_path):
    # Scaffolded where it would live, under the workspace's ruff and mypy configuration.
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    names = ("acme_books", "x", "a_very_long_connector_name_for32")
    for name in names:
        scaffold_connector(name, tmp_path / "plugins" / f"connector-{name}")

    def run(*command: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    run("ruff", "check", "plugins")
    run("ruff", "format", "--check", "plugins")
    for name in names:
        # Strict, as the host is: the generated source must be typed through and through.
        run(
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(tmp_path / "plugins" / f"connector-{name}" / "src" / f"connector_{name}"),
        )
