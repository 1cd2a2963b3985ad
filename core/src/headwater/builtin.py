"""Headwater's own parts, registered through the same hooks as any third-party plugin.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from headwater.hookspecs import hookimpl

if TYPE_CHECKING:
    import click

    from headwater.hookspecs import SecretResolver
    from headwater.sources.spec import SourceSpec

__all__ = ["register_commands", "register_secret_resolvers", "register_sources"]


@hookimpl
def register_sources() -> Sequence[SourceSpec]:
    """The built-in ``example`` connector: a generated shop, for trying Headwater offline."""
    from headwater.sources.spec import CONTRACT_MAJOR, ReleaseStatus, SourceSpec

    return [
        SourceSpec(
            source_type="example",
            contract_major=CONTRACT_MAJOR,
            label="Example shop",
            load="headwater.examples.source:ExampleSource",
            release_status=ReleaseStatus.GA,
        )
    ]


@hookimpl
def register_secret_resolvers() -> Mapping[str, SecretResolver]:
    """``env:NAME`` reads an environment variable; ``file:PATH`` reads a file."""
    from headwater.config.secrets import BUILTIN_RESOLVERS

    return BUILTIN_RESOLVERS


@hookimpl
def register_commands(cli: click.Group) -> None:
    """The built-in commands (connectors, info, sync, query, demo, ...: see BUILTIN_COMMANDS),
    each imported only when it runs."""
    from headwater.cli.app import LazyCommand
    from headwater.cli.commands import BUILTIN_COMMANDS

    for name, import_path in BUILTIN_COMMANDS.items():
        cli.add_command(LazyCommand(name, import_path))
