"""Discovery: connectors found through entry points, failures isolated and reported."""

from __future__ import annotations

import importlib.metadata
import json
import sys

import pytest

from headwater import discovery
from headwater.errors import (
    ContractVersionError,
    PluginError,
    PluginLoadError,
    UnknownConnectorError,
)

from conftest import CONNECTOR_INIT, run_cli, site_distributions, write_dist

UNKNOWN_HOOK_INIT = """
    from headwater import hookimpl

    @hookimpl
    def register_destinations():
        return []
"""


def installed(connectors):
    """Connectors from the test's own distributions: built-in ones (``example``) and any
    installed in the environment running the tests are left out."""
    return [c for c in connectors if c.distribution is not None]


def installed_json(payload, site):
    """The same, for ``headwater connectors --json`` output (which sees the whole environment)."""
    ours = site_distributions(site)
    return [c for c in payload["connectors"] if c["distribution"] in ours]


EXITING_HOOK_INIT = """
    import sys

    from headwater import hookimpl

    @hookimpl
    def register_sources():
        sys.exit("bye")
"""

PRINTING_INIT = (
    """
    print("hello from the plugin")
"""
    + CONNECTOR_INIT
)

RAISING_HOOK_INIT = """
    from headwater import hookimpl

    @hookimpl
    def register_sources():
        raise RuntimeError("the spec could not be built")
"""


def test_throwaway_connector_is_discovered_with_its_version(make_connector, registry):
    make_connector("acme", version="1.2.3")

    connectors = installed(registry().connectors())

    assert [(c.source_type, c.distribution, c.version) for c in connectors] == [
        ("acme", "connector-acme", "1.2.3")
    ]
    assert connectors[0].spec.release_status == "beta"


def test_a_connector_icon_is_read_from_its_package(make_connector, registry, site):
    from headwater.sources import SourceConfig

    package = make_connector("acme")
    (site / package / "icon.svg").write_bytes(b"<svg/>")
    (connector,) = installed(registry().connectors())

    assert connector.icon(SourceConfig(label="Acme", icon="icon.svg")) == b"<svg/>"
    assert connector.icon(SourceConfig(label="Acme")) is None
    with pytest.raises(PluginError, match=r"its icon gone\.svg is missing from connector_acme"):
        connector.icon(SourceConfig(label="Acme", icon="gone.svg"))
    with pytest.raises(PluginError, match="is not a file name"):
        connector.icon(SourceConfig(label="Acme", icon="../source.py"))


def test_listing_does_not_import_the_source_module(make_connector, registry):
    package = make_connector("acme")

    registry().connectors()

    assert package in sys.modules
    assert f"{package}.source" not in sys.modules


def test_using_one_connector_imports_only_that_plugin(make_connector, registry):
    acme = make_connector("acme")
    other = make_connector("other")

    connector = registry().connector("acme")
    source = connector.load_source()

    assert source.source_type == "acme"
    assert acme in sys.modules
    assert other not in sys.modules


def _break(kind, make_connector, site):
    """Install a connector broken in one way; return the fragment its problem must contain."""
    if kind == "import error":
        make_connector("broken", init="import module_that_does_not_exist\n")
        return "import failed: ModuleNotFoundError: No module named 'module_that_does_not_exist'"
    if kind == "raising hook":
        make_connector("broken", init=RAISING_HOOK_INIT)
        return "hook register_sources raised RuntimeError: the spec could not be built"
    if kind == "unknown hook":
        make_connector("broken", init=UNKNOWN_HOOK_INIT)
        return "implements hook(s) register_destinations that this host"
    if kind == "contract mismatch":
        make_connector("broken", contract="CONTRACT_MAJOR + 1")
        return "targets source contract 2, but this host (headwater 0.1.0) provides contract 1"
    if kind == "exit at import":
        make_connector("broken", init="import sys\nsys.exit(3)\n")
        return "called sys.exit(3) while being imported"
    if kind == "exiting hook":
        make_connector("broken", init=EXITING_HOOK_INIT)
        return "hook register_sources called sys.exit('bye')"
    if kind == "duplicate name":
        make_connector("broken", dist="connector-broken")
        make_connector("broken", dist="acme-broken", version="9.0")
        return "claimed by both"
    raise AssertionError(kind)


FAILURE_KINDS = [
    "import error",
    "raising hook",
    "unknown hook",
    "contract mismatch",
    "exit at import",
    "exiting hook",
    "duplicate name",
]


@pytest.mark.parametrize("kind", FAILURE_KINDS)
def test_a_broken_plugin_is_reported_and_the_others_still_load(
    kind, make_connector, registry, site
):
    make_connector("good")
    expected = _break(kind, make_connector, site)

    reg = registry()
    connectors = installed(reg.connectors())

    assert [c.source_type for c in connectors] == ["good"]
    problems = [p for p in reg.problems if p.plugin == "broken"]
    assert problems, reg.problems
    assert all(p.distribution and p.version for p in problems)
    assert any(expected in p.reason for p in problems), [p.reason for p in problems]
    with pytest.raises(PluginError) as caught:
        reg.connector("broken")
    # Only a contract mismatch is a ContractVersionError; its message is the listed reason.
    assert isinstance(caught.value, ContractVersionError) == (kind == "contract mismatch")
    assert expected in str(caught.value)


def test_duplicate_names_name_both_distributions(make_connector, registry, site):
    make_connector("dup", dist="connector-dup", version="1.0")
    make_connector("dup", dist="acme-dup", version="2.0")

    reg = registry()
    reg.connectors()

    reasons = {p.reason for p in reg.problems}
    assert len(reasons) == 1
    (reason,) = reasons
    assert "acme-dup 2.0" in reason
    assert "connector-dup 1.0" in reason
    assert {p.distribution for p in reg.problems} == {"connector-dup", "acme-dup"}


@pytest.mark.parametrize("kind", FAILURE_KINDS)
def test_cli_lists_good_connectors_and_reports_each_failure_kind(kind, make_connector, site):
    make_connector("good", version="0.4.0")
    expected = _break(kind, make_connector, site)

    result = run_cli("connectors", "--json")

    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [(c["name"], c["version"]) for c in installed_json(payload, site)] == [("good", "0.4.0")]
    assert any(expected in p["reason"] for p in payload["problems"])

    table = run_cli("connectors")
    assert table.returncode == 0
    assert "good" in table.stdout
    assert "0.4.0" in table.stdout
    assert "could not be loaded" in table.stderr
    assert "broken" in table.stderr


@pytest.mark.parametrize("kind", FAILURE_KINDS)
def test_strict_mode_turns_a_load_problem_into_an_error(kind, make_connector, registry, site):
    make_connector("good")
    _break(kind, make_connector, site)

    with pytest.raises(PluginLoadError) as raised:
        registry(strict=True).connectors()

    assert "broken" in str(raised.value)


def test_strict_mode_from_the_environment_fails_the_cli(make_connector, site):
    make_connector("broken", init="raise ImportError('nope')\n")

    result = run_cli("connectors", env={"HEADWATER_STRICT_PLUGINS": "1"})

    assert result.returncode == 2
    assert "HEADWATER_STRICT_PLUGINS" in result.stderr
    assert "Traceback" not in result.stderr


def test_entry_point_name_must_equal_source_type(site, registry):
    write_dist(
        site,
        "connector-mismatch",
        "0.1.0",
        entry_points={"mismatch": "mismatch_plugin"},
        files={
            "mismatch_plugin.py": """
                from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl

                @hookimpl
                def register_sources():
                    return [SourceSpec(source_type="other", contract_major=CONTRACT_MAJOR,
                                       label="Other", load="mismatch_plugin:Nope")]
            """
        },
    )

    reg = registry()

    assert installed(reg.connectors()) == []
    assert "entry-point name must equal its source_type" in reg.problems[0].reason
    sys.modules.pop("mismatch_plugin", None)


@pytest.mark.parametrize(
    ("only", "expected"),
    [
        (None, ["alpha", "beta", "gamma"]),
        (["alpha", "gamma"], ["alpha", "gamma"]),
        ([], []),
    ],
)
def test_load_connectors_limits_what_loads(only, expected, make_connector, registry):
    for name in ("alpha", "beta", "gamma"):
        make_connector(name)

    reg = registry(only=only)

    assert [c.source_type for c in installed(reg.connectors())] == expected
    assert reg.problems == []


def test_load_connectors_from_the_environment(make_connector, site):
    make_connector("alpha")
    make_connector("beta")

    listed = run_cli("connectors", "--json", env={"HEADWATER_LOAD_CONNECTORS": "beta,nosuch"})
    none = run_cli("connectors", "--json", env={"HEADWATER_LOAD_CONNECTORS": ""})

    payload = json.loads(listed.stdout)
    assert [c["name"] for c in installed_json(payload, site)] == ["beta"]
    assert [p["plugin"] for p in payload["problems"]] == ["nosuch"]
    assert "no installed distribution provides it" in payload["problems"][0]["reason"]
    assert installed_json(json.loads(none.stdout), site) == []


def test_an_excluded_connector_says_so(make_connector, registry):
    make_connector("alpha")

    with pytest.raises(UnknownConnectorError, match="excluded by HEADWATER_LOAD_CONNECTORS"):
        registry(only=[]).connector("alpha")


def test_an_unknown_connector_names_what_is_installed(make_connector, registry):
    make_connector("alpha")

    with pytest.raises(UnknownConnectorError) as raised:
        registry().connector("github")

    assert "installed: alpha" in str(raised.value)
    assert "pip install connector-github" in str(raised.value)


def test_listing_imports_neither_httpx_nor_pyarrow(make_connector, site):
    make_connector("acme")
    code = (
        "import sys\n"
        "from headwater.cli import main\n"
        "try:\n"
        "    main(['connectors'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('httpx', 'pyarrow', 'deltalake') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )

    assert "acme" in result.stdout
    assert "HEAVY=\n" in result.stdout, result.stdout + result.stderr


def test_entry_points_are_read_once_per_process(monkeypatch):
    calls = []
    real = importlib.metadata.entry_points

    def counting(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    discovery._read_entry_points.cache_clear()
    discovery.get_registry.cache_clear()
    try:
        discovery.Registry(environ={}).connectors()
        discovery.Registry(environ={}).connectors()
    finally:
        discovery._read_entry_points.cache_clear()
        discovery.get_registry.cache_clear()

    assert calls == [{"group": "headwater"}]


def test_load_source_refuses_a_class_with_another_source_type(site, registry):
    write_dist(
        site,
        "connector-liar",
        "0.1.0",
        entry_points={"liar": "liar_plugin"},
        files={
            "liar_plugin.py": """
                from headwater import CONTRACT_MAJOR, Source, SourceSpec, hookimpl

                class Impostor(Source):
                    source_type = "someone_else"

                @hookimpl
                def register_sources():
                    return [SourceSpec(source_type="liar", contract_major=CONTRACT_MAJOR,
                                       label="Liar", load="liar_plugin:Impostor")]
            """
        },
    )

    connector = registry().connector("liar")

    with pytest.raises(PluginError, match="has source_type 'someone_else'"):
        connector.load_source()
    sys.modules.pop("liar_plugin", None)


SLOW_INIT = """
    import time

    from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl

    time.sleep(0.3)  # a plugin whose import takes a while

    @hookimpl
    def register_sources():
        return [SourceSpec(
            source_type={name!r},
            contract_major={contract},
            label={label!r},
            load="{package}.source:{cls}",
            release_status="beta",
        )]
"""


def test_threads_opening_one_connector_at_once_all_get_it(make_connector, registry):
    # Temporal activities start in threads, each opening its connector from the registry.
    from concurrent.futures import ThreadPoolExecutor

    make_connector("acme", init=SLOW_INIT)
    shared = registry()

    def open_acme(_: int) -> str:
        return shared.connector("acme").source_type

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(open_acme, range(4))) == ["acme"] * 4


def test_a_plugin_printing_at_import_leaves_json_output_parseable(make_connector, site):
    make_connector("chatty", init=PRINTING_INIT)

    result = run_cli("connectors", "--json")

    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)  # the plugin's print went to stderr
    assert [c["name"] for c in installed_json(payload, site)] == ["chatty"]
    assert "hello from the plugin" in result.stderr
