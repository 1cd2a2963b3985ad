"""Which connectors a run checks, and when the suite is asked for at all.

The plugin is installed next to other tests, so it must do nothing unless asked. It is asked
by ``--connector NAME`` (repeatable), by loading it explicitly (``-p headwater_contract``), or
by a test class that subclasses the suite. Once asked, an empty or unknown selection is a
usage error: a contract run that checks nothing must never look like a pass.

.. versionadded:: 0.1
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from headwater_contract.subject import installed_names

if TYPE_CHECKING:
    import pytest

__all__ = ["OPTION", "PLUGIN", "add_option", "explicitly_loaded", "selected", "unknown_problem"]

PLUGIN = "headwater_contract"
"""The plugin's name, for ``-p``; also its ``pytest11`` entry point's name."""

OPTION = "--connector"


def add_option(parser: pytest.Parser) -> None:
    """Register ``--connector``.

    .. versionadded:: 0.1
    """
    group = parser.getgroup("headwater-contract", "Headwater connector contract suite")
    group.addoption(
        OPTION,
        action="append",
        dest="headwater_connectors",
        default=[],
        metavar="NAME",
        help=(
            "Check the installed connector NAME (its entry-point name) against the contract;"
            " repeat to check several."
        ),
    )


def selected(config: pytest.Config) -> list[str]:
    """The connectors named with ``--connector``, in order, each once.

    .. versionadded:: 0.1
    """
    names: list[str] = config.getoption("headwater_connectors", default=[]) or []
    return list(dict.fromkeys(name.strip() for name in names))


def explicitly_loaded(config: pytest.Config) -> bool:
    """Whether the command line loads the plugin with ``-p headwater_contract``.

    .. versionadded:: 0.1
    """
    args = list(config.invocation_params.args)
    for index, arg in enumerate(args):
        if arg == "-p" and index + 1 < len(args) and args[index + 1] == PLUGIN:
            return True
        if arg in (f"-p{PLUGIN}", f"-p={PLUGIN}"):
            return True
    return False


def unknown_problem(names: list[str]) -> str | None:
    """The usage error for ``names`` that are empty or name no installed connector.

    .. versionadded:: 0.1
    """
    if any(not name for name in names):
        return f"{OPTION} needs a connector name, not an empty string"
    installed = installed_names()
    unknown = [name for name in names if name not in installed]
    if not unknown:
        return None
    listed = ", ".join(installed) or "none"
    message = f"no connector named {unknown[0]!r} is installed (installed: {listed})"
    close = difflib.get_close_matches(unknown[0], installed, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message + f". Install it (pip install connector-{unknown[0].replace('_', '-')})"
