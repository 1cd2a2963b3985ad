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


@attrs.frozen(kw_only=True)
class Page:
    url: str
    app: object
    configs: Path
    secrets: Path
    warehouse: Path
    emulator_url: str


@contextlib.contextmanager
def serve_github(tmp_path: Path, *, host: str = "127.0.0.1", delay: float = 0.0) -> Iterator[Page]:
    """The page on a free port, its connector's requests sent to GitHub's emulator (answering
    each request after ``delay`` seconds, so a sync lasts long enough to be watched)."""
    from headwater.emulator import EmulatorServer
    from headwater.runtime import Runtime
    from headwater.serve.app import App
    from headwater.serve.security import Guard
    from headwater.serve.server import PageServer

    registry = github_registry()
    kit = registry.connector("github").load_kit()
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
