"""The ``headwater`` click group: built-in commands plus those plugins add through a hook.

Built-in commands are registered when the group is built; plugin commands only when a name is
not built in or when help lists every command, so ``headwater sync github`` never imports
unrelated plugins.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import click

from headwater.errors import HeadwaterError

__all__ = ["UserError", "cli", "main"]

DEBUG_ENV = "HEADWATER_DEBUG"


class UserError(click.ClickException):
    """A mistake the user can fix: one clear message, exit code 2."""

    exit_code = 2


class HeadwaterGroup(click.Group):
    """A group that asks plugins for commands only when it has to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._builtins_added = False
        self._plugins_added = False

    def _registry(self) -> Any:
        from headwater.discovery import get_registry

        try:
            return get_registry()
        except HeadwaterError as exc:
            raise UserError(str(exc)) from exc

    def _ensure_builtins(self) -> None:
        if not self._builtins_added:
            self._builtins_added = True
            self._registry().add_commands(self, builtin_only=True)

    def _ensure_plugins(self) -> None:
        if not self._plugins_added:
            self._plugins_added = True
            registry = self._registry()
            try:
                registry.load_all()
            except HeadwaterError as exc:
                raise UserError(str(exc)) from exc
            registry.add_commands(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._ensure_builtins()
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._ensure_plugins()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._ensure_builtins()
        self._ensure_plugins()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HeadwaterError as exc:
            raise UserError(str(exc)) from exc


def _version() -> str:
    from headwater import __version__

    return __version__


@click.group(cls=HeadwaterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="headwater")
def cli() -> None:
    """Import data from APIs into Delta tables, through connector plugins.

    Connectors are separate packages (pip install connector-NAME). See `headwater connectors`.
    """


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; unexpected errors print one line (a traceback with HEADWATER_DEBUG=1)."""
    try:
        cli.main(args=argv, prog_name="headwater", standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        else:
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {exc}"
                f" (set {DEBUG_ENV}=1 for a traceback)",
                err=True,
            )
        sys.exit(1)
