"""The suite's state for one pytest session: loaded connectors, usage problems, activation.

Kept in the pytest config's stash, so two sessions in one process (pytester runs, say) never
share a loaded connector or an environment change.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from headwater.discovery import STRICT_ENV
from headwater_contract.selection import unknown_problem
from headwater_contract.subject import Subjects

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["SessionState", "state"]

_KEY = pytest.StashKey["SessionState"]()


class SessionState:
    """What the suite keeps for one session.

    .. versionadded:: 0.1
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.subjects = Subjects()
        self.registered = False
        """The plugin is loaded in this session (its hooks run)."""
        self.selected: list[str] = []
        """The connectors given with ``--connector``."""
        self.explicit = False
        """The plugin was loaded with ``-p headwater_contract``."""
        self.usage_problems: list[str] = []
        self.active = False
        self._unknown: dict[tuple[str, ...], str | None] = {}

    def unknown_problem(self, names: list[str]) -> str | None:
        """The usage error for ``names``, computed once per selection.

        See :func:`~headwater_contract.selection.unknown_problem`; it reads every entry point.
        """
        key = tuple(names)
        if key not in self._unknown:
            self._unknown[key] = unknown_problem(names)
        return self._unknown[key]

    def activate(self) -> None:
        """Turn on what every contract run needs: strict plugin loading for the whole process.

        Undone when the session ends.
        """
        if self.active:
            return
        self.active = True
        previous = os.environ.get(STRICT_ENV)
        os.environ[STRICT_ENV] = "1"
        self.config.add_cleanup(_restore(STRICT_ENV, previous))


def _restore(name: str, previous: str | None) -> Callable[[], None]:
    def restore() -> None:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous

    return restore


def state(config: pytest.Config) -> SessionState:
    """The session's state; created on first use.

    .. versionadded:: 0.1
    """
    found = config.stash.get(_KEY, None)
    if found is None:
        found = config.stash[_KEY] = SessionState(config)
    return found
