"""A form's questions as rows: the ``form_fields`` table.

Real code because Typeform returns a form's questions as a tree inside the form's detail
(``GET /forms/{form_id}``): groups hold their own questions. The detail requests are the
shared fan-out's (workers, skips, resume); this module only turns each form into its rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from headwater.rest import dependent_response

if TYPE_CHECKING:
    from collections.abc import Iterator

    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig, DependentEndpoint, Endpoint

__all__ = ["form_field_rows", "form_fields_response"]


def form_fields_response(
    client: ClientConfig,
    parent: Endpoint,
    child: Endpoint,
    dependent: DependentEndpoint,
    inputs: SourceInputs,
    runtime: Runtime,
) -> SourceResponse:
    """One detail request per form (the shared fan-out), each form turned into its question
    rows."""
    forms = dependent_response(client, parent, child, dependent, inputs, runtime)
    read = forms.items

    def items() -> Iterator[Any]:
        for page in read():
            if isinstance(page, list):
                yield [field for form in page for field in form_field_rows(form)]
            else:
                yield page  # a resume point: the fan-out position, unchanged

    return attrs.evolve(forms, items=items)


def form_field_rows(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions of one form (``GET /forms/{form_id}``), one row each.

    A row is the field as Typeform sends it (``id``, ``ref``, ``title``, ``type``,
    ``properties``, ``validations``...) with ``form_id``, ``position`` (its place among its
    siblings), and ``parent_id`` / ``parent_ref`` (the group it sits in; ``None`` at the top).
    A group's own questions (``properties.fields``) follow it as rows of their own and are
    left out of its ``properties``. A form without ``fields`` has no rows.
    """
    form_id = form.get("form_id", form.get("id"))
    rows: list[dict[str, Any]] = []

    def walk(fields: Any, parent: dict[str, Any] | None) -> None:
        if not isinstance(fields, list):
            return
        for position, field in enumerate(fields):
            if not isinstance(field, dict):
                continue
            properties = field.get("properties")
            properties = properties if isinstance(properties, dict) else {}
            kept = {key: value for key, value in properties.items() if key != "fields"}
            rows.append(
                {
                    **{key: value for key, value in field.items() if key != "properties"},
                    "properties": kept or None,
                    "form_id": form_id,
                    "position": position,
                    "parent_id": parent.get("id") if parent else None,
                    "parent_ref": parent.get("ref") if parent else None,
                }
            )
            walk(properties.get("fields"), field)

    walk(form.get("fields"), None)
    return rows
