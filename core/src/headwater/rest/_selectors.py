"""JSON paths into API responses, compiled once per endpoint rather than parsed per page.

APIs wrap their rows (``{"data": [...]}``), their cursors (``{"meta": {"next": ...}}``) and
their totals differently; endpoints and paginators name these places with a small JSON path:
``data``, ``$.response.items``, ``meta.pages[0].next``, ``["odd.key"].rows``. Only keys and
list indexes are supported: every API we target needs nothing more, and a path that means one
exact place is easier to reason about than a query language.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["MISSING", "Selector", "SelectorError"]


class _Missing:
    """The marker :meth:`Selector.find` returns when the path is absent."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
"""Returned by :meth:`Selector.find` when the document has nothing at the path.

.. versionadded:: 0.1
"""

Step = str | int

# One step: .key | key (at the start) | [index] | ["quoted key"] | ['quoted key']
_STEP = re.compile(
    r"""
    \.?(?P<key>[^.\[\]"']+)
    | \[(?P<index>-?\d+)\]
    | \[(?P<quote>["'])(?P<quoted>.*?)(?P=quote)\]
    """,
    re.VERBOSE,
)


class SelectorError(ValueError):
    """A JSON path that cannot be compiled; says where it went wrong.

    .. versionadded:: 0.1
    """


class Selector:
    """A compiled JSON path: :meth:`find` walks a parsed JSON document along it.

    ``$`` (or an empty path) is the document itself. Build selectors once, at declaration
    time; :meth:`find` is the per-page hot path and does no parsing.

    .. versionadded:: 0.1
    """

    __slots__ = ("path", "steps")

    path: str
    steps: tuple[Step, ...]

    def __init__(self, path: str) -> None:
        self.path = path
        self.steps = _compile(path)

    def find(self, document: Any) -> Any:
        """The value at this path, or :data:`MISSING` when a key or index is absent."""
        node = document
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    return MISSING
                node = node[step]
            else:
                if not isinstance(node, dict) or step not in node:
                    return MISSING
                node = node[step]
        return node

    def __repr__(self) -> str:
        return f"Selector({self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Selector) and other.steps == self.steps

    def __hash__(self) -> int:
        return hash(self.steps)


def _compile(path: str) -> tuple[Step, ...]:
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    steps: list[Step] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise SelectorError(
                f"cannot read the JSON path {path!r} at character {position + 1}:"
                " use keys and list indexes, like 'data.items' or 'results[0].rows'"
            )
        if match.group("key") is not None:
            steps.append(match.group("key"))
        elif match.group("index") is not None:
            steps.append(int(match.group("index")))
        else:
            steps.append(match.group("quoted"))
        position = match.end()
    return tuple(steps)
