"""The JSON Schema of a connector's configuration form, for UIs and editors.

``headwater spec`` prints it. Standard keywords describe the data (draft 2020-12), so any
validator or form library can use it; what a form needs beyond that is in extension keywords,
all prefixed ``x-headwater``:

==============================  ===============================================================
keyword                         meaning
==============================  ===============================================================
``x-headwater``                 on the root: the connector's metadata (source type, category,
                                release status, unreleased, docs URL, icon file, contract major)
``x-headwater-widget``          how to render a string: ``textarea``, ``password`` (a secret),
                                ``password-textarea`` (a multi-line secret), ``file``
``x-headwater-placeholder``     the input's placeholder text
``x-headwater-accept``          a file upload's accepted extensions or media types
``x-headwater-oauth-provider``  the OAuth integration an OAuth field refers to
``x-headwater-switch-default``  whether a switch group starts switched on
``x-headwater-default-selection``  the option a select with sub-fields starts on
==============================  ===============================================================

Secrets (secret fields, secret file uploads) are ``writeOnly``: a UI may send them but must
never display one it read back. Output is deterministic: same fields, same dict, same order.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
    TextKind,
    field_job,
)
from headwater.sources.spec import CONTRACT_MAJOR

if TYPE_CHECKING:
    from headwater.sources.metadata import SourceConfig
    from headwater.sources.spec import SourceSpec

__all__ = ["JSON_SCHEMA_DIALECT", "form_json_schema"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The ``$schema`` of every form schema.

.. versionadded:: 0.1
"""

_TEXT_FORMATS = {TextKind.EMAIL: "email", TextKind.URL: "uri"}


def form_json_schema(spec: SourceSpec, source_config: SourceConfig) -> dict[str, Any]:
    """The JSON Schema of the form ``source_config`` describes, with the connector's metadata.

    .. versionadded:: 0.1
    """
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": source_config.label,
        "description": source_config.caption,
        **_object(source_config.fields),
        "x-headwater": {
            "source_type": spec.source_type,
            "contract_major": CONTRACT_MAJOR,
            "category": source_config.category,
            "release_status": source_config.release_status.value,
            "unreleased": source_config.unreleased,
            "docs_url": source_config.docs_url,
            "icon": source_config.icon,
        },
    }
    return schema


def _object(fields: Sequence[Field], *, selection: SelectOption | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    if selection is not None:
        properties[SELECTION_KEY] = {"const": selection.value}
        required.append(SELECTION_KEY)
    for field in fields:
        properties[field.name] = _property(field)
        # Mirrors the generated class: only a field without a default must be given.
        if field.must_be_given:
            required.append(field.name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _property(field: Field) -> dict[str, Any]:
    common: dict[str, Any] = {"title": field.label}
    if field.caption:
        common["description"] = field.caption
    if field.placeholder:
        common["x-headwater-placeholder"] = field.placeholder
    return {**common, **_describe(field)}


@field_job
def _describe(field: Field) -> dict[str, Any]:
    raise TypeError(f"no JSON Schema for {type(field).__name__}")


@_describe.register
def _secret(field: SecretField) -> dict[str, Any]:
    widget = "password-textarea" if field.multiline else "password"
    return {**_non_empty(field, "string"), "writeOnly": True, "x-headwater-widget": widget}


@_describe.register
def _switch_group(field: SwitchGroupField) -> dict[str, Any]:
    return {
        **_object(field.fields),
        "type": ["object", "null"],
        "x-headwater-switch-default": field.default,
    }


@_describe.register
def _file_upload(field: FileUploadField) -> dict[str, Any]:
    result = {**_non_empty(field, "string"), "x-headwater-widget": "file"}
    if field.secret:
        result["writeOnly"] = True
    if field.accept:
        result["x-headwater-accept"] = list(field.accept)
    return result


@_describe.register
def _oauth(field: OAuthField) -> dict[str, Any]:
    return {**_non_empty(field, "string"), "x-headwater-oauth-provider": field.provider}


def _non_empty(field: Field, type_: str) -> dict[str, Any]:
    # Required text must not be empty, as the structuring checks insist.
    return {"type": type_, "minLength": 1} if field.required else {"type": type_}


@_describe.register
def _text(field: TextField) -> dict[str, Any]:
    result = _non_empty(field, "string")
    if field.kind in _TEXT_FORMATS:
        result["format"] = _TEXT_FORMATS[field.kind]
    if field.kind is TextKind.TEXTAREA:
        result["x-headwater-widget"] = "textarea"
    if field.pattern is not None:
        # JSON Schema patterns are unanchored; the host matches the whole value.
        result["pattern"] = f"^(?:{field.pattern})$"
    if field.default is not None:
        result["default"] = field.default
    return result


@_describe.register
def _number(field: NumberField) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "integer" if field.integer else "number"}
    if field.minimum is not None:
        result["minimum"] = field.minimum
    if field.maximum is not None:
        result["maximum"] = field.maximum
    if field.default is not None:
        result["default"] = field.default
    return result


@_describe.register
def _select(field: SelectField) -> dict[str, Any]:
    if field.has_sub_fields:
        # The generated class has no default instance for this field (see codegen), so the
        # default only preselects the option in a form.
        options = [
            {"title": option.label, **_object(option.fields, selection=option)}
            for option in field.options
        ]
        result: dict[str, Any] = {"type": "object", "oneOf": options}
        if field.default is not None:
            result["x-headwater-default-selection"] = field.default
        return result
    result = {
        "type": "string",
        "oneOf": [{"const": option.value, "title": option.label} for option in field.options],
    }
    if field.default is not None:
        result["default"] = field.default
    return result
