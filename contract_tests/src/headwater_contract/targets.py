"""What each check runs on: a connector, or one schema of it, with a readable test id.

A check is declared per connector or per schema (:func:`per_connector`, :func:`per_schema`);
a per-schema check may apply only to some schemas (incremental ones, desc ones, fan-out ones).
:func:`parameters` turns that into pytest parameters with ids such as ``github`` and
``github::issues``. A connector with no schema a check applies to gets one parameter that is
skipped with a reason, so the report says why nothing ran rather than showing nothing.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
import pytest

from headwater_contract.subject import Blocked, SchemaFacts, Subjects

__all__ = ["Scope", "Target", "parameters", "per_connector", "per_schema", "scope_of"]

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "_headwater_contract_scope"


@attrs.frozen(kw_only=True)
class Target:
    """One connector (``schema=None``) or one schema of it.

    .. versionadded:: 0.1
    """

    connector: str
    schema: str | None = None

    @property
    def id(self) -> str:
        return self.connector if self.schema is None else f"{self.connector}::{self.schema}"

    @property
    def schema_name(self) -> str:
        """The schema; only per-schema checks ask, and they always have one."""
        if self.schema is None:
            raise LookupError(f"check target {self.id!r} has no schema")
        return self.schema


@attrs.frozen(kw_only=True)
class Scope:
    """How a check is parametrized: per connector, or per schema it ``applies`` to.

    .. versionadded:: 0.1
    """

    per_schema: bool = False
    applies: Callable[[SchemaFacts], bool] | None = attrs.field(default=None, eq=False)
    none: str = "lists no schemas"


def per_connector(check: F) -> F:
    """Run ``check`` once per selected connector.

    .. versionadded:: 0.1
    """
    setattr(check, _ATTRIBUTE, Scope())
    return check


def per_schema(
    applies: Callable[[SchemaFacts], bool] | None = None, *, none: str = "lists no schemas"
) -> Callable[[F], F]:
    """Run the check once per schema of each connector (those ``applies`` accepts).

    ``none`` completes "<connector> ..." as the skip reason when no schema applies.

    .. versionadded:: 0.1
    """

    def mark(check: F) -> F:
        setattr(check, _ATTRIBUTE, Scope(per_schema=True, applies=applies, none=none))
        return check

    return mark


def scope_of(check: Callable[..., Any]) -> Scope | None:
    """The scope a check was declared with, or ``None`` for an author's own test.

    .. versionadded:: 0.1
    """
    scope = getattr(check, _ATTRIBUTE, None)
    return scope if isinstance(scope, Scope) else None


def parameters(scope: Scope, names: Sequence[str], subjects: Subjects) -> list[Any]:
    """The pytest parameters (``pytest.param``) of a check with ``scope`` over ``names``.

    .. versionadded:: 0.1
    """
    params = []
    for name in names:
        if not scope.per_schema:
            params.append(pytest.param(Target(connector=name), id=name))
            continue
        schemas = subjects.get(name).schemas
        if isinstance(schemas, Blocked):
            # Skipped once, pointing at the check that fails for the reason.
            skip = pytest.mark.skip(reason=schemas.message)
            params.append(pytest.param(Target(connector=name), id=f"{name}::*", marks=skip))
            continue
        chosen = [facts for facts in schemas if scope.applies is None or scope.applies(facts)]
        if not chosen:
            skip = pytest.mark.skip(reason=f"{name} {scope.none}")
            params.append(pytest.param(Target(connector=name), id=f"{name}::-", marks=skip))
            continue
        params += [
            pytest.param(Target(connector=name, schema=facts.name), id=f"{name}::{facts.name}")
            for facts in chosen
        ]
    return params
