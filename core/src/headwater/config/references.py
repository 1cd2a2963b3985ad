"""Secret references: ``"env:GITHUB_TOKEN"`` in a config file stands for a value kept elsewhere.

Any string value of the form ``<prefix>:<argument>`` whose prefix names a registered resolver
is replaced by what that resolver returns for the argument, before the value is typed. Other
strings, including URLs (``https:`` is no resolver), pass through untouched. Resolvers come
from the ``register_secret_resolvers`` hook; :mod:`headwater.config.secrets` has the built-in
``env`` and ``file`` ones.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from headwater.config.problems import join_path, quote
from headwater.errors import ConfigProblem

if TYPE_CHECKING:
    from headwater.hookspecs import SecretResolver

__all__ = ["resolve_references"]

_REFERENCE = re.compile(r"^([a-z][a-z0-9_]*):(.+)$", re.DOTALL)
# What a mistyped reference looks like: a word before the colon, and after it an environment
# variable name or a path. Such a value is refused rather than sent to an API as a token.
_LOOKALIKE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*|[~./].*)?$", re.DOTALL)


def resolve_references(
    raw: Mapping[str, Any], resolvers: Mapping[str, SecretResolver], path: str = "$"
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """Return ``raw`` with every reference resolved, and a problem for each that failed.

    A reference that fails is left as written (the caller raises anyway), and its problem
    carries the resolver's message: ``environment variable GITHUB_TOKEN is not set``.

    .. versionadded:: 0.1
    """
    problems: list[ConfigProblem] = []
    resolved = {
        key: _resolve(value, resolvers, join_path(path, key), problems)
        for key, value in raw.items()
    }
    return resolved, problems


def _resolve(
    value: Any, resolvers: Mapping[str, SecretResolver], path: str, problems: list[ConfigProblem]
) -> Any:
    if isinstance(value, Mapping):
        return {
            key: _resolve(item, resolvers, join_path(path, key), problems)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            _resolve(item, resolvers, join_path(path, index), problems)
            for index, item in enumerate(value)
        ]
    if not isinstance(value, str):
        return value
    match = _REFERENCE.match(value)
    if match is None or match.group(1) not in resolvers:
        mistake = _mistyped(value, resolvers)
        if mistake:
            problems.append(ConfigProblem(path=path, message=mistake))
        return value
    prefix, argument = match.groups()
    try:
        return resolvers[prefix](argument)
    except LookupError as error:
        # A resolver's LookupError says what is missing; str(KeyError) would add quotes.
        detail = error.args[0] if error.args and isinstance(error.args[0], str) else ""
        message = detail or f"the {quote(prefix)} reference could not be resolved"
        problems.append(ConfigProblem(path=path, message=message))
    except Exception as error:
        # Any other failure is the resolver's bug; its message might hold anything, so only
        # its type is shown.
        problems.append(
            ConfigProblem(
                path=path,
                message=f"the {quote(prefix)} resolver failed ({type(error).__name__})",
            )
        )
    return value


def _mistyped(value: str, resolvers: Mapping[str, SecretResolver]) -> str | None:
    """Why ``value`` looks like a reference that will not resolve, or ``None``.

    ``"ENV:TOKEN"`` (references are lower case), ``"env:"`` (names nothing) and
    ``"evn:TOKEN"`` (one letter off a known prefix) would otherwise be used as the value
    itself: a config's secret sent to an API as the literal text.
    """
    import difflib

    match = _LOOKALIKE.match(value)
    if match is None:
        return None
    prefix, argument = match.group(1), match.group(2) or ""
    if prefix in resolvers:
        return f"the {quote(prefix)} reference names nothing; write {prefix}:NAME"
    if prefix.lower() in resolvers:
        return f"references are lower case: write {prefix.lower()}:{argument}"
    close = difflib.get_close_matches(prefix, list(resolvers), n=1, cutoff=0.6)
    if len(prefix) >= 3 and close and argument:
        return (
            f"{quote(prefix + ':')} is no reference prefix (did you mean {close[0]}:{argument}?);"
            f" known prefixes: {', '.join(sorted(resolvers))}"
        )
    return None
