"""The Sentry source as data: its form, client, credential check and endpoint catalog.

Each endpoint's behaviour (pagination, filters, order, keys) is documented, with references,
in api_inventory.md; keep the two in step. Requests, retries, pagination and fan-out are the
shared machinery's (headwater.rest). Three tables need code of their own: ``issues`` and
``project_events`` send their time window as a pair (windows.py), and ``issue_tag_values``
is a two-level fan-out (tag_values.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from connector_sentry import SPEC, windows
from connector_sentry._config import SentryConfig
from headwater import (
    ErrorKind,
    ErrorRule,
    IncrementalField,
    SecretField,
    SelectField,
    SelectOption,
    TextField,
)
from headwater.errors import ConfigError, ConfigProblem
from headwater.rest import (
    BaseUrlFrom,
    BearerAuth,
    ClientConfig,
    CredentialCheck,
    DependentEndpoint,
    Endpoint,
    FanOut,
    IncrementalParams,
    LinkHeaderPaginator,
    ParentErrorPolicy,
    PathValues,
    RestSource,
    dependent_response,
    endpoint_response,
)

if TYPE_CHECKING:
    from headwater import Runtime, SourceInputs, SourceResponse

__all__ = [
    "CLIENT",
    "DEFAULT_REGION",
    "ENDPOINTS",
    "CHILDREN_OF_ISSUES",
    "EVENTS_OF_PROJECTS",
    "ISSUES",
    "ISSUE_EVENTS",
    "ISSUE_DETAIL",
    "ISSUE_HASHES",
    "ISSUE_PARENTS",
    "ISSUE_TAGS",
    "ISSUE_TAG_VALUES",
    "LABEL",
    "MAX_TAG_VALUE_PAGES",
    "NON_RETRYABLE_ERRORS",
    "PROJECTS",
    "PROJECT_EVENTS",
    "REGIONS",
    "TAG_ERRORS",
    "SENTRY_LINKS",
    "SentrySource",
    "base_url",
    "organization",
]

LABEL = SPEC.label

# The API hosts Sentry documents (https://docs.sentry.io/api/): sentry.io, and the region
# domains of the two data storage locations. An organization stored in the EU is reached
# through de.sentry.io.
REGIONS = {
    "sentry.io": "sentry.io (default)",
    "us.sentry.io": "US region (us.sentry.io)",
    "de.sentry.io": "EU region (de.sentry.io)",
}
DEFAULT_REGION = "sentry.io"


def base_url(region: str) -> str:
    """The API root on ``region``'s host (one of :data:`REGIONS`)."""
    if region not in REGIONS:
        raise ValueError(f"unknown Sentry region host {region!r}")
    return f"https://{region}/api/0"


# The base URL is set per config (the region); this is the one of the default host.
CLIENT = ClientConfig(base_url=base_url(DEFAULT_REGION))

# Every list is paginated by the Link header: Sentry always sends a `rel="next"` link and marks
# the end with `results="false"` on it (https://docs.sentry.io/api/pagination/). The next link
# carries the cursor and every query parameter of the request. The page-size parameter is not
# documented for these endpoints, so none is sent: the API's default page (100) is used.


# A next link without the documented flag is not one Sentry promises rows behind (the docs
# describe none): conservative, it ends the read.
SENTRY_LINKS = LinkHeaderPaginator(results_flag="results", require_results_flag=True)


_PAGES: dict[str, Any] = {"paginator": SENTRY_LINKS}
_ORG = "/organizations/{organization}"

PROJECTS = Endpoint(
    name="projects",
    description="Projects of the organization.",
    path=f"{_ORG}/projects/",
    primary_keys=("id",),
    **_PAGES,
    # No filter parameter: the list is read whole (full refresh).
    partition_key="dateCreated",
)

LAST_SEEN = IncrementalField(field="lastSeen", label="Last seen", type="datetime")

ISSUES = Endpoint(
    name="issues",
    description=(
        "Issues of the organization in every status, most recently seen first; count as an"
        " integer, project_id and project_slug as columns."
    ),
    path=f"{_ORG}/issues/",
    primary_keys=("id",),
    # An empty `query` lifts the default `is:unresolved` filter; `sort=date` orders by last
    # seen, newest first, and no sort ascends, hence desc. `start`/`end` are the documented
    # time window (ISO 8601): an issue comes when it had events in the window, so its
    # lastSeen is at or after `start`. windows.py drops rows above `end` on a resumed read.
    params={"query": "", "sort": "date"},
    **_PAGES,
    incremental=IncrementalParams(start_param="start", end_param="end"),
    incremental_fields=[LAST_SEEN],
    # firstSeen is the issue's creation time and never changes (lastSeen does).
    partition_key="firstSeen",
    sort_mode="desc",
)

# The parent of the issue fan-outs: every issue, without a window.
ISSUE_PARENTS = ISSUES.evolve(incremental=None, incremental_fields=())

PROJECT_EVENTS = Endpoint(
    name="project_events",
    description="Error events of every project, newest first, read per project.",
    path="/projects/{organization}/{project}/events/",
    primary_keys=("project_id", "id"),
    # `start`/`end` bound the events' time (ISO 8601); `start` gets the configured start
    # date, `end` now: Sentry takes the window only as a pair (`start` alone is a 400), and
    # windows.py asks from the epoch when there is no start date. The docs do not state the
    # order; the API answers newest first, hence desc.
    # Not offered as incremental: rows of many projects interleave, so neither a watermark
    # nor the earliest value of an interrupted read is one position in the whole read (the
    # host has no per-parent state yet). Each sync reads the window from the start date.
    **_PAGES,
    incremental=IncrementalParams(start_param="start", end_param="end"),
    partition_key="dateCreated",
    sort_mode="desc",
)

EVENTS_OF_PROJECTS = DependentEndpoint(
    parent_name="projects",
    resolve_param="project",
    resolve_field="slug",
    include_from_parent=("id", "slug"),
    renames={"id": "project_id", "slug": "project_slug"},
    # A project deleted (or hidden from the token) between the two reads answers 404/403.
    parent_errors=ParentErrorPolicy(skip_statuses=[403, 404]),
)

ISSUE_EVENTS = Endpoint(
    name="issue_events",
    description="Events of every issue, read per issue.",
    path=f"{_ORG}/issues/{{issue_id}}/events/",
    primary_keys=("issue_id", "id"),
    **_PAGES,
    # Read whole per issue (full refresh): the parent list is every issue, so a window on
    # the children alone would not make the read incremental.
    partition_key="dateCreated",
)

CHILDREN_OF_ISSUES = DependentEndpoint(
    parent_name="issues",
    resolve_param="issue_id",
    resolve_field="id",
    include_from_parent=("id",),
    renames={"id": "issue_id"},
    # An issue merged or deleted between the two reads answers 404.
    parent_errors=ParentErrorPolicy(skip_statuses=[404]),
)

ISSUE_HASHES = Endpoint(
    name="issue_hashes",
    description="Grouping hashes of every issue, read per issue.",
    path=f"{_ORG}/issues/{{issue_id}}/hashes/",
    # A hash belongs to one issue at a time, but moves when issues are merged: keyed by both.
    primary_keys=("issue_id", "id"),
    **_PAGES,
    # No creation datetime on a hash: not partitioned.
)

# Two levels: issues -> their tag keys -> each key's values (tag_values.py).
# The list of an issue's tag keys is NOT in Sentry's public API reference (only one key's
# details, `.../tags/{key}/`, and its values are): it may change or go away. A 404 from it for
# an issue that "Retrieve an Issue" (ISSUE_DETAIL, documented) still finds means the list is
# not served: the schema reads nothing and says why (a progress message), rather than fail.
ISSUE_TAGS = Endpoint(
    name="issue_tags",
    description="Tag keys of one issue (the middle level of issue_tag_values).",
    path=f"{_ORG}/issues/{{issue_id}}/tags/",
    primary_keys=("key",),
    **_PAGES,
)

ISSUE_TAG_VALUES = Endpoint(
    name="issue_tag_values",
    description="Values of every tag of every issue, with counts and first/last seen.",
    path=f"{_ORG}/issues/{{issue_id}}/tags/{{key}}/values/",
    # A value is unique within one tag key of one issue only.
    primary_keys=("issue_id", "key", "value"),
    **_PAGES,
    # firstSeen: when the value was first seen on the issue; it never changes.
    partition_key="firstSeen",
)

# Retrieve an Issue (documented): only asked when the tag-key list answers 404.
ISSUE_DETAIL = f"{_ORG}/issues/{{issue_id}}/"

# The docs: a tag's values list "returns at most 1000 values when paginated" (10 pages of the
# default 100). More pages than this per tag are not read; the cut is reported.
MAX_TAG_VALUE_PAGES = 10

# A tag whose values keep failing (5xx after every retry) or are gone (404) is skipped and
# reported; the other tags and issues are still read.
TAG_ERRORS = ParentErrorPolicy(skip_statuses=[404], skip_server_errors=True)

ENDPOINTS = {
    endpoint.name: endpoint
    for endpoint in (
        PROJECTS,
        ISSUES,
        PROJECT_EVENTS,
        ISSUE_EVENTS,
        ISSUE_HASHES,
        ISSUE_TAG_VALUES,
    )
}

NON_RETRYABLE_ERRORS = (
    ErrorRule(
        kind=ErrorKind.AUTHENTICATION,
        message=f"{LABEL} rejected the auth token (Invalid token): create a new one under"
        " Settings > Auth Tokens and update the config",
    ),
    ErrorRule(
        kind=ErrorKind.PERMISSION,
        message=f"The {LABEL} auth token may not read this: it needs the org:read,"
        " project:read and event:read scopes, and membership of the organization",
    ),
    ErrorRule(
        kind=ErrorKind.NOT_FOUND,
        message=f"{LABEL} shows no such organization on this host: check `organization` (its"
        " slug, as in the URL) and `region` (an EU organization is on de.sentry.io)",
    ),
    ErrorRule(
        kind=ErrorKind.FOREIGN_ORIGIN,
        message=f"{LABEL} sent a link to another host; check `region`",
    ),
)


# Sentry's slugs are lower-case letters, digits, `-` and `_` (documented for projects; the
# organization slug follows the same rule). Checked before any request.
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


def organization(config: SentryConfig) -> dict[str, str]:
    """The path value of the configured organization slug: ``{"organization": ...}``.

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
    return {"organization": value}


class SentrySource(RestSource[SentryConfig]):
    """Reads one organization."""

    spec = SPEC
    caption = (
        "Projects, issues, their events, grouping hashes and tag values, and every project's"
        " error events, of one Sentry organization."
    )
    category = "Engineering"
    docs_url = "https://docs.sentry.io/api/"
    # After changing the fields, regenerate _config.py (`headwater generate sentry`).
    fields = (
        TextField(
            name="organization",
            label="Organization",
            caption="The organization's slug, as in https://sentry.io/organizations/<slug>/.",
            placeholder="acme-inc",
        ),
        SelectField(
            name="region",
            label="Region",
            caption="The API host of the organization's data storage location.",
            default=DEFAULT_REGION,
            options=[SelectOption(value=host, label=label) for host, label in REGIONS.items()],
        ),
        SecretField(
            name="auth_token",
            label="Auth token",
            caption=(
                "An organization or personal auth token with the org:read,"
                " project:read and event:read scopes."
            ),
        ),
    )
    client = CLIENT
    base_url = BaseUrlFrom(field="region", urls={host: base_url(host) for host in REGIONS})
    auth = BearerAuth.from_config("auth_token")
    path_values = PathValues(derive=organization)
    # Reading the organization itself needs the token and membership.
    credential_check = CredentialCheck(
        path=f"{_ORG}/",
        messages={
            ErrorKind.AUTHENTICATION: "{label} rejected the auth token: create a new one under"
            " Settings > Auth Tokens and update the config",
            ErrorKind.PERMISSION: "The {label} auth token may not read organization"
            " {organization!r}: give it the org:read scope (and project:read, event:read to"
            " import)",
            ErrorKind.NOT_FOUND: "{label} shows no organization {organization!r} on {region}:"
            " check the slug and the region (an EU organization is on de.sentry.io)",
        },
    )
    endpoints = ENDPOINTS
    fanouts = (
        FanOut(parent=ISSUE_PARENTS, child=ISSUE_EVENTS, dependent=CHILDREN_OF_ISSUES),
        FanOut(parent=ISSUE_PARENTS, child=ISSUE_HASHES, dependent=CHILDREN_OF_ISSUES),
    )
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def source_for_pipeline(
        self, config: SentryConfig, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        name = inputs.schema_name
        if name == ISSUE_TAG_VALUES.name:
            # Imported here: tag_values reads this module's declarations.
            from connector_sentry.tag_values import tag_values_response

            org = self.config_path_values(config)["organization"]
            return tag_values_response(self.client_config(config), org, inputs, runtime)
        if name == PROJECT_EVENTS.name:
            values = self.config_path_values(config)
            return dependent_response(
                self.client_config(config),
                PROJECTS.evolve(path_values=values),
                # Not incremental: every read is the window from the start date, by design.
                windows.window(
                    self.endpoint(name, config), inputs.start_date or windows.EPOCH, runtime
                ),
                EVENTS_OF_PROJECTS,
                inputs,
                runtime,
            )
        if name == ISSUES.name:
            chosen, inputs = windows.issues_read(self.endpoint(name, config), inputs, runtime)
            return endpoint_response(self.client_config(config), chosen, inputs, runtime)
        return super().source_for_pipeline(config, inputs, runtime)
