"""An endpoint's documented parameter rules, declared once and checked before the handler runs.

Real APIs refuse requests whose query breaks their documented rules: Sentry wants ``start`` and
``end`` together, Stripe's ``limit`` is 1 to 100, GitHub's ``since`` is ISO 8601. An emulator
that answers such a request with rows hides the connector bug that sent it. So an emulator
declares the rules of each path as data (:class:`EndpointRules`), and the
:class:`~headwater.emulator.Emulator` base class checks them before the emulator's ``handle``
runs, answering a broken one with the API's own error (the emulator's ``param_error``).

The rule kinds are the ones the APIs behind Headwater's connectors document:

==================  ======================================================================
:class:`Together`   these parameters come all together or not at all (``start`` + ``end``)
:class:`Required`   this parameter must be given (Klaviyo's campaign ``filter``)
:class:`Exclusive`  at most one of these (Stripe's ``starting_after`` / ``ending_before``)
:class:`Choice`     the value is one of a fixed set (``sort``, ``direction``)
:class:`Matches`    the value matches a pattern (a date format, an integer)
:class:`IntegerRange`  the value is an integer within bounds (a page size of at most 100)
:class:`KnownParams`   no parameter outside this set (Stripe's "Received unknown parameter")
==================  ======================================================================

A parameter is *given* when its name appears in the query, whatever its value (``start=``
included: the value rules then judge the empty value). Value rules check every value of a
repeated parameter. Each rule has a default message; ``message`` replaces it with the API's
own words, where ``{param}`` and ``{value}`` stand for the offending parameter and its value.

.. versionadded:: 0.2
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import unquote

import attrs

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Choice",
    "EndpointRules",
    "Exclusive",
    "IntegerRange",
    "KnownParams",
    "Matches",
    "ParamProblem",
    "ParamRule",
    "Required",
    "Together",
    "check_params",
]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _at_least_two(
    _: object, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]
) -> None:
    if len(value) < 2 or len(set(value)) != len(value):
        raise ValueError(
            f"{attribute.name} must name at least two different parameters, not {value}"
        )


def _compiled(value: str | re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(value)


def _said(message: str, param: str, value: str | None) -> str:
    # Plain replacement, not str.format: an API's wording may hold braces of its own.
    return message.replace("{param}", param).replace("{value}", "" if value is None else value)


def _spelled(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@attrs.frozen(kw_only=True)
class ParamProblem:
    """Why a request breaks a rule: what :meth:`Emulator.param_error
    <headwater.emulator.Emulator.param_error>` turns into the API's error answer.

    ``param`` is the parameter at fault (for :class:`Together`, the one missing; for
    :class:`Exclusive`, the second one given), ``value`` its value (``None`` when it was not
    given), ``message`` the rule's message with both filled in, ``rule`` the rule itself.

    .. versionadded:: 0.2
    """

    message: str
    param: str
    value: str | None
    rule: ParamRule


@attrs.frozen(kw_only=True)
class Together:
    """All of ``names`` or none: Sentry's ``start`` and ``end``.

    The rule does not apply when a parameter of ``unless`` is given (Sentry ignores ``start``
    and ``end`` when ``statsPeriod`` is set).

    .. versionadded:: 0.2
    """

    names: tuple[str, ...] = attrs.field(converter=_names, validator=_at_least_two)
    unless: tuple[str, ...] = attrs.field(default=(), converter=_names)
    message: str | None = None

    def check(self, params: httpx.QueryParams) -> ParamProblem | None:
        """The problem with ``params``, or ``None`` when they keep the rule."""
        if any(name in params for name in self.unless):
            return None
        given = [name for name in self.names if name in params]
        if not given or len(given) == len(self.names):
            return None
        missing = next(name for name in self.names if name not in params)
        text = (
            self.message or f"{_spelled(self.names)} must be given together: {{param}} is missing"
        )
        return ParamProblem(
            message=_said(text, missing, None), param=missing, value=None, rule=self
        )


@attrs.frozen(kw_only=True)
class Required:
    """``name`` must be given: Klaviyo lists campaigns only with a channel ``filter``.

    .. versionadded:: 0.2
    """

    name: str
    message: str | None = None

    def check(self, params: httpx.QueryParams) -> ParamProblem | None:
        """The problem with ``params``, or ``None`` when they keep the rule."""
        if self.name in params:
            return None
        text = self.message or "{param} is required"
        return ParamProblem(
            message=_said(text, self.name, None), param=self.name, value=None, rule=self
        )


@attrs.frozen(kw_only=True)
class Exclusive:
    """At most one of ``names``: Stripe's ``starting_after`` and ``ending_before``.

    .. versionadded:: 0.2
    """

    names: tuple[str, ...] = attrs.field(converter=_names, validator=_at_least_two)
    message: str | None = None

    def check(self, params: httpx.QueryParams) -> ParamProblem | None:
        """The problem with ``params``, or ``None`` when they keep the rule."""
        given = [name for name in self.names if name in params]
        if len(given) < 2:
            return None
        second = given[1]
        text = self.message or f"{_spelled(given)} cannot be given together"
        value = params[second]
        return ParamProblem(
            message=_said(text, second, value), param=second, value=value, rule=self
        )


@attrs.frozen(kw_only=True)
class Choice:
    """Every value of ``name`` is one of ``values``: ``sort``, ``direction``, ``state``.

    .. versionadded:: 0.2
    """

    name: str
    values: frozenset[str] = attrs.field(converter=_set)
    message: str | None = None

    def check(self, params: httpx.QueryParams) -> ParamProblem | None:
        """The problem with ``params``, or ``None`` when they keep the rule."""
        for value in params.get_list(self.name):
            if value not in self.values:
                allowed = ", ".join(sorted(self.values))
                text = self.message or f"{{param}} must be one of {allowed}, not '{{value}}'"
                return _problem(self, text, self.name, value)
        return None


@attrs.frozen(kw_only=True)
class Matches:
    """Every value of ``name`` matches ``pattern`` as a whole: a date format, a cursor.

    ``pattern`` is a regular expression (text or compiled), matched with ``fullmatch``.

    .. versionadded:: 0.2
    """

    name: str
    pattern: re.Pattern[str] = attrs.field(converter=_compiled)
    message: str | None = None

    def check(self, params: httpx.QueryParams) -> ParamProblem | None:
        """The problem with ``params``, or ``None`` when they keep the rule."""
        for value in params.get_list(self.name):
            if self.pattern.fullmatch(value) is None:
                return _problem(
                    self, self.message or "{param} is malformed: '{value}'", self.name, value
                )
        return None


@attrs.frozen(kw_only=True)
class IntegerRange:
    """Every value of ``name`` is a base-10 integer from ``minimum`` to ``maximum`` (inclusive;
    ``None``: unbounded): a page size of 1 to 100, a Unix time.

    .. versionadded:: 0.2
    """

    name: str
    minimum: int | None = None
    maximum: int | None = None
    message: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} is above maximum {self.maximum}")

    def check(self, params: httpx.QueryParams) -> ParamProblem | None:
        """The problem with ``params``, or ``None`` when they keep the rule."""
        for value in params.get_list(self.name):
            if _INTEGER.fullmatch(value) is None or not self._within(int(value)):
                return _problem(self, self.message or self._default(), self.name, value)
        return None

    def _within(self, number: int) -> bool:
        return (self.minimum is None or number >= self.minimum) and (
            self.maximum is None or number <= self.maximum
        )

    def _default(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            bounds = f" from {self.minimum} to {self.maximum}"
        elif self.minimum is not None:
            bounds = f" of at least {self.minimum}"
        elif self.maximum is not None:
            bounds = f" of at most {self.maximum}"
        else:
            bounds = ""
        return f"{{param}} must be an integer{bounds}, not '{{value}}'"


@attrs.frozen(kw_only=True)
class KnownParams:
    """No parameter outside ``names``: Stripe answers any other with "Received unknown
    parameter".

    .. versionadded:: 0.2
    """

    names: frozenset[str] = attrs.field(converter=_set)
    message: str | None = None

    def check(self, params: httpx.QueryParams) -> ParamProblem | None:
        """The problem with ``params``, or ``None`` when they keep the rule."""
        for name in params:
            if name not in self.names:
                text = self.message or "unknown parameter {param}"
                return _problem(self, text, name, params[name])
        return None


ParamRule: TypeAlias = (
    Together | Required | Exclusive | Choice | Matches | IntegerRange | KnownParams
)
"""Any rule :class:`EndpointRules` accepts.

.. versionadded:: 0.2
"""


def _problem(rule: ParamRule, text: str, param: str, value: str) -> ParamProblem:
    return ParamProblem(message=_said(text, param, value), param=param, value=value, rule=rule)


def _pattern(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith("/"):
        raise ValueError(f"{attribute.name} must start with '/', like '/v1/charges', not {value!r}")


def _rules(value: Iterable[ParamRule]) -> tuple[ParamRule, ...]:
    rules = tuple(value)
    if not rules:
        raise ValueError("EndpointRules needs at least one rule")
    return rules


@attrs.frozen(kw_only=True)
class EndpointRules:
    """The documented parameter rules of the endpoint(s) at ``path``.

    ``path`` is the request path as the API documents it, with ``{placeholders}`` that each
    match one non-empty segment: ``"/api/0/organizations/{org}/issues/"``, ``"/v1/{objects}"``.
    Leading and trailing slashes do not matter. ``rules`` are checked in order; the first one
    broken is the answer. Every :class:`EndpointRules` whose path matches a request applies,
    in the order declared.

    .. versionadded:: 0.2
    """

    path: str = attrs.field(validator=_pattern)
    rules: tuple[ParamRule, ...] = attrs.field(converter=_rules)

    def matches(self, path: str) -> bool:
        """Whether ``path`` (as a request sends it, percent-encoded) is this endpoint's."""
        wanted = self.path.strip("/").split("/")
        segments = path.strip("/").split("/")
        if len(wanted) != len(segments):
            return False
        return all(
            segment != "" if _PLACEHOLDER.fullmatch(part) else unquote(segment) == part
            for part, segment in zip(wanted, segments, strict=True)
        )


def check_params(rules: Iterable[EndpointRules], request: httpx.Request) -> ParamProblem | None:
    """The first rule of ``rules`` that ``request`` breaks, or ``None``.

    :class:`~headwater.emulator.Emulator` calls it before ``handle``; a plain
    :data:`~headwater.emulator.Handler` may call it itself.

    .. versionadded:: 0.2
    """
    path = request.url.raw_path.split(b"?")[0].decode("ascii")
    params = request.url.params
    for endpoint in rules:
        if endpoint.matches(path):
            for rule in endpoint.rules:
                problem = rule.check(params)
                if problem is not None:
                    return problem
    return None
