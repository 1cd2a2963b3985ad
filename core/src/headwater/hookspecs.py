"""The hooks through which plugins (and Headwater's own built-in parts) extend the host.

A plugin is a module named by an entry point in the ``headwater`` group. It implements any of
these hooks with functions decorated by :data:`hookimpl`; an implementation may take fewer
arguments than the spec. A plugin implementing a hook this host does not know is not loaded
(it was probably written for a newer Headwater) and is reported by ``headwater connectors``.

Every hook here is documented in ``docs/hooks.md`` and tested; a guard test enforces both.

The module is internal to the host: connectors import ``hookimpl`` from ``headwater``, and
the hooks they implement are the promise, documented in ``docs/hooks.md``.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from headwater.sources.spec import SourceSpec

__all__ = ["PROJECT_NAME", "SecretResolver", "hookimpl", "hookspec"]

PROJECT_NAME = "headwater"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin's function as the implementation of the hook of the same name.

.. versionadded:: 0.1
"""

SecretResolver = Callable[[str], str]
"""Turns the argument of a reference (``NAME`` in ``"env:NAME"``) into the secret value.

Raises :class:`LookupError` with a message saying what is missing (never the value).
"""


@hookspec
def register_sources() -> Sequence[SourceSpec]:
    """Return the :class:`~headwater.SourceSpec` of each source this plugin provides.

    .. versionadded:: 0.1
    """
    raise NotImplementedError


@hookspec
def register_secret_resolvers() -> Mapping[str, SecretResolver]:
    """Return secret resolvers keyed by reference prefix (``{"env": ...}`` serves ``"env:NAME"``).

    .. versionadded:: 0.1
    """
    raise NotImplementedError


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the ``headwater`` CLI group ``cli``.

    .. versionadded:: 0.1
    """
    raise NotImplementedError
