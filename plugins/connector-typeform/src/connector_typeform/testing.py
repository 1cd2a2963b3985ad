"""The Typeform API emulator, written from Typeform's documentation, and the contract kit.

The emulator answers as api_inventory.md says the API does (with the references there); it is
written from that documentation, never from settings.py, or it would agree with the
connector's mistakes. What it follows:

- ``Authorization: Bearer <personal access token>``; anything else is
  ``401 {"code": "AUTHENTICATION_FAILED", "description": ...}``.
- ``GET /forms``: ``page`` (from 1), ``page_size`` (default 10, at most 200), ``sort_by``
  (``created_at`` or ``last_updated_at``) and ``order_by`` (``asc``/``desc``); the body is
  ``{"total_items", "page_count", "items"}``. A page past the last is empty. Items are the
  summary only (``id``, ``type``, ``title``, ``created_at``, ``last_updated_at``,
  ``settings``, ``self``, ``theme``, ``_links``): no questions. Some items have no
  ``created_at`` at all (:data:`UNDATED_FORM` and every 50th form), as real accounts show.
- ``GET /forms/{form_id}``: the whole form: ``fields`` (the questions: ``id``, ``ref``,
  ``title``, ``type``, ``properties``, ``validations``; a ``group`` holds its own questions
  in ``properties.fields``), ``workspace``, ``settings``, ``welcome_screens``,
  ``thankyou_screens``, ``hidden``, ``logic``. An unknown form is ``404 FORM_NOT_FOUND``.
- ``GET /forms/{form_id}/responses``: completed responses, newest submission first;
  ``page_size`` (default 25, at most 1000); ``since``/``until`` (inclusive, on
  ``submitted_at``, epoch seconds or ISO 8601 to the second); ``before``/``after`` (a response
  token, exclusive); ``sort`` together with a token is a 400. The body is
  ``{"total_items", "page_count", "items"}``, with no cursor: the caller continues from the
  last row's ``token``. An unknown form is ``404 {"code": "FORM_NOT_FOUND", ...}``.
- Invalid parameters are ``400 {"code": "VALIDATION_ERROR", "description": ...}``. The
  documented rules (:data:`PARAM_RULES`: page sizes, the ``since``/``until`` formats,
  ``sort`` never with a token) are checked before the routes.
- Inject a missing scope with :func:`forbidden`, a rate limit with
  ``StatusFailure(status=429, ...)`` through :meth:`~headwater.emulator.Emulator.inject`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from headwater.emulator import (
    ContractKit,
    Emulator,
    EndpointRules,
    Exclusive,
    IntegerRange,
    InvalidConfig,
    Matches,
    ParamProblem,
    ParentLink,
    SchemaKit,
    StatusFailure,
    json_response,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

__all__ = [
    "BUSY_FORM",
    "PARAM_RULES",
    "TOKEN",
    "UNDATED_FORM",
    "TypeformApi",
    "forbidden",
    "kit",
]

TOKEN = "tfp_contractToken0001"
BUSY_FORM = "frm00000"
"""The form with more responses than one page of 1000."""
UNDATED_FORM = "frm00007"
"""A form whose list item has no ``created_at`` (so do ``frm00050``, ``frm00100``...)."""
# What the forms list sends of a form; the rest is only in the form itself.
_SUMMARY = ("id", "type", "title", "created_at", "last_updated_at", "settings", "self", "theme")
_LIST_SETTINGS = ("is_public", "is_trial")
_START = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
_FORMS_PAGE = (10, 200)  # default, maximum
_RESPONSES_PAGE = (25, 1000)


def _page_size(maximum: int) -> IntegerRange:
    return IntegerRange(
        name="page_size",
        minimum=1,
        maximum=maximum,
        message=f"page_size must be between 1 and {maximum}",
    )


def _instant_format(name: str) -> Matches:
    # "as int (timestamp in seconds) or in ISO 8601 format, UTC time, to the second, with T as
    # a delimiter" (api_inventory.md, "Parameter rules").
    return Matches(
        name=name,
        pattern=r"\d+|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
        message=f"{name} must be a timestamp in seconds or ISO 8601 UTC, like 2020-03-20T14:00:59",
    )


def _not_with_sort(token: str) -> Exclusive:
    return Exclusive(
        names=("sort", token), message="sort cannot be used together with before or after"
    )


PARAM_RULES = (
    EndpointRules(path="/forms", rules=[_page_size(_FORMS_PAGE[1])]),
    EndpointRules(
        path="/forms/{form_id}/responses",
        rules=[
            _page_size(_RESPONSES_PAGE[1]),
            _instant_format("since"),
            _instant_format("until"),
            _not_with_sort("before"),
            _not_with_sort("after"),
        ],
    ),
)
"""The parameter rules Typeform documents for the endpoints the connector reads."""


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, code: str, description: str) -> httpx.Response:
    return json_response(status, {"code": code, "description": description})


def forbidden(scope: str) -> StatusFailure:
    """A 403 as Typeform answers a token without ``scope``."""
    return StatusFailure(
        status=403,
        json={"code": "FORBIDDEN", "description": f"Missing required scope: {scope}"},
    )


class _Invalid(Exception):
    """A request parameter Typeform refuses (400)."""


class TypeformApi(Emulator):
    """An account with ``forms`` forms (more than one page of 200); most have a few
    responses, and :data:`BUSY_FORM` has more than one page of 1000.
    """

    param_rules = PARAM_RULES

    def __init__(self, *, forms: int = 205, busy_responses: int = 1105) -> None:
        super().__init__()
        self.now = _START
        self._tokens = 0
        for index in range(forms):
            self.add_form(f"frm{index:05d}")
        for _ in range(busy_responses):
            self.add_response(BUSY_FORM)
        for index in range(1, forms):
            for _ in range(index % 4):
                self.add_response(f"frm{index:05d}")

    # --- data -----------------------------------------------------------------------------

    def _tick(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=37)
        return self.now

    def add_form(self, form_id: str, title: str | None = None) -> None:
        """A new form, created now, with its questions (a group among them)."""
        moment = _iso(self._tick())
        number = len(self.store.rows("forms"))
        undated = form_id == UNDATED_FORM or (number % 50 == 0 and number > 0)
        fields = _questions(form_id, number)
        self.store.add(
            "forms",
            [
                {
                    "id": form_id,
                    "type": "quiz",
                    "title": title or f"Survey {form_id}",
                    "created_at": None if undated else moment,
                    "last_updated_at": moment,
                    "settings": {
                        "is_public": True,
                        "is_trial": False,
                        "language": "en",
                        "progress_bar": "proportion",
                        "show_progress_bar": True,
                    },
                    "self": {"href": f"https://api.typeform.com/forms/{form_id}"},
                    "theme": {"href": "https://api.typeform.com/themes/qHWOQ7"},
                    "workspace": {"href": "https://api.typeform.com/workspaces/Aw33bz"},
                    "_links": {"display": f"https://acme.typeform.com/to/{form_id}"},
                    "fields": fields,
                    "hidden": ["utm_source"],
                    "welcome_screens": [{"ref": "welcome", "title": "Hello"}],
                    "thankyou_screens": [{"ref": "default_tys", "title": "Thanks"}],
                    "logic": [],
                }
            ],
        )
        rows = []
        for parent, position, field in _walk(fields):
            rows.append(
                {
                    "ident": f"{form_id}/{field['id']}",
                    "form_id": form_id,
                    "id": field["id"],
                    "ref": field["ref"],
                    "title": field["title"],
                    "type": field["type"],
                    "parent_ref": parent,
                    "position": position,
                }
            )
        self.store.add("form_fields", rows, key="ident")

    def add_response(self, form_id: str, *, at: str | None = None) -> None:
        """A response to ``form_id``, landed a minute ago and submitted now (or ``at``, ISO
        text as rows hold ``submitted_at``)."""
        self._tokens += 1
        if at is None:
            submitted = self._tick()
        else:
            submitted = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        token = f"tok{self._tokens:08x}"
        self.store.add(
            "responses",
            [
                {
                    "form_id": form_id,  # kept by the emulator only; the API does not send it
                    "landing_id": token,
                    "token": token,
                    "response_id": token,
                    "response_type": "completed",
                    "landed_at": _iso(submitted - dt.timedelta(minutes=1)),
                    "submitted_at": at or _iso(submitted),
                    "metadata": {"platform": "other", "browser": "default", "referer": ""},
                    "hidden": {},
                    "calculated": {"score": self._tokens % 10},
                    "answers": [
                        {
                            "field": {"id": "fld1", "type": "short_text", "ref": "name"},
                            "type": "text",
                            "text": f"answer {self._tokens}",
                        }
                    ],
                }
            ],
            key="token",
        )

    def add_rows(self, schema: str) -> None:
        """Between two syncs: a form is created, or responses arrive to two forms."""
        if schema in ("forms", "form_fields"):
            self.add_form(f"new{len(self.store.rows('forms')):05d}")
        else:
            self.add_response(BUSY_FORM)
            self.add_response("frm00003")

    def add_row_at(self, schema: str, field: str, value: Any) -> None:
        """A new response submitted exactly at ``value`` (ISO text, as the connector's rows
        hold ``submitted_at``, the only incremental field)."""
        if (schema, field) != ("responses", "submitted_at"):
            raise ValueError(f"no incremental field {field!r} on {schema!r}")
        self.add_response("frm00003", at=str(value))

    # --- the API --------------------------------------------------------------------------

    def param_error(self, request: httpx.Request, problem: ParamProblem) -> httpx.Response:
        return _error(400, "VALIDATION_ERROR", problem.message)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(
                401,
                "AUTHENTICATION_FAILED",
                "Authentication credentials not found on the Request Headers",
            )
        raw = request.url.raw_path.split(b"?")[0].decode()
        segments = [unquote(part) for part in raw.strip("/").split("/")]
        try:
            match segments:
                case ["forms"]:
                    return self._forms(request.url.params)
                case ["forms", form_id]:
                    found = [f for f in self.store.rows("forms") if f["id"] == form_id]
                    if not found:
                        return _error(
                            404, "FORM_NOT_FOUND", f"Non existing form with uid {form_id}"
                        )
                    return json_response(200, _whole(found[0]))
                case ["forms", form_id, "responses"]:
                    if not any(form["id"] == form_id for form in self.store.rows("forms")):
                        return _error(
                            404, "FORM_NOT_FOUND", f"Non existing form with uid {form_id}"
                        )
                    return self._responses(form_id, request.url.params)
        except _Invalid as problem:
            return _error(400, "VALIDATION_ERROR", str(problem))
        return _error(404, "NOT_FOUND", "Endpoint not found")

    def _forms(self, params: httpx.QueryParams) -> httpx.Response:
        sort_by = params.get("sort_by", "created_at")
        order_by = params.get("order_by", "desc")
        if sort_by not in ("created_at", "last_updated_at") or order_by not in ("asc", "desc"):
            raise _Invalid("sort_by must be created_at or last_updated_at, order_by asc or desc")
        # Where an item without created_at sorts is not documented: first, ascending.
        rows = sorted(
            (_summary(form) for form in self.store.rows("forms")),
            key=lambda r: (r.get(sort_by) or "", r["id"]),
            reverse=order_by == "desc",
        )
        size = _size(params, _FORMS_PAGE)
        page = _number(params, "page", 1)
        if page < 1:
            raise _Invalid("page must be at least 1")
        chunk = rows[(page - 1) * size : page * size]
        return _list(rows, size, chunk)

    def _responses(self, form_id: str, params: httpx.QueryParams) -> httpx.Response:
        before, after = params.get("before"), params.get("after")  # never with sort
        rows = [r for r in self.store.rows("responses") if r["form_id"] == form_id]
        rows.sort(key=lambda r: (r["submitted_at"], r["token"]), reverse=True)
        since, until = _instant(params, "since"), _instant(params, "until")
        if since is not None:
            rows = [r for r in rows if r["submitted_at"] >= since]
        if until is not None:
            rows = [r for r in rows if r["submitted_at"] <= until]
        tokens = [r["token"] for r in rows]
        if before:
            # Older than the token (exclusive); an unknown token lists nothing.
            rows = rows[tokens.index(before) + 1 :] if before in tokens else []
        if after:
            rows = rows[: tokens.index(after)] if after in tokens else []
        size = _size(params, _RESPONSES_PAGE)
        served = [{k: v for k, v in r.items() if k != "form_id"} for r in rows[:size]]
        return _list(rows, size, served)


def _questions(form_id: str, number: int) -> list[dict[str, Any]]:
    # The first question is the one every emulated response answers (id fld1, ref name).
    questions: list[dict[str, Any]] = [
        {
            "id": "fld1",
            "ref": "name",
            "title": "What is your name?",
            "type": "short_text",
            "properties": {},
            "validations": {"required": True},
        },
        {
            "id": f"{form_id}grp",
            "ref": "about_you",
            "title": "About you",
            "type": "group",
            "properties": {
                "button_text": "Continue",
                "fields": [
                    {
                        "id": f"{form_id}eml",
                        "ref": "email",
                        "title": "Your email?",
                        "type": "email",
                        "properties": {},
                    },
                    {
                        "id": f"{form_id}age",
                        "ref": "age",
                        "title": "Your age?",
                        "type": "number",
                        "properties": {},
                    },
                ],
            },
        },
    ]
    if number % 2:
        questions.append(
            {
                "id": f"{form_id}mc",
                "ref": "plan",
                "title": "Which plan?",
                "type": "multiple_choice",
                "properties": {"choices": [{"id": "c1", "ref": "free", "label": "Free"}]},
            }
        )
    return questions


def _walk(
    fields: list[dict[str, Any]], parent: str | None = None
) -> list[tuple[str | None, int, dict[str, Any]]]:
    found = []
    for position, field in enumerate(fields):
        found.append((parent, position, field))
        found += _walk(field.get("properties", {}).get("fields", []), field["ref"])
    return found


def _summary(form: Mapping[str, Any]) -> dict[str, Any]:
    item = {key: form[key] for key in _SUMMARY if form.get(key) is not None}
    item["settings"] = {key: form["settings"][key] for key in _LIST_SETTINGS}
    item["_links"] = form["_links"]
    return item


def _whole(form: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in form.items() if value is not None}


def _list(rows: list[Any], size: int, chunk: list[Any]) -> httpx.Response:
    pages = max(math.ceil(len(rows) / size), 1)
    return json_response(200, {"total_items": len(rows), "page_count": pages, "items": chunk})


def _number(params: httpx.QueryParams, name: str, default: int) -> int:
    try:
        return int(params.get(name, str(default)))
    except ValueError:
        raise _Invalid(f"{name} must be an integer") from None


def _size(params: httpx.QueryParams, limits: tuple[int, int]) -> int:
    return _number(params, "page_size", limits[0])  # its range is in PARAM_RULES


def _instant(params: httpx.QueryParams, name: str) -> str | None:
    value = params.get(name)  # its format is in PARAM_RULES
    if value is None:
        return None
    if value.isdigit():
        return _iso(dt.datetime.fromtimestamp(int(value), tz=dt.UTC))
    try:
        parsed = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:  # the right shape, not a real time (month 13)
        raise _Invalid(f"{name} is not a valid time: {value}") from None
    return _iso(parsed)


def _response_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["form_id"], row["token"])


def _field_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["form_id"], row["id"])


kit = ContractKit(
    emulator=TypeformApi,
    valid_config={"token": TOKEN},
    invalid_configs=[
        InvalidConfig(config={}, path="$.token", description="no token"),
        InvalidConfig(
            config={"token": TOKEN, "base_url": "https://evil.example.com"},
            path="$.base_url",
            description="an API host that is not Typeform's",
        ),
    ],
    add_rows=TypeformApi.add_rows,
    add_row_at=TypeformApi.add_row_at,
    schemas={
        "form_fields": SchemaKit(
            expected_key=_field_key,
            parent=ParentLink(schema="forms", columns={"form_id": "id"}),
            single_page=True,
        ),
        "responses": SchemaKit(
            expected_key=_response_key,
            parent=ParentLink(schema="forms", columns={"form_id": "id"}),
        ),
    },
)
