"""The Sentry web API emulator, written from Sentry's documentation, and the contract kit.

The emulator answers as api_inventory.md says the API does (with the references there); it
is written from that documentation, never from settings.py. What it follows:

- ``Authorization: Bearer <token>``; anything else is ``401 {"detail": "Invalid token"}``.
  Every answer carries ``X-Sentry-Rate-Limit-Limit``/``-Remaining``/``-Reset`` (epoch
  seconds); :func:`rate_limited` is a 429 as Sentry sends one.
- The API lives under ``/api/0/`` on ``sentry.io`` and the region hosts. The one
  organization, ``acme``, is stored in the US: ``sentry.io`` and ``us.sentry.io`` serve it,
  ``de.sentry.io`` answers ``404 {"detail": "The requested resource does not exist"}``, as
  for any other organization, project or issue.
- Lists are paginated with an opaque ``cursor`` (``<value>:<offset>:<is_prev>``) and
  ``per_page`` (default and maximum 100). Every list answer has a ``Link`` header with a
  ``rel="previous"`` and a ``rel="next"`` link, each with ``results="true|false"`` and its
  ``cursor``; the links carry every query parameter of the request. The last page's next
  link says ``results="false"``.
- ``/organizations/{org}/issues/``: ``query`` defaults to ``is:unresolved`` (``query=`` lists
  every status); ``sort`` is ``date`` (last seen, newest first, the default), ``new`` (first
  seen, newest first) or ``freq``; ``start``/``end`` (ISO 8601) list the issues with an event
  in that window; ``statsPeriod`` overrides them. A bad date is a 400.
- ``/projects/{org}/{project}/events/`` (project by slug or id) and
  ``/organizations/{org}/issues/{id}/events/``: events newest first; ``start``/``end``.
- Issues carry ``count`` as a decimal string (``"count": "3"``) and ``project`` as an object
  (``id``, ``slug``, ``name``), as Sentry's examples show.
- ``/organizations/{org}/issues/{id}/`` (Retrieve an Issue); ``.../hashes/``; ``.../tags/``
  (every tag key of the issue, one unpaginated list: *not* in Sentry's public reference, so
  :attr:`SentryApi.lists_tag_keys` ``= False`` answers it 404, as a server that no longer
  serves it would); ``.../tags/{key}/values/``: ``sort`` (``-id`` by default), at most
  1000 values.
- The documented parameter rules (:data:`PARAM_RULES`, checked before the routes): a time
  window is ``start`` *and* ``end`` (or ``statsPeriod``), never one of the two; each is an
  ISO 8601 date or datetime; a tag's values sort by ``age``, ``count``, ``date`` or ``id``
  (``-`` for descending). A request that breaks one is ``400 {"detail": ...}`` in the
  endpoint's own words.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
    Together,
    json_response,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

__all__ = ["ORGANIZATION", "PARAM_RULES", "TOKEN", "SentryApi", "kit", "rate_limited"]

ORGANIZATION = "acme"
TOKEN = "sntrys_contractToken0001"
US_HOSTS = ("sentry.io", "us.sentry.io")
_START = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
_PAGE = 100
_MAX_VALUES = 1000
_NOT_FOUND = "The requested resource does not exist"

# What Sentry's date parsing takes: an ISO 8601 date, or a datetime with an optional fraction
# and zone (api_inventory.md, "Parameter rules").
_DATE = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"


def _window(message: str) -> tuple[Together | Matches, ...]:
    # Sentry's shared date-range parsing: statsPeriod wins; otherwise start and end come
    # together or not at all (api_inventory.md, "Parameter rules").
    return (
        Together(names=("start", "end"), unless=("statsPeriod",), message=message),
        Matches(name="start", pattern=_DATE, message="{param}: Invalid date format"),
        Matches(name="end", pattern=_DATE, message="{param}: Invalid date format"),
    )


_BOTH_REQUIRED = "start and end are both required"
PARAM_RULES = (
    EndpointRules(path="/api/0/organizations/{org}/issues/", rules=_window(_BOTH_REQUIRED)),
    EndpointRules(
        path="/api/0/organizations/{org}/issues/{issue_id}/events/",
        rules=_window(_BOTH_REQUIRED),
    ),
    # The project events endpoint words every date-range problem the same way.
    EndpointRules(
        path="/api/0/projects/{org}/{project}/events/",
        rules=_window("Invalid date range parameters provided"),
    ),
    EndpointRules(
        path="/api/0/organizations/{org}/issues/{issue_id}/tags/{key}/values/",
        rules=[
            Choice(
                name="sort",
                values={
                    f"{sign}{field}"
                    for sign in ("", "-")
                    for field in ("age", "count", "date", "id")
                },
                message="Invalid sort: {value}",
            )
        ],
    ),
)
"""The parameter rules Sentry documents for the endpoints the connector reads."""


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _error(status: int, detail: str) -> httpx.Response:
    return json_response(status, {"detail": detail})


class _Invalid(Exception):
    """A parameter Sentry refuses (400 with a detail)."""


def rate_limited(*, reset_in: int = 30, now: dt.datetime = _START) -> StatusFailure:
    """A 429 as Sentry sends it: the window's reset in epoch seconds, nothing remaining."""
    return StatusFailure(
        status=429,
        headers={
            "X-Sentry-Rate-Limit-Limit": "40",
            "X-Sentry-Rate-Limit-Remaining": "0",
            "X-Sentry-Rate-Limit-Reset": str(int(now.timestamp()) + reset_in),
        },
        json={"detail": "You are attempting to use this endpoint too frequently. Limit is 40"},
    )


class SentryApi(Emulator):
    """One organization: 101 projects, 120 issues with their events, hashes and tag values.

    Issue ``1`` has more than a page of events (so its project has too), two hashes and a
    ``url`` tag with 150 values.
    """

    param_rules = PARAM_RULES

    def __init__(self) -> None:
        super().__init__()
        self.lists_tag_keys = True
        """Whether ``.../issues/{id}/tags/`` is served (undocumented; ``False``: a 404)."""
        self.now = _START
        self._ids = 0
        self.projects: list[dict[str, Any]] = []
        for number in range(1, 102):
            self.add_project(f"project-{number}")
        for number in range(1, 121):
            issue = self._new_issue(self.projects[number % 7])
            self._new_event(issue, count=105 if number == 1 else 1 + number % 2)
            self._new_hash(issue)
            if number == 1:
                self._new_hash(issue)
                for value in range(150):
                    self._tag_value(issue, "url", f"https://app.example/{value}")

    # --- data -----------------------------------------------------------------------------

    def _tick(self) -> str:
        self.now += dt.timedelta(minutes=3)
        return _iso(self.now)

    def _id(self) -> str:
        self._ids += 1
        return str(4500 + self._ids)

    def add_project(self, slug: str) -> dict[str, Any]:
        """A new project (any slug: tests add hostile ones)."""
        project = {
            "id": self._id(),
            "slug": slug,
            "name": slug.replace("-", " ").title(),
            "platform": "python",
            "dateCreated": self._tick(),
        }
        self.projects.append(project)
        self.store.add("projects", [project])
        return project

    def _new_issue(self, project: Mapping[str, Any], *, status: str | None = None) -> str:
        issue_id = self._id()
        number = len(self.store.rows("issues")) + 1
        self.store.add(
            "issues",
            [
                {
                    "id": issue_id,
                    "shortId": f"{project['slug'].upper()}-{number}",
                    "title": f"ValueError: case {number}",
                    "culprit": "app.handlers",
                    "level": "error",
                    "status": status or ("unresolved", "resolved", "ignored")[number % 3],
                    "project": {k: project[k] for k in ("id", "slug", "name")},
                    "count": "0",
                    "userCount": 0,
                    "firstSeen": None,
                    "lastSeen": None,
                }
            ],
        )
        return issue_id

    def _issue(self, issue_id: str) -> dict[str, Any]:
        return next(row for row in self.store.rows("issues") if row["id"] == issue_id)

    def _new_event(self, issue_id: str, *, count: int = 1, at: str | None = None) -> None:
        issue = self._issue(issue_id)
        for _ in range(count):
            moment = at or self._tick()
            event_id = hashlib.md5(f"event{self._id()}".encode()).hexdigest()
            self.store.add(
                "events",
                [
                    {
                        "id": event_id,
                        "eventID": event_id,
                        "groupID": issue_id,
                        "projectID": issue["project"]["id"],
                        "title": issue["title"],
                        "message": "",
                        "platform": "python",
                        "dateCreated": moment,
                        "tags": [{"key": "level", "value": "error"}],
                    }
                ],
            )
            issue["firstSeen"] = issue["firstSeen"] or moment
            issue["lastSeen"] = moment
            issue["count"] = str(int(issue["count"]) + 1)
        self.store.add("issues", [issue])
        self._tag_value(issue_id, "level", "error", seen=issue["lastSeen"])

    def _new_hash(self, issue_id: str) -> None:
        digest = hashlib.md5(f"hash{self._id()}".encode()).hexdigest()
        self.store.add("hashes", [{"id": digest, "issue_id": issue_id, "latestEvent": None}])

    def _tag_value(self, issue_id: str, key: str, value: str, *, seen: str | None = None) -> None:
        ident = f"{issue_id}/{key}/{value}"
        known = next((r for r in self.store.rows("tag_values") if r["ident"] == ident), None)
        moment = seen or self._tick()
        row = known or {
            "ident": ident,
            "order": len(self.store.rows("tag_values")),
            "issue_id": issue_id,
            "key": key,
            "value": value,
            "name": value,
            "count": 0,
            "firstSeen": moment,
        }
        self.store.add(
            "tag_values", [{**row, "count": row["count"] + 1, "lastSeen": moment}], key="ident"
        )

    def add_rows(self, schema: str) -> None:
        """Between two syncs: an old issue is seen again, a new issue and events arrive."""
        oldest = self.store.rows("issues")[0]["id"]
        self._new_event(oldest)
        issue = self._new_issue(self.projects[3], status="unresolved")
        self._new_event(issue, count=2)
        self._new_hash(issue)

    def add_row_at(self, schema: str, field: str, value: Any) -> None:
        """A new issue whose one event makes its ``lastSeen`` exactly ``value`` (ISO text, as
        the connector's rows hold it): the only incremental field of the API."""
        if (schema, field) != ("issues", "lastSeen"):
            raise ValueError(f"no incremental field {field!r} on {schema!r}")
        issue = self._new_issue(self.projects[5], status="unresolved")
        self._new_event(issue, at=str(value))

    # --- the API --------------------------------------------------------------------------

    def param_error(self, request: httpx.Request, problem: ParamProblem) -> httpx.Response:
        return _error(400, problem.message)

    def handle(self, request: httpx.Request) -> httpx.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token != TOKEN:
            return _error(401, "Invalid token")
        raw = request.url.raw_path.split(b"?")[0].decode()
        segments = [unquote(part) for part in raw.strip("/").split("/")]
        try:
            if segments[:2] != ["api", "0"]:
                answer = _error(404, _NOT_FOUND)
            else:
                answer = self._route(request, segments[2:])
        except _Invalid as problem:
            answer = _error(400, str(problem))
        answer.headers.update(
            {
                "X-Sentry-Rate-Limit-Limit": "40",
                "X-Sentry-Rate-Limit-Remaining": "39",
                "X-Sentry-Rate-Limit-Reset": str(int(self.now.timestamp()) + 1),
            }
        )
        return answer

    def _route(self, request: httpx.Request, segments: list[str]) -> httpx.Response:
        host = request.url.host
        if host.endswith("sentry.io") and host not in US_HOSTS:
            # The organization is stored in the US; another region's host does not know it.
            # Served on 127.0.0.1 (headwater demo), the emulator stands for the US region.
            return _error(404, _NOT_FOUND)
        params = request.url.params
        match segments:
            case ["organizations", org, *_] | ["projects", org, *_] if org != ORGANIZATION:
                return _error(404, _NOT_FOUND)
            case ["organizations", _]:
                return json_response(200, {"id": "1", "slug": ORGANIZATION, "name": "Acme"})
            case ["organizations", _, "projects"]:
                return self._page(request, self.store.rows("projects"))
            case ["organizations", _, "issues"]:
                return self._page(request, self._issues(params))
            case ["organizations", _, "issues", issue_id, *rest]:
                if not any(row["id"] == issue_id for row in self.store.rows("issues")):
                    return _error(404, _NOT_FOUND)
                return self._issue_route(request, issue_id, rest)
            case ["projects", _, project, "events"]:
                found = [p for p in self.projects if project in (p["slug"], p["id"])]
                if not found:
                    return _error(404, _NOT_FOUND)
                rows = [e for e in self._events(params) if e["projectID"] == found[0]["id"]]
                return self._page(request, rows)
        return _error(404, _NOT_FOUND)

    def _issue_route(
        self, request: httpx.Request, issue_id: str, rest: list[str]
    ) -> httpx.Response:
        match rest:
            case []:
                return json_response(200, self._issue(issue_id))
            case ["events"]:
                rows = [e for e in self._events(request.url.params) if e["groupID"] == issue_id]
                return self._page(request, rows)
            case ["hashes"]:
                hashes = [
                    {k: v for k, v in h.items() if k != "issue_id"}
                    for h in self.store.rows("hashes")
                    if h["issue_id"] == issue_id
                ]
                return self._page(request, hashes)
            case ["tags"] if not self.lists_tag_keys:
                return _error(404, _NOT_FOUND)
            case ["tags"]:
                keys: dict[str, list[dict[str, Any]]] = {}
                for row in self._values(issue_id):
                    keys.setdefault(row["key"], []).append(row)
                tags = [
                    {
                        "key": key,
                        "name": key.title(),
                        "uniqueValues": len(rows),
                        "totalValues": sum(r["count"] for r in rows),
                        "topValues": [_public(r) for r in rows[:9]],
                    }
                    for key, rows in keys.items()
                ]
                return json_response(200, tags)
            case ["tags", key, "values"]:
                rows = [r for r in self._values(issue_id) if r["key"] == key]
                if not rows:
                    return _error(404, _NOT_FOUND)
                sort = request.url.params.get("sort", "-id")  # checked by PARAM_RULES
                field = {"id": "order", "age": "firstSeen", "date": "lastSeen", "count": "count"}
                rows.sort(key=lambda r: r[field[sort.lstrip("-")]], reverse=sort[0] == "-")
                return self._page(request, [_public(r) for r in rows], limit=_MAX_VALUES)
        return _error(404, _NOT_FOUND)

    # --- lists ----------------------------------------------------------------------------

    def _page(
        self, request: httpx.Request, rows: list[dict[str, Any]], *, limit: int | None = None
    ) -> httpx.Response:
        params = request.url.params
        try:
            size = min(int(params.get("per_page", str(_PAGE))), _PAGE)
            _, offset_text, _ = params.get("cursor", "0:0:0").split(":")
            offset = int(offset_text)
        except ValueError:
            raise _Invalid("Invalid cursor parameter.") from None
        total = len(rows) if limit is None else min(len(rows), limit)
        chunk = rows[offset : min(offset + size, total)]

        def link(rel: str, at: int, results: bool, prev: int) -> str:
            cursor = f"0:{at}:{prev}"
            url = request.url.copy_merge_params({"cursor": cursor})
            flag = "true" if results else "false"
            return f'<{url}>; rel="{rel}"; results="{flag}"; cursor="{cursor}"'

        links = [
            link("previous", max(offset - size, 0), offset > 0, 1),
            link("next", offset + size, offset + size < total, 0),
        ]
        return json_response(200, chunk, {"Link": ", ".join(links)})

    def _window(self, params: httpx.QueryParams) -> tuple[dt.datetime | None, dt.datetime | None]:
        period = params.get("statsPeriod")
        if period:
            units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
            try:
                seconds = int(period[:-1]) * units[period[-1]]
            except (KeyError, ValueError):
                raise _Invalid(f"Invalid statsPeriod: {period}") from None
            return self.now - dt.timedelta(seconds=seconds), None
        bounds = []
        for name in ("start", "end"):
            value = params.get(name)
            try:
                bounds.append(_parse(value) if value else None)
            except ValueError:
                raise _Invalid(f"{name}: Invalid date format") from None
        return bounds[0], bounds[1]

    def _events(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        start, end = self._window(params)
        rows = [
            row
            for row in self.store.rows("events")
            if (start is None or _parse(row["dateCreated"]) >= start)
            and (end is None or _parse(row["dateCreated"]) <= end)
        ]
        return sorted(rows, key=lambda r: (r["dateCreated"], r["id"]), reverse=True)

    def _issues(self, params: httpx.QueryParams) -> list[dict[str, Any]]:
        query = params.get("query", "is:unresolved").strip()
        rows = self.store.rows("issues")
        if query == "is:unresolved":
            rows = [row for row in rows if row["status"] == "unresolved"]
        elif query:
            raise _Invalid(f"the emulator knows no query {query!r}")
        if "start" in params or "end" in params or "statsPeriod" in params:
            active = {row["groupID"] for row in self._events(params)}
            rows = [row for row in rows if row["id"] in active]
        sort = params.get("sort", "date")
        fields = {"date": "lastSeen", "new": "firstSeen", "freq": "count"}
        if sort not in fields:
            raise _Invalid(f"Invalid sort: {sort}")
        return sorted(rows, key=lambda r: (r[fields[sort]], r["id"]), reverse=True)

    def _values(self, issue_id: str) -> list[dict[str, Any]]:
        return [row for row in self.store.rows("tag_values") if row["issue_id"] == issue_id]


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    names = ("key", "name", "value", "count", "firstSeen", "lastSeen")
    return {name: row[name] for name in names}


def _event_of_project(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["projectID"], row["id"])


def _event_of_issue(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["groupID"], row["id"])


kit = ContractKit(
    emulator=SentryApi,
    valid_config={"organization": ORGANIZATION, "auth_token": TOKEN},
    invalid_configs=[
        InvalidConfig(config={"auth_token": TOKEN}, path="$.organization", description="no org"),
        InvalidConfig(
            config={"organization": ORGANIZATION}, path="$.auth_token", description="no token"
        ),
        InvalidConfig(
            config={"organization": ORGANIZATION, "auth_token": TOKEN, "region": "eu.example"},
            path="$.region",
            description="a host Sentry does not document",
        ),
    ],
    add_rows=SentryApi.add_rows,
    add_row_at=SentryApi.add_row_at,
    schemas={
        "project_events": SchemaKit(
            table="events",
            expected_key=_event_of_project,
            parent=ParentLink(
                schema="projects", columns={"project_id": "id", "project_slug": "slug"}
            ),
        ),
        "issue_events": SchemaKit(
            table="events",
            expected_key=_event_of_issue,
            parent=ParentLink(schema="issues", columns={"issue_id": "id"}),
        ),
        "issue_hashes": SchemaKit(
            table="hashes", parent=ParentLink(schema="issues", columns={"issue_id": "id"})
        ),
        "issue_tag_values": SchemaKit(
            table="tag_values", parent=ParentLink(schema="issues", columns={"issue_id": "id"})
        ),
    },
)
