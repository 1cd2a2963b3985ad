"""`headwater contract PATH`: which folder it checks, and what it installs the host from.

The runs themselves (a virtualenv, the wheel, the suite) are tested with the suite, in
contract_tests/tests/test_contract_command.py.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from headwater.cli import cli
from headwater.contract_venv import install_arguments, read_connector_folder
from headwater.scaffold import scaffold_connector

CORE = Path(__file__).parents[1]


def test_a_scaffolded_connector_is_read_from_its_folder(tmp_path):
    scaffold_connector("acme_books", tmp_path / "connector-acme-books")

    folder = read_connector_folder(tmp_path / "connector-acme-books")

    assert folder.distribution == "connector-acme-books"
    assert folder.name == "acme_books"
    assert folder.extras == ("test",)
    assert folder.path == (tmp_path / "connector-acme-books").resolve()


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        (None, "holds no pyproject.toml: give the folder of a connector package"),
        ("[project\n", "is not valid TOML"),
        ('[project]\nversion = "1"\n', "names no distribution ([project] name)"),
        (
            '[project]\nname = "tool"\n',
            "must declare one entry point in [project.entry-points.headwater]"
            " (the connector's source_type); found none",
        ),
        (
            '[project]\nname = "two"\n[project.entry-points.headwater]\nb = "m"\na = "m"\n',
            "found a, b",
        ),
    ],
    ids=["no pyproject", "bad toml", "no name", "no entry point", "two entry points"],
)
def test_a_folder_that_is_not_one_connector_is_a_usage_error(tmp_path, pyproject, message):
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)

    result = CliRunner().invoke(cli, ["contract", str(tmp_path)])

    assert result.exit_code == 2
    assert message in result.output


def test_the_host_installed_from_a_checkout_is_installed_from_it_again():
    origin = json.loads(metadata.distribution("headwater").read_text("direct_url.json") or "{}")
    if not origin.get("dir_info", {}).get("editable"):
        pytest.skip("the host is not installed editable here")

    assert install_arguments("headwater") == ["-e", str(CORE)]


def _installed(tmp_path, monkeypatch, name, direct_url):
    """A distribution ``name`` 1.2.0 installed in a site folder of its own."""
    info = tmp_path / f"{name.replace('-', '_')}-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.0\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.parametrize(
    ("direct_url", "expected"),
    [
        (None, ["demo-host==1.2.0"]),
        ({"url": "https://example.test/demo.whl", "archive_info": {}}, ["demo-host==1.2.0"]),
        (
            {"url": "file:///src/demo%20host", "dir_info": {"editable": True}},
            ["-e", "/src/demo host"],
        ),
        ({"url": "file:///nowhere/demo.whl", "archive_info": {}}, ["demo-host==1.2.0"]),
    ],
    ids=["from an index", "from a URL", "editable", "from a file since removed"],
)
def test_install_arguments_follow_how_it_was_installed(tmp_path, monkeypatch, direct_url, expected):
    _installed(tmp_path, monkeypatch, "demo-host", direct_url)

    assert install_arguments("demo-host") == expected


def test_a_local_folder_is_installed_from_that_folder(tmp_path, monkeypatch):
    source = tmp_path / "checkout"
    source.mkdir()
    site = tmp_path / "site"
    site.mkdir()
    _installed(site, monkeypatch, "demo-host", {"url": source.as_uri(), "dir_info": {}})

    assert install_arguments("demo-host") == [str(source)]


def test_a_distribution_not_installed_has_no_install_arguments():
    assert install_arguments("no-such-distribution-here") is None
