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

The module is built as a syntax tree (:mod:`ast`), written out with :func:`ast.unparse` and
formatted by ``ruff format`` (line length 100), which is why ruff is a dependency of
``headwater``: the output is deterministic, so ``headwater generate --check`` (and the
contract suite, in a virtualenv holding only the host, the suite and the connector) can
compare bytes, and the connector's own formatter leaves the file alone. Every non-ASCII
character in a string is escaped, so ruff's lint finds no look-alike characters and the
value stays exact. The module does not use ``from __future__ import annotations``: cattrs
reads the real types at runtime.

.. versionadded:: 0.1
"""

from __future__ import annotations

import ast
import functools
import math
import re
import subprocess
import sys
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
_TARGET = "py311"  # the oldest Python headwater supports
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
    :raises RuntimeError: when ruff cannot format the module (it is not installed).

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
    text = _unparse(builder.module(spec, source_config))
    return _ruff_format(_escape_non_ascii(text))


# --- model -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Attribute:
    name: str
    annotation: ast.expr
    default: ast.expr | None
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
            operands, default = (*operands, ast.Constant(None)), ast.Constant(None)
        return _Attribute(name=field.name, annotation=_union(operands), default=default, doc=doc)

    def secret(self) -> tuple[ast.expr, ...]:
        self.uses.add("Secret")
        return (_name("Secret"),)

    def literal(self, values: Sequence[str]) -> ast.expr:
        self.uses.add("Literal")
        constants: list[ast.expr] = [ast.Constant(value) for value in values]
        index = constants[0] if len(constants) == 1 else ast.Tuple(elts=constants, ctx=ast.Load())
        return ast.Subscript(value=_name("Literal"), slice=index, ctx=ast.Load())

    def option_class(self, owner: str, field: SelectField, option: SelectOption) -> ast.expr:
        index = field.options.index(option)
        name = self.claim(owner + _camel(field.name) + (_camel(option.value) or f"Option{index}"))
        self.add_class(
            name=name,
            doc=f"{_one_line(field.label)}: {_one_line(option.label)}.",
            selection=option.value,
            fields=option.fields,
        )
        return _name(name)

    def module(self, spec: SourceSpec, source_config: SourceConfig) -> ast.Module:
        label = _doc_text(_one_line(source_config.label))
        doc = (
            f"Typed configuration of the {label} source.\n"
            "\n"
            f"Generated by ``headwater generate`` from ``{spec.load}``.\n"
            f"Do not edit: change the source's fields and run"
            f" ``headwater generate {spec.source_type}`` again.\n"
        )
        body: list[ast.stmt] = [_docstring(doc)]
        typing_names = sorted(self.uses & {"ClassVar", "Literal"})
        if typing_names:
            body.append(_import_from("typing", typing_names))
        body.append(ast.Import(names=[ast.alias(name="attrs")]))
        if "Secret" in self.uses:
            body.append(_import_from("headwater", ["Secret"]))
        names = sorted(cls.name for cls in self.classes)
        exported = ast.List(elts=[ast.Constant(name) for name in names], ctx=ast.Load())
        body.append(ast.Assign(targets=[ast.Name(id="__all__", ctx=ast.Store())], value=exported))
        body += [_class_def(cls) for cls in self.classes]
        return ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))


# --- field types -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Typed:
    operands: tuple[ast.expr, ...]  # the annotation's union members
    default: ast.expr | None = None


@field_job
def _typed(field: Field, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    """The attribute type (and default) of ``field`` in the class ``owner``."""
    raise TypeError(f"no generated type for {type(field).__name__}")


@_typed.register
def _text(field: TextField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    default = None if field.default is None else ast.Constant(field.default)
    return _Typed(operands=(_name("str"),), default=default)


@_typed.register
def _secret(field: SecretField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    return _Typed(operands=builder.secret())


@_typed.register
def _number(field: NumberField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    default = None if field.default is None else ast.Constant(_number_default(field))
    return _Typed(operands=(_name("int" if field.integer else "float"),), default=default)


@_typed.register
def _select(field: SelectField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    if field.has_sub_fields:
        return _Typed(
            operands=tuple(builder.option_class(owner, field, option) for option in field.options)
        )
    literal = builder.literal([option.value for option in field.options])
    default = None if field.default is None else ast.Constant(field.default)
    return _Typed(operands=(literal,), default=default)


@_typed.register
def _switch_group(field: SwitchGroupField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    group = builder.claim(owner + _camel(field.name))
    builder.add_class(name=group, doc=f"{doc}.", selection=None, fields=field.fields)
    # Absent means switched off, whatever ``required`` says.
    return _Typed(operands=(_name(group), ast.Constant(None)), default=ast.Constant(None))


@_typed.register
def _file_upload(field: FileUploadField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    return _Typed(operands=builder.secret() if field.secret else (_name("str"),))


@_typed.register
def _oauth(field: OAuthField, builder: _ModuleBuilder, owner: str, doc: str) -> _Typed:
    return _Typed(operands=(_name("str"),))


# --- syntax ------------------------------------------------------------------------------------


def _replace_body(node: ast.ClassDef, body: list[ast.stmt]) -> ast.ClassDef:
    copy = ast.ClassDef(
        name=node.name,
        bases=node.bases,
        keywords=node.keywords,
        body=body,
        decorator_list=node.decorator_list,
    )
    if "type_params" in ast.ClassDef._fields:  # Python 3.12 and later
        setattr(copy, "type_params", [])  # unknown to 3.11's typeshed  # noqa: B010
    return copy


def _class_def(cls: _Class) -> ast.ClassDef:
    frozen = ast.Call(
        func=ast.Attribute(value=_name("attrs"), attr="frozen", ctx=ast.Load()),
        args=[],
        keywords=[ast.keyword(arg="kw_only", value=ast.Constant(True))],
    )
    body: list[ast.stmt] = [_docstring(_doc_text(cls.doc))]
    if cls.selection is not None:
        selection_type = ast.Subscript(value=_name("ClassVar"), slice=_name("str"), ctx=ast.Load())
        body.append(_annotated(SELECTION_KEY, selection_type, ast.Constant(cls.selection)))
    for attribute in cls.attributes:
        body.append(_annotated(attribute.name, attribute.annotation, attribute.default))
        body.append(_docstring(_doc_text(attribute.doc)))
    bare = ast.ClassDef(name=cls.name, bases=[], keywords=[], body=[], decorator_list=[frozen])
    return _replace_body(bare, body)


def _annotated(name: str, annotation: ast.expr, value: ast.expr | None) -> ast.AnnAssign:
    target = ast.Name(id=name, ctx=ast.Store())
    return ast.AnnAssign(target=target, annotation=annotation, value=value, simple=1)


def _union(operands: Sequence[ast.expr]) -> ast.expr:
    return functools.reduce(
        lambda left, right: ast.BinOp(left=left, op=ast.BitOr(), right=right), operands
    )


def _name(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _import_from(module: str, names: Sequence[str]) -> ast.ImportFrom:
    return ast.ImportFrom(module=module, names=[ast.alias(name=name) for name in names], level=0)


def _docstring(text: str) -> ast.Expr:
    return ast.Expr(value=ast.Constant(text))


# --- formatting --------------------------------------------------------------------------------


def _unparse(module: ast.Module) -> str:
    """The source of ``module``: :func:`ast.unparse` writes every statement, this lays them out.

    ``ast.unparse`` of a whole module would put no blank line anywhere and write an
    attribute's docstring as a plain string. So each statement is unparsed alone, with a
    blank line between top-level statements (every import is its own isort section here) and
    before each class attribute, and every string statement is written as a docstring (in
    triple quotes, the way ``ast.unparse`` writes a module's docstring). ruff does the rest.
    """
    return "\n\n".join(_statement(node) for node in module.body) + "\n"


def _statement(node: ast.stmt) -> str:
    if _is_string(node):
        return ast.unparse(ast.Module(body=[node], type_ignores=[]))
    if not isinstance(node, ast.ClassDef):
        return ast.unparse(node)
    docstring, *rest = node.body
    head = ast.unparse(_replace_body(node, [docstring]))
    parts = [head]
    for statement in rest:
        # Labels are one line, so indenting never changes a docstring's text.
        parts.append(("\n" if _is_string(statement) else "\n\n") + _INDENT + _statement(statement))
    return "".join(parts)


def _is_string(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _escape_non_ascii(source: str) -> str:
    """``source`` with every non-ASCII character written as an escape.

    Generated names are ASCII, so such characters occur only inside string literals, and
    ``ast.unparse`` never writes a raw string: an escape there means the same character.
    """
    return "".join(char if char.isascii() else _escape(char) for char in source)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _ruff_format(source: str) -> str:
    # Isolated from any configuration around the working directory, so every machine writes
    # the same bytes; the settings are the workspace's.
    command = [
        sys.executable,
        "-m",
        "ruff",
        "format",
        "--isolated",
        f"--line-length={_LINE_WIDTH}",
        f"--target-version={_TARGET}",
        "--stdin-filename=_config.py",
        "-",
    ]
    result = subprocess.run(
        command, input=source, capture_output=True, text=True, encoding="utf-8", check=False
    )
    if result.returncode != 0:
        reason = result.stderr.strip() or f"exit status {result.returncode}"
        raise RuntimeError(f"ruff could not format the generated config module: {reason}")
    return result.stdout


def _number_default(field: NumberField) -> int | float:
    value = field.default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"number field {field.name!r}: default must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"number field {field.name!r}: default must be finite")
    if field.integer:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"number field {field.name!r}: default {value!r} is not an integer")
        return int(value)
    return float(value)


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


def _doc_text(text: str) -> str:
    return text.translate(_ASCII_TYPOGRAPHY)


def _camel(text: str) -> str:
    parts = re.split(r"[^0-9A-Za-z]+", text)
    return "".join(part[:1].upper() + part[1:] for part in parts if part)
