"""Structuring user input into a connector's generated config class.

One call does everything a user needs to hear about at once: it resolves secret references,
types the input strictly (unknown keys, wrong types, missing fields, bad selections) and
checks values against the field definitions (bounds, email and URL shape, empty required
text). Every problem found is raised together in one :class:`~headwater.errors.ConfigError`,
in the order the form declares its fields.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from cattrs.errors import BaseValidationError, CattrsError

from headwater.config.checks import check_field_values
from headwater.config.converter import config_converter
from headwater.config.problems import InvalidValue, problems_from_exception
from headwater.config.references import resolve_references
from headwater.errors import ConfigError, ConfigProblem
from headwater.sources.fields import walk_fields

if TYPE_CHECKING:
    from headwater.hookspecs import SecretResolver
    from headwater.sources.metadata import SourceConfig

__all__ = ["structure_source_config"]

T = TypeVar("T")


def structure_source_config(
    config_class: type[T],
    source_config: SourceConfig,
    raw: Mapping[str, Any],
    *,
    resolvers: Mapping[str, SecretResolver],
    path: str = "$",
) -> T:
    """Turn ``raw`` (the ``[source]`` table) into an instance of ``config_class``.

    ``config_class`` is the class generated from ``source_config`` (see
    :func:`~headwater.config.load_config_class`); ``path`` prefixes every problem, so a
    caller structuring the ``[source]`` table of a file passes ``"$.source"``.

    :raises ConfigError: listing every problem, each at its path; no message quotes a value.

    .. versionadded:: 0.1
    """
    if not isinstance(raw, Mapping):
        raise _config_error(
            [ConfigProblem(path=path, message="expected table")], [], source_config, path
        )
    resolved, problems = resolve_references(raw, resolvers, path)
    # A failed reference is reported once; what the converter or the checks would say about
    # the unresolved text at the same place is noise. Likewise a value of the wrong type is
    # reported by the converter, not again by the checks.
    checked = check_field_values(source_config.fields, resolved, path)
    try:
        instance = config_converter().structure(resolved, config_class)
    except (BaseValidationError, CattrsError, InvalidValue) as error:
        unresolved = {problem.path for problem in problems}
        problems.extend(_outside(problems_from_exception(error, path), unresolved))
        raise _config_error(problems, checked, source_config, path) from None
    if problems or checked:
        raise _config_error(problems, checked, source_config, path)
    return instance


def _config_error(
    problems: list[ConfigProblem],
    checked: list[ConfigProblem],
    source_config: SourceConfig,
    path: str,
) -> ConfigError:
    seen = {problem.path for problem in problems}
    everything = [*problems, *_outside(checked, seen)]
    return ConfigError(
        _in_form_order(everything, source_config, path),
        context=f"invalid {source_config.label} configuration",
    )


def _outside(problems: list[ConfigProblem], paths: set[str]) -> list[ConfigProblem]:
    return [problem for problem in problems if not _under_any(problem.path, paths)]


def _under_any(path: str, bases: set[str]) -> bool:
    return any(path == base or path.startswith((base + ".", base + "[")) for base in bases)


def _in_form_order(
    problems: Sequence[ConfigProblem], source_config: SourceConfig, path: str
) -> list[ConfigProblem]:
    # Users fix a form top to bottom. A key the form does not know (an unknown field) comes
    # after everything of the table it sits in. The sort is stable, so problems at one field
    # keep the order they were found in.
    paths = [field_path for field_path, _ in walk_fields(source_config.fields, path)]
    index = {field_path: position for position, field_path in enumerate(paths)}

    def last_inside(table: str) -> int:
        inside = [index[p] for p in paths if _under_any(p, {table})]
        return max(inside, default=index.get(table, -1))

    def position(problem: ConfigProblem) -> float:
        if problem.path in index:
            return index[problem.path]
        table = problem.path
        while table != path and table:
            cut = max(table.rfind("."), table.rfind("["))
            table = table[:cut] if cut > 0 else path
            if table in index:
                break
        return last_inside(table) + 0.5

    return sorted(problems, key=position)
