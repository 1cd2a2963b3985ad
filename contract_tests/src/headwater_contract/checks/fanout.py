"""Fan-out: rows read per parent carry the parent's fields, from the right parent.

A child row without its parent's id cannot be joined back, and its primary key often includes
that id. The kit says which parent fields must land in which columns
(:class:`~headwater.emulator.ParentLink`); the check reads parent and child and compares.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from headwater_contract.checks._common import examples, fail, fail_if

if TYPE_CHECKING:
    from headwater_contract.subject import Subject

__all__ = ["child_rows_carry_parent_fields"]


def child_rows_carry_parent_fields(subject: Subject, schema: str) -> None:
    """Each child row has every declared parent column, equal to a real parent row's fields.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    link = facts.kit.parent
    if link is None:
        fail(f"{schema!r} has no ParentLink in the kit")
    children = subject.clean_full_read(schema).rows
    parents = subject.clean_full_read(link.schema).rows
    problems = []
    for column, field in link.columns.items():
        lacking = [index for index, row in enumerate(children) if row.get(column) is None]
        if lacking:
            has = ", ".join(sorted(children[lacking[0]])) or "nothing"
            problems.append(
                f"{len(lacking)} of {len(children)} rows of {schema!r} lack {column!r} (the"
                f" {link.schema!r} parent's {field!r}); row {lacking[0]} has: {has}. Copy the"
                " field onto child rows with DependentEndpoint(include_from_parent=...) (and"
                " renames=... for another column name)"
            )
    fail_if(problems)
    columns = list(link.columns.items())
    known = {tuple(parent.get(field) for _, field in columns) for parent in parents}
    stray = [
        values
        for row in children
        if (values := tuple(row.get(column) for column, _ in columns)) not in known
    ]
    if stray:
        names = ", ".join(column for column, _ in columns)
        fail(
            f"{len(stray)} rows of {schema!r} carry parent values ({names}) that no"
            f" {link.schema!r} row has (e.g. {examples(stray)}): the parent fields landed on"
            " the wrong rows, or come from another field than the ParentLink says"
        )
