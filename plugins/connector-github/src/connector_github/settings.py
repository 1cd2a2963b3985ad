"""The GitHub source as data: its form, client, credential check and endpoint catalog.

Each endpoint's behaviour (pagination, filters, order, keys) is documented, with references,
in api_inventory.md; keep the two in step. Requests, retries, pagination and fan-out are the
shared machinery's (headwater.rest). The pull requests' incremental read, which the API
cannot filter, stops at the watermark through the reader (``IncrementalParams(in_request=
False)`` below).
"""

from __future__ import annotations

import re
from typing import Any

from connector_github import SPEC
from connector_github._config import GithubConfig
from headwater import ErrorKind, ErrorRule, IncrementalField, SecretField, TextField
from headwater.errors import ConfigError, ConfigProblem
from headwater.rest import (
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
    RetryPolicy,
)

__all__ = [
    "API_VERSION",
    "BASE_URL",
    "CLIENT",
    "COMMITS",
    "ENDPOINTS",
    "ISSUES",
    "GithubSource",
    "LABEL",
    "NON_RETRYABLE_ERRORS",
    "PULL_REQUESTS",
    "PULL_REQUEST_REVIEWS",
    "RELEASES",
    "REPOSITORY_PATTERN",
    "REVIEWS_OF_PULL_REQUESTS",
    "STARGAZERS",
    "WORKFLOW_RUNS",
    "repository",
]

BASE_URL = "https://api.github.com"

# GitHub's documented rules: an owner is alphanumeric with single hyphens (at most 39
# characters); a repository name is letters, digits, `.`, `-` and `_`.
REPOSITORY_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}"
API_VERSION = "2022-11-28"
LABEL = SPEC.label

CLIENT = ClientConfig(
    base_url=BASE_URL,
    headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
    # GitHub asks not to retry before `x-ratelimit-reset`, which is up to an hour away (the
    # primary limit is per hour); the default 120 s cap would give up on a spent limit. A
    # secondary limit without retry-after or x-ratelimit-remaining: 0 waits at least a minute,
    # as GitHub asks (api_inventory.md, "Rate limits").
    retry=RetryPolicy(max_server_wait=3600.0, max_total_wait=4500.0, rate_limit_min_wait=60.0),
)

# Every list below is paginated by the Link header (rel="next"), per_page at most 100; GitHub's
# next links carry every query parameter of the request (since, sort, direction, state).
_PAGES: dict[str, Any] = {
    "paginator": LinkHeaderPaginator(),
    "page_size": 100,
    "page_size_param": "per_page",
}
_REPO = "/repos/{owner}/{repo}"

UPDATED_AT = IncrementalField(field="updated_at", label="Updated at", type="datetime")


def _drop_pull_requests(row: dict[str, Any]) -> dict[str, Any] | None:
    # The issues list returns pull requests too, marked by a `pull_request` key; they are the
    # `pull_requests` table's rows.
    return None if "pull_request" in row else row


ISSUES = Endpoint(
    name="issues",
    description="Issues of the repository, open and closed (pull requests are left out).",
    path=f"{_REPO}/issues",
    primary_keys=("id",),
    # Ascending by update time, so the host can advance the watermark page by page; `since`
    # filters on updated_at (inclusive), so an updated issue comes again.
    params={"state": "all", "sort": "updated", "direction": "asc"},
    **_PAGES,
    incremental=IncrementalParams(start_param="since"),
    incremental_fields=[UPDATED_AT],
    partition_key="created_at",
    sort_mode="asc",
    normalize=_drop_pull_requests,
)

PULL_REQUESTS = Endpoint(
    name="pull_requests",
    description="Pull requests of the repository, open and closed.",
    path=f"{_REPO}/pulls",
    primary_keys=("id",),
    # The pulls list has no `since` filter, but sorts by update time. Newest first, so an
    # incremental read can stop at the watermark: the reader applies the bounds to the rows
    # and stops after the first page that reaches below the lower one. Not sent to the API.
    params={"state": "all", "sort": "updated", "direction": "desc"},
    **_PAGES,
    incremental=IncrementalParams(
        start_param="updated_from", end_param="updated_to", in_request=False
    ),
    incremental_fields=[UPDATED_AT],
    partition_key="created_at",
    sort_mode="desc",
)

# The parent of the reviews fan-out: every pull request, oldest first, so pull requests opened
# during the read land on the last page instead of shifting the pages still to come.
PULL_REQUEST_PARENTS = PULL_REQUESTS.evolve(
    params={"state": "all", "sort": "created", "direction": "asc"},
    incremental=None,
    incremental_fields=(),
    sort_mode="asc",
)


def _committed_at(row: dict[str, Any]) -> dict[str, Any]:
    # The commit's own dates are nested (commit.committer.date); `since`/`until` filter on
    # them. A commit's dates are part of its sha, so they never change.
    commit = row.get("commit") or {}
    committer = commit.get("committer") or {}
    author = commit.get("author") or {}
    return {**row, "committed_at": committer.get("date"), "authored_at": author.get("date")}


COMMITS = Endpoint(
    name="commits",
    description="Commits of the default branch, newest first.",
    path=f"{_REPO}/commits",
    primary_keys=("sha",),
    **_PAGES,
    # Newest first and no way to ask for oldest first: `until` carries the earliest value an
    # interrupted read reached, so the next read continues below it.
    incremental=IncrementalParams(start_param="since", end_param="until"),
    incremental_fields=[
        IncrementalField(field="committed_at", label="Committed at", type="datetime")
    ],
    partition_key="committed_at",
    sort_mode="desc",
    # 409 {"message": "Git Repository is empty."}: a repository without commits.
    no_rows_statuses=[409],
    normalize=_committed_at,
)


def _stargazer(row: dict[str, Any]) -> dict[str, Any]:
    user = row.get("user") or {}
    return {**row, "user_id": user.get("id"), "user_login": user.get("login")}


STARGAZERS = Endpoint(
    name="stargazers",
    description="Users who starred the repository, with when they did.",
    path=f"{_REPO}/stargazers",
    primary_keys=("user_id",),
    # Only this media type adds `starred_at` (rows become {"starred_at", "user"}).
    headers={"Accept": "application/vnd.github.star+json"},
    **_PAGES,
    # No filter parameter: the list is read whole (full refresh).
    partition_key="starred_at",
    normalize=_stargazer,
)

RELEASES = Endpoint(
    name="releases",
    description="Releases of the repository (published and drafts the token may see).",
    path=f"{_REPO}/releases",
    primary_keys=("id",),
    **_PAGES,
    # No filter parameter: the list is read whole (full refresh).
    partition_key="created_at",
)

WORKFLOW_RUNS = Endpoint(
    name="workflow_runs",
    description="GitHub Actions workflow runs of the repository, newest first.",
    path=f"{_REPO}/actions/runs",
    primary_keys=("id",),
    data_selector="workflow_runs",
    **_PAGES,
    # Read whole: the `created` filter caps a listing at 1,000 runs (documented), which
    # would end an incremental read early without an error, and a run's status changes after
    # it is created, so a creation-time watermark would miss those updates.
    partition_key="created_at",
    sort_mode="desc",
)

PULL_REQUEST_REVIEWS = Endpoint(
    name="pull_request_reviews",
    description="Reviews of every pull request, read per pull request.",
    path=f"{_REPO}/pulls/{{pull_number}}/reviews",
    primary_keys=("id",),
    **_PAGES,
    # No partition: `submitted_at` is null for a pending review.
)

REVIEWS_OF_PULL_REQUESTS = DependentEndpoint(
    parent_name="pull_requests",
    resolve_param="pull_number",
    resolve_field="number",
    include_from_parent=("id", "number"),
    renames={"number": "pull_number"},
    # A pull request deleted (or made invisible) between the two reads answers 404.
    parent_errors=ParentErrorPolicy(skip_statuses=[404]),
)

ENDPOINTS = {
    endpoint.name: endpoint
    for endpoint in (
        ISSUES,
        PULL_REQUESTS,
        COMMITS,
        STARGAZERS,
        RELEASES,
        WORKFLOW_RUNS,
        PULL_REQUEST_REVIEWS,
    )
}


def _needs(permission: str, scope: str) -> str:
    return (
        f"The {LABEL} token may not read this: a fine-grained token needs the repository"
        f" permission '{permission}' (read); a classic token needs the '{scope}' scope for a"
        " private repository"
    )


# 403s that are rate limits never get here: the client retries them (x-ratelimit-remaining 0,
# retry-after, or "rate limit" in the message). The permission rules name the permission the
# endpoint's documentation requires; the first match wins, so the generic one comes last.
NON_RETRYABLE_ERRORS = (
    # Raised by repository() before any request (the form cannot check a pattern yet).
    ErrorRule(
        text="expected owner/repo",
        message="Set `repository` to owner/repo, as in the repository's URL on github.com",
    ),
    ErrorRule(
        kind=ErrorKind.AUTHENTICATION,
        message=f"{LABEL} rejected the token (Bad credentials): create a new personal access"
        " token and update the config",
    ),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/actions/runs", message=_needs("Actions", "repo")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/pulls", message=_needs("Pull requests", "repo")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/issues", message=_needs("Issues", "repo")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/commits", message=_needs("Contents", "repo")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/releases", message=_needs("Contents", "repo")),
    ErrorRule(kind=ErrorKind.PERMISSION, message=_needs("Metadata", "repo")),
    ErrorRule(
        kind=ErrorKind.NOT_FOUND,
        message=f"{LABEL} shows no such repository to this token (a private repository the"
        " token cannot see answers 404 too): check `repository` and the token's repository"
        " access",
    ),
)


# The form checks REPOSITORY_PATTERN when a config file is loaded; this check covers configs
# built in code, before any request, so a typo fails clearly.
_REPOSITORY = re.compile(f"^{REPOSITORY_PATTERN}$")


def repository(config: GithubConfig) -> dict[str, str]:
    """The path values of the configured ``owner/repo``: ``{"owner": ..., "repo": ...}``.

    :raises ConfigError: at ``$.repository`` when it is not of that form.
    """
    value = config.repository.strip()
    if not _REPOSITORY.match(value) or value.endswith(("/.", "/..")):
        raise ConfigError(
            [ConfigProblem(path="$.repository", message="expected owner/repo, like octo-org/app")],
            context=f"invalid {LABEL} configuration",
        )
    owner, repo = value.split("/", 1)
    return {"owner": owner, "repo": repo}


class GithubSource(RestSource[GithubConfig]):
    """Reads one repository."""

    spec = SPEC
    caption = (
        "Issues, pull requests and their reviews, commits, stargazers, releases and workflow"
        " runs of one GitHub repository."
    )
    category = "Engineering"
    docs_url = "https://docs.github.com/en/rest?apiVersion=2022-11-28"
    # After changing the fields, regenerate _config.py (`headwater generate github`).
    fields = (
        TextField(
            name="repository",
            label="Repository",
            caption="owner/repo, as in the repository's URL on github.com.",
            placeholder="octo-org/octo-repo",
            pattern=REPOSITORY_PATTERN,
            pattern_hint="owner/repo, like octo-org/octo-repo",
        ),
        SecretField(
            name="token",
            label="Personal access token",
            caption=(
                "A fine-grained token with read access to the repository's Metadata,"
                " Contents, Issues, Pull requests and Actions (or a classic token with"
                " the repo scope for a private repository)."
            ),
        ),
    )
    client = CLIENT
    auth = BearerAuth.from_config("token")
    path_values = PathValues(derive=repository)
    # Reading the repository itself needs the token and access to the repository.
    credential_check = CredentialCheck(
        path=_REPO,
        messages={
            ErrorKind.AUTHENTICATION: "{label} rejected the token (Bad credentials): create a"
            " new personal access token and update the config",
            ErrorKind.PERMISSION: "The {label} token may not read {repository}: give a"
            " fine-grained token read access to the repository's Metadata, or a classic"
            " token the repo scope",
            ErrorKind.NOT_FOUND: "{label} shows no repository {repository!r} to this token:"
            " check the name, and that the token has access to it (private repositories"
            " answer 404)",
        },
    )
    endpoints = ENDPOINTS
    fanouts = (
        FanOut(
            parent=PULL_REQUEST_PARENTS,
            child=PULL_REQUEST_REVIEWS,
            dependent=REVIEWS_OF_PULL_REQUESTS,
        ),
    )
    non_retryable_errors = NON_RETRYABLE_ERRORS
