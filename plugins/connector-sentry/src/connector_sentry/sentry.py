"""Talking to Sentry: the client and its auth, the credential check, each schema's response.

Requests, retries, pagination and fan-out are the shared machinery's (headwater.rest). The
one custom iterator is :class:`TagValues`, the two-level fan-out issues -> tags -> values.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import TYPE_CHECKING, Any

import attrs

from connector_sentry import settings
from headwater import ProgressEvent, ProgressKind, ResumePoint
from headwater.errors import (
    AuthenticationError,
    ConfigError,
    ConfigProblem,
    HTTPStatusError,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
)
from headwater.rest import (
    BearerAuth,
    Iso8601,
    PageReader,
    RestClient,
    SkippedParent,
    dependent_response,
    endpoint_response,
    fill_path,
    parallel_chain,
    parent_columns,
    response_for,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from connector_sentry._config import SentryConfig
    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig, Endpoint

__all__ = [
    "TagValues",
    "check_credentials",
    "client_config",
    "endpoint",
    "issue_row",
    "organization",
    "response",
]

LABEL = settings.LABEL
REJECTED = (
    f"{LABEL} rejected the auth token: create a new one under Settings > Auth Tokens and"
    " update the config"
)

# Sentry's slugs are lower-case letters, digits, `-` and `_` (documented for projects; the
# organization slug follows the same rule). Checked before any request.
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


def organization(config: SentryConfig) -> str:
    """The configured organization slug.

    :raises ConfigError: at ``$.organization`` when it is not a slug.
    """
    value = config.organization.strip()
    if not _SLUG.match(value):
        raise ConfigError(
            [
                ConfigProblem(
                    path="$.organization",
                    message="expected the organization's slug, like acme-inc",
                )
            ],
            context=f"invalid {LABEL} configuration",
        )
    return value


def client_config(config: SentryConfig) -> ClientConfig:
    """The API client on the configured region's host, signing with the auth token."""
    return attrs.evolve(
        settings.CLIENT,
        base_url=settings.base_url(config.region),
        auth=BearerAuth(token=config.auth_token),
    )


def endpoint(name: str, config: SentryConfig) -> Endpoint:
    """Endpoint ``name``, its organization filled in."""
    return settings.ENDPOINTS[name].evolve(path_values={"organization": organization(config)})


def check_credentials(config: SentryConfig, runtime: Runtime) -> tuple[bool, str | None]:
    """Read the organization itself: one request that needs the token and membership."""
    try:
        org = organization(config)
        with RestClient(client_config(config), runtime) as client:
            client.get_json(f"/organizations/{org}/")
    except ConfigError as error:
        return False, str(error)
    except AuthenticationError:
        return False, REJECTED
    except PermissionDeniedError:
        return False, (
            f"The {LABEL} auth token may not read organization {config.organization!r}: give"
            " it the org:read scope (and project:read, event:read to import)"
        )
    except NotFoundError:
        return False, (
            f"{LABEL} shows no organization {config.organization!r} on {config.region}:"
            " check the slug and the region (an EU organization is on de.sentry.io)"
        )
    except SourceError as error:
        return False, f"{LABEL} could not be reached: {error}"
    return True, None


def response(config: SentryConfig, inputs: SourceInputs, runtime: Runtime) -> SourceResponse:
    """The rows of ``inputs.schema_name``, read when the host iterates them."""
    client = client_config(config)
    org = {"organization": organization(config)}
    name = inputs.schema_name
    if name == settings.PROJECT_EVENTS.name:
        return dependent_response(
            client,
            settings.PROJECTS.evolve(path_values=org),
            # Not incremental: every read is the window from the start date, by design.
            _window(
                settings.PROJECT_EVENTS.evolve(path_values=org),
                inputs.start_date or _EPOCH,
                runtime,
            ),
            settings.EVENTS_OF_PROJECTS,
            inputs,
            runtime,
        )
    if name in (settings.ISSUE_EVENTS.name, settings.ISSUE_HASHES.name):
        return dependent_response(
            client,
            settings.ISSUE_PARENTS.evolve(path_values=org),
            settings.ENDPOINTS[name].evolve(path_values=org),
            settings.CHILDREN_OF_ISSUES,
            inputs,
            runtime,
        )
    if name == settings.ISSUE_TAG_VALUES.name:
        declared = settings.ISSUE_TAG_VALUES

        def items() -> Iterator[list[dict[str, Any]] | ResumePoint]:
            with RestClient(client, runtime) as api:
                reader = TagValues(api, org["organization"], resume=inputs.resume_state)
                saved = reader.resume_state
                for page in reader:
                    # The state moves once a page of issues is done, before the first page
                    # of the next one arrives: it covers every page before this one.
                    state = reader.resume_state
                    if state is not None and state != saved:
                        yield ResumePoint(state)
                        saved = state
                    yield page

        return response_for(declared, inputs, items)
    chosen = endpoint(name, config)
    if name == settings.ISSUES.name:
        keep: Callable[[dict[str, Any]], dict[str, Any] | None] = issue_row
        if _resumed(inputs):
            # The window returns issues with events in it, so an issue seen again after the
            # earlier read's earliest value comes too; it is the next read's, not this one's.
            keep = _then(_at_most(inputs.db_incremental_field_earliest_value), issue_row)
        chosen = chosen.evolve(normalize=keep)
        if inputs.should_use_incremental_field:
            inputs = _paired(inputs)
        else:
            # A full refresh reads every issue: the start date bounds incremental reads only.
            chosen = _window(chosen, _EPOCH, runtime)
    return endpoint_response(client, chosen, inputs, runtime)


def issue_row(row: dict[str, Any]) -> dict[str, Any]:
    """An issue as stored: ``count`` an integer, the project's id and slug as columns.

    Sentry sends an issue's event ``count`` as a decimal string (``"count": "150"``) and its
    project as a nested object (api_inventory.md, ``issues``). The string becomes an
    integer; a value that is not one stays as it came (the host then keeps it in a
    ``count__string`` column instead of dropping it). ``project_id`` and ``project_slug``
    are the columns the ``projects`` table joins on (``projects.id``, ``projects.slug``);
    the ``project`` object is kept too.
    """
    project = row.get("project")
    project = project if isinstance(project, dict) else {}
    return {
        **row,
        "count": _integer(row.get("count")),
        "project_id": project.get("id"),
        "project_slug": project.get("slug"),
    }


def _integer(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _then(
    first: Callable[[dict[str, Any]], dict[str, Any] | None],
    second: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    def both(row: dict[str, Any]) -> dict[str, Any] | None:
        kept = first(row)
        return None if kept is None else second(kept)

    return both


# Sentry takes a time window only as a pair, `start` with `end` (or neither): one alone is a
# 400 (api_inventory.md, "Parameter rules"). The shared parameters send `end` alone when a
# read has no lower bound (no watermark, no start date), so such a read asks from the Unix
# epoch instead: bounded above only, as intended, and the API keeps nothing older.
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ISO = Iso8601()


def _window(chosen: Endpoint, start: dt.date, runtime: Runtime) -> Endpoint:
    """``chosen`` read whole over the window from ``start`` to now, sent as the pair.

    Said in the endpoint's own parameters rather than through the shared incremental
    parameters, whose lower bound of a read that is not incremental is the host's to decide
    (headwater 0.2 stops sending the start date there): Sentry needs both ends every time.
    """
    window = {"start": _ISO(start), "end": _ISO(runtime.clock.now())}
    return chosen.evolve(
        incremental=None, incremental_fields=(), params={**chosen.params, **window}
    )


def _paired(inputs: SourceInputs) -> SourceInputs:
    if inputs.start_date is not None:
        return inputs
    if inputs.should_use_incremental_field and inputs.db_incremental_field_last_value is not None:
        return inputs  # the watermark is the lower bound
    return attrs.evolve(inputs, start_date=_EPOCH)


def _resumed(inputs: SourceInputs) -> bool:
    return bool(inputs.should_use_incremental_field and inputs.db_incremental_field_earliest_value)


def _at_most(bound: Any) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    upper = _instant(bound)

    def keep(row: dict[str, Any]) -> dict[str, Any] | None:
        seen = _instant(row.get("lastSeen"))
        return row if seen is None or upper is None or seen <= upper else None

    return keep


def _instant(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


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
