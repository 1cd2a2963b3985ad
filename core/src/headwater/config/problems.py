"""Turning structuring failures into :class:`~headwater.errors.ConfigProblem` items.

cattrs reports every failure of one ``structure`` call as a tree of exception groups whose
leaves carry notes naming the attribute or mapping key they failed at. This module walks that
tree and writes one problem per leaf, in the style users read elsewhere in Headwater::

    missing required field 'repository' @ $.repository
    expected int @ $.page_size
    unknown field 'reposatory' (did you mean 'repository'?) @ $.reposatory

A message never quotes the offending value (it might be a secret), and never carries a
traceback: an unexpected leaf becomes ``invalid value`` at its path.

.. versionadded:: 0.1
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import attrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)

from headwater.errors import ConfigProblem

__all__ = [
    "InvalidValue",
    "join_path",
    "problems_from_exception",
    "quote",
    "unknown_field_problem",
]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class InvalidValue(ValueError):
    """Raised by Headwater's structure hooks: ``message`` says what was expected.

    ``at`` is a path relative to the value being structured (``("selection",)`` when the
    ``selection`` key of a table is wrong). The message never quotes the value.

    .. versionadded:: 0.1
    """

    def __init__(self, message: str, *, at: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


def quote(value: object) -> str:
    """Quote a field name or an allowed value the way messages show it: ``'repository'``.

    .. versionadded:: 0.1
    """
    return repr(value)


def join_path(base: str, key: str | int) -> str:
    """Extend a JSON path: ``$.source`` + ``token`` is ``$.source.token``; ints index lists.

    Keys that are not plain names use bracket notation (``$.schemas['a.b']``), so a path
    always reads back unambiguously.

    .. versionadded:: 0.1
    """
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{base}.{key}"
    return f"{base}[{key!r}]"


def unknown_field_problem(path: str, key: str, known: Iterable[str]) -> ConfigProblem:
    """The problem for a key nobody asked for, suggesting the closest known name.

    .. versionadded:: 0.1
    """
    message = f"unknown field {quote(key)}"
    close = difflib.get_close_matches(str(key), sorted(known), n=1)
    if close:
        message += f" (did you mean {quote(close[0])}?)"
    return ConfigProblem(path=join_path(path, str(key)), message=message)


def problems_from_exception(error: BaseException, path: str) -> list[ConfigProblem]:
    """Every problem inside ``error`` (raised by a Headwater converter), at paths under ``path``.

    .. versionadded:: 0.1
    """
    if isinstance(error, InvalidValue):
        where = path
        for key in error.at:
            where = join_path(where, key)
        return [ConfigProblem(path=where, message=error.message)]
    if isinstance(error, ForbiddenExtraKeysError):
        known = [field.name for field in attrs.fields(error.cl)] if attrs.has(error.cl) else []
        return [
            unknown_field_problem(path, key, known) for key in sorted(error.extra_fields, key=str)
        ]
    if isinstance(error, BaseValidationError):
        problems: list[ConfigProblem] = []
        for inner in error.exceptions:
            problems.extend(_leaf_problems(inner, path))
        return problems
    return [ConfigProblem(path=path, message="invalid value")]


def _leaf_problems(error: BaseException, path: str) -> list[ConfigProblem]:
    # Notes are appended as the error passes outwards, so the outermost key comes last.
    keys: list[str | int] = []
    for note in reversed(getattr(error, "__notes__", ())):
        if isinstance(note, AttributeValidationNote):
            keys.append(note.name)
        elif isinstance(note, IterableValidationNote):
            keys.append(note.index)
    where = path
    for key in keys:
        where = join_path(where, key)
    # cattrs reads a missing attribute as ``o['name']``: a bare KeyError of that very name.
    if type(error) is KeyError and keys and error.args == (keys[-1],):
        return [ConfigProblem(path=where, message=f"missing required field {quote(keys[-1])}")]
    return problems_from_exception(error, where)
