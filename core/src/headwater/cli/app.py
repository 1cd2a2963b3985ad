"""The ``headwater`` click group: built-in commands plus those plugins add through a hook.

Built-in commands are registered when the group is built; plugin commands only when a name is
not built in or when help lists every command, so ``headwater sync github`` never imports
unrelated plugins.

.. versionadded:: 0.1
"""

from __future__ import annotations

import atexit
import enum
import gc
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

from headwater.errors import HeadwaterError

__all__ = [
    "ExitCode",
    "Failed",
    "LazyCommand",
    "PartlyFailed",
    "UserError",
    "cli",
    "deprecated_option",
    "main",
    "outcome",
    "report_failures",
]

DEBUG_ENV = "HEADWATER_DEBUG"


class ExitCode(enum.IntEnum):
    """What a ``headwater`` command's exit code means; the same for every command.

    .. versionadded:: 0.2
    """

    OK = 0
    """Everything asked for was done."""
    FAILED = 1
    """The work was attempted and failed: every schema or table failed, the credentials were
    rejected, a run failed, or an unexpected error (one line; a traceback with
    ``HEADWATER_DEBUG=1``)."""
    USAGE = 2
    """A usage or input error, found before any work: an option, the config, a name, the
    warehouse, the SQL of a query."""
    PARTIAL = 3
    """Some schemas or tables were done and some failed; each failure is one line on
    stderr."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (SIGINT), as shells report it; every commit made so far stays."""


class UserError(click.ClickException):
    """A mistake the user can fix: one clear message, exit code 2 (:attr:`ExitCode.USAGE`)."""

    exit_code = ExitCode.USAGE


class Failed(click.ClickException):
    """Work that was attempted and failed: exit code 1 (:attr:`ExitCode.FAILED`).

    .. versionadded:: 0.2
    """

    exit_code = ExitCode.FAILED


class PartlyFailed(Failed):
    """Some of the work was done and some failed: exit code 3 (:attr:`ExitCode.PARTIAL`).

    .. versionadded:: 0.2
    """

    exit_code = ExitCode.PARTIAL


def outcome(failed: int, total: int) -> ExitCode:
    """The exit code of a command that worked through ``total`` parts (schemas, tables) of
    which ``failed`` failed: OK, PARTIAL when some were done, else FAILED.

    .. versionadded:: 0.2
    """
    if failed <= 0:
        return ExitCode.OK
    return ExitCode.PARTIAL if failed < total else ExitCode.FAILED


def report_failures(failed: Sequence[str], total: int, what: str = "schemas") -> None:
    """End a command that worked through ``total`` schemas (or tables) of which ``failed``
    failed (each already reported on its own line): :class:`Failed`, partial when some were
    done. Nothing failed: return.

    .. versionadded:: 0.2
    """
    if not failed:
        return
    message = f"{len(failed)} of {total} {what} failed: {', '.join(failed)} (see above)"
    if outcome(len(failed), total) is ExitCode.PARTIAL:
        raise PartlyFailed(message)
    raise Failed(message)


class LazyCommand(click.Command):
    """A command of the ``headwater`` group that is imported only when it runs (or help lists
    it), from the import path ``module:attribute`` of the real :class:`click.Command`.

    The built-in commands are registered this way, so ``headwater connectors`` imports the
    module of that command alone, not those of ``sync``, ``query`` or ``worker``. A plugin's
    ``register_commands`` hook may add its commands the same way, keeping its plugin module
    light.

    .. versionadded:: 0.2
    """

    def __init__(self, name: str, import_path: str) -> None:
        super().__init__(name)
        self.import_path = import_path

    def load(self) -> click.Command:
        """The real command (imported on the first call)."""
        from headwater.discovery import import_path

        command = import_path(self.import_path)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.import_path} is not a click command: {command!r}")
        return command


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
        if isinstance(command, LazyCommand):
            command = self.commands[cmd_name] = command.load()
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


def deprecated_option(old: str, new: str) -> None:
    """Say on stderr (never stdout, which may be parsed) that option ``old`` is now ``new``.

    .. versionadded:: 0.2
    """
    click.echo(f"note: {old} is deprecated and will be removed; use {new}", err=True)


def _version() -> str:
    from headwater import __version__

    return __version__


@click.group(cls=HeadwaterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="headwater")
def cli() -> None:
    """Import data from APIs into Delta tables, through connector plugins.

    Connectors are separate packages (pip install connector-NAME). See `headwater connectors`.
    """


def _freeze_at_exit() -> None:
    """Spare the interpreter's last garbage collection when the process ends.

    A command that synced has a heap of Arrow, Delta and module objects; CPython's last
    collection walks all of it (0.1-0.15 s after a sync, a tenth of a small incremental one)
    only for the operating system to free the memory anyway. ``gc.freeze`` moves every object
    out of the collector's reach first; exit handlers, ``__del__`` of objects freed by their
    reference counts and output flushing run as before. Registered as an exit handler, so a
    program that calls :func:`main` in-process is affected only when it ends itself.
    """
    gc.freeze()


_FREEZE_REGISTERED: list[bool] = []


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; unexpected errors print one line (a traceback with HEADWATER_DEBUG=1)."""
    if not _FREEZE_REGISTERED:
        atexit.register(_freeze_at_exit)
        _FREEZE_REGISTERED.append(True)
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
        sys.exit(ExitCode.FAILED)
