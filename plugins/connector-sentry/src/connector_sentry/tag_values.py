"""The ``issue_tag_values`` table: issues -> each issue's tag keys -> each key's values.

Real code because it is a two-level fan-out, which the shared ``DependentEndpoint`` does not
cover: :class:`TagValues` is built from the same pieces (``PageReader``,
``parallel_chain``), and :func:`tag_values_response` yields its resume points.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from connector_sentry import settings
from headwater import ProgressEvent, ProgressKind, ResumePoint
from headwater.errors import HTTPStatusError
from headwater.rest import (
    PageReader,
    RestClient,
    SkippedParent,
    fill_path,
    parallel_chain,
    parent_columns,
    response_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig

__all__ = ["TagValues", "tag_values_response"]


def tag_values_response(
    client: ClientConfig, organization: str, inputs: SourceInputs, runtime: Runtime
) -> SourceResponse:
    """Every tag value of every issue of ``organization``, resumable after each page of issues."""

    def items() -> Iterator[list[dict[str, Any]] | ResumePoint]:
        with RestClient(client, runtime) as api:
            reader = TagValues(api, organization, resume=inputs.resume_state)
            saved = reader.resume_state
            for page in reader:
                # The state moves once a page of issues is done, before the first page
                # of the next one arrives: it covers every page before this one.
                state = reader.resume_state
                if state is not None and state != saved:
                    yield ResumePoint(state)
                    saved = state
                yield page

    return response_for(settings.ISSUE_TAG_VALUES, inputs, items)


class TagValues:
    """Issues -> each issue's tag keys -> each key's values: the two-level fan-out.

    Built from the shared pieces: :class:`PageReader` for every list (pagination, loop
    guard, retries through the client), :func:`parallel_chain` for the issues of one page
    (bounded workers under the client's one request budget). Issue pages are taken one at a
    time, so :attr:`resume_state` (the issues reader's, after a finished page) is exact: a
    read started with it continues with the next page of issues, and rows of a page that was
    in progress come again (MERGE absorbs them).

    A tag's values are read for at most ``max_pages`` pages (the API returns at most 1000
    values); a tag whose values answer a 404, or a 5xx after every retry, is skipped. Both
    are logged, sent to the progress sink and kept in :attr:`skipped` / :attr:`capped`.
    """

    def __init__(
        self,
        client: RestClient,
        organization: str,
        *,
        resume: Mapping[str, Any] | None = None,
        max_pages: int = settings.MAX_TAG_VALUE_PAGES,
        max_workers: int = settings.CHILDREN_OF_ISSUES.max_workers,
    ) -> None:
        self.client = client
        self.org = {"organization": organization}
        self.max_pages = max_pages
        self.max_workers = max_workers
        self.skipped: list[SkippedParent] = []
        """Issues (``issue_id``) and tags (``issue_id/key``) skipped for a lasting error."""
        self.capped: list[str] = []
        """Tags (``issue_id/key``) whose values went on past ``max_pages``."""
        issues_resume = resume.get("issues") if resume else None
        self._issues = PageReader(
            client,
            settings.ISSUE_PARENTS.evolve(path_values=self.org),
            resume=issues_resume,
            schema=settings.ISSUE_TAG_VALUES.name,
        )
        self._resume: dict[str, Any] | None = {"issues": issues_resume} if resume else None
        self.unlisted: str | None = None
        """Why no tag keys are read at all (their list answered 404 for an existing issue)."""
        self._complete = False
        self._pages = self._read()

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        return self._pages

    def __next__(self) -> list[dict[str, Any]]:
        return next(self._pages)

    @property
    def resume_state(self) -> dict[str, Any] | None:
        """Where to continue: after the last page of issues whose tags were all read."""
        return None if self._complete else self._resume

    def _read(self) -> Iterator[list[dict[str, Any]]]:
        for issues in self._issues:
            yield from parallel_chain(issues, self._per_issue, max_workers=self.max_workers)
            state = self._issues.resume_state
            self._resume = {"issues": state} if state else None
        self._complete = True

    def _per_issue(self, issue: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        if self.unlisted is not None:
            return
        issue_id = issue["id"]
        columns = parent_columns(issue, settings.CHILDREN_OF_ISSUES)
        tags = PageReader(
            self.client,
            settings.ISSUE_TAGS.evolve(path_values={**self.org, "issue_id": issue_id}),
            schema=settings.ISSUE_TAG_VALUES.name,
        )
        try:
            keys = [tag["key"] for tag in itertools.chain.from_iterable(tags)]
        except HTTPStatusError as error:
            if error.status == 404 and self._issue_exists(issue_id):
                self._unlisted(issue_id)
                return
            if not settings.TAG_ERRORS.skips(error):
                raise
            self._skip(f"{issue_id}", error, what="the tag keys of issue")
            return
        for key in keys:
            yield from self._values(issue_id, key, columns)

    def _values(
        self, issue_id: Any, key: str, columns: dict[str, Any]
    ) -> Iterator[list[dict[str, Any]]]:
        values = PageReader(
            self.client,
            settings.ISSUE_TAG_VALUES.evolve(
                path_values={**self.org, "issue_id": issue_id, "key": key}
            ),
        )
        try:
            for page in values:
                yield [{**row, "key": key, **columns} for row in page]
                if values.pages >= self.max_pages and values.resume_state is not None:
                    values.close()
                    self._report(f"tag {issue_id}/{key!r}", f"cut after {self.max_pages} pages")
                    self.capped.append(f"{issue_id}/{key}")
                    return
        except HTTPStatusError as error:
            if not settings.TAG_ERRORS.skips(error):
                raise
            self._skip(f"{issue_id}/{key}", error, what="tag")

    def _issue_exists(self, issue_id: Any) -> bool:
        # The list of an issue's tag keys is not a documented endpoint (api_inventory.md), so
        # its 404 may mean the list is gone rather than the issue: the documented "Retrieve an
        # Issue" tells the two apart.
        path = fill_path(settings.ISSUE_DETAIL, {**self.org, "issue_id": str(issue_id)})
        try:
            self.client.get_json(path)
        except HTTPStatusError:
            return False
        return True

    def _unlisted(self, issue_id: Any) -> None:
        if self.unlisted is not None:
            return
        self.unlisted = (
            f"the list of an issue's tag keys answered 404 for issue {issue_id}, which exists:"
            " that list is not a documented Sentry endpoint and this server does not serve it;"
            " no tag values are read"
        )
        self._report("issue_tag_values", f"skipped: {self.unlisted}")

    def _skip(self, value: str, error: HTTPStatusError, *, what: str) -> None:
        parent = "issues" if "/" not in value else "issue_tags"
        skipped = SkippedParent(parent=parent, value=value, status=error.status, reason=str(error))
        self.skipped.append(skipped)
        self._report(f"{what} {value!r}", f"skipped (HTTP {error.status})")

    def _report(self, subject: str, happened: str) -> None:
        runtime = self.client.runtime
        schema = settings.ISSUE_TAG_VALUES.name
        runtime.logger.warning("%s: %s %s", schema, subject, happened)
        runtime.progress.emit(
            ProgressEvent(kind=ProgressKind.NOTICE, schema=schema, detail=f"{subject} {happened}")
        )
