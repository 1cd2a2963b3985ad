"""The GitHub REST API emulator, written from GitHub's documentation, and the contract kit.

The emulator answers as api_inventory.md says the API does (with the references there); it
is written from that documentation, never from settings.py, or it would agree with the
connector's mistakes. What it follows:

- ``Authorization: Bearer <token>`` or ``token <token>``; anything else is
  ``401 {"message": "Bad credentials", ...}``. :data:`METADATA_ONLY_TOKEN` (a fine-grained
  token with the Metadata permission only) reads the repository and gets ``403 {"message":
  "Resource not accessible by personal access token", ...}`` below it. An
  ``X-GitHub-Api-Version`` other than a supported one is a 400.
- One repository, ``octo-org/octo-repo``; any other is ``404 {"message": "Not Found", ...}``
  (as a private repository the token cannot see). ``GithubApi(empty=True)`` holds no commits:
  its commits list is ``409 {"message": "Git Repository is empty.", ...}``.
- Lists are paginated with ``page`` and ``per_page`` (default 30, at most 100) and a ``Link``
  header with ``rel="next"``, ``"last"``, ``"first"`` and ``"prev"``; the links carry every
  query parameter of the request. The last page has no ``next``. A single page has no Link.
- ``/issues``: ``state`` (``open`` by default), ``sort`` (``created`` by default, or
  ``updated``, ``comments``), ``direction`` (``desc`` by default), ``since`` (issues updated at
  or after it). Pull requests are listed too, with a ``pull_request`` key.
- ``/pulls``: ``state`` (``open`` by default), ``sort`` (``created`` by default, ``updated``,
  ``popularity``, ``long-running``), ``direction`` (``desc`` for ``created``, else ``asc``);
  no ``since``. ``/pulls/{n}/reviews``: reviews in chronological order.
- ``/commits``: newest first by commit date; ``since`` and ``until`` (inclusive).
- ``/stargazers``: users; with ``Accept: application/vnd.github.star+json``, rows
  ``{"starred_at", "user"}``. Oldest star first.
- ``/releases``: newest first. ``/actions/runs``: ``{"total_count", "workflow_runs"}``,
  newest first.
- The documented parameter rules (:data:`PARAM_RULES`, checked before the routes): ``since``
  and ``until`` are ISO 8601; ``state``, ``sort`` and ``direction`` take their listed values.
  A request that breaks one is ``422 {"message": ..., "documentation_url": ...}``.
- ``per_page`` above 100 is served as 100, as the docs' maximum says (not refused).
- Rate-limit headers on every answer; inject ``403``/``429`` with ``x-ratelimit-remaining: 0``
  or ``retry-after`` through :meth:`~headwater.emulator.Emulator.inject` (see
  :func:`rate_limited`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from headwater.emulator import (
    Choice,
    ContractKit,
    Emulator,
    EndpointRules,
    InvalidConfig,
    Matches,
    ParamProblem,
    ParentLink,
    SchemaKit,
    StatusFailure,
    json_response,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import httpx

__all__ = [
    "METADATA_ONLY_TOKEN",
    "OWNER",
    "PARAM_RULES",
    "REPO",
    "REPOSITORY",
    "TOKEN",
    "GithubApi",
    "kit",
    "rate_limited",
]

OWNER = "octo-org"
REPO = "octo-repo"
REPOSITORY = f"{OWNER}/{REPO}"
TOKEN = "ghp_contractToken0001"
METADATA_ONLY_TOKEN = "github_pat_metadataOnly0001"
"""A fine-grained token granted the repository but only its Metadata permission: the
repository itself answers, every list of issues, pulls, commits, releases or runs is ``403
Resource not accessible by personal access token`` (api_inventory.md, Authentication)."""
DOCS = "https://docs.github.com/rest"
API_VERSIONS = ("2022-11-28",)
STAR_MEDIA_TYPE = "application/vnd.github.star+json"
_START = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
_DEFAULT_PER_PAGE = 30
_MAX_PER_PAGE = 100

# An ISO 8601 date or datetime, as `since`/`until` take them (api_inventory.md, "Parameter
# rules"); the connector sends YYYY-MM-DDTHH:MM:SSZ.
_ISO = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"


def _timestamp(name: str) -> Matches:
    return Matches(
        name=name,
        pattern=_ISO,
        message="The {param} parameter needs to be in ISO 8601 format: YYYY-MM-DDTHH:MM:SSZ",
    )


def _one_of(name: str, *values: str) -> Choice:
    return Choice(name=name, values=values, message="Validation Failed: {param} '{value}'")


_STATE = _one_of("state", "open", "closed", "all")
_DIRECTION = _one_of("direction", "asc", "desc")
PARAM_RULES = (
    EndpointRules(
        path="/repos/{owner}/{repo}/issues",
        rules=[
            _timestamp("since"),
            _STATE,
            _one_of("sort", "created", "updated", "comments"),
            _DIRECTION,
        ],
    ),
    EndpointRules(
        path="/repos/{owner}/{repo}/pulls",
        rules=[
            _STATE,
            _one_of("sort", "created", "updated", "popularity", "long-running"),
            _DIRECTION,
        ],
    ),
    EndpointRules(
        path="/repos/{owner}/{repo}/commits", rules=[_timestamp("since"), _timestamp("until")]
    ),
)
"""The parameter rules GitHub documents for the endpoints the connector reads."""


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _error(status: int, message: str, docs: str = DOCS) -> httpx.Response:
    return json_response(
        status, {"message": message, "documentation_url": docs, "status": str(status)}
    )


class _Invalid(Exception):
    """A request parameter GitHub would refuse (422 Validation Failed)."""


def rate_limited(
    status: int = 403, *, reset_in: int = 60, now: dt.datetime = _START
) -> StatusFailure:
    """A primary rate-limit answer as GitHub sends it (403 or 429, remaining 0, a reset)."""
    reset = int(now.timestamp()) + reset_in
    return StatusFailure(
        status=status,
        headers={
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": str(reset),
        },
        json={
            "message": "API rate limit exceeded for user ID 1.",
            "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
        },
    )


class GithubApi(Emulator):
    """The API with one repository: issues, pull requests and their reviews, commits, stars,
    releases and workflow runs, each more than one page of 100 (reviews: one page per pull).
    """

    param_rules = PARAM_RULES

    def __init__(self, *, empty: bool = False) -> None:
        super().__init__()
        self.now = _START
        self.empty = empty
        self._numbers = 0
        self._ids = 1000
        for index in range(105):
            self._new_pull(closed=index % 3 == 0)
        for index in range(110):
            self._new_issue(closed=index % 4 == 0)
        if not empty:
            for _ in range(210):
                self._new_commit()
        for _ in range(150):
            self._new_star()
        for _ in range(101):
            self._new_release()
        for _ in range(120):
            self._new_run()

    # --- data -----------------------------------------------------------------------------

    def _tick(self) -> str:
        self.now += dt.timedelta(minutes=7)
        return _iso(self.now)

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def _user(self, number: int) -> dict[str, Any]:
        return {"login": f"user{number}", "id": 500 + number, "type": "User"}

    def _issue_row(self, number: int, moment: str, *, closed: bool) -> dict[str, Any]:
        return {
            "id": self._id(),
            "number": number,
            "title": f"Issue {number}",
            "state": "closed" if closed else "open",
            "user": self._user(number % 7),
            "created_at": moment,
            "updated_at": moment,
            "closed_at": moment if closed else None,
        }

    def _new_issue(self, *, closed: bool = False, at: str | None = None) -> None:
        self._numbers += 1
        moment = at or self._tick()
        self.store.add("issues", [self._issue_row(self._numbers, moment, closed=closed)])

    def _new_pull(self, *, closed: bool = False, at: str | None = None) -> None:
        self._numbers += 1
        number = self._numbers
        moment = at or self._tick()
        pull = {
            "id": self._id(),
            "number": number,
            "title": f"Change {number}",
            "state": "closed" if closed else "open",
            "user": self._user(number % 5),
            "created_at": moment,
            "updated_at": moment,
            "merged_at": moment if closed else None,
        }
        self.store.add("pulls", [pull])
        # Every pull request is an issue too: the issues list shows it with `pull_request`.
        issue = self._issue_row(number, moment, closed=closed)
        url = f"https://api.github.com/repos/{REPOSITORY}/pulls/{number}"
        self.store.add("issues", [{**issue, "pull_request": {"url": url}}])
        for _ in range(number % 3):
            self._new_review(number)

    def _new_review(self, number: int) -> None:
        self.store.add(
            "reviews",
            [
                {
                    "id": self._id(),
                    "pull_number": number,
                    "user": self._user(number % 4),
                    "state": "APPROVED",
                    "submitted_at": self._tick(),
                }
            ],
        )

    def _new_commit(self, *, at: str | None = None) -> None:
        moment = at or self._tick()
        sha = f"{self._id():040x}"
        signature = {"name": "Ada", "email": "ada@example.com", "date": moment}
        self.store.add(
            "commits",
            [
                {
                    "sha": sha,
                    "commit": {"author": signature, "committer": signature, "message": sha[-6:]},
                    "author": self._user(1),
                }
            ],
            key="sha",
        )

    def _new_star(self) -> None:
        user = self._user(len(self.store.rows("stars")) + 10)
        self.store.add("stars", [{"starred_at": self._tick(), "user": user}], key="starred_at")

    def _new_release(self) -> None:
        number = len(self.store.rows("releases")) + 1
        moment = self._tick()
        self.store.add(
            "releases",
            [
                {
                    "id": self._id(),
                    "tag_name": f"v0.{number}.0",
                    "draft": False,
                    "created_at": moment,
                    "published_at": moment,
                }
            ],
        )

    def _new_run(self) -> None:
        moment = self._tick()
        self.store.add(
            "runs",
            [
                {
                    "id": self._id(),
                    "name": "CI",
                    "status": "completed",
                    "conclusion": "success",
                    "created_at": moment,
                    "updated_at": moment,
                }
            ],
        )

    def _touch(self, table: str, row: Mapping[str, Any]) -> None:
        self.store.add(table, [{**row, "updated_at": self._tick()}])

    def add_rows(self, schema: str) -> None:
        """Between two syncs: new rows arrive; for issues and pull requests one is updated."""
        if schema == "issues":
            oldest = next(r for r in self.store.rows("issues") if "pull_request" not in r)
            self._touch("issues", {**oldest, "state": "closed"})
            self._new_issue()
            self._new_issue()
        elif schema == "pull_requests":
            oldest = self.store.rows("pulls")[0]
            self._touch("pulls", {**oldest, "state": "closed"})
            self._new_pull()
            self._new_pull()
        elif schema == "commits":
            self._new_commit()
            self._new_commit()
        elif schema == "stargazers":
            self._new_star()
        elif schema == "releases":
            self._new_release()
        elif schema == "workflow_runs":
            self._new_run()
        elif schema == "pull_request_reviews":
            self._new_review(self.store.rows("pulls")[0]["number"])

    def add_row_at(self, schema: str, field: str, value: Any) -> None:
        """A new issue, pull request or commit whose incremental field is exactly ``value``
        (ISO text, as the connector's rows hold ``updated_at`` and ``committed_at``)."""
        moment = str(value)
        match (schema, field):
            case ("issues", "updated_at"):
                self._new_issue(at=moment)
            case ("pull_requests", "updated_at"):
                self._new_pull(at=moment)
            case ("commits", "committed_at"):
                self._new_commit(at=moment)
            case _:
                raise ValueError(f"no incremental field {field!r} on {schema!r}")

    # --- the API --------------------------------------------------------------------------

    def param_error(self, request: httpx.Request, problem: ParamProblem) -> httpx.Response:
        return _error(422, problem.message)

    def handle(self, request: httpx.Request) -> httpx.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or token not in (TOKEN, METADATA_ONLY_TOKEN):
            return _error(401, "Bad credentials")
        raw_path = request.url.path.rstrip("/")
        if token == METADATA_ONLY_TOKEN and raw_path.count("/") > 3:
            # /repos/{owner}/{repo} is Metadata; anything below it needs another permission.
            return _error(403, "Resource not accessible by personal access token")
        version = request.headers.get("X-GitHub-Api-Version")
        if version is not None and version not in API_VERSIONS:
            return _error(400, f"API version {version} is not supported.")
        raw = request.url.raw_path.split(b"?")[0].decode()
        segments = [unquote(part) for part in raw.strip("/").split("/")]
        try:
            answer = self._route(request, segments)
        except _Invalid as problem:
            return _error(422, f"Validation Failed: {problem}")
        answer.headers.update(
            {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "4999",
                "x-ratelimit-reset": str(int(self.now.timestamp()) + 3600),
            }
        )
        return answer

    def _route(self, request: httpx.Request, segments: list[str]) -> httpx.Response:
        params = request.url.params
        match segments:
            case ["repos", owner, repo, *_] if (owner.lower(), repo.lower()) != (OWNER, REPO):
                return _error(404, "Not Found")
            case ["repos", _, _]:
                return json_response(200, {"id": 1, "full_name": REPOSITORY, "private": True})
            case ["repos", _, _, "issues"]:
                return self._page(request, self._issues(params))
            case ["repos", _, _, "pulls"]:
                return self._page(request, self._pulls(params))
            case ["repos", _, _, "pulls", number, "reviews"]:
                return self._reviews(request, number)
            case ["repos", _, _, "commits"]:
                if self.empty:
                    return _error(409, "Git Repository is empty.", f"{DOCS}/commits/commits")
                return self._page(request, self._commits(params))
            case ["repos", _, _, "stargazers"]:
                return self._page(request, self._stars(request))
            case ["repos", _, _, "releases"]:
                rows = sorted(self.store.rows("releases"), key=lambda r: r["created_at"])
                return self._page(request, rows[::-1])
            case ["repos", _, _, "actions", "runs"]:
                rows = sorted(self.store.rows("runs"), key=lambda r: r["created_at"])[::-1]
                return self._page(
                    request,
                    rows,
                    wrap=lambda page: {"total_count": len(rows), "workflow_runs": page},
                )
        return _error(404, "Not Found")

    # --- lists ----------------------------------------------------------------------------

    def _page(
        self,
        request: httpx.Request,
        rows: list[dict[str, Any]],
        *,
        wrap: Callable[[list[dict[str, Any]]], Any] | None = None,
    ) -> httpx.Response:
        params = request.url.params
        size = min(_number(params, "per_page", _DEFAULT_PER_PAGE), _MAX_PER_PAGE)
        page = max(_number(params, "page", 1), 1)
        chunk = rows[(page - 1) * size : page * size]
        last = max((len(rows) + size - 1) // size, 1)
        links = []

        def link(number: int, rel: str) -> str:
            return f'<{request.url.copy_merge_params({"page": str(number)})}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        headers = {"Link": ", ".join(links)} if links else {}
        return json_response(200, wrap(chunk) if wrap else chunk, headers)

    # PARAM_RULES have checked state, sort, direction and the timestamps' format.

    def _issues(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        rows = _by_state(self.store.rows("issues"), params.get("state", "open"))
        since = _bound(params, "since")
        if since is not None:
            rows = [row for row in rows if _parse(row["updated_at"]) >= since]
        sort = params.get("sort", "created")
        field = "updated_at" if sort == "updated" else "created_at"
        return _ordered(rows, field, params.get("direction", "desc"))

    def _pulls(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        rows = _by_state(self.store.rows("pulls"), params.get("state", "open"))
        sort = params.get("sort", "created")
        field = "updated_at" if sort == "updated" else "created_at"
        default = "desc" if sort == "created" else "asc"
        return _ordered(rows, field, params.get("direction", default))

    def _reviews(self, request: httpx.Request, number: str) -> httpx.Response:
        if not any(str(pull["number"]) == number for pull in self.store.rows("pulls")):
            return _error(404, "Not Found")
        rows = [r for r in self.store.rows("reviews") if str(r["pull_number"]) == number]
        rows = sorted(rows, key=lambda r: (r["submitted_at"], r["id"]))
        return self._page(
            request, [{k: v for k, v in r.items() if k != "pull_number"} for r in rows]
        )

    def _commits(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        rows = self.store.rows("commits")
        since, until = _bound(params, "since"), _bound(params, "until")

        def date(row: dict[str, Any]) -> dt.datetime:
            return _parse(row["commit"]["committer"]["date"])

        if since is not None:
            rows = [row for row in rows if date(row) >= since]
        if until is not None:
            rows = [row for row in rows if date(row) <= until]
        return sorted(rows, key=date, reverse=True)

    def _stars(self, request: httpx.Request) -> list[dict[str, Any]]:
        rows = sorted(self.store.rows("stars"), key=lambda row: row["starred_at"])
        if STAR_MEDIA_TYPE in request.headers.get("Accept", ""):
            return rows
        return [row["user"] for row in rows]


def _number(params: httpx.QueryParams, name: str, default: int) -> int:
    try:
        return int(params.get(name, str(default)))
    except ValueError:
        raise _Invalid(name) from None


def _bound(params: httpx.QueryParams, name: str) -> dt.datetime | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return _parse(value)
    except ValueError:
        raise _Invalid(f"{name} must be an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SSZ)") from None


def _by_state(rows: list[dict[str, Any]], state: str) -> list[dict[str, Any]]:
    return rows if state == "all" else [row for row in rows if row["state"] == state]


def _ordered(rows: list[dict[str, Any]], field: str, direction: str) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: (row[field], row["id"]), reverse=direction == "desc")


def _stargazer_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["user"]["id"],)


def _issue_key(row: Mapping[str, Any]) -> tuple[Any, ...] | None:
    return None if "pull_request" in row else (row["id"],)


def _commit_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["sha"],)


kit = ContractKit(
    emulator=GithubApi,
    valid_config={"repository": REPOSITORY, "token": TOKEN},
    invalid_configs=[
        InvalidConfig(config={"token": TOKEN}, path="$.repository", description="no repository"),
        InvalidConfig(config={"repository": REPOSITORY}, path="$.token", description="no token"),
        InvalidConfig(
            config={"repository": "", "token": TOKEN},
            path="$.repository",
            description="an empty repository",
        ),
    ],
    add_rows=GithubApi.add_rows,
    add_row_at=GithubApi.add_row_at,
    schemas={
        "issues": SchemaKit(expected_key=_issue_key),
        "pull_requests": SchemaKit(table="pulls"),
        "commits": SchemaKit(expected_key=_commit_key),
        "stargazers": SchemaKit(table="stars", expected_key=_stargazer_key),
        "workflow_runs": SchemaKit(table="runs"),
        "pull_request_reviews": SchemaKit(
            table="reviews",
            parent=ParentLink(
                schema="pull_requests", columns={"_pull_requests_id": "id", "pull_number": "number"}
            ),
        ),
    },
)
