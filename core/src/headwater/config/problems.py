"""Turning structuring failures into :class:`~headwater.errors.ConfigProblem` items.

cattrs reports every failure of one ``structure`` call as a tree of exception groups whose
leaves carry notes naming the attribute or mapping key they failed at.
:func:`cattrs.transform_error` walks that tree; this module gives it the wording (a custom
formatter) and writes its paths the way Headwater writes paths, one problem per leaf::

    missing required field 'repository' @ $.repository
    expected int @ $.page_size
    unknown field 'reposatory' (did you mean 'repository'?) @ $.reposatory

A message never quotes the offending value (it might be a secret), and never carries a
traceback: an unexpected leaf becomes ``invalid value`` at its path.

.. versionadded:: 0.1
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable

import attrs
from cattrs import transform_error
from cattrs.errors import ForbiddenExtraKeysError

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
    # transform_error renders each leaf as "<formatter's text> @ <its path>". The formatter
    # files the leaf's problems (one leaf may be several, such as two unknown keys) and
    # returns their number, so the text never has to be parsed back.
    leaves: list[list[tuple[tuple[str | int, ...], str]]] = []

    def file_leaf(leaf: BaseException, type_: type | None) -> str:
        leaves.append(_leaf_problems(leaf))
        return str(len(leaves) - 1)

    problems: list[ConfigProblem] = []
    for line in transform_error(error, "$", file_leaf):
        number, _, where = line.partition(" @ ")
        base = _headwater_path(where, path)
        for keys, message in leaves[int(number)]:
            at = base
            for key in keys:
                at = join_path(at, key)
            problems.append(ConfigProblem(path=at, message=message))
    return problems


def _leaf_problems(error: BaseException) -> list[tuple[tuple[str | int, ...], str]]:
    """``(keys below the leaf's path, message)`` for each problem one leaf stands for."""
    if isinstance(error, InvalidValue):
        return [(error.at, error.message)]
    if isinstance(error, ForbiddenExtraKeysError):
        known = [field.name for field in attrs.fields(error.cl)] if attrs.has(error.cl) else []
        return [
            ((key,), unknown_field_problem("$", key, known).message)
            for key in sorted(error.extra_fields, key=str)
        ]
    # cattrs reads a missing attribute as ``o['name']``: a bare KeyError of that very name,
    # noted with the attribute (its path already ends in the name).
    if type(error) is KeyError and len(error.args) == 1 and _noted_with(error, error.args[0]):
        return [((), f"missing required field {quote(error.args[0])}")]
    return [((), "invalid value")]


def _noted_with(error: BaseException, name: object) -> bool:
    return any(getattr(note, "name", None) == name for note in getattr(error, "__notes__", ()))


# transform_error's path steps: ``.name`` for an attribute, ``[repr(key)]`` for a list index
# or a mapping key.
_STEP = re.compile(
    r"""\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)"""
    r"""|\[(?P<key>-?[0-9]+|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]"""
)


def _headwater_path(cattrs_path: str, base: str) -> str:
    where, position = base, 1  # past the root "$"
    while position < len(cattrs_path):
        step = _STEP.match(cattrs_path, position)
        if step is None:  # pragma: no cover - transform_error writes only these steps
            raise ValueError(f"unreadable cattrs path {cattrs_path!r}")
        name = step["name"]
        where = join_path(where, name if name is not None else ast.literal_eval(step["key"]))
        position = step.end()
    return where
