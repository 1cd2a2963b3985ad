"""Fan-out: rows read per parent carry the parent's fields, from the right parent; a child
that refuses the credentials fails the read.

A child row without its parent's id cannot be joined back, and its primary key often includes
that id. The kit says which parent fields must land in which columns
(:class:`~headwater.emulator.ParentLink`); the check reads parent and child and compares.

A fan-out may skip a parent whose children are gone (a 404: deleted since it was listed). A
401 is another matter: the credentials are wrong for every parent, and a read that skips it
ends "complete" with rows missing and no word to the user. A 403 fails the read too, unless
the API documents it for one parent hidden from the token: then only that parent's rows may
be missing, and the skip must be reported (a warning or a progress message naming the 403).

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import pytest

from headwater.emulator import StatusFailure
from headwater.errors import ErrorKind
from headwater.sources import SourceInputs
from headwater_contract.checks._common import examples, fail, fail_if
from headwater_contract.observe import REQUEST_LIMIT
from headwater_contract.subject import key_of

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator

    from headwater.emulator import ParentLink
    from headwater_contract.reading import Read
    from headwater_contract.subject import Subject

__all__ = ["auth_failures_on_children_fail_the_read", "child_rows_carry_parent_fields"]


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


_AUTH_FAILURES = (
    (401, ErrorKind.AUTHENTICATION, {"message": "Bad credentials"}),
    (403, ErrorKind.PERMISSION, {"message": "You do not have permission to perform this action"}),
)


def auth_failures_on_children_fail_the_read(subject: Subject, schema: str) -> None:
    """A 401 on the child requests of one parent fails the read with an authentication error;
    a 403 fails it with a permission error, or skips that parent with a report.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    link = facts.kit.parent
    if link is None:
        fail(f"{schema!r} has no ParentLink in the kit")
    children = subject.clean_full_read(schema)
    parents = subject.clean_full_read(link.schema)
    path = _child_path(children, parents)
    if path is None:
        pytest.skip(
            f"every request of the read of {schema!r} also goes to a path its parent"
            f" {link.schema!r} reads, so no child request can be failed alone"
        )
    where = f"the child requests of one {link.schema!r} row ({path})"
    problems = []
    for status, kind, body in _AUTH_FAILURES:
        api = subject.api()
        api.emulator.inject(StatusFailure(status=status, json=body), times=REQUEST_LIMIT, path=path)
        with _reports() as reports:
            result = subject.read(api, SourceInputs(schema_name=schema))
        if result.exceeded:
            # (Retrying a 401 at all is test_auth_failures_fail_at_once_with_a_message's.)
            problems.append(
                f"after HTTP {status} on {where}, the read of {schema!r} did not stop: an"
                " authentication or permission failure cannot heal by itself"
            )
        elif result.error is None:
            if status == 403 and reports.said("403"):
                lost = _lost_parents(subject, link, children, result)
                if lost is None:
                    continue  # one parent hidden from the token: skipped, and said so
                problems.append(
                    f"after HTTP 403 on {where}, the read of {schema!r} skipped it but also"
                    f" lost the rows of other parents ({lost})"
                )
                continue
            problems.append(
                f"the read of {schema!r} ended without an error although {where} answered"
                f" HTTP {status}: the parent was skipped as if its children were gone (a"
                " 404), so a sync would end complete with rows missing and the user never"
                f" told. HTTP {status} means the credentials {_meaning(status)}: let it fail"
                " the read (skip only 404s: ParentErrorPolicy(skip_statuses={404}))"
                + (
                    "; a 403 the API documents for one parent hidden from the token may be"
                    " skipped, if the skip is reported (a warning or a progress message)"
                    if status == 403
                    else ""
                )
            )
        elif getattr(result.error, "kind", None) is not kind:
            problems.append(
                f"HTTP {status} on {where} failed the read of {schema!r} with"
                f" {subject.describe(result.error)}, whose kind is"
                f" {getattr(result.error, 'kind', None)!s}, not {kind!s}: keep the API's error"
                " as it came (the REST client raises AuthenticationError or"
                " PermissionDeniedError), so the host tells the user to fix the credentials"
            )
    fail_if(problems)


def _meaning(status: int) -> str:
    if status == 401:
        return "are wrong for every parent, not for this one"
    return "lack a permission, which the user can grant"


def _child_path(children: Read, parents: Read) -> str | None:
    """The path of the first child request: one the parent's own read never asks for."""
    parent_paths = {exchange.path for exchange in parents.exchanges}
    for exchange in children.exchanges:
        if exchange.path not in parent_paths:
            return exchange.path
    return None


def _lost_parents(subject: Subject, link: ParentLink, children: Read, result: Read) -> str | None:
    """Which parents lost rows, described, when more than one did; ``None``: one at most."""
    facts = subject.facts(result.schema)
    keys = subject.need_keys(facts, children.rows)
    if not keys:
        return None  # rows without keys cannot be told apart
    got = {key_of(row, keys) for row in result.rows}
    lost_rows = [row for row in children.rows if key_of(row, keys) not in got]
    columns = tuple(link.columns)
    parents: set[tuple[Hashable, ...]] = {key_of(row, columns) for row in lost_rows}
    if len(parents) <= 1:
        return None
    return f"{len(parents)} parents, e.g. {examples(sorted(parents, key=repr))}"


class _Reports(logging.Handler):
    """What a read told the user: warnings, and the progress events the suite's sink logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING or record.name == "headwater.progress":
            try:
                self.texts.append(record.getMessage())
            except Exception:  # arguments that do not format: keep the template
                self.texts.append(str(record.msg))

    def said(self, text: str) -> bool:
        return any(text in said for said in self.texts)


@contextlib.contextmanager
def _reports() -> Iterator[_Reports]:
    handler = _Reports()
    root = logging.getLogger()
    progress = logging.getLogger("headwater.progress")
    level = progress.level
    progress.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        progress.setLevel(level)
