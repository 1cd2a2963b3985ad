"""The Klaviyo API emulator, written from Klaviyo's documentation, and the contract kit.

The emulator answers as api_inventory.md says the API does (with the references there); it
is written from that documentation, never from settings.py, or it would agree with the
connector's mistakes. What it follows:

- ``Authorization: Klaviyo-API-Key <private key>``; anything else is
  ``401 {"errors": [{"code": "not_authenticated", ...}]}``. A ``revision`` header is required
  (``YYYY-MM-DD``, optionally ``.pre``); without it, or malformed, a 400.
- JSON:API documents: ``{"data": [resource...], "links": {"self", "next", "prev"}}``, each
  resource ``{"type", "id", "attributes", "relationships"?, "links"}``.
- Cursor pagination: ``links.next`` is the full URL of the next page (every query parameter
  of the request kept, ``page[cursor]`` set), ``null`` on the last page. ``page[size]`` only
  where documented (profiles and list profiles at most 100, flows at most 50, events at most
  1000 from revision 2026-01-15 on: under an older revision it is a 400, and events come 200
  a page); elsewhere it is a 400, and the page size is the API's own.
- ``additional-fields[profile]`` on ``/api/profiles`` (``subscriptions``,
  ``predictive_analytics``, ``hashed_email``, ``hashed_phone_number``, comma-separated): the
  profile's consent (``subscriptions``) and ``predictive_analytics`` are in its attributes
  only when asked for; another value, or the parameter on an endpoint whose page does not
  list it, is a 400.
- Time attributes are nullable, as the spec marks them: ``KlaviyoApi(undated_profile=True)``
  gives profile number :data:`UNDATED_PROFILE` ``updated: null``. It sorts first by
  ``updated`` and no time filter matches it. (Off by default: the contract suite requires
  every row to hold its incremental field.)
- ``filter``: ``op(field,value)`` expressions, several joined by ``and(...)`` or by commas;
  only the fields and operators each endpoint documents; datetimes unquoted (a quoted or
  malformed one is a 400). Campaigns require ``equals(messages.channel,'email'|'sms')``.
- ``sort``: the documented fields of each endpoint, ``-field`` for descending; without one,
  rows come in creation order.
- Rate-limit headers (``RateLimit-Limit``/``-Remaining``/``-Reset``) on every answer; a 429
  is ``{"errors": [{"code": "throttled", ...}]}`` with ``Retry-After`` (see :func:`throttled`).
- The documented parameter rules (:data:`PARAM_RULES`: ``page[size]`` ranges, ``sort`` fields,
  the campaigns' required channel filter) are checked before the routes; the filter
  expressions themselves are parsed and checked per field by the lists.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import attrs

from headwater.emulator import (
    Choice,
    ContractKit,
    Emulator,
    EndpointRules,
    IntegerRange,
    InvalidConfig,
    Matches,
    ParamProblem,
    ParamRule,
    ParentLink,
    Required,
    SchemaKit,
    StatusFailure,
    json_response,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

__all__ = [
    "PARAM_RULES",
    "PRIVATE_KEY",
    "REVISIONS",
    "UNDATED_PROFILE",
    "KlaviyoApi",
    "error_body",
    "kit",
    "throttled",
]

PRIVATE_KEY = "pk_contract0123456789abcdef0123"
_START = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
_REVISION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.pre)?$")
REVISIONS = ("2025-01-15", "2026-01-15", "2026-10-15")
"""Revisions whose behaviour the emulator models (api_inventory.md); another well-formed one
is answered as the nearest older of these."""
UNDATED_PROFILE = 5
"""The number of the profile whose ``updated`` is null (its ``created`` is set)."""
_PROFILE_EXTRAS = frozenset({"subscriptions", "predictive_analytics"})
_ORDER = {"greater-than", "greater-or-equal", "less-than", "less-or-equal"}
_EQUALS = {"equals", "any"}


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()  # 2025-03-01T08:00:00+00:00, as Klaviyo writes times


def error_body(status: int, code: str, title: str, detail: str, **source: str) -> dict[str, Any]:
    """A JSON:API error document as Klaviyo sends one."""
    error = {"id": f"e-{status}-{code}", "status": status, "code": code, "title": title}
    return {"errors": [{**error, "detail": detail, "source": source}]}


def throttled(retry_after: int = 30) -> StatusFailure:
    """A rate-limited answer: 429 with ``Retry-After`` (seconds)."""
    body = error_body(
        429,
        "throttled",
        "Request was throttled.",
        f"Request was throttled. Expected available in {retry_after} seconds.",
    )
    return StatusFailure(status=429, headers={"Retry-After": str(retry_after)}, json=body)


class _Invalid(Exception):
    """A request Klaviyo would refuse with 400 invalid."""

    def __init__(self, detail: str, parameter: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter


@attrs.frozen(kw_only=True)
class _List:
    """One list endpoint as its reference page documents it."""

    table: str
    type: str
    filters: Mapping[str, frozenset[str]]
    datetimes: frozenset[str] = frozenset()
    sorts: frozenset[str] = frozenset()
    page_size: int = 20  # the default (or fixed) page size
    max_page_size: int | None = None  # None: no page[size] parameter
    page_size_since: str | None = None  # the first revision that takes page[size]
    additional: frozenset[str] = frozenset()  # additional-fields[<type>] values documented
    relationships: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()  # stored columns that are not attributes


def _ops(*names: str) -> frozenset[str]:
    return frozenset(names)


_LT_GT = _ops("greater-than", "less-than")
_ALL_ORDER = frozenset(_ORDER)

_PROFILES = _List(
    table="profiles",
    type="profile",
    filters={
        "id": _ops("any", "equals"),
        "email": _ops("any", "equals"),
        "created": _LT_GT,
        "updated": _LT_GT,
    },
    datetimes=frozenset({"created", "updated"}),
    sorts=frozenset({"id", "created", "updated", "email"}),
    page_size=20,
    max_page_size=100,
    additional=frozenset(
        {"subscriptions", "predictive_analytics", "hashed_email", "hashed_phone_number"}
    ),
    hidden=("subscriptions", "predictive_analytics"),
)
_EVENTS = _List(
    table="events",
    type="event",
    filters={
        "metric_id": _ops("equals"),
        "profile_id": _ops("equals"),
        "datetime": _ALL_ORDER,
    },
    datetimes=frozenset({"datetime"}),
    sorts=frozenset({"datetime", "timestamp"}),
    page_size=200,
    max_page_size=1000,
    page_size_since="2026-01-15",
    relationships=("metric", "profile"),
)
_CAMPAIGNS = _List(
    table="campaigns",
    type="campaign",
    filters={
        "messages.channel": _ops("equals"),
        "status": _ops("any", "equals"),
        "archived": _ops("equals"),
        "created_at": _ALL_ORDER,
        "updated_at": _ALL_ORDER,
        "scheduled_at": _ALL_ORDER,
    },
    datetimes=frozenset({"created_at", "updated_at", "scheduled_at"}),
    sorts=frozenset({"created_at", "id", "name", "scheduled_at", "updated_at"}),
    page_size=10,  # not documented for this revision: see api_inventory.md
    hidden=("channel",),
)
_FLOWS = _List(
    table="flows",
    type="flow",
    filters={
        "id": _ops("any"),
        "status": _ops("equals"),
        "archived": _ops("equals"),
        "trigger_type": _ops("equals"),
        "created": _ALL_ORDER,
        "updated": _ALL_ORDER,
    },
    datetimes=frozenset({"created", "updated"}),
    sorts=frozenset({"created", "id", "name", "status", "trigger_type", "updated"}),
    page_size=50,
    max_page_size=50,
)
_LISTS = _List(
    table="lists",
    type="list",
    filters={
        "id": _ops("any", "equals"),
        "name": _ops("any", "equals"),
        "created": _ops("greater-than"),
        "updated": _ops("greater-than"),
    },
    datetimes=frozenset({"created", "updated"}),
    sorts=frozenset({"created", "id", "name", "updated"}),
    page_size=10,  # not documented for this revision: see api_inventory.md
)
_METRICS = _List(
    table="metrics",
    type="metric",
    filters={"integration.name": _ops("equals"), "integration.category": _ops("equals")},
    page_size=50,  # not documented for this revision: see api_inventory.md
)
_LIST_PROFILES = _List(
    table="profiles",
    type="profile",
    filters={"email": _ops("any", "equals"), "joined_group_at": _ALL_ORDER - {"less-or-equal"}},
    datetimes=frozenset({"joined_group_at"}),
    sorts=frozenset({"joined_group_at"}),
    page_size=20,
    hidden=("joined_group_at", "subscriptions", "predictive_analytics"),
    max_page_size=100,
)


_CHANNEL_REQUIRED = (
    "A channel filter is required: equals(messages.channel,'email') or"
    " equals(messages.channel,'sms')"
)


def _rules(path: str, spec: _List, *extra: ParamRule) -> EndpointRules:
    # api_inventory.md, "Parameter rules": each reference page's sort fields and page size.
    rules: list[ParamRule] = list(extra)
    sorts = {f"{sign}{field}" for sign in ("", "-") for field in spec.sorts}
    rules.append(
        Choice(name="sort", values=sorts, message="'{value}' is not a valid sort for this endpoint")
    )
    if spec.max_page_size is not None:
        rules.append(
            IntegerRange(
                name="page[size]",
                minimum=1,
                maximum=spec.max_page_size,
                message=f"page[size] must be an integer between 1 and {spec.max_page_size}",
            )
        )
    return EndpointRules(path=path, rules=rules)


PARAM_RULES = (
    _rules("/api/profiles", _PROFILES),
    _rules("/api/events", _EVENTS),
    _rules(
        "/api/campaigns",
        _CAMPAIGNS,
        Required(name="filter", message=_CHANNEL_REQUIRED),
        Matches(
            name="filter",
            pattern=r".*equals\(messages\.channel,['\"](email|sms|mobile_push)['\"]\).*",
            message=_CHANNEL_REQUIRED,
        ),
    ),
    _rules("/api/flows", _FLOWS),
    _rules("/api/lists", _LISTS),
    _rules("/api/metrics", _METRICS),
    _rules("/api/lists/{list_id}/profiles", _LIST_PROFILES),
)
"""The parameter rules Klaviyo documents for the endpoints the connector reads."""


def _split(text: str) -> list[str]:
    """``text`` split at the commas outside parentheses and quotes."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


_CALL = re.compile(r"^([a-z-]+)\((.*)\)$", re.DOTALL)


def _conditions(text: str) -> list[tuple[str, str, str]]:
    """``(operator, field, raw value)`` of every condition of a filter expression."""
    found: list[tuple[str, str, str]] = []
    for part in _split(text):
        call = _CALL.match(part)
        if not call:
            raise _Invalid(f"Invalid filter expression: {part!r}", "filter")
        operator, arguments = call.groups()
        if operator == "and":
            found.extend(_conditions(arguments))
            continue
        args = _split(arguments)
        if len(args) != 2:
            raise _Invalid(f"Invalid filter expression: {part!r}", "filter")
        found.append((operator, args[0], args[1]))
    return found


def _datetime(raw: str) -> dt.datetime:
    if raw[:1] in "'\"":
        raise _Invalid(f"Datetimes are given without quotes, not {raw}", "filter")
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid(f"Invalid datetime: {raw!r}", "filter") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _scalar(raw: str) -> Any:
    if raw[:1] in "'\"" and raw[-1:] == raw[:1]:
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    if raw.startswith("[") and raw.endswith("]"):
        return [_scalar(item) for item in _split(raw[1:-1]) if item]
    raise _Invalid(f"Invalid filter value: {raw!r}", "filter")


def _compare(operator: str, value: dt.datetime, bound: dt.datetime) -> bool:
    return {
        "greater-than": value > bound,
        "greater-or-equal": value >= bound,
        "less-than": value < bound,
        "less-or-equal": value <= bound,
    }[operator]


class KlaviyoApi(Emulator):
    """One Klaviyo account: profiles, events, email and SMS campaigns, flows, lists with
    members, and metrics; each more than one page (list members: the first list)."""

    param_rules = PARAM_RULES

    def __init__(self, *, undated_profile: bool = False) -> None:
        super().__init__()
        self.now = _START
        self._ids = 0
        self._undated = undated_profile
        for index in range(6):
            self._new_metric(f"Metric {index}")
        for _ in range(230):
            self._new_profile()
        for index in range(12):
            self._new_list(f"List {index}")
        profiles = [row["id"] for row in self.store.rows("profiles")]
        for index, list_row in enumerate(self.store.rows("lists")):
            for profile in profiles[: 120 if index == 0 else index * 3]:
                self._join(list_row["id"], profile)
        for _ in range(1030):  # more than one page of the largest size, 1000
            self._new_event()
        for index in range(23):
            self._new_campaign("email" if index % 2 else "sms")
        for _ in range(60):
            self._new_flow()
        for index in range(49):
            self._new_metric(f"Custom metric {index}")

    # --- data -----------------------------------------------------------------------------

    def _tick(self) -> str:
        self.now += dt.timedelta(minutes=3)
        return _iso(self.now)

    def _id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:06d}"

    def _new_profile(self, *, at: str | None = None) -> None:
        moment = at or self._tick()
        number = len(self.store.rows("profiles")) + 1
        row = {
            "id": self._id("01P"),
            "email": f"person{number}@example.com",
            "first_name": f"Person {number}",
            "created": moment,
            "updated": None if self._undated and number == UNDATED_PROFILE and not at else moment,
            "subscriptions": {
                "email": {
                    "marketing": {
                        "can_receive_email_marketing": number % 3 != 0,
                        "consent": "SUBSCRIBED" if number % 3 else "UNSUBSCRIBED",
                        "consent_timestamp": moment,
                    }
                }
            },
            "predictive_analytics": {"churn_probability": (number % 10) / 10},
        }
        self.store.add("profiles", [row])

    def _new_list(self, name: str, *, at: str | None = None) -> None:
        moment = at or self._tick()
        row = {"id": self._id("L"), "name": name, "created": moment, "updated": moment}
        self.store.add("lists", [{**row, "opt_in_process": "single_opt_in"}])

    def _join(self, list_id: str, profile_id: str) -> None:
        row = {"list_id": list_id, "profile_id": profile_id, "joined_group_at": self._tick()}
        self.store.add("memberships", [{"key": f"{list_id}/{profile_id}", **row}], key="key")

    def _new_event(self, *, at: str | None = None) -> None:
        moment = dt.datetime.fromisoformat(at) if at else dt.datetime.fromisoformat(self._tick())
        metrics = self.store.rows("metrics")
        profiles = self.store.rows("profiles")
        number = len(self.store.rows("events"))
        row = {
            "id": self._id("E"),
            "datetime": at or _iso(moment),
            "timestamp": int(moment.timestamp()),
            "uuid": f"00000000-0000-0000-0000-{number:012d}",
            "event_properties": {"value": number % 50},
            "metric_id": metrics[number % len(metrics)]["id"],
            "profile_id": profiles[number % len(profiles)]["id"],
        }
        self.store.add("events", [row])

    def _new_campaign(self, channel: str, *, at: str | None = None) -> None:
        moment = at or self._tick()
        row = {
            "id": self._id("C"),
            "channel": channel,
            "name": f"{channel} campaign",
            "status": "Draft",
            "archived": False,
            "created_at": moment,
            "updated_at": moment,
            "scheduled_at": None,
            "send_time": None,
        }
        self.store.add("campaigns", [row])

    def _new_flow(self, *, at: str | None = None) -> None:
        moment = at or self._tick()
        row = {
            "id": self._id("F"),
            "name": "Welcome series",
            "status": "live",
            "archived": False,
            "created": moment,
            "updated": moment,
            "trigger_type": "Added to List",
        }
        self.store.add("flows", [row])

    def _new_metric(self, name: str) -> None:
        moment = self._tick()
        row = {
            "id": self._id("M"),
            "name": name,
            "created": moment,
            "updated": moment,
            "integration": {"name": "API", "category": "API"},
        }
        self.store.add("metrics", [row])

    def _touch(self, table: str, row: Mapping[str, Any], field: str) -> None:
        self.store.add(table, [{**row, field: self._tick()}])

    def add_rows(self, schema: str) -> None:
        """Between two syncs: new rows arrive, later than every other; an old one changes."""
        if schema == "profiles":
            self._touch("profiles", self.store.rows("profiles")[0], "updated")
            self._new_profile()
            self._new_profile()
        elif schema == "events":
            self._new_event()
            self._new_event()
        elif schema in ("email_campaigns", "sms_campaigns"):
            channel = schema.removesuffix("_campaigns")
            old = next(r for r in self.store.rows("campaigns") if r["channel"] == channel)
            self._touch("campaigns", {**old, "status": "Sent"}, "updated_at")
            self._new_campaign("email")
            self._new_campaign("sms")
        elif schema == "flows":
            self._touch("flows", {**self.store.rows("flows")[0], "status": "manual"}, "updated")
            self._new_flow()
        elif schema == "lists":
            self._touch("lists", self.store.rows("lists")[0], "updated")
            self._new_list("New list")
        elif schema == "metrics":
            self._new_metric("New metric")
        elif schema == "list_profiles":
            self._new_profile()
            newest = self.store.rows("profiles")[-1]["id"]
            self._join(self.store.rows("lists")[0]["id"], newest)

    def add_row_at(self, schema: str, field: str, value: Any) -> None:
        """A new row of ``schema`` whose incremental field (and creation time) is exactly
        ``value`` (ISO text, as the connector's rows hold it)."""
        moment = str(value)
        match (schema, field):
            case ("profiles", "updated"):
                self._new_profile(at=moment)
            case ("events", "datetime"):
                self._new_event(at=moment)
            case ("email_campaigns" | "sms_campaigns", "updated_at"):
                self._new_campaign(schema.removesuffix("_campaigns"), at=moment)
            case ("flows", "updated"):
                self._new_flow(at=moment)
            case ("lists", "updated"):
                self._new_list("List at the watermark", at=moment)
            case _:
                raise ValueError(f"no incremental field {field!r} on {schema!r}")

    # --- the API --------------------------------------------------------------------------

    def param_error(self, request: httpx.Request, problem: ParamProblem) -> httpx.Response:
        body = error_body(
            400, "invalid", "Invalid input.", problem.message, parameter=problem.param
        )
        return json_response(400, body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Klaviyo-API-Key" or key != PRIVATE_KEY:
            return json_response(
                401,
                error_body(
                    401,
                    "not_authenticated",
                    "Authentication credentials were not provided.",
                    "Missing or invalid private key.",
                    pointer="/data/",
                ),
            )
        revision = request.headers.get("revision")
        if revision is None or not _REVISION.match(revision):
            return json_response(
                400,
                error_body(
                    400,
                    "invalid",
                    "Invalid input.",
                    "A valid revision header is required, e.g. revision: 2026-10-15",
                    header="revision",
                ),
            )
        raw = request.url.raw_path.split(b"?")[0].decode()
        segments = [unquote(part) for part in raw.strip("/").split("/")]
        try:
            answer = self._route(request, segments)
        except _Invalid as problem:
            answer = json_response(
                400,
                error_body(
                    400, "invalid", "Invalid input.", problem.detail, parameter=problem.parameter
                ),
            )
        answer.headers.update(
            {"RateLimit-Limit": "700", "RateLimit-Remaining": "699", "RateLimit-Reset": "42"}
        )
        return answer

    def _route(self, request: httpx.Request, segments: list[str]) -> httpx.Response:
        match segments:
            case ["api", "accounts"]:
                account = {"type": "account", "id": "AbC123", "attributes": {"test_account": False}}
                return json_response(200, {"data": [account], "links": {"self": str(request.url)}})
            case ["api", "profiles"]:
                return self._list(request, _PROFILES, self.store.rows("profiles"))
            case ["api", "events"]:
                return self._list(request, _EVENTS, self.store.rows("events"))
            case ["api", "campaigns"]:
                # PARAM_RULES hold the required channel filter.
                return self._list(request, _CAMPAIGNS, self.store.rows("campaigns"))
            case ["api", "flows"]:
                return self._list(request, _FLOWS, self.store.rows("flows"))
            case ["api", "lists"]:
                return self._list(request, _LISTS, self.store.rows("lists"))
            case ["api", "metrics"]:
                return self._list(request, _METRICS, self.store.rows("metrics"))
            case ["api", "lists", list_id, "profiles"]:
                if not any(row["id"] == list_id for row in self.store.rows("lists")):
                    return json_response(
                        404,
                        error_body(
                            404,
                            "not_found",
                            "Not found.",
                            f"A list with id {list_id} does not exist.",
                        ),
                    )
                profiles = {row["id"]: row for row in self.store.rows("profiles")}
                # Members in the order they joined (joined_group_at is what the endpoint
                # filters and sorts on).
                rows = [
                    {**profiles[member["profile_id"]], "joined_group_at": member["joined_group_at"]}
                    for member in self.store.rows("memberships")
                    if member["list_id"] == list_id
                ]
                return self._list(request, _LIST_PROFILES, rows)
        return json_response(
            404, error_body(404, "not_found", "Not found.", "The requested resource was not found.")
        )

    # --- lists ----------------------------------------------------------------------------

    def _list(
        self, request: httpx.Request, spec: _List, rows: list[dict[str, Any]]
    ) -> httpx.Response:
        params = request.url.params
        text = params.get("filter")
        if text is not None:
            for operator, field, raw in _conditions(text):
                rows = self._filtered(spec, rows, operator, field, raw)
        sort = params.get("sort")  # one of spec.sorts: PARAM_RULES
        if sort is not None:
            field = sort.removeprefix("-")
            rows = sorted(rows, key=lambda row: (row.get(field) or "", row["id"]))
            if sort.startswith("-"):
                rows.reverse()
        size = spec.page_size
        revision = request.headers.get("revision", "")
        if "page[size]" in params:
            # In range where documented (PARAM_RULES). Elsewhere the reference pages list no
            # page[size]; refusing it is the emulator's conservative reading, not a
            # documented rule (api_inventory.md, "Parameter rules").
            if spec.max_page_size is None or (
                spec.page_size_since is not None and revision < spec.page_size_since
            ):
                raise _Invalid("'page[size]' is not a valid field for this endpoint", "page[size]")
            size = int(params["page[size]"])
        extras = self._additional(spec, params)
        offset = _offset(params.get("page[cursor]"))
        page = rows[offset : offset + size]
        following = None
        if offset + size < len(rows):
            following = str(request.url.copy_set_param("page[cursor]", _cursor(offset + size)))
        body = {
            "data": [self._resource(spec, row, extras) for row in page],
            "links": {"self": str(request.url), "next": following, "prev": None},
        }
        return json_response(200, body)

    def _filtered(
        self, spec: _List, rows: list[dict[str, Any]], operator: str, field: str, raw: str
    ) -> list[dict[str, Any]]:
        if operator not in spec.filters.get(field, frozenset()):
            raise _Invalid(f"'{operator}' is not a valid operator for '{field}'", "filter")
        if field == "messages.channel":
            return [row for row in rows if row.get("channel") == _scalar(raw)]
        if field in spec.datetimes:
            bound = _datetime(raw)
            return [
                row
                for row in rows
                if row.get(field) and _compare(operator, _datetime(row[field]), bound)
            ]
        value = _scalar(raw)
        if "." in field:
            outer, inner = field.split(".", 1)
            return [row for row in rows if (row.get(outer) or {}).get(inner) == value]
        if operator == "any":
            return [row for row in rows if row.get(field) in value]
        return [row for row in rows if row.get(field) == value]

    def _additional(self, spec: _List, params: httpx.QueryParams) -> frozenset[str]:
        name = f"additional-fields[{spec.type}]"
        if name not in params:
            return frozenset()
        asked = {value.strip() for value in params[name].split(",")}
        unknown = sorted(asked - spec.additional)
        if unknown:
            raise _Invalid(f"'{unknown[0]}' is not a valid value for '{name}'", name)
        return frozenset(asked)

    def _resource(
        self, spec: _List, row: Mapping[str, Any], extras: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        links = {f"{name}_id" for name in spec.relationships}
        attributes = {
            name: value
            for name, value in row.items()
            if name != "id"
            and name not in links
            and (name not in spec.hidden or (name in extras and name in _PROFILE_EXTRAS))
        }
        resource: dict[str, Any] = {"type": spec.type, "id": row["id"], "attributes": attributes}
        if spec.relationships:
            resource["relationships"] = {
                name: {"data": {"type": name, "id": row[f"{name}_id"]}}
                for name in spec.relationships
            }
        resource["links"] = {"self": f"https://a.klaviyo.com/api/{spec.table}/{row['id']}"}
        return resource


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("offset:"))
    except ValueError:
        raise _Invalid("Invalid page cursor", "page[cursor]") from None


def _channel_key(channel: str) -> Any:
    def key(row: Mapping[str, Any]) -> tuple[Any, ...] | None:
        return (row["id"],) if row["channel"] == channel else None

    return key


kit = ContractKit(
    emulator=KlaviyoApi,
    valid_config={"private_api_key": PRIVATE_KEY},
    invalid_configs=[
        InvalidConfig(config={}, path="$.private_api_key", description="no private API key"),
    ],
    add_rows=KlaviyoApi.add_rows,
    add_row_at=KlaviyoApi.add_row_at,
    schemas={
        "email_campaigns": SchemaKit(table="campaigns", expected_key=_channel_key("email")),
        "sms_campaigns": SchemaKit(table="campaigns", expected_key=_channel_key("sms")),
        "list_profiles": SchemaKit(
            table="memberships",
            expected_key=lambda row: (row["list_id"], row["profile_id"]),
            parent=ParentLink(schema="lists", columns={"list_id": "id"}),
        ),
    },
)
