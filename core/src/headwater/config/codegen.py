"""Rendering a connector's typed config module (``_config.py``) from its form fields.

``headwater generate`` writes this module into the connector package and the connector
commits it, so the connector's code and its type checker see a plain attrs class::

    @attrs.frozen(kw_only=True)
    class GithubConfig:
        repository: str
        auth: GithubConfigAuthToken | GithubConfigAuthApp
        page_size: int = 100

How each field kind is typed:

==========================================  ==============================================
field                                       attribute type
==========================================  ==============================================
text, email, url, textarea                  ``str``
secret                                      :class:`~headwater.Secret`
number                                      ``int`` (or ``float`` when ``integer=False``)
select                                      ``Literal["a", "b"]``
select whose options carry sub-fields       a union of one class per option, each with a
                                            ``selection`` class variable (the option value)
switch group                                its own class, ``| None`` (absent = off)
file upload                                 ``Secret`` when ``secret`` else ``str``
OAuth reference                             ``str``
==========================================  ==============================================

A required field without a default has no default; an optional one is ``T | None = None``;
a default becomes ``T = default``. A select with sub-fields never gets a default instance:
its table must say which option it holds (``selection = "token"``).

The output is deterministic and already in ``ruff format`` style (line length 100), so
``headwater generate --check`` can compare bytes and the connector's formatter leaves the
file alone. It does not use ``from __future__ import annotations``: cattrs reads the real
types at runtime.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from headwater.config.converter import SELECTION_KEY
from headwater.sources.fields import (
    Field,
    FileUploadField,
    NumberField,
    OAuthField,
    SecretField,
    SelectField,
    SelectOption,
    SwitchGroupField,
    TextField,
    field_job,
)

if TYPE_CHECKING:
    from headwater.sources.metadata import SourceConfig
    from headwater.sources.spec import SourceSpec

__all__ = ["config_class_name", "render_config_module"]

_LINE_WIDTH = 100  # the workspace's ruff line length
_INDENT = "    "
# Names the generated annotations use. A field with one of these names and a default would
# bind it inside the class body, and later annotations would see the default instead.
_RESERVED_NAMES = frozenset({"str", "int", "float"})


def config_class_name(source_type: str) -> str:
    """The generated class's name: ``"github"`` -> ``"GithubConfig"``.

    .. versionadded:: 0.1
    """
    return _camel(source_type) + "Config"


def render_config_module(spec: SourceSpec, source_config: SourceConfig) -> str:
    """The Python source of the connector's ``_config.py``, ready to write.

    :raises ValueError: when the fields cannot be typed (a reserved field name, a number
        default that is not a finite number of the field's kind).

    .. versionadded:: 0.1
    """
    builder = _ModuleBuilder()
    top = builder.claim(config_class_name(spec.source_type))
    builder.add_class(
        name=top,
        doc=f"Configuration of the {_one_line(source_config.label)} source.",
        selection=None,
        fields=source_config.fields,
    )
    return builder.render(spec, source_config)


# --- model -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Attribute:
    name: str
    operands: tuple[str, ...]  # the annotation's union members, ``None`` included
    literal: tuple[str, ...] | None  # the rendered values when operands[0] is a Literal
    default: str | None
    doc: str


@attrs.frozen(kw_only=True)
class _Class:
    name: str
    doc: str
    selection: str | None
    attributes: tuple[_Attribute, ...]


@attrs.define
class _ModuleBuilder:
    """Collects classes in definition order: a nested class is added before its user."""

    classes: list[_Class] = attrs.Factory(list)
    names: set[str] = attrs.Factory(set)
    uses: set[str] = attrs.Factory(set)  # ClassVar, Literal, Secret

    def claim(self, name: str) -> str:
        # Two fields can camel-case alike (``api_key`` under ``auth``, ``auth_api`` + ``key``);
        # a numeric suffix keeps both, deterministically.
        unique, counter = name, 2
        while unique in self.names:
            unique, counter = f"{name}{counter}", counter + 1
        self.names.add(unique)
        return unique

    def add_class(
        self, *, name: str, doc: str, selection: str | None, fields: Sequence[Field]
    ) -> None:
        attributes = tuple(self._attribute(name, field, selection) for field in fields)
        if selection is not None:
            self.uses.add("ClassVar")
        self.classes.append(_Class(name=name, doc=doc, selection=selection, attributes=attributes))

    def _attribute(self, owner: str, field: Field, selection: str | None) -> _Attribute:
        if field.name in _RESERVED_NAMES:
            raise ValueError(
                f"field name {field.name!r} would shadow a type the generated class uses;"
                " choose another name"
            )
        if selection is not None and field.name == SELECTION_KEY:
            raise ValueError(
                f"field name {SELECTION_KEY!r} is reserved inside select options:"
                " it names the chosen option"
            )
        doc = _one_line(field.label) + (f": {_one_line(field.caption)}" if field.caption else "")
        typed = _typed(field, self, owner, doc)
        operands, default = typed.operands, typed.default
        if default is None and not field.required:
            operands, default = (*operands, "None"), "None"
        return _Attribute(
            name=field.name, operands=operands, literal=typed.literal, default=default, doc=doc
        )

    def secret(self) -> tuple[str, ...]:
        self.uses.add("Secret")
        return ("Secret",)

    def option_class(self, owner: str, field: SelectField, option: SelectOption) -> str:
        index = field.options.index(option)
        name = self.claim(owner + _camel(field.name) + (_camel(option.value) or f"Option{index}"))
        self.add_class(
            name=name,
            doc=f"{_one_line(field.label)}: {_one_line(option.label)}.",
            selection=option.value,
            fields=option.fields,
        )
        return name

    def render(self, spec: SourceSpec, source_config: SourceConfig) -> str:
        label = _docstring_text(_one_line(source_config.label))
        blocks = [
            [
                f'"""Typed configuration of the {label} source.',
                "",
                f"Generated by ``headwater generate`` from ``{spec.load}``.",
                f"Do not edit: change the source's fields and run"
                f" ``headwater generate {spec.source_type}`` again.",
                '"""',
            ]
        ]
        typing_names = sorted(self.uses & {"ClassVar", "Literal"})
        if typing_names:
            blocks.append([f"from typing import {', '.join(typing_names)}"])
        blocks.append(["import attrs"])
        if "Secret" in self.uses:
            blocks.append(["from headwater import Secret"])
        blocks.append(_all_lines(sorted(cls.name for cls in self.classes)))
        text = "\n\n".join("\n".join(block) for block in blocks)
        for cls in self.classes:
            text += "\n\n\n" + "\n".join(_class_lines(cls))
        return text + "\n"


@attrs.frozen(kw_only=True)
class _Typed:
    operands: tuple[str, ...]
    literal: tuple[str, ...] | None = None
    default: str | None = None


@field_job
def _typed(field: Field, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    """The attribute type (and default) of ``field`` in the class ``owner``."""
    raise TypeError(f"no generated type for {type(field).__name__}")


@_typed.register
def _text(field: TextField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    default = None if field.default is None else _string_literal(field.default)
    return _Typed(operands=("str",), default=default)


@_typed.register
def _secret(field: SecretField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    return _Typed(operands=builder.secret())


@_typed.register
def _number(field: NumberField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    default = None if field.default is None else _number_literal(field)
    return _Typed(operands=("int",) if field.integer else ("float",), default=default)


@_typed.register
def _select(field: SelectField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    if field.has_sub_fields:
        return _Typed(
            operands=tuple(builder.option_class(owner, field, option) for option in field.options)
        )
    builder.uses.add("Literal")
    literal = tuple(_string_literal(option.value) for option in field.options)
    default = None if field.default is None else _string_literal(field.default)
    return _Typed(
        operands=("Literal[" + ", ".join(literal) + "]",), literal=literal, default=default
    )


@_typed.register
def _switch_group(field: SwitchGroupField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    group = builder.claim(owner + _camel(field.name))
    builder.add_class(name=group, doc=f"{doc}.", selection=None, fields=field.fields)
    # Absent means switched off, whatever ``required`` says.
    return _Typed(operands=(group, "None"), default="None")


@_typed.register
def _file_upload(field: FileUploadField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    return _Typed(operands=builder.secret() if field.secret else ("str",))


@_typed.register
def _oauth(field: OAuthField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    return _Typed(operands=("str",))


# --- rendering ---------------------------------------------------------------------------------


def _class_lines(cls: _Class) -> list[str]:
    lines = [
        "@attrs.frozen(kw_only=True)",
        f"class {cls.name}:",
        f'{_INDENT}"""{_docstring_text(cls.doc)}"""',
    ]
    if cls.selection is not None:
        lines += [
            "",
            *_assignment_lines(
                SELECTION_KEY, ("ClassVar[str]",), None, _string_literal(cls.selection)
            ),
        ]
    for attribute in cls.attributes:
        lines += [
            "",
            *_assignment_lines(
                attribute.name, attribute.operands, attribute.literal, attribute.default
            ),
            f'{_INDENT}"""{_docstring_text(attribute.doc)}"""',
        ]
    return lines


def _assignment_lines(
    name: str, operands: tuple[str, ...], literal: tuple[str, ...] | None, default: str | None
) -> list[str]:
    """One annotated class attribute, laid out the way ``ruff format`` lays it out.

    Flat when it fits. Otherwise ruff prefers to wrap a literal default in parentheses on
    its own line, and only when even the annotation leaves no room for ``= (`` does it break
    the annotation: a union inside parentheses, a ``Literal`` one value per line.
    """
    annotation = " | ".join(operands)
    tail = "" if default is None else f" = {default}"
    flat = f"{_INDENT}{name}: {annotation}{tail}"
    if _fits(flat):
        return [flat]
    breakable = len(operands) > 1 or literal is not None
    if default is not None:
        head = f"{_INDENT}{name}: {annotation} = ("
        alone = f"{_INDENT * 2}{default}"
        # An unbreakable annotation is only worth it when the value then fits; a breakable
        # one is kept whole for as long as the head line fits.
        if _fits(head) and (breakable or _fits(alone)):
            return [head, alone, f"{_INDENT})"]
    if not breakable:
        # A lone name moves into parentheses when that makes it fit; a default stays put.
        inner = f"{_INDENT * 2}{annotation}"
        if default is None and _fits(f"{_INDENT}{name}: (") and _fits(inner):
            return [f"{_INDENT}{name}: (", inner, f"{_INDENT})"]
        return [flat]
    if literal is not None and len(operands) == 1:
        return [
            f"{_INDENT}{name}: Literal[",
            *(f"{_INDENT * 2}{value}," for value in literal),
            f"{_INDENT}]{tail}",
        ]
    inner = f"{_INDENT * 2}{annotation}"
    if _fits(inner):
        return [f"{_INDENT}{name}: (", inner, f"{_INDENT}){tail}"]
    body: list[str] = []
    for index, operand in enumerate(operands):
        prefix = "" if index == 0 else "| "
        if index == 0 and literal is not None and not _fits(f"{_INDENT * 2}{operand}"):
            body += [
                f"{_INDENT * 2}Literal[",
                *(f"{_INDENT * 3}{value}," for value in literal),
                f"{_INDENT * 2}]",
            ]
        else:
            body.append(f"{_INDENT * 2}{prefix}{operand}")
    return [f"{_INDENT}{name}: (", *body, f"{_INDENT}){tail}"]


def _all_lines(names: list[str]) -> list[str]:
    items = [_string_literal(name) for name in names]
    flat = f"__all__ = [{', '.join(items)}]"
    if _fits(flat):
        return [flat]
    # The trailing comma keeps ruff from joining the lines again.
    return ["__all__ = [", *(f"{_INDENT}{item}," for item in items), "]"]


def _fits(line: str) -> bool:
    # Generated code is ASCII (names are ASCII identifiers, literals escape the rest), so
    # characters are columns.
    return len(line) <= _LINE_WIDTH


# --- literals ----------------------------------------------------------------------------------

_CONTROL_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string_literal(value: str) -> str:
    """A Python string literal for ``value`` in the quotes ``ruff format`` would choose.

    ruff prefers double quotes unless single quotes need fewer escapes. Every non-ASCII
    character is escaped: ruff's lint flags characters that look like ASCII ones (a curly
    apostrophe, an en dash, a lone Cyrillic letter), and an escape keeps the value exact.
    """
    quote = "'" if value.count('"') > value.count("'") else '"'
    out = [quote]
    for char in value:
        if char in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif char.isascii() and char.isprintable():
            out.append(char)
        else:
            out.append(_escape(char))
    out.append(quote)
    return "".join(out)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _number_literal(field: NumberField) -> str:
    value = field.default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"number field {field.name!r}: default must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"number field {field.name!r}: default must be finite")
    if field.integer:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"number field {field.name!r}: default {value!r} is not an integer")
        return str(int(value))
    # ruff writes exponents without a plus sign: 1e+20 -> 1e20.
    return repr(float(value)).replace("e+", "e")


# --- text --------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def _one_line(text: str) -> str:
    """Labels and captions as one line of printable text."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    return _SPACES.sub(" ", printable).strip()


# Typography in labels and captions, said in ASCII (docstrings are documentation only).
_ASCII_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


def _docstring_text(text: str) -> str:
    """``text`` safe between triple double quotes and clean for ruff's format and lint.

    A quote is escaped where it could merge with the delimiters or with its neighbours into
    a delimiter: first, last, or next to another quote. Other non-ASCII characters are
    escaped, as in string literals; Python shows the real character in ``help()``.
    """
    text = text.translate(_ASCII_TYPOGRAPHY)
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == '"' and (
            index in (0, len(text) - 1) or text[index - 1] == '"' or text[index + 1] == '"'
        ):
            out.append('\\"')
        elif char.isascii():
            out.append(char)
        else:
            out.append(_escape(char))
    return "".join(out)


def _camel(text: str) -> str:
    parts = re.split(r"[^0-9A-Za-z]+", text)
    return "".join(part[:1].upper() + part[1:] for part in parts if part)
