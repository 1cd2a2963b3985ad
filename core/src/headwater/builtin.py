"""Headwater's own parts, registered through the same hooks as any third-party plugin.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from headwater.hookspecs import hookimpl

if TYPE_CHECKING:
    import click

    from headwater.hookspecs import SecretResolver

__all__ = ["register_commands", "register_secret_resolvers"]


@hookimpl
def register_secret_resolvers() -> Mapping[str, SecretResolver]:
    """``env:NAME`` reads an environment variable; ``file:PATH`` reads a file."""
    from headwater.config.secrets import BUILTIN_RESOLVERS

    return BUILTIN_RESOLVERS


@hookimpl
def register_commands(cli: click.Group) -> None:
    """The built-in commands: connectors, info, spec, check, schemas, generate."""
    from headwater.cli.commands import BUILTIN_COMMANDS

    for command in BUILTIN_COMMANDS:
        cli.add_command(command)
