"""``headwater contract PATH``: the contract suite and a connector's own tests, isolated.

.. versionadded:: 0.2
"""

from __future__ import annotations

from pathlib import Path

import click

from headwater.cli.app import ExitCode, Failed, UserError

__all__ = ["contract_command"]


@click.command(
    "contract",
    context_settings={"ignore_unknown_options": True},
)
@click.argument(
    "path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path(".")
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--venv",
    "venv_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Make the virtualenv here and keep it (reused when it is one already). Default: a"
    " temporary one, removed afterwards.",
)
@click.option(
    "--find-links",
    "find_links",
    multiple=True,
    metavar="DIR",
    help="Also look for packages in DIR (passed to pip; repeatable).",
)
@click.option("--no-index", is_flag=True, help="Install nothing from a package index (pip).")
def contract_command(
    path: Path,
    pytest_args: tuple[str, ...],
    venv_dir: Path | None,
    find_links: tuple[str, ...],
    no_index: bool,
) -> None:
    """Check the connector package at PATH (default: here) as its users will get it.

    In a new virtualenv: the host and the contract suite (editable from this checkout when
    they are installed that way here, else the same releases), and the connector built as a
    wheel and installed from it with its `test` extra; then the contract suite for it and its
    own tests (PATH/tests). Arguments after `--` reach the contract run
    (`headwater contract . -- -k pagination`). The exit code is pytest's; 5 (no tests
    collected) is a failure too.
    """
    from headwater.contract_venv import check_in_venv, read_connector_folder

    try:
        folder = read_connector_folder(path)
    except ValueError as error:
        raise UserError(str(error)) from None
    pip_options = [option for d in find_links for option in ("--find-links", d)]
    if no_index:
        pip_options.append("--no-index")
    outcome = check_in_venv(
        folder,
        venv_dir=venv_dir,
        pip_options=pip_options,
        pytest_args=pytest_args,
        report=lambda line: click.echo(f"headwater contract: {line}", err=True),
    )
    if outcome.code == 0:
        click.echo(f"headwater contract: {folder.distribution} passed", err=True)
        return
    if outcome.code == ExitCode.FAILED and not outcome.pytest_ran:
        raise Failed(outcome.message or "the check failed")
    # pytest's own code, so scripts and CI see what pytest reported.
    click.echo(f"Error: {outcome.message}", err=True)
    click.get_current_context().exit(outcome.code)
