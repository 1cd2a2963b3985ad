"""Nested lists: an object's sub-list read whole, as a table of its own.

Stripe embeds some sub-lists in their parent object (an invoice's ``lines``, a subscription's
``items``) as a list object of their own: the first page of entries and a ``has_more`` flag
(api_inventory.md, "Nested lists"). A :class:`NestedList` turns one into a child table: the
entries of the embedded page, then, only for a parent whose embedded page says ``has_more``,
the rest through the sub-list's own endpoint, starting after the last embedded entry. A
parent whose list fits in the embedded page costs no request, so the table costs about as
many requests as its parent list rather than one more per parent (as a plain fan-out would).

The pieces are the shared ones: the parent and the rest of each sub-list are read by
:class:`~headwater.rest.PageReader` (pagination, retries, the request budget), and parent
columns are named as a fan-out names them (:func:`~headwater.rest.parent_columns`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from headwater import ResumePoint
from headwater.rest import DependentEndpoint, PageReader, RestClient, parent_columns, response_for

if TYPE_CHECKING:
    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig, Endpoint

__all__ = ["NestedList", "nested_response", "read_nested"]


@attrs.frozen(kw_only=True)
class NestedList:
    """A sub-list embedded in the rows of ``parent`` at ``field``, continued by ``child``.

    ``link`` says how a parent reaches the child endpoint (its ``resolve_param`` is the
    child's path placeholder or query parameter, filled with ``resolve_field``) and which
    parent fields land on each entry (``include_from_parent`` and ``renames``).
    """

    parent: Endpoint
    field: str
    link: DependentEndpoint


def read_nested(
    client: RestClient,
    nested: NestedList,
    child: Endpoint,
    *,
    resume: Mapping[str, Any] | None = None,
) -> Iterator[list[dict[str, Any]] | ResumePoint]:
    """Pages of entries of every parent's sub-list, each with its parent's columns.

    After the entries of each page of parents comes a :class:`~headwater.ResumePoint`; a read
    resumed from one (``resume``) continues with the next page of parents.
    """
    link = nested.link
    in_path = f"{{{link.resolve_param}}}" in child.path
    parents = PageReader(
        client, nested.parent, resume=resume.get("parents") if resume else None, schema=child.name
    )
    for page in parents:
        entries: list[dict[str, Any]] = []
        for parent in page:
            extra = parent_columns(parent, link)
            embedded = parent.get(nested.field)
            if not isinstance(embedded, Mapping):
                continue  # not expanded or absent: no entries to store
            first = [row for row in embedded.get("data") or () if isinstance(row, Mapping)]
            entries.extend({**row, **extra} for row in first)
            if not embedded.get("has_more") or not first:
                continue
            value = link.resolve_field.find(parent)
            rest = PageReader(
                client,
                child,
                path_values={link.resolve_param: value} if in_path else None,
                params={
                    **({} if in_path else {link.resolve_param: str(value)}),
                    "starting_after": str(first[-1]["id"]),
                },
                schema=child.name,
            )
            for more in rest:
                entries.extend({**row, **extra} for row in more)
        if entries:
            yield entries
        state = parents.resume_state
        if state is not None:
            yield ResumePoint({"parents": state})


def nested_response(
    config: ClientConfig,
    nested: NestedList,
    child: Endpoint,
    inputs: SourceInputs,
    runtime: Runtime,
) -> SourceResponse:
    """The response of a nested-list table: stored as ``child`` declares."""

    def items() -> Iterator[list[dict[str, Any]] | ResumePoint]:
        with RestClient(config, runtime) as client:
            yield from read_nested(client, nested, child, resume=inputs.resume_state)

    return response_for(child, inputs, items)
