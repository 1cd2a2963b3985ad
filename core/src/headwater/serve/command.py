"""The ``headwater serve`` command. Light to import: the server loads when the command runs.

.. versionadded:: 0.2
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from headwater.cli.sync_commands import warehouse_option

__all__ = ["serve_command"]


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; any other than loopback requires the access token printed"
    " at start-up.",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--configs-dir",
    default="./connections",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where connection config files are saved, as CONNECTOR/CONNECTION.toml.",
)
@click.option(
    "--secrets-dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where typed secrets are kept, one 0600 file each. Default: ~/.config/headwater/secrets.",
)
@warehouse_option()
def serve_command(
    host: str, port: int, configs_dir: Path, secrets_dir: Path | None, warehouse: str
) -> None:
    """Serve a page to connect sources, choose tables, sync and query, in a browser.

    Configs saved by the page are the TOML files `check` and `sync` read; secrets typed into
    it are kept in private files, referenced from the config as file:PATH.
    """
    from headwater.discovery import get_registry
    from headwater.rest import redact_httpx_log
    from headwater.serve.app import App
    from headwater.serve.secret_files import default_secrets_dir
    from headwater.serve.security import Guard
    from headwater.serve.server import PageServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    redact_httpx_log()  # INFO shows httpx's request lines: their URLs hide credentials
    guard = Guard.for_bind(host, port)
    app = App(
        registry=get_registry(),
        configs_dir=configs_dir,
        secrets_dir=secrets_dir or default_secrets_dir(),
        warehouse=warehouse,
        guard=guard,
    )
    try:
        server = PageServer(app, host, port)
    except OSError as error:
        from headwater.cli.app import UserError

        raise UserError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{server.port}/"
    if guard.access_token is not None:
        click.echo(f"Serving on {url}?token={guard.access_token}")
        click.echo(
            "Anyone who can reach this address needs that link (it carries the access token)."
        )
    else:
        click.echo(f"Serving on {url}")
    click.echo(f"Configs: {configs_dir}   Warehouse: {warehouse}   Stop with Ctrl-C.")
    sys.stdout.flush()  # the link must reach a pipe (a supervisor's log) before serving starts
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        from headwater.cli.app import ExitCode

        raise SystemExit(ExitCode.INTERRUPTED) from None
