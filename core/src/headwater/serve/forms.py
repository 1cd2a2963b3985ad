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
    is_secret,
)

__all__ = ["Submission", "field_is_required", "read_fields", "render_fields", "secret_paths"]


@attrs.frozen(kw_only=True)
class Submission:
    """A submitted form: text values by input name, uploaded files' bytes by input name."""

    values: Mapping[str, str] = attrs.field(factory=dict)
    files: Mapping[str, bytes] = attrs.field(factory=dict)

    def text(self, name: str) -> str:
        return self.values.get(name, "")


def field_is_required(field: Field) -> bool:
    """Whether the form marks ``field`` required (as the JSON Schema from ``headwater spec``)."""
    if isinstance(field, SwitchGroupField):
        return False
    if isinstance(field, SelectField) and field.has_sub_fields:
        return field.required
    return field.required and getattr(field, "default", None) is None


def secret_paths(fields: Sequence[Field], path: str = "$") -> list[str]:
    """Paths (relative to the ``[source]`` table) of every secret field, nested ones too."""
    found = []
    for field in fields:
        where = f"{path}.{field.name}"
        if is_secret(field):
            found.append(where)
        if isinstance(field, SelectField):
            for option in field.options:
                found += secret_paths(option.fields, where)
        elif isinstance(field, SwitchGroupField):
            found += secret_paths(field.fields, where)
    return found


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
    control = _control(field, value, path, name, problems)
    required = field_is_required(field)
    mark = ' <span class="required" title="required">*</span>' if required else ""
    label_for = "" if isinstance(field, SwitchGroupField | SelectField) else f' for="{name}"'
    if isinstance(field, SelectField):
        label_for = f' for="{name}"' if not field.has_sub_fields else f' for="{name}.selection"'
    parts = [
        f'<div class="field field-{_kind(field)}" data-path="{escape(path)}">',
        f"<label{label_for}>{escape(field.label)}{mark}</label>"
        if not isinstance(field, SwitchGroupField)
        else "",
        control,
    ]
    if field.caption:
        parts.append(f'<p class="caption">{escape(field.caption)}</p>')
    listed = "".join(
        f"<li>{escape(message)} @ {escape(path)}</li>" for message in problems.get(path, ())
    )
    parts.append(f'<ul class="problems" data-for="{escape(path)}">{listed}</ul>')
    parts.append("</div>")
    return "\n".join(part for part in parts if part)


def _kind(field: Field) -> str:
    if isinstance(field, TextField):
        return str(field.kind)
    return type(field).__name__.removesuffix("Field").lower()


def _control(
    field: Field, value: Any, path: str, name: str, problems: Mapping[str, Sequence[str]]
) -> str:
    common: dict[str, str | bool | None] = {
        "id": name,
        "name": name,
        "aria-required": "true" if field_is_required(field) else None,
        "aria-invalid": "true" if problems.get(path) else None,
    }
    if field.placeholder:
        common["placeholder"] = field.placeholder
    if isinstance(field, TextField):
        text = value if isinstance(value, str) else (field.default or "")
        if field.kind is TextKind.TEXTAREA:
            return f'<textarea{attributes(common)} rows="4">{escape(text)}</textarea>'
        kind = {TextKind.EMAIL: "email", TextKind.URL: "url"}.get(field.kind, "text")
        return f"<input{attributes({**common, 'type': kind, 'value': text})}>"
    if isinstance(field, SecretField):
        stored = isinstance(value, str) and bool(value)
        common["autocomplete"] = "off"
        common["spellcheck"] = "false"
        if stored:
            common["placeholder"] = "stored; leave empty to keep it"
        note = (
            '<p class="stored">A value is stored (never shown). Type a new one to replace it.</p>'
            if stored
            else ""
        )
        if field.multiline:
            return (
                f'<textarea{attributes({**common, "class": "secret"})} rows="4"></textarea>{note}'
            )
        return f"<input{attributes({**common, 'type': 'password', 'value': ''})}>{note}"
    if isinstance(field, NumberField):
        number = (
            value
            if isinstance(value, int | float) and not isinstance(value, bool)
            else field.default
        )
        extra = {
            "type": "number",
            "step": "1" if field.integer else "any",
            "min": None if field.minimum is None else str(field.minimum),
            "max": None if field.maximum is None else str(field.maximum),
            "value": "" if number is None else str(number),
        }
        return f"<input{attributes({**common, **extra})}>"
    if isinstance(field, SelectField):
        return _select(field, value, path, name, common, problems)
    if isinstance(field, SwitchGroupField):
        on = isinstance(value, Mapping) or (value is None and field.default)
        box = attributes(
            {**common, "type": "checkbox", "value": "on", "checked": bool(on), "data-switch": name}
        )
        inner = render_fields(
            field.fields, value if isinstance(value, Mapping) else {}, path=path, problems=problems
        )
        return (
            f'<label class="switch"><input{box}> {escape(field.label)}</label>'
            f'<fieldset class="group" data-group-of="{escape(name)}"{" hidden" if not on else ""}>'
            f"{inner}</fieldset>"
        )
    if isinstance(field, FileUploadField):
        accept = ",".join(field.accept) or None
        stored = isinstance(value, str) and bool(value)
        note = (
            '<p class="stored">A file is stored. Choose another to replace it.</p>'
            if stored
            else ""
        )
        return f"<input{attributes({**common, 'type': 'file', 'accept': accept})}>{note}"
    if isinstance(field, OAuthField):
        text = value if isinstance(value, str) else ""
        return f"<input{attributes({**common, 'type': 'text', 'value': text})}>"
    raise TypeError(f"unknown field kind {type(field).__name__}")  # pragma: no cover


def _select(
    field: SelectField,
    value: Any,
    path: str,
    name: str,
    common: dict[str, str | bool | None],
    problems: Mapping[str, Sequence[str]],
) -> str:
    if not field.has_sub_fields:
        chosen = value if isinstance(value, str) else field.default
        options = [] if field_is_required(field) else ['<option value="">(not set)</option>']
        options += [_option(o, chosen) for o in field.options]
        return f"<select{attributes(common)}>{''.join(options)}</select>"
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
    return select + "".join(groups)


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
        name = _name(where)
        kept = stored.get(field.name)
        if isinstance(field, TextField | OAuthField):
            text = submission.text(name)
            if text.strip() or field_is_required(field):
                raw[field.name] = text
        elif isinstance(field, SecretField):
            text = submission.text(name)
            if text:
                raw[field.name] = text
            elif isinstance(kept, str) and kept:
                raw[field.name] = kept
            elif field.required:
                raw[field.name] = ""
        elif isinstance(field, NumberField):
            text = submission.text(name).strip()
            if text:
                raw[field.name] = _number(text, integer=field.integer)
        elif isinstance(field, SelectField):
            if field.has_sub_fields:
                choice = submission.text(f"{name}.{SELECTION_KEY}")
                option = next((o for o in field.options if o.value == choice), None)
                if option is None:
                    if field.required:
                        raw[field.name] = {SELECTION_KEY: choice}
                    continue
                kept_option = (
                    kept if isinstance(kept, Mapping) and kept.get(SELECTION_KEY) == choice else {}
                )
                inner, inner_problems = read_fields(
                    option.fields, submission, kept_option, path=where
                )
                raw[field.name] = {SELECTION_KEY: choice, **inner}
                problems += inner_problems
            else:
                choice = submission.text(name)
                if choice:
                    raw[field.name] = choice
        elif isinstance(field, SwitchGroupField):
            if submission.text(name) == "on":
                inner, inner_problems = read_fields(
                    field.fields, submission, kept if isinstance(kept, Mapping) else {}, path=where
                )
                raw[field.name] = inner
                problems += inner_problems
        elif isinstance(field, FileUploadField):
            data = submission.files.get(name, b"")
            if data:
                try:
                    raw[field.name] = data.decode("utf-8")
                except UnicodeDecodeError:
                    problems.append((where, "expected a UTF-8 text file"))
            elif isinstance(kept, str) and kept:
                raw[field.name] = kept
            elif field.required:
                raw[field.name] = ""
    return raw, problems


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
