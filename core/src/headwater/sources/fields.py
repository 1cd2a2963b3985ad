"""The fields of a connector's configuration form.

Fields drive several jobs from one definition: the form a UI renders (``headwater spec``,
``headwater serve``), the typed config class (``headwater generate``) and the validation of
user input. What every job needs to know about a field (its kind's name, its sub-fields,
whether it holds a secret, whether input must give it) is a property of the field types. What
one job does with each kind is a :func:`field_job`: a ``functools.singledispatch`` function in
that job's module, with one implementation per field type; a test checks that every job
handles every member of :data:`Field`.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import functools
import keyword
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, get_args

import attrs

if TYPE_CHECKING:
    # What functools.singledispatch returns; typeshed names it, the runtime does not.
    from functools import _SingleDispatchCallable

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
    "field_job",
    "field_jobs",
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
    """How a plain text field is entered and checked.

    .. versionadded:: 0.1
    """

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

    @property
    def kind_name(self) -> str:
        """The kind as listings and forms name it: ``text``, ``email``, ``secret``, ``select``.

        .. versionadded:: 0.2
        """
        return type(self).__name__.removesuffix("Field").lower()

    @property
    def sub_field_lists(self) -> tuple[tuple[Field, ...], ...]:
        """The fields this one asks for in turn: one tuple per select option, the switch
        group's own; empty for a single value.

        .. versionadded:: 0.2
        """
        return ()

    @property
    def holds_secret(self) -> bool:
        """Whether values of this field are credentials.

        .. versionadded:: 0.2
        """
        return False

    @property
    def must_be_given(self) -> bool:
        """Whether input must hold a value: the generated class gives the attribute no default.

        .. versionadded:: 0.2
        """
        return self.required


@attrs.frozen(kw_only=True)
class TextField(_FieldBase):
    """A single value typed by the user: text, email, URL or a multi-line textarea.

    .. versionadded:: 0.1
    """

    kind: TextKind = attrs.field(default=TextKind.TEXT, converter=TextKind)
    default: str | None = None
    pattern: str | None = attrs.field(default=None, validator=_check_pattern)
    """A regular expression the whole value must match (``owner/repo``), checked on load."""
    pattern_hint: str = ""
    """What a matching value looks like, for the error message (``"owner/repo"``)."""

    @property
    def kind_name(self) -> str:
        return str(self.kind)

    @property
    def must_be_given(self) -> bool:
        return self.required and self.default is None


@attrs.frozen(kw_only=True)
class SecretField(_FieldBase):
    """A credential. Rendered as a password input, typed as :class:`~headwater.Secret`.

    .. versionadded:: 0.1
    """

    multiline: bool = False

    @property
    def holds_secret(self) -> bool:
        return True


@attrs.frozen(kw_only=True)
class NumberField(_FieldBase):
    """A number, integer unless ``integer=False``, optionally bounded (inclusive).

    .. versionadded:: 0.1
    """

    integer: bool = True
    default: int | float | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None

    @property
    def must_be_given(self) -> bool:
        return self.required and self.default is None


@attrs.frozen(kw_only=True)
class SelectOption:
    """One choice of a :class:`SelectField`; choosing it asks for its own ``fields``.

    .. versionadded:: 0.1
    """

    value: str
    label: str
    fields: tuple[Field, ...] = attrs.field(default=(), converter=_fields)


@attrs.frozen(kw_only=True)
class SelectField(_FieldBase):
    """One choice among ``options``. Options with sub-fields make the value an object.

    .. versionadded:: 0.1
    """

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

    @property
    def sub_field_lists(self) -> tuple[tuple[Field, ...], ...]:
        return tuple(option.fields for option in self.options)

    @property
    def must_be_given(self) -> bool:
        # With sub-fields the default only preselects an option in a form; the generated
        # class has no default instance for it.
        return self.required and (self.has_sub_fields or self.default is None)


@attrs.frozen(kw_only=True)
class SwitchGroupField(_FieldBase):
    """A switch that, when on, asks for ``fields``; off means the group is absent.

    .. versionadded:: 0.1
    """

    fields: tuple[Field, ...] = attrs.field(converter=_fields)
    default: bool = False
    required: bool = False

    @property
    def sub_field_lists(self) -> tuple[tuple[Field, ...], ...]:
        return (self.fields,)

    @property
    def must_be_given(self) -> bool:
        # Absent means switched off, whatever ``required`` says.
        return False


@attrs.frozen(kw_only=True)
class FileUploadField(_FieldBase):
    """A file whose contents become the value (a service-account JSON, a certificate).

    .. versionadded:: 0.1
    """

    accept: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    secret: bool = True

    @property
    def holds_secret(self) -> bool:
        return self.secret


@attrs.frozen(kw_only=True)
class OAuthField(_FieldBase):
    """A reference to an OAuth integration the user connected elsewhere (``provider``).

    .. versionadded:: 0.1
    """

    provider: str

    # An OAuth field holds a reference to an integration, not the token itself: no secret.


Field: TypeAlias = (
    TextField
    | SecretField
    | NumberField
    | SelectField
    | SwitchGroupField
    | FileUploadField
    | OAuthField
)
"""Any field kind.

.. versionadded:: 0.1
"""


def walk_fields(fields: tuple[Field, ...], prefix: str = "$") -> Iterator[tuple[str, Field]]:
    """Yield ``(path, field)`` for every field, sub-fields of selects and groups included."""
    for field in fields:
        path = f"{prefix}.{field.name}"
        yield path, field
        for sub_fields in field.sub_field_lists:
            yield from walk_fields(sub_fields, path)


def is_secret(field: Field) -> bool:
    """Whether values of ``field`` are credentials (the field's ``holds_secret``)."""
    return field.holds_secret


# --- one dispatch per job ----------------------------------------------------------------------

_R = TypeVar("_R")

_JOBS: list[tuple[str, _SingleDispatchCallable[Any]]] = []


def field_job(function: Callable[..., _R]) -> _SingleDispatchCallable[_R]:
    """Make ``function`` a job done differently per field type: a ``functools.singledispatch``
    function on its first argument, whose implementations register per type
    (``@job.register``). ``function`` itself runs for a type nobody registered, and should
    raise; :func:`field_jobs` lists every job so a test can find the types one forgets.

    .. versionadded:: 0.2
    """
    job = functools.singledispatch(function)
    _JOBS.append((f"{function.__module__}.{function.__qualname__}", job))
    return job


def field_jobs() -> dict[str, tuple[type, ...]]:
    """Every :func:`field_job` of the modules imported so far (``module.function``), each
    with the members of :data:`Field` it has no implementation for.

    .. versionadded:: 0.2
    """
    missing: dict[str, tuple[type, ...]] = {}
    for name, job in _JOBS:
        missing[name] = tuple(kind for kind in get_args(Field) if kind not in job.registry)
    return missing
