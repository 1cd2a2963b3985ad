"""Checks on values that types cannot express, driven by the connector's field definitions.

A typed value can still be wrong: a page size above the API's maximum, an email without an
``@``, a base URL without a host, an empty required name. These checks read the raw input
next to the fields, so they run even when structuring failed elsewhere and every problem is
reported at once. A value of the wrong type is skipped here: the converter reports it.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from headwater.config.converter import SELECTION_KEY
from headwater.config.problems import join_path
from headwater.errors import ConfigProblem
from headwater.sources.fields import (
    Field,
    FileUploadField,
    NumberField,
    OAuthField,
    SecretField,
    SelectField,
    SwitchGroupField,
    TextField,
    TextKind,
    field_job,
)

__all__ = ["check_field_values"]

# Deliberately loose: the API decides what it accepts; this catches a missing ``@`` or domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_field_values(
    fields: Sequence[Field], raw: Mapping[str, object], path: str = "$"
) -> list[ConfigProblem]:
    """Problems with the values in ``raw`` that the field definitions forbid.

    .. versionadded:: 0.1
    """
    problems: list[ConfigProblem] = []
    for field in fields:
        value = raw.get(field.name)
        if value is not None:
            problems.extend(_check(field, value, join_path(path, field.name)))
    return problems


@field_job
def _check(field: Field, value: object, path: str) -> list[ConfigProblem]:
    raise TypeError(f"no value check for {type(field).__name__}")


@_check.register
def _check_reference(
    field: SecretField | FileUploadField | OAuthField, value: object, path: str
) -> list[ConfigProblem]:
    if field.required and isinstance(value, str) and not value.strip():
        return [ConfigProblem(path=path, message="must not be empty")]
    return []


@_check.register
def _check_group(field: SwitchGroupField, value: object, path: str) -> list[ConfigProblem]:
    if not isinstance(value, Mapping):
        return []
    return check_field_values(field.fields, value, path)


@_check.register
def _check_text(field: TextField, value: object, path: str) -> list[ConfigProblem]:
    if not isinstance(value, str):
        return []
    if not value.strip():
        # An optional field left empty is simply not set.
        return [ConfigProblem(path=path, message="must not be empty")] if field.required else []
    if field.kind is TextKind.EMAIL and not _EMAIL.match(value):
        return [ConfigProblem(path=path, message="expected an email address")]
    if field.kind is TextKind.URL and not _is_web_url(value):
        return [ConfigProblem(path=path, message="expected an http(s) URL with a host")]
    if field.pattern is not None and not re.fullmatch(field.pattern, value):
        # The hint, never the value: a text field may still hold something private.
        expected = field.pattern_hint or f"a value matching {field.pattern}"
        return [ConfigProblem(path=path, message=f"expected {expected}")]
    return []


def _is_web_url(value: str) -> bool:
    if any(char.isspace() for char in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host)


@_check.register
def _check_number(field: NumberField, value: object, path: str) -> list[ConfigProblem]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return []
    if field.minimum is not None and value < field.minimum:
        return [ConfigProblem(path=path, message=f"must be at least {field.minimum}")]
    if field.maximum is not None and value > field.maximum:
        return [ConfigProblem(path=path, message=f"must be at most {field.maximum}")]
    return []


@_check.register
def _check_selected_option(field: SelectField, value: object, path: str) -> list[ConfigProblem]:
    if not isinstance(value, Mapping):
        return []
    selection = value.get(SELECTION_KEY)
    for option in field.options:
        if option.value == selection:
            return check_field_values(option.fields, value, path)
    return []
