"""A connector's form, from its fields: rendered as HTML, and read back from a submission.

Each input is named after its field's path in the config file without the ``$.``
(``source.repository``, ``source.auth.token``), and each field's block carries that path
(``data-path="$.source.repository"``), so a problem the CLI's loader reports at a path is
shown next to the input it concerns, with the same path.

Secrets are write-only. A secret input is always rendered empty; when the connection already
has one, the input says so, and leaving it empty keeps the stored reference. Values read from
a submission hold the typed secrets in memory only, for a check or to be stored by
:class:`~headwater.serve.secret_files.SecretFiles`.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from headwater.config.converter import SELECTION_KEY
from headwater.serve.html import attributes, escape
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
    TextKind,
    field_job,
    walk_fields,
)

__all__ = ["Submission", "read_fields", "render_fields", "secret_paths"]


@attrs.frozen(kw_only=True)
class Submission:
    """A submitted form: text values by input name, uploaded files' bytes by input name."""

    values: Mapping[str, str] = attrs.field(factory=dict)
    files: Mapping[str, bytes] = attrs.field(factory=dict)

    def text(self, name: str) -> str:
        return self.values.get(name, "")


def secret_paths(fields: Sequence[Field], path: str = "$") -> list[str]:
    """Paths (relative to the ``[source]`` table) of every secret field, nested ones too."""
    return [where for where, field in walk_fields(tuple(fields), path) if field.holds_secret]


# --- rendering ---------------------------------------------------------------------------------


def render_fields(
    fields: Sequence[Field],
    values: Mapping[str, Any],
    *,
    path: str = "$.source",
    problems: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The HTML of ``fields`` filled with ``values`` (a raw ``[source]`` table; secrets in it
    are never shown, only whether one is stored)."""
    problems = problems or {}
    return "\n".join(_render(field, values.get(field.name), path, problems) for field in fields)


def _name(path: str) -> str:
    return path.removeprefix("$.")


def _render(field: Field, value: Any, parent: str, problems: Mapping[str, Sequence[str]]) -> str:
    path = f"{parent}.{field.name}"
    name = _name(path)
    common: dict[str, str | bool | None] = {
        "id": name,
        "name": name,
        "aria-required": "true" if field.must_be_given else None,
        "aria-invalid": "true" if problems.get(path) else None,
    }
    if field.placeholder:
        common["placeholder"] = field.placeholder
    control = _control(field, value, path, common, problems)
    parts = [f'<div class="field field-{field.kind_name}" data-path="{escape(path)}">']
    if control.labelled is not None:
        mark = ' <span class="required" title="required">*</span>' if field.must_be_given else ""
        parts.append(f'<label for="{control.labelled}">{escape(field.label)}{mark}</label>')
    parts.append(control.html)
    if field.caption:
        parts.append(f'<p class="caption">{escape(field.caption)}</p>')
    listed = "".join(
        f"<li>{escape(message)} @ {escape(path)}</li>" for message in problems.get(path, ())
    )
    parts.append(f'<ul class="problems" data-for="{escape(path)}">{listed}</ul>')
    parts.append("</div>")
    return "\n".join(part for part in parts if part)


@attrs.frozen(kw_only=True)
class _Control:
    html: str
    labelled: str | None
    """The id of the input the field's label points at; ``None`` when the control labels
    itself (a switch)."""


_Common = dict[str, str | bool | None]


@field_job
def _control(
    field: Field, value: Any, path: str, common: _Common, problems: Mapping[str, Sequence[str]]
) -> _Control:
    raise TypeError(f"no form control for {type(field).__name__}")


@_control.register
def _text_input(
    field: TextField, value: Any, path: str, common: _Common, problems: Mapping[str, Sequence[str]]
) -> _Control:
    text = value if isinstance(value, str) else (field.default or "")
    if field.kind is TextKind.TEXTAREA:
        html = f'<textarea{attributes(common)} rows="4">{escape(text)}</textarea>'
    else:
        kind = {TextKind.EMAIL: "email", TextKind.URL: "url"}.get(field.kind, "text")
        html = f"<input{attributes({**common, 'type': kind, 'value': text})}>"
    return _Control(html=html, labelled=_id(common))


@_control.register
def _secret_input(
    field: SecretField,
    value: Any,
    path: str,
    common: _Common,
    problems: Mapping[str, Sequence[str]],
) -> _Control:
    stored = isinstance(value, str) and bool(value)
    common = {**common, "autocomplete": "off", "spellcheck": "false"}
    if stored:
        common["placeholder"] = "stored; leave empty to keep it"
    note = (
        '<p class="stored">A value is stored (never shown). Type a new one to replace it.</p>'
        if stored
        else ""
    )
    if field.multiline:
        html = f'<textarea{attributes({**common, "class": "secret"})} rows="4"></textarea>{note}'
    else:
        html = f"<input{attributes({**common, 'type': 'password', 'value': ''})}>{note}"
    return _Control(html=html, labelled=_id(common))


@_control.register
def _number_input(
    field: NumberField,
    value: Any,
    path: str,
    common: _Common,
    problems: Mapping[str, Sequence[str]],
) -> _Control:
    number = (
        value if isinstance(value, int | float) and not isinstance(value, bool) else field.default
    )
    extra = {
        "type": "number",
        "step": "1" if field.integer else "any",
        "min": None if field.minimum is None else str(field.minimum),
        "max": None if field.maximum is None else str(field.maximum),
        "value": "" if number is None else str(number),
    }
    return _Control(html=f"<input{attributes({**common, **extra})}>", labelled=_id(common))


@_control.register
def _switch(
    field: SwitchGroupField,
    value: Any,
    path: str,
    common: _Common,
    problems: Mapping[str, Sequence[str]],
) -> _Control:
    name = _id(common)
    on = isinstance(value, Mapping) or (value is None and field.default)
    box = attributes(
        {**common, "type": "checkbox", "value": "on", "checked": bool(on), "data-switch": name}
    )
    inner = render_fields(
        field.fields, value if isinstance(value, Mapping) else {}, path=path, problems=problems
    )
    html = (
        f'<label class="switch"><input{box}> {escape(field.label)}</label>'
        f'<fieldset class="group" data-group-of="{escape(name)}"{" hidden" if not on else ""}>'
        f"{inner}</fieldset>"
    )
    return _Control(html=html, labelled=None)


@_control.register
def _file_input(
    field: FileUploadField,
    value: Any,
    path: str,
    common: _Common,
    problems: Mapping[str, Sequence[str]],
) -> _Control:
    accept = ",".join(field.accept) or None
    stored = isinstance(value, str) and bool(value)
    note = '<p class="stored">A file is stored. Choose another to replace it.</p>' if stored else ""
    html = f"<input{attributes({**common, 'type': 'file', 'accept': accept})}>{note}"
    return _Control(html=html, labelled=_id(common))


@_control.register
def _oauth_input(
    field: OAuthField,
    value: Any,
    path: str,
    common: _Common,
    problems: Mapping[str, Sequence[str]],
) -> _Control:
    text = value if isinstance(value, str) else ""
    html = f"<input{attributes({**common, 'type': 'text', 'value': text})}>"
    return _Control(html=html, labelled=_id(common))


def _id(common: _Common) -> str:
    return str(common["id"])


@_control.register
def _select(
    field: SelectField,
    value: Any,
    path: str,
    common: _Common,
    problems: Mapping[str, Sequence[str]],
) -> _Control:
    name = _id(common)
    if not field.has_sub_fields:
        chosen = value if isinstance(value, str) else field.default
        options = [] if field.must_be_given else ['<option value="">(not set)</option>']
        options += [_option(o, chosen) for o in field.options]
        return _Control(
            html=f"<select{attributes(common)}>{''.join(options)}</select>", labelled=name
        )
    selected = value.get(SELECTION_KEY) if isinstance(value, Mapping) else None
    chosen = selected if isinstance(selected, str) else (field.default or field.options[0].value)
    select_name = f"{name}.{SELECTION_KEY}"
    options = [_option(o, chosen) for o in field.options]
    chooser = attributes({**common, "id": select_name, "name": select_name, "data-chooser": name})
    select = f"<select{chooser}>{''.join(options)}</select>"
    groups = []
    for option in field.options:
        inner = render_fields(
            option.fields,
            value if isinstance(value, Mapping) and option.value == chosen else {},
            path=path,
            problems=problems,
        )
        hidden = "" if option.value == chosen else " hidden"
        groups.append(
            f'<fieldset class="option" data-option-of="{escape(name)}"'
            f' data-option="{escape(option.value)}"{hidden}>{inner}</fieldset>'
        )
    return _Control(html=select + "".join(groups), labelled=select_name)


def _option(option: SelectOption, chosen: str | None) -> str:
    selected = attributes({"value": option.value, "selected": option.value == chosen})
    return f"<option{selected}>{escape(option.label)}</option>"


# --- reading -----------------------------------------------------------------------------------


def read_fields(
    fields: Sequence[Field],
    submission: Submission,
    stored: Mapping[str, Any],
    *,
    path: str = "$.source",
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The raw ``[source]`` table a submission describes, and problems found reading it.

    ``stored`` is the connection's saved ``[source]`` table: a secret or file left empty keeps
    its stored value (a reference). Problems are ``(path, message)``; the rest is left to the
    CLI's loader, so its messages and paths are the page's.
    """
    raw: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for field in fields:
        where = f"{path}.{field.name}"
        value, found = _read(field, submission, stored.get(field.name), where)
        if value is not _NOT_SET:
            raw[field.name] = value
        problems += found
    return raw, problems


_NOT_SET: Any = object()
"""What a reader returns for a field the submission leaves unset (absent from the table)."""

_Read = tuple[Any, list[tuple[str, str]]]


@field_job
def _read(field: Field, submission: Submission, kept: Any, where: str) -> _Read:
    raise TypeError(f"no form reader for {type(field).__name__}")


@_read.register
def _read_text(
    field: TextField | OAuthField, submission: Submission, kept: Any, where: str
) -> _Read:
    text = submission.text(_name(where))
    return (text if text.strip() or field.must_be_given else _NOT_SET), []


@_read.register
def _read_secret(field: SecretField, submission: Submission, kept: Any, where: str) -> _Read:
    text = submission.text(_name(where))
    return _given_or_kept(field, text, kept), []


@_read.register
def _read_number(field: NumberField, submission: Submission, kept: Any, where: str) -> _Read:
    text = submission.text(_name(where)).strip()
    return (_number(text, integer=field.integer) if text else _NOT_SET), []


@_read.register
def _read_select(field: SelectField, submission: Submission, kept: Any, where: str) -> _Read:
    name = _name(where)
    if not field.has_sub_fields:
        choice = submission.text(name)
        return (choice or _NOT_SET), []
    choice = submission.text(f"{name}.{SELECTION_KEY}")
    option = next((o for o in field.options if o.value == choice), None)
    if option is None:
        return ({SELECTION_KEY: choice} if field.required else _NOT_SET), []
    kept_option = kept if isinstance(kept, Mapping) and kept.get(SELECTION_KEY) == choice else {}
    inner, problems = read_fields(option.fields, submission, kept_option, path=where)
    return {SELECTION_KEY: choice, **inner}, problems


@_read.register
def _read_switch_group(
    field: SwitchGroupField, submission: Submission, kept: Any, where: str
) -> _Read:
    if submission.text(_name(where)) != "on":
        return _NOT_SET, []
    return read_fields(
        field.fields, submission, kept if isinstance(kept, Mapping) else {}, path=where
    )


@_read.register
def _read_file_upload(
    field: FileUploadField, submission: Submission, kept: Any, where: str
) -> _Read:
    data = submission.files.get(_name(where), b"")
    if not data:
        return _given_or_kept(field, "", kept), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        return _NOT_SET, [(where, "expected a UTF-8 text file")]


def _given_or_kept(field: Field, given: str, kept: Any) -> Any:
    # A secret or file left empty keeps the stored reference; a required one left empty
    # without one goes through empty, so the loader says so at its path.
    if given:
        return given
    if isinstance(kept, str) and kept:
        return kept
    return "" if field.required else _NOT_SET


def _number(text: str, *, integer: bool) -> int | float | str:
    # An unreadable number goes through as text, so the loader says "expected int" at its path.
    try:
        return int(text)
    except ValueError:
        pass
    if integer:
        return text
    try:
        return float(text)
    except ValueError:
        return text
