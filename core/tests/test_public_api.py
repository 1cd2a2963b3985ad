"""Every front door exports sorted names that exist; importing the host stays light.

Which names are public is pinned by test_surface.py.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

from conftest import run_cli

MODULES = [
    "headwater",
    "headwater.errors",
    "headwater.runtime",
    "headwater.secret",
    "headwater.sources",
    "headwater.hookspecs",
    "headwater.discovery",
    "headwater.emulator",
    "headwater.config",
    "headwater.rest",
    "headwater.sync",
    "headwater.warehouse",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_every_name_exists(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported)
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []


def test_importing_headwater_stays_light():
    code = (
        "import sys, headwater, headwater.discovery, headwater.cli;"
        "print(sorted(m for m in ('httpx','pyarrow','deltalake','rich') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# What `headwater connectors` may import from the host: the CLI group, the connectors command,
# discovery and the SourceSpec a plugin module registers. Not the other commands' modules, not
# the rest of the contract types, and none of the heavy libraries the other commands use.
LISTING_HOST_MODULES = {
    "headwater",
    "headwater._lazy",
    "headwater.builtin",
    "headwater.cli",
    "headwater.cli.app",
    "headwater.cli.commands",
    "headwater.discovery",
    "headwater.errors",
    "headwater.hookspecs",
    "headwater.sources",
    "headwater.sources.spec",
}
HEAVY_LIBRARIES = (
    "asyncio",
    "cattrs",
    "deltalake",
    "duckdb",
    "httpx",
    "pyarrow",
    "rich",
    "temporalio",
)

_LIST_AND_REPORT_MODULES = """
import json, sys
from headwater.cli import main
try:
    main(["connectors"])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def test_listing_connectors_imports_only_the_listing(make_connector):
    make_connector("acme")
    result = subprocess.run(
        [sys.executable, "-c", _LIST_AND_REPORT_MODULES],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HEADWATER_LOAD_CONNECTORS": "acme"},
    )
    modules = set(json.loads(result.stderr.splitlines()[-1]))

    assert "acme" in result.stdout
    assert {m for m in modules if m.split(".")[0] == "headwater"} == LISTING_HOST_MODULES
    assert sorted(m for m in HEAVY_LIBRARIES if m in modules) == []


def test_package_attributes_load_on_first_use_and_unknown_ones_raise():
    code = (
        "import sys, headwater;"
        "before = 'headwater.runtime' in sys.modules;"
        "runtime = headwater.Runtime;"
        "print(before, 'headwater.runtime' in sys.modules, runtime.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    import headwater
    import headwater.sources
    from headwater.sources import spec  # a submodule, not an exported name

    assert out.split() == ["False", "True", "headwater.runtime"]
    assert spec.SourceSpec is headwater.SourceSpec is headwater.sources.SourceSpec
    assert set(headwater.__all__) <= set(dir(headwater))
    with pytest.raises(AttributeError, match="module 'headwater' has no attribute 'Nope'"):
        headwater.Nope  # noqa: B018


def test_every_built_in_command_loads_under_its_name_and_help_lists_them_all():
    from headwater.cli.commands import BUILTIN_COMMANDS
    from headwater.discovery import import_path

    loaded = {name: import_path(path).name for name, path in BUILTIN_COMMANDS.items()}
    listed = run_cli("--help").stdout.split("Commands:")[1]

    assert loaded == {name: name for name in BUILTIN_COMMANDS}
    assert [line.split()[0] for line in listed.strip().splitlines()] == sorted(BUILTIN_COMMANDS)
