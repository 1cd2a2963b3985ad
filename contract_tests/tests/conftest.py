"""Running the contract suite on throwaway connector distributions, with pytester.

The reference connector (``fixtures/connector_forge``) is importable from this folder; a test
installs it, or a variant of it that breaks one thing, as a distribution (a ``.dist-info`` with
a ``headwater`` entry point) in a fresh site folder, then runs the suite on it in process and
looks at each check's outcome.
"""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest

# Imported here so that pytester's module snapshot keeps them between runs: modules first
# imported inside a run are dropped after it, and re-importing the REST client would stack
# its log filters.
import headwater.emulator
import headwater.rest
import headwater_contract
from headwater.config import render_config_module
from headwater.discovery import import_path

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).parent / "fixtures"
KIT = "connector_forge.testing:kit"
KIT_TOKEN = "forge-contract-token-4f1e9a"
"""The secret of the kit's valid config: no report may ever show it."""

BASE_SOURCE = """
import attrs

from connector_forge.settings import CATALOG
from connector_forge.source import ForgeSource
"""
"""What every variant's source.py starts with."""

__all__ = [
    "BASE_SOURCE",
    "FIXTURES",
    "KIT_TOKEN",
    "Outcome",
    "headwater",
    "headwater_contract",
]


def write_dist(site: Path, name: str, entry_points: Mapping[str, str]) -> None:
    """An installed distribution's metadata: a ``.dist-info`` with ``headwater`` entry points."""
    info = site / f"{name.replace('-', '_')}-1.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0.0\n", encoding="utf-8"
    )
    lines = ["[headwater]", *(f"{ep} = {target}" for ep, target in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


PLUGIN = """
from headwater import SourceSpec, hookimpl


@hookimpl
def register_sources():
    return [
        SourceSpec(
            source_type={source_type!r},
            contract_major={contract_major},
            label="Forge",
            load="{package}.source:Source",
            kit={kit!r},
            release_status="beta",
        )
    ]
"""


@attrs.frozen(kw_only=True)
class Outcome:
    """What one contract run did: its exit code and each check's outcome and message."""

    ret: int
    outcomes: Mapping[str, str]
    messages: Mapping[str, str]

    @property
    def failed(self) -> set[str]:
        return {name for name, outcome in self.outcomes.items() if outcome == "failed"}

    @property
    def passed(self) -> set[str]:
        return {name for name, outcome in self.outcomes.items() if outcome == "passed"}


class Harness:
    """Installs connectors into a fresh site folder and runs the suite on them."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pytester = pytester
        self.site = pytester.path / "site"
        self.site.mkdir()
        monkeypatch.syspath_prepend(str(FIXTURES))
        monkeypatch.syspath_prepend(str(self.site))
        for variable in ("HEADWATER_LOAD_CONNECTORS", "HEADWATER_STRICT_PLUGINS"):
            monkeypatch.delenv(variable, raising=False)
        self._packages: list[str] = []

    def install_forge(self, name: str = "forge") -> None:
        """The reference connector, under entry point ``name``."""
        write_dist(self.site, f"connector-{name}", {name: "connector_forge"})

    def install_variant(
        self,
        package: str,
        source: str,
        *,
        entry_point: str = "forge",
        source_type: str = "forge",
        contract_major: str = "1",
        kit: str | None = KIT,
        stale_fields: bool = False,
    ) -> None:
        """A variant: ``source`` defines its ``Source`` class (usually a one-line override).

        Its ``_config.py`` is generated from its fields, as ``headwater generate`` would, or
        from the reference connector's fields with ``stale_fields`` (a forgotten regenerate).
        """
        root = self.site / package
        root.mkdir()
        plugin = PLUGIN.format(
            source_type=source_type,
            contract_major=contract_major,
            package=package,
            kit=kit,
        )
        (root / "__init__.py").write_text(plugin, encoding="utf-8")
        (root / "source.py").write_text(textwrap.dedent(source), encoding="utf-8")
        importlib.invalidate_caches()
        module = importlib.import_module(f"{package}")
        spec = module.register_sources()[0]
        fields_from = "connector_forge.source:ForgeSource" if stale_fields else spec.load
        source_config = import_path(fields_from)().get_source_config()
        (root / "_config.py").write_text(
            render_config_module(spec, source_config), encoding="utf-8"
        )
        self._packages.append(package)
        write_dist(self.site, f"connector-{package.replace('_', '-')}", {entry_point: package})

    def run(self, *args: str) -> Outcome:
        """Run the suite (``-p headwater_contract`` + ``args``) in process."""
        recorder = self.pytester.inline_run("-p", "headwater_contract", *args)
        outcomes: dict[str, str] = {}
        messages: dict[str, str] = {}
        for report in recorder.getreports("pytest_runtest_logreport"):
            name = report.nodeid[report.nodeid.rindex("::test_") + 2 :]
            if report.when == "call" or report.outcome != "passed":
                if outcomes.get(name) != "failed":
                    outcomes[name] = report.outcome
                if report.longrepr is not None:
                    messages[name] = report.longreprtext
        outcome = Outcome(ret=int(recorder.ret), outcomes=outcomes, messages=messages)
        dump = os.environ.get("HEADWATER_CONTRACT_DUMP")
        if dump:  # for reviewing every message a run produced
            with open(dump, "a", encoding="utf-8") as out:
                for name in sorted(outcome.failed):
                    out.write(f"=== {name}\n{outcome.messages.get(name, '')}\n")
        return outcome

    def cleanup(self) -> None:
        for package in self._packages:
            for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
                del sys.modules[module]


@pytest.fixture
def harness(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Harness]:
    made: list[Harness] = []

    def make() -> Harness:
        made.append(Harness(pytester, monkeypatch))
        return made[-1]

    yield make
    for harness in made:
        harness.cleanup()
