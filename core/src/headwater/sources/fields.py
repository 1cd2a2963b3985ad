"""The fields of a connector's configuration form.

Fields drive three things from one definition: the form a UI renders (``headwater spec``),
the typed config class (``headwater generate``) and the validation of user input.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import keyword
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeAlias

import attrs

__all__ = [
    "Field",
    "FileUploadField",
    "NumberField",
    "OAuthField",
    "SecretField",
    "SelectField",
    "SelectOption",
    "SwitchGroupField",
    "TextField",
    "TextKind",
    "is_secret",
    "walk_fields",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_name(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _NAME.match(value) or keyword.iskeyword(value):
        raise ValueError(
            f"field name {value!r} must be a lower-case identifier (letters, digits, underscores)"
        )


def _check_label(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise ValueError("every field needs a label")


class TextKind(enum.StrEnum):
    """How a plain text field is entered and checked."""

    TEXT = "text"
    EMAIL = "email"
    URL = "url"
    TEXTAREA = "textarea"


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _fields(value: Iterable[Field]) -> tuple[Field, ...]:
    return tuple(value)


def _options(value: Iterable[SelectOption]) -> tuple[SelectOption, ...]:
    return tuple(value)


def _check_pattern(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"pattern {value!r} is not a regular expression: {error}") from None


@attrs.frozen(kw_only=True)
class _FieldBase:
    name: str = attrs.field(validator=_check_name)
    label: str = attrs.field(validator=_check_label)
    required: bool = True
    caption: str = ""
    placeholder: str = ""


@attrs.frozen(kw_only=True)
class TextField(_FieldBase):
    """A single value typed by the user: text, email, URL or a multi-line textarea."""

    kind: TextKind = attrs.field(default=TextKind.TEXT, converter=TextKind)
    default: str | None = None
    pattern: str | None = attrs.field(default=None, validator=_check_pattern)
    """A regular expression the whole value must match (``owner/repo``), checked on load."""
    pattern_hint: str = ""
    """What a matching value looks like, for the error message (``"owner/repo"``)."""


@attrs.frozen(kw_only=True)
class SecretField(_FieldBase):
    """A credential. Rendered as a password input, typed as :class:`~headwater.Secret`."""

    multiline: bool = False


@attrs.frozen(kw_only=True)
class NumberField(_FieldBase):
    """A number, integer unless ``integer=False``, optionally bounded (inclusive)."""

    integer: bool = True
    default: int | float | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None


@attrs.frozen(kw_only=True)
class SelectOption:
    """One choice of a :class:`SelectField`; choosing it asks for its own ``fields``."""

    value: str
    label: str
    fields: tuple[Field, ...] = attrs.field(default=(), converter=_fields)


@attrs.frozen(kw_only=True)
class SelectField(_FieldBase):
    """One choice among ``options``. Options with sub-fields make the value an object."""

    options: tuple[SelectOption, ...] = attrs.field(converter=_options)
    default: str | None = None

    def __attrs_post_init__(self) -> None:
        values = [option.value for option in self.options]
        if not values:
            raise ValueError(f"select field {self.name!r} has no options")
        if len(set(values)) != len(values):
            raise ValueError(f"select field {self.name!r} repeats an option value")
        if self.default is not None and self.default not in values:
            raise ValueError(f"select field {self.name!r}: default {self.default!r} is no option")

    @property
    def has_sub_fields(self) -> bool:
        return any(option.fields for option in self.options)


@attrs.frozen(kw_only=True)
class SwitchGroupField(_FieldBase):
    """A switch that, when on, asks for ``fields``; off means the group is absent."""

    fields: tuple[Field, ...] = attrs.field(converter=_fields)
    default: bool = False
    required: bool = False


@attrs.frozen(kw_only=True)
class FileUploadField(_FieldBase):
    """A file whose contents become the value (a service-account JSON, a certificate)."""

    accept: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    secret: bool = True


@attrs.frozen(kw_only=True)
class OAuthField(_FieldBase):
    """A reference to an OAuth integration the user connected elsewhere (``provider``)."""

    provider: str


Field: TypeAlias = (
    TextField
    | SecretField
    | NumberField
    | SelectField
    | SwitchGroupField
    | FileUploadField
    | OAuthField
)
"""Any field kind."""


def walk_fields(fields: tuple[Field, ...], prefix: str = "$") -> Iterator[tuple[str, Field]]:
    """Yield ``(path, field)`` for every field, sub-fields of selects and groups included."""
    for field in fields:
        path = f"{prefix}.{field.name}"
        yield path, field
        if isinstance(field, SelectField):
            for option in field.options:
                yield from walk_fields(option.fields, path)
        elif isinstance(field, SwitchGroupField):
            yield from walk_fields(field.fields, path)


def is_secret(field: Field) -> bool:
    """Whether values of ``field`` are credentials."""
    # An OAuth field holds a reference to an integration, not the token itself.
    return isinstance(field, SecretField) or (isinstance(field, FileUploadField) and field.secret)
