"""``headwater new NAME``: scaffold a connector package that works before it is changed.

.. versionadded:: 0.1
"""

from __future__ import annotations

from pathlib import Path

import click

from headwater.cli.app import UserError

__all__ = ["new_command"]


@click.command("new")
@click.argument("name")
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the package (default: plugins/connector-NAME).",
)
def new_command(name: str, directory: Path | None) -> None:
    """Scaffold the connector package NAME (the source_type, like github or google_sheets).

    The package has one example endpoint read through the shared REST machinery, an emulator
    of it, a contract kit and tests, and passes the contract suite as generated. Replace the
    example API with the real one: docs/writing-a-connector.md walks through it.
    """
    from headwater.scaffold import ConnectorNames, scaffold_connector

    try:
        names = ConnectorNames(name=name)
    except ValueError as error:
        raise UserError(str(error)) from None
    target = directory or Path("plugins") / names.distribution
    try:
        written = scaffold_connector(name, target)
    except (ValueError, FileExistsError) as error:
        raise UserError(str(error)) from None
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(
        f"\nNext: `headwater contract {target}` (the contract suite and the package's own"
        " tests, in a virtualenv of their own, from its wheel); `pip install -e"
        f" {target}` to use it here. Replace the example API with the real one:"
        " docs/writing-a-connector.md."
    )
