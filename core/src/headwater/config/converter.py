"""The cattrs converter that turns user input into generated config classes, strictly.

cattrs' defaults are lenient in ways a configuration file must not be: ``int("5")`` accepts a
string, ``int(2.7)`` truncates, ``str(5)`` turns anything into text and ``bool("no")`` is true.
Here every scalar must already have the right type (TOML has real ints, floats and booleans),
unknown keys are errors, and a table that chooses one of several shapes says so with a
``selection`` key matching one generated class's ``selection`` class variable.

Hooks raise :class:`~headwater.config.problems.InvalidValue` with a message that names what
was expected, never the value received.

.. versionadded:: 0.1
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn

from headwater.config.problems import InvalidValue, quote
from headwater.secret import Secret

__all__ = ["SELECTION_KEY", "config_converter", "is_selection_class", "make_converter"]

SELECTION_KEY = "selection"
"""The key of a table that says which option of a select-with-sub-fields the table holds."""

_Hook = Callable[[Any, Any], Any]
_MAPPING_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def make_converter() -> cattrs.Converter:
    """A new strict converter; most callers want the shared :func:`config_converter`.

    .. versionadded:: 0.1
    """
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    for type_, hook in _SCALAR_HOOKS.items():
        converter.register_structure_hook(type_, hook)
    # cattrs dispatches classes by their MRO, where a StrEnum (SyncMode) reaches ``str``
    # before ``Enum``: register the enum bases that precede ``str`` and ``int`` as well.
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum, enum.IntFlag):
        converter.register_structure_hook(base, _structure_enum)
    converter.register_structure_hook_factory(_is_literal, _literal_hook)
    converter.register_structure_hook_factory(
        _is_mapping, functools.partial(_mapping_hook, converter=converter)
    )
    converter.register_structure_hook_factory(
        attrs.has, functools.partial(_attrs_hook, converter=converter)
    )
    # Registered last so it is consulted first: cattrs would otherwise try its own union logic.
    converter.register_structure_hook_factory(
        _is_selection_union, functools.partial(_selection_union_hook, converter=converter)
    )
    return converter


@functools.cache
def config_converter() -> cattrs.Converter:
    """The process-wide strict converter (built on first use, so importing stays cheap).

    .. versionadded:: 0.1
    """
    return make_converter()


def is_selection_class(cls: object) -> bool:
    """Whether ``cls`` is a generated option class: attrs, with a ``selection`` class variable.

    .. versionadded:: 0.1
    """
    return (
        isinstance(cls, type)
        and attrs.has(cls)
        and isinstance(getattr(cls, SELECTION_KEY, None), str)
        and SELECTION_KEY not in attrs.fields_dict(cls)
    )


# --- scalars -----------------------------------------------------------------------------------


def _structure_int(value: object, _: object) -> int:
    # bool is an int subclass; ``true`` for a page size is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue("expected int")
    return value


def _structure_float(value: object, _: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue("expected number")
    if not math.isfinite(value):
        raise InvalidValue("expected a finite number")
    return float(value)


def _structure_str(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise InvalidValue("expected string")
    return value


def _structure_bool(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue("expected boolean")
    return value


def _structure_secret(value: object, _: object) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise InvalidValue("expected string")
    return Secret(value)


_SCALAR_HOOKS: dict[type, _Hook] = {
    int: _structure_int,
    float: _structure_float,
    str: _structure_str,
    bool: _structure_bool,
    Secret: _structure_secret,
}


# --- literals and enums ------------------------------------------------------------------------


def _is_literal(type_: Any) -> bool:
    return typing.get_origin(type_) is Literal


def _literal_hook(type_: Any) -> _Hook:
    allowed = typing.get_args(type_)
    message = "expected one of " + ", ".join(quote(option) for option in allowed)

    def structure(value: object, _: object) -> object:
        for option in allowed:
            # Compare types too: ``True == 1`` must not select the option ``1``.
            if type(value) is type(option) and value == option:
                return option
        raise InvalidValue(message)

    return structure


def _structure_enum(value: object, type_: type[enum.Enum]) -> enum.Enum:
    for member in type_:
        if value is member or (type(value) is type(member.value) and value == member.value):
            return member
    raise InvalidValue("expected one of " + ", ".join(quote(member.value) for member in type_))


# --- tables ------------------------------------------------------------------------------------


def _is_mapping(type_: Any) -> bool:
    return typing.get_origin(type_) in _MAPPING_ORIGINS or type_ in _MAPPING_ORIGINS


def _mapping_hook(type_: Any, *, converter: cattrs.Converter) -> _Hook:
    inner = converter.gen_structure_mapping(type_)

    def structure(value: object, cl: object) -> object:
        if not isinstance(value, Mapping):
            raise InvalidValue("expected table")
        return inner(value, cl)

    return structure


def _attrs_hook(type_: type, *, converter: cattrs.Converter) -> _Hook:
    if is_selection_class(type_):
        return _selection_hook((type_,), allow_none=False, converter=converter)
    return _table_hook(type_, converter)


def _table_hook(type_: type, converter: cattrs.Converter) -> _Hook:
    inner: _Hook = make_dict_structure_fn(
        type_, converter, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
    )

    def structure(value: object, cl: object) -> object:
        if not isinstance(value, Mapping):
            raise InvalidValue("expected table")
        return inner(value, cl)

    return structure


def _union_members(type_: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(type_) not in (Union, types.UnionType):
        return None
    return typing.get_args(type_)


def _is_selection_union(type_: Any) -> bool:
    members = _union_members(type_)
    if members is None:
        return False
    options = [member for member in members if member is not type(None)]
    return bool(options) and all(is_selection_class(option) for option in options)


def _selection_union_hook(type_: Any, *, converter: cattrs.Converter) -> _Hook:
    members = _union_members(type_) or ()
    options = tuple(member for member in members if member is not type(None))
    return _selection_hook(options, allow_none=type(None) in members, converter=converter)


def _selection_hook(
    options: tuple[type, ...], *, allow_none: bool, converter: cattrs.Converter
) -> _Hook:
    by_selection: dict[str, type] = {getattr(option, SELECTION_KEY): option for option in options}
    tables = {option: _table_hook(option, converter) for option in options}
    expected = "one of " + ", ".join(quote(selection) for selection in by_selection)

    def structure(value: object, _: object) -> object:
        if value is None and allow_none:
            return None
        if not isinstance(value, Mapping):
            raise InvalidValue("expected table")
        if SELECTION_KEY not in value:
            raise InvalidValue(
                f"missing required field {quote(SELECTION_KEY)} ({expected})", at=(SELECTION_KEY,)
            )
        selection = value[SELECTION_KEY]
        chosen = by_selection.get(selection) if isinstance(selection, str) else None
        if chosen is None:
            raise InvalidValue(f"expected {expected}", at=(SELECTION_KEY,))
        rest = {key: item for key, item in value.items() if key != SELECTION_KEY}
        return tables[chosen](rest, chosen)

    return structure
