"""What every check module shares: failing with a message, and showing keys and values briefly.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["EXAMPLES", "Shown", "count", "examples", "fail", "fail_if"]

EXAMPLES = 3
"""How many examples a failure message shows."""


def fail(message: str) -> NoReturn:
    """Fail the current check with ``message`` alone: it says what is wrong and what to do."""
    pytest.fail(message, pytrace=False)


def fail_if(problems: list[str], intro: str = "") -> None:
    """Fail with every problem found, one per line, if there are any."""
    if not problems:
        return
    if len(problems) == 1 and not intro:
        fail(problems[0])
    head = intro or f"{len(problems)} problems:"
    fail("\n".join([head, *(f"  - {problem}" for problem in problems)]))


def examples(items: Iterable[Any], limit: int = EXAMPLES) -> str:
    """``a, b, c and 4 more``: the first few items, for a message.

    Items are shown as reprs (a one-value key as its value), except :class:`Shown` text.
    """
    listed = list(items)
    shown = ", ".join(_show(item) for item in listed[:limit])
    more = len(listed) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def count(number: int, noun: str) -> str:
    """``1 row``, ``3 rows``: a number and its noun, for a message."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


class Shown(str):
    """Text that :func:`examples` shows as it is, not as a repr."""


def _show(item: Any) -> str:
    if isinstance(item, Shown):
        return str(item)
    if isinstance(item, tuple) and len(item) == 1:
        return repr(item[0])
    return repr(item)
