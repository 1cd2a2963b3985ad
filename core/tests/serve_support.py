"""Shared pieces of the ``headwater serve`` tests: the page against GitHub's emulator.

The GitHub connector is used from this repository's ``plugins/`` through an explicit entry
point, so the core test session needs no connector installed.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from headwater.discovery import Registry

if TYPE_CHECKING:
    import httpx

ROOT = Path(__file__).resolve().parents[2]
GITHUB_SRC = ROOT / "plugins" / "connector-github" / "src"


def github_registry() -> Registry:
    """GitHub from plugins/, and a plugin that cannot be imported (shown as a load problem)."""
    if str(GITHUB_SRC) not in sys.path:
        sys.path.insert(0, str(GITHUB_SRC))
    entries = [
        importlib.metadata.EntryPoint(name="github", value="connector_github", group="headwater"),
        importlib.metadata.EntryPoint(
            name="broken", value="connector_that_is_not_there", group="headwater"
        ),
    ]
    return Registry(entries, environ={})


def write_github_dist(site: Path) -> dict[str, str]:
    """An installed-looking connector-github in ``site``; the environment for a CLI run."""
    info = site / "connector_github-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: connector-github\nVersion: 0.0.0\n"
    )
    (info / "entry_points.txt").write_text("[headwater]\ngithub = connector_github\n")
    return {"PYTHONPATH": f"{site}:{GITHUB_SRC}", "HEADWATER_LOAD_CONNECTORS": "github"}


EVERY_FIELD_INIT = """
from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl


@hookimpl
def register_sources():
    return [SourceSpec(
        source_type="every_field",
        contract_major=CONTRACT_MAJOR,
        label="Every field",
        load="connector_every_field.source:EveryFieldSource",
        release_status="beta",
    )]
"""

EVERY_FIELD_SOURCE = """
from headwater import (
    FileUploadField, NumberField, SecretField, SelectField, SelectOption, Source, SourceConfig,
    SourceResponse, SourceSchema, SwitchGroupField, TextField,
)


class EveryFieldSource(Source):
    source_type = "every_field"

    def get_source_config(self):
        return SourceConfig(
            label="Every field",
            caption="A form with one field of each kind.",
            category="Testing",
            release_status="beta",
            fields=[
                TextField(name="account", label="Account", caption="Your account's name.",
                          placeholder="acme"),
                TextField(name="email", label="Email", kind="email", required=False),
                TextField(name="notes", label="Notes", kind="textarea", required=False),
                SecretField(name="api_key", label="API key"),
                NumberField(name="page_size", label="Page size", minimum=1, maximum=100,
                            default=50),
                SelectField(name="region", label="Region", options=[
                    SelectOption(value="us", label="US"), SelectOption(value="eu", label="EU")]),
                SelectField(name="auth", label="Sign in with", options=[
                    SelectOption(value="key", label="A key",
                                 fields=[SecretField(name="key", label="Key")]),
                    SelectOption(value="basic", label="A user name",
                                 fields=[TextField(name="user", label="User")]),
                ]),
                SwitchGroupField(name="proxy", label="Use a proxy", fields=[
                    TextField(name="url", label="Proxy URL", kind="url")]),
                FileUploadField(name="service_account", label="Service account", accept=".json",
                                required=False),
            ],
        )

    def validate_credentials(self, config, runtime):
        if config.api_key.reveal() == "good":
            return True, None
        return False, "the API key was rejected"

    def get_schemas(self, config, runtime):
        return [SourceSchema(name="things")]

    def source_for_pipeline(self, config, inputs, runtime):
        return SourceResponse(name=inputs.schema_name, items=lambda: iter(()))
"""


def every_field_registry(site: Path) -> Registry:
    """A connector with a field of each kind, written into ``site`` (put on sys.path)."""
    from headwater.config import render_config_module
    from headwater.discovery import import_path

    package = site / "connector_every_field"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(EVERY_FIELD_INIT)
    (package / "source.py").write_text(EVERY_FIELD_SOURCE)
    if str(site) not in sys.path:
        sys.path.insert(0, str(site))
    entry = importlib.metadata.EntryPoint(
        name="every_field", value="connector_every_field", group="headwater"
    )
    registry = Registry([entry], environ={})
    connector = registry.connector("every_field")
    meta = import_path(connector.spec.load)().get_source_config()
    (package / "_config.py").write_text(render_config_module(connector.spec, meta))
    return registry


@attrs.frozen(kw_only=True)
class Page:
    url: str
    app: object
    configs: Path
    secrets: Path
    warehouse: Path
    emulator_url: str


@contextlib.contextmanager
def serve_github(
    tmp_path: Path,
    *,
    host: str = "127.0.0.1",
    delay: float = 0.0,
    registry: Registry | None = None,
) -> Iterator[Page]:
    """The page on a free port, its connector's requests sent to GitHub's emulator (answering
    each request after ``delay`` seconds, so a sync lasts long enough to be watched)."""
    from headwater.emulator import EmulatorServer
    from headwater.runtime import Runtime
    from headwater.serve.app import App
    from headwater.serve.security import Guard
    from headwater.serve.server import PageServer

    kit = github_registry().connector("github").load_kit()
    registry = registry or github_registry()
    handler = kit.emulator()
    if delay:
        handler = _slowed(handler, delay)
    with EmulatorServer(handler) as emulator:
        app = App(
            registry=registry,
            configs_dir=tmp_path / "connections",
            secrets_dir=tmp_path / "secrets",
            warehouse=str(tmp_path / "warehouse"),
            guard=Guard.for_bind(host, 0),
            runtime_factory=lambda connector: Runtime(base_url=emulator.base_url),
        )
        server = PageServer(app, host, 0)
        server.start()
        logging.getLogger("headwater.serve").setLevel(logging.DEBUG)
        try:
            yield Page(
                url=f"http://127.0.0.1:{server.port}",
                app=app,
                configs=tmp_path / "connections",
                secrets=tmp_path / "secrets",
                warehouse=tmp_path / "warehouse",
                emulator_url=emulator.base_url,
            )
        finally:
            server.close()


def _slowed(handler: Callable[[httpx.Request], httpx.Response], seconds: float) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        time.sleep(seconds)  # an API's latency
        return handler(request)

    return answer
