"""The Stripe API emulator, written from Stripe's documentation, and the contract kit.

The emulator answers as api_inventory.md says the API does (with the references there); it
is written from that documentation, never from settings.py, or it would agree with the
connector's mistakes. What it follows:

- The secret key as the basic-auth user name (empty password), or ``Authorization: Bearer
  <key>``. No key: ``401`` "You did not provide an API key"; an unknown key: ``401``
  "Invalid API Key provided: sk_test_****abcd" (the key masked), both
  ``{"error": {"type": "invalid_request_error", "message": ...}}``.
- A restricted key (:data:`RESTRICTED_KEY`) may read charges only; any other list is ``403``
  with a message naming the missing permission.
- ``Stripe-Account: acct_...`` reads a connected account (:data:`CONNECTED_ACCOUNT`, a few
  charges of its own); an account the key cannot reach is ``403`` "does not have access to
  account".
- Lists ``/v1/{charges,customers,invoices,subscriptions,payment_intents,refunds,
  balance_transactions,products,prices}`` answer ``{"object": "list", "url", "has_more",
  "data"}``, newest first (``created`` desc, then id desc for objects of the same second).
  ``limit`` 1..100 (default 10); ``starting_after`` / ``ending_before`` take an object id and
  are mutually exclusive; an unknown id is ``400 resource_missing``.
- ``created`` (exact), ``created[gt]``, ``created[gte]``, ``created[lt]``, ``created[lte]``:
  Unix seconds; anything else is ``400 parameter_invalid_integer``. An unknown query
  parameter is ``400 parameter_unknown``, as Stripe answers "Received unknown parameter".
  These rules, ``limit`` and the cursors are declared (:data:`PARAM_RULES`) and checked
  before the lists are served.
- ``/v1/subscriptions`` leaves canceled subscriptions out unless ``status=canceled`` or
  ``status=all``.
- Nested lists: an invoice embeds its ``lines`` and a subscription its ``items`` as a list
  object holding the first :data:`EMBEDDED` entries, ``has_more`` and the sub-list's ``url``;
  every tenth invoice and subscription has more than that. The rest is served by
  ``/v1/invoices/{id}/lines`` and ``/v1/subscription_items?subscription={id}`` (the
  ``subscription`` parameter is required), in the parent's order, with the same pagination
  and parameter rules as the other lists; an unknown parent is ``404 resource_missing``.
- ``/v1/events``: the events of the last :data:`RETENTION_DAYS` days before the emulator's
  :attr:`~StripeApi.today`, newest first, each ``{"id", "object": "event", "type",
  "created", "api_version", "data": {"object": ...}}``; filters ``type`` (a name, ``*`` a
  wildcard), ``types[]`` (up to 20 names; not with ``type``), ``created`` and its ranges,
  ``delivery_success``, and the usual pagination. Objects created, changed
  (:meth:`~StripeApi.update`) or deleted (:meth:`~StripeApi.delete`) record their event.
- An unknown path is ``404`` "Unrecognized request URL". Inject ``429``s (:func:`rate_limited`),
  5xx and timeouts through :meth:`~headwater.emulator.Emulator.inject`.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import operator
from typing import TYPE_CHECKING, Any

from headwater.emulator import (
    Choice,
    ContractKit,
    Emulator,
    EndpointRules,
    Exclusive,
    IntegerRange,
    InvalidConfig,
    KnownParams,
    ParamProblem,
    ParamRule,
    ParentLink,
    Required,
    SchemaKit,
    StatusFailure,
    json_response,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

__all__ = [
    "API_VERSION",
    "CONNECTED_ACCOUNT",
    "EMBEDDED",
    "EVENT_PREFIX",
    "RETENTION_DAYS",
    "OBJECTS",
    "PARAM_RULES",
    "RESTRICTED_KEY",
    "SECRET_KEY",
    "StripeApi",
    "error_body",
    "kit",
    "rate_limited",
]

SECRET_KEY = "sk_test_51ContractSecretKey0001"
RESTRICTED_KEY = "rk_test_51ContractRestricted0002"
CONNECTED_ACCOUNT = "acct_1ContractConnected"
_START = int(dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC).timestamp())
# The events' "now": the test clock's (headwater.ManualClock starts at 2026-01-01).
_TODAY = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())
API_VERSION = "2025-03-31.basil"
"""The API version the emulator renders events in (the connector's target)."""
_DEFAULT_LIMIT = 10
_MAX_LIMIT = 100

# list path -> (object name, id prefix, rows seeded)
OBJECTS: dict[str, tuple[str, str, int]] = {
    "charges": ("charge", "ch", 130),
    "customers": ("customer", "cus", 120),
    "invoices": ("invoice", "in", 110),
    "subscriptions": ("subscription", "sub", 105),
    "payment_intents": ("payment_intent", "pi", 125),
    "refunds": ("refund", "re", 101),
    "balance_transactions": ("balance_transaction", "txn", 140),
    "products": ("product", "prod", 102),
    "prices": ("price", "price", 103),
}
# Filters each list documents besides pagination and `created` (the emulator refuses others).
_FILTERS: dict[str, frozenset[str]] = {
    "charges": frozenset({"customer", "payment_intent", "transfer_group"}),
    "customers": frozenset({"email", "test_clock"}),
    "invoices": frozenset({"customer", "status", "subscription", "collection_method"}),
    "subscriptions": frozenset({"customer", "price", "status", "collection_method"}),
    "payment_intents": frozenset({"customer"}),
    "refunds": frozenset({"charge", "payment_intent"}),
    "balance_transactions": frozenset({"currency", "payout", "source", "type"}),
    "products": frozenset({"active", "ids", "shippable", "url"}),
    "prices": frozenset({"active", "currency", "lookup_keys", "product", "type"}),
}
_COMMON = frozenset({"limit", "starting_after", "ending_before", "expand[]"})
EMBEDDED = 10
"""How many entries of a nested list its parent embeds (Stripe: "the first handful")."""
# nested list path -> (parent list, entry object, id prefix, store table prefix)
_SUB_LISTS = {
    "/v1/invoices/{invoice}/lines": ("invoices", "line_item", "il"),
    "/v1/subscription_items": ("subscriptions", "subscription_item", "si"),
}
_CREATED_CHECKS: dict[str, Callable[[int, int], bool]] = {
    "created": operator.eq,
    "created[gt]": operator.gt,
    "created[gte]": operator.ge,
    "created[lt]": operator.lt,
    "created[lte]": operator.le,
}
_SUBSCRIPTION_STATUSES = (
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
)


# Every list's pagination rules (api_inventory.md, "Parameter rules").
_LIMIT = IntegerRange(
    name="limit",
    minimum=1,
    maximum=_MAX_LIMIT,
    message="This value must be greater than or equal to 1 and less than or equal to"
    f" {_MAX_LIMIT}.",
)
_CURSORS = Exclusive(
    names=("starting_after", "ending_before"),
    message="Received both starting_after and ending_before parameters. Please pass in only one.",
)
_CREATED_RULES = tuple(
    IntegerRange(name=name, message="Invalid integer: {value}") for name in _CREATED_CHECKS
)


def _list_rules(path: str) -> EndpointRules:
    # api_inventory.md, "Parameter rules": what every list refuses, checked in this order.
    rules: list[ParamRule] = [
        KnownParams(
            names=_COMMON | _FILTERS[path] | set(_CREATED_CHECKS),
            message="Received unknown parameter: {param}",
        ),
        _LIMIT,
        *_CREATED_RULES,
        _CURSORS,
    ]
    if path == "subscriptions":
        statuses = {*_SUBSCRIPTION_STATUSES, "ended", "all"}
        rules.append(Choice(name="status", values=statuses, message="Invalid status: {value}"))
    return EndpointRules(path=f"/v1/{path}", rules=rules)


def _sub_list_rules(path: str) -> EndpointRules:
    # The sub-lists take pagination only, and the subscription items list its subscription.
    extra = {"subscription"} if path == "/v1/subscription_items" else set()
    rules: list[ParamRule] = [
        KnownParams(names=_COMMON | extra, message="Received unknown parameter: {param}"),
        *(
            [Required(name="subscription", message="Missing required param: subscription.")]
            if extra
            else []
        ),
        _LIMIT,
        _CURSORS,
    ]
    return EndpointRules(path=path, rules=rules)


RETENTION_DAYS = 30
"""How far back ``/v1/events`` lists events."""
_MAX_TYPES = 20
# list path -> the prefix of its objects' event types (`customer.updated`)
EVENT_PREFIX = {
    "charges": "charge",
    "customers": "customer",
    "invoices": "invoice",
    "subscriptions": "customer.subscription",
    "payment_intents": "payment_intent",
    "refunds": "refund",
    "balance_transactions": "balance.transaction",
    "products": "product",
    "prices": "price",
}


def _event_rules() -> EndpointRules:
    # [events]: type or types (not both), created ranges, delivery_success, pagination.
    rules: list[ParamRule] = [
        KnownParams(
            names=_COMMON | {"type", "types[]", "delivery_success"} | set(_CREATED_CHECKS),
            message="Received unknown parameter: {param}",
        ),
        _LIMIT,
        *_CREATED_RULES,
        _CURSORS,
        Exclusive(names=("type", "types[]"), message="Pass either type or types, not both."),
        Choice(
            name="delivery_success",
            values={"true", "false"},
            message="Invalid boolean: {value}",
        ),
    ]
    return EndpointRules(path="/v1/events", rules=rules)


PARAM_RULES = (
    *(_list_rules(path) for path in OBJECTS),
    *(_sub_list_rules(path) for path in _SUB_LISTS),
    _event_rules(),
)
"""The parameter rules Stripe documents for the lists the connector reads."""

# The error code Stripe documents for a broken rule of each kind; None: no code documented.
_CODES: dict[type, str | None] = {
    KnownParams: "parameter_unknown",
    Required: "parameter_missing",
    IntegerRange: "parameter_invalid_integer",
    Exclusive: None,
    Choice: None,
}


# What changes on an object after it is created, per list (add_rows).
_CHANGES: dict[str, dict[str, Any]] = {
    "charges": {"refunded": True, "amount_refunded": 1000},
    "customers": {"email": "changed@example.com"},
    "invoices": {"status": "void"},
    "subscriptions": {"status": "canceled"},
    "payment_intents": {"status": "canceled"},
    "refunds": {"status": "failed"},
    "balance_transactions": {"status": "pending"},
    "products": {"active": False},
    "prices": {"active": False},
}


def error_body(message: str, *, type_: str = "invalid_request_error", **extra: str) -> Any:
    """Stripe's error envelope."""
    return {"error": {"type": type_, "message": message, **extra}}


def _error(status: int, message: str, **extra: str) -> httpx.Response:
    return json_response(status, error_body(message, **extra))


def _masked(key: str) -> str:
    # Stripe shows the key's mode prefix and its last four characters.
    prefix = "_".join(key.split("_")[:2]) + "_" if key.count("_") >= 2 else ""
    return f"{prefix}****{key[-4:]}"


def rate_limited() -> StatusFailure:
    """A 429 as Stripe documents it: no Retry-After, so the client backs off.

    The rate-limit pages do not show the body; since API version 2015-09-08 it carries no
    ``rate_limit`` code, so the emulator sends a message only.
    """
    return StatusFailure(
        status=429,
        json=error_body(
            "Request rate limit exceeded. Learn more about rate limits here"
            " https://stripe.com/docs/rate-limits."
        ),
    )


class _Invalid(Exception):
    """A request Stripe refuses with 400 invalid_request_error."""

    def __init__(self, message: str, *, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


class StripeApi(Emulator):
    """One Stripe account with more than a page of every object, and one connected account."""

    param_rules = PARAM_RULES

    def __init__(self) -> None:
        super().__init__()
        self.now = _START
        self.today = _TODAY
        """The API's clock for the events' retention (Unix seconds); tests move it."""
        self._serial = 0
        self._event_serial = 0
        for path, (_, _, count) in OBJECTS.items():
            for _ in range(count):
                self._new(path)
        for _ in range(3):
            self._new("charges", account=CONNECTED_ACCOUNT)

    # --- data -----------------------------------------------------------------------------

    def _tick(self) -> int:
        # Every third object shares its second with the one before: Stripe's `created` is
        # whole seconds, so ties are normal.
        self._serial += 1
        if self._serial % 3:
            self.now += 41
        return self.now

    @staticmethod
    def table(path: str, account: str | None = None) -> str:
        """The store table behind a list (a connected account's rows are its own)."""
        return f"{account}/{path}" if account else path

    def _new(
        self,
        path: str,
        *,
        account: str | None = None,
        created: int | None = None,
        event_at: int | None = None,
    ) -> dict[str, Any]:
        name, prefix, _ = OBJECTS[path]
        if created is None:
            created = self._tick()
        else:
            self._serial += 1  # a new id; the clock stays
        row: dict[str, Any] = {
            "id": f"{prefix}_{self._serial:08d}Emu",
            "object": name,
            "created": created,
            "livemode": False,
            "metadata": {},
        }
        row.update(self._fields(path, self._serial))
        if path == "invoices":
            row["lines"] = self._nested(row, "/v1/invoices/{invoice}/lines", account)
        elif path == "subscriptions":
            row["items"] = self._nested(row, "/v1/subscription_items", account)
        self.store.add(self.table(path, account), [row])
        at = created if event_at is None else event_at
        self._event(f"{EVENT_PREFIX[path]}.created", row, at, account)
        return row

    def _event(
        self, kind: str, obj: dict[str, Any], at: int, account: str | None = None
    ) -> dict[str, Any]:
        """Record an event of ``kind`` whose object is ``obj`` (a copy, as it is now)."""
        self._event_serial += 1  # its own count: object ids and times stay as they were
        event = {
            "id": f"evt_{self._event_serial:08d}Emu",
            "object": "event",
            "type": kind,
            "created": at,
            "api_version": API_VERSION,
            "livemode": False,
            "data": {"object": dict(obj)},
        }
        self.store.add(self.table("events", account), [event])
        return event

    def update(self, schema: str, ident: str, at: int, **changes: Any) -> dict[str, Any]:
        """Change object ``ident`` of ``schema`` at ``at`` (Unix seconds); records its
        ``.updated`` event. Its ``created`` stays, so a ``created`` filter does not see it."""
        row = next(row for row in self.store.rows(schema) if row["id"] == ident)
        row.update(changes)
        self.store.add(schema, [row])
        self._event(f"{EVENT_PREFIX[schema]}.updated", row, at)
        return row

    def delete(self, schema: str, ident: str, at: int) -> None:
        """Delete object ``ident`` of ``schema`` at ``at``, as Stripe does: it leaves its
        list, and a ``.deleted`` event holds its last state. A subscription is canceled
        instead (``customer.subscription.deleted``): it stays, with status ``canceled``."""
        row = next(row for row in self.store.rows(schema) if row["id"] == ident)
        if schema == "subscriptions":
            row.update(status="canceled", canceled_at=at)
            self.store.add(schema, [row])
        else:
            self.store.delete(schema, [ident])
            row["deleted"] = True
        self._event(f"{EVENT_PREFIX[schema]}.deleted", row, at)

    def _nested(self, parent: dict[str, Any], path: str, account: str | None) -> dict[str, Any]:
        """The entries of ``parent``'s nested list, stored, and the list object it embeds."""
        _, name, prefix = _SUB_LISTS[path]
        count = EMBEDDED + 3 if self._serial % 10 == 0 else 1 + self._serial % 3
        entries = []
        for number in range(count):
            entry: dict[str, Any] = {
                "id": f"{prefix}_{self._serial:08d}x{number:02d}Emu",
                "object": name,
                "quantity": 1 + number,
            }
            if name == "line_item":
                entry.update(invoice=parent["id"], amount=100 * (number + 1), currency="usd")
                url = f"/v1/invoices/{parent['id']}/lines"
            else:
                entry.update(subscription=parent["id"], created=parent["created"])
                url = f"/v1/subscription_items?subscription={parent['id']}"
            entries.append(entry)
        self.store.add(self.table(f"{name}s/{parent['id']}", account), entries)
        self.store.add(self.table(f"{name}s", account), entries)  # every parent's, for the kit
        return {
            "object": "list",
            "data": entries[:EMBEDDED],
            "has_more": count > EMBEDDED,
            "url": url,
        }

    @staticmethod
    def _fields(path: str, serial: int) -> dict[str, Any]:
        money = {"amount": 1000 + serial, "currency": "usd"}
        match path:
            case "charges":
                return {**money, "status": "succeeded", "captured": True, "refunded": False}
            case "customers":
                return {"email": f"customer{serial}@example.com", "name": f"Customer {serial}"}
            case "invoices":
                return {"status": "paid" if serial % 4 else "draft", "total": 1000 + serial}
            case "subscriptions":
                status = "canceled" if serial % 5 == 0 else "active"
                return {"status": status, "cancel_at_period_end": False}
            case "payment_intents":
                return {**money, "status": "succeeded"}
            case "refunds":
                return {**money, "status": "succeeded"}
            case "balance_transactions":
                return {**money, "type": "charge", "status": "available", "fee": 59}
            case "products":
                return {"name": f"Product {serial}", "active": bool(serial % 6)}
            case "prices":
                return {"unit_amount": 500 + serial, "currency": "usd", "active": True}
        return {}

    def add_rows(self, schema: str) -> None:
        """Between two syncs: two objects are created, and an old one changes (its ``created``
        stays: a list filtered on ``created`` does not show the change). Their events happen
        :attr:`today`, when the syncs run."""
        oldest = self.store.rows(schema)[0]
        self.update(schema, oldest["id"], self.today, **_CHANGES[schema])
        self._new(schema, event_at=self.today)
        self._new(schema, event_at=self.today)

    def add_row_at(self, schema: str, field: str, value: Any) -> None:
        """A new object of ``schema`` created exactly at ``value`` (Unix seconds): its
        ``created`` for the field ``created``, its creation event's for ``changed``."""
        if schema not in OBJECTS or field not in ("created", "changed"):
            raise ValueError(f"no incremental field {field!r} on {schema!r}")
        if field == "created":
            self._new(schema, created=int(value))
        else:
            self._new(schema, event_at=int(value))

    # --- the API --------------------------------------------------------------------------

    def param_error(self, request: httpx.Request, problem: ParamProblem) -> httpx.Response:
        code = _CODES[type(problem.rule)]
        extra = {"code": code} if code else {}
        return _error(400, problem.message, param=problem.param, **extra)

    def handle(self, request: httpx.Request) -> httpx.Response:
        key = _key(request.headers.get("Authorization", ""))
        if not key:
            return _error(
                401,
                "You did not provide an API key. You need to provide your API key in the"
                " Authorization header, using Bearer auth (e.g. 'Authorization: Bearer"
                " YOUR_SECRET_KEY').",
            )
        if key not in (SECRET_KEY, RESTRICTED_KEY):
            return _error(401, f"Invalid API Key provided: {_masked(key)}")
        account = request.headers.get("Stripe-Account")
        if account is not None and account != CONNECTED_ACCOUNT:
            return _error(
                403,
                f"The provided key '{_masked(key)}' does not have access to account"
                f" '{account}' (or that account does not exist). Application access may have"
                " been revoked.",
                code="account_invalid",
            )
        segments = request.url.path.strip("/").split("/")
        if segments == ["v1", "events"]:
            return self._events(request, key, account)
        nested = _nested_path(segments, request.url.params)
        if nested is not None:
            return self._sub_list(request, key, account, *nested)
        if len(segments) != 2 or segments[0] != "v1" or segments[1] not in OBJECTS:
            return _error(
                404,
                f"Unrecognized request URL ({request.method}: {request.url.path}). Please see"
                " https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        path = segments[1]
        if key == RESTRICTED_KEY and path != "charges":
            return _error(
                403,
                f"The provided key '{_masked(key)}' does not have the required permissions for"
                f" this endpoint on account 'acct_1ContractPlatform'. Having the"
                f" 'rak_{OBJECTS[path][0]}_read' permission would allow this request to"
                " continue.",
            )
        try:
            return self._list(request, path, account)
        except _Invalid as problem:
            extra = {"param": problem.param} if problem.param else {}
            return _error(400, str(problem), code=problem.code, **extra)

    def _events(self, request: httpx.Request, key: str, account: str | None) -> httpx.Response:
        if key == RESTRICTED_KEY:
            return _error(
                403,
                f"The provided key '{_masked(key)}' does not have the required permissions for"
                " this endpoint on account 'acct_1ContractPlatform'. Having the"
                " 'rak_event_read' permission would allow this request to continue.",
            )
        params = request.url.params  # the rules held: names, integers, one cursor, one filter
        types = params.get_list("types[]")
        if len(types) > _MAX_TYPES:
            return _error(
                400,
                f"Invalid array: types may hold at most {_MAX_TYPES} event names",
                param="types",
            )
        pattern = params.get("type")
        oldest = self.today - RETENTION_DAYS * 86400
        rows = [
            row
            for row in self.store.rows(self.table("events", account))
            if row["created"] >= oldest
            and _created_matches(row["created"], params)
            and (pattern is None or fnmatch.fnmatchcase(row["type"], pattern))
            and (not types or row["type"] in types)
        ]
        rows.sort(key=lambda row: (row["created"], row["id"]), reverse=True)
        try:
            page, more = _page(rows, params, "event", key=lambda r: (r["created"], r["id"]))
        except _Invalid as problem:
            return _error(400, str(problem), code=problem.code, param=problem.param or "")
        body = {"object": "list", "url": "/v1/events", "has_more": more, "data": page}
        return json_response(200, body, {"Request-Id": f"req_emu{len(self.requests):06d}"})

    def _sub_list(
        self, request: httpx.Request, key: str, account: str | None, parent: str, owner: str
    ) -> httpx.Response:
        """A nested list of one invoice or subscription, in the parent's order."""
        name = OBJECTS[parent][0]
        if key == RESTRICTED_KEY:
            return _error(
                403,
                f"The provided key '{_masked(key)}' does not have the required permissions for"
                f" this endpoint on account 'acct_1ContractPlatform'. Having the"
                f" 'rak_{name}_read' permission would allow this request to continue.",
            )
        table = self.table(parent, account)
        if not any(row["id"] == owner for row in self.store.rows(table)):
            return _error(404, f"No such {name}: '{owner}'", code="resource_missing", param="id")
        entry = "line_item" if parent == "invoices" else "subscription_item"
        rows = self.store.rows(self.table(f"{entry}s/{owner}", account))
        params = request.url.params
        limit = int(params.get("limit", _DEFAULT_LIMIT))
        after, before = params.get("starting_after"), params.get("ending_before")
        if after or before:
            ids = [row["id"] for row in rows]
            cursor = after or before or ""
            if cursor not in ids:
                return _error(
                    400,
                    f"No such {entry}: '{cursor}'",
                    code="resource_missing",
                    param="starting_after" if after else "ending_before",
                )
            at = ids.index(cursor)
            rows = rows[at + 1 :] if after else rows[:at]
            page, more = (
                (rows[:limit], len(rows) > limit) if after else (rows[-limit:], len(rows) > limit)
            )
        else:
            page, more = rows[:limit], len(rows) > limit
        url = f"/v1/invoices/{owner}/lines" if parent == "invoices" else "/v1/subscription_items"
        body = {"object": "list", "url": url, "has_more": more, "data": page}
        return json_response(200, body, {"Request-Id": f"req_emu{len(self.requests):06d}"})

    def _list(self, request: httpx.Request, path: str, account: str | None) -> httpx.Response:
        params = request.url.params  # PARAM_RULES held: names, integers, one cursor
        limit = int(params.get("limit", _DEFAULT_LIMIT))
        rows = self.store.rows(self.table(path, account))
        rows = [row for row in rows if _created_matches(row["created"], params)]
        if path == "subscriptions":
            rows = _by_status(rows, params.get("status"))
        rows.sort(key=lambda row: (row["created"], row["id"]), reverse=True)
        after, before = params.get("starting_after"), params.get("ending_before")
        if after or before:
            cursor = after or before or ""
            anchor = next(
                (r for r in self.store.rows(self.table(path, account)) if r["id"] == cursor),
                None,
            )
            if anchor is None:
                name = OBJECTS[path][0]
                raise _Invalid(
                    f"No such {name}: '{cursor}'",
                    code="resource_missing",
                    param="starting_after" if after else "ending_before",
                )
            position = (anchor["created"], anchor["id"])
            if after:
                rows = [r for r in rows if (r["created"], r["id"]) < position]
                page, more = rows[:limit], len(rows) > limit
            else:
                rows = [r for r in rows if (r["created"], r["id"]) > position]
                page, more = rows[-limit:], len(rows) > limit
        else:
            page, more = rows[:limit], len(rows) > limit
        body = {"object": "list", "url": f"/v1/{path}", "has_more": more, "data": page}
        return json_response(200, body, {"Request-Id": f"req_emu{len(self.requests):06d}"})


def _key(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except ValueError:
            return None
        return decoded.partition(":")[0] or None
    return None


def _page(
    rows: list[dict[str, Any]],
    params: httpx.QueryParams,
    name: str,
    *,
    key: Callable[[dict[str, Any]], Any],
) -> tuple[list[dict[str, Any]], bool]:
    """The page of ``rows`` (newest first by ``key``) the cursors and ``limit`` ask for."""
    limit = int(params.get("limit", _DEFAULT_LIMIT))
    after, before = params.get("starting_after"), params.get("ending_before")
    if not (after or before):
        return rows[:limit], len(rows) > limit
    cursor = after or before or ""
    anchor = next((row for row in rows if row["id"] == cursor), None)
    if anchor is None:
        raise _Invalid(
            f"No such {name}: '{cursor}'",
            code="resource_missing",
            param="starting_after" if after else "ending_before",
        )
    if after:
        rest = [row for row in rows if key(row) < key(anchor)]
        return rest[:limit], len(rest) > limit
    rest = [row for row in rows if key(row) > key(anchor)]
    return rest[-limit:], len(rest) > limit


def _nested_path(segments: list[str], params: httpx.QueryParams) -> tuple[str, str] | None:
    """``(parent list, parent id)`` of a nested-list request; ``None`` for any other path.

    A subscription items request without ``subscription`` never gets here: its parameter
    rules refuse it first.
    """
    if len(segments) == 4 and segments[:2] == ["v1", "invoices"] and segments[3] == "lines":
        return "invoices", segments[2]
    if segments == ["v1", "subscription_items"]:
        return "subscriptions", params.get("subscription", "")
    return None


def _created_matches(created: int, params: httpx.QueryParams) -> bool:
    for name, check in _CREATED_CHECKS.items():
        if name in params and not check(created, int(params[name])):
            return False
    return True


def _by_status(rows: list[dict[str, Any]], status: str | None) -> list[dict[str, Any]]:
    if status is None:
        return [row for row in rows if row["status"] != "canceled"]
    if status == "all":
        return rows
    return [row for row in rows if row["status"] == status]


kit = ContractKit(
    emulator=StripeApi,
    valid_config={"secret_key": SECRET_KEY},
    invalid_configs=[
        InvalidConfig(config={}, path="$.secret_key", description="no secret key"),
        InvalidConfig(
            config={"secret_key": SECRET_KEY, "account_id": "1032D82eZvKYlo2C"},
            path="$.account_id",
            description="a connected account id without the acct_ prefix",
        ),
    ],
    add_rows=StripeApi.add_rows,
    add_row_at=StripeApi.add_row_at,
    schemas={
        "invoice_lines": SchemaKit(
            table="line_items",
            expected_key=lambda row: (row["invoice"], row["id"]),
            parent=ParentLink(schema="invoices", columns={"invoice_id": "id"}),
        ),
        "subscription_items": SchemaKit(
            table="subscription_items",
            expected_key=lambda row: (row["subscription"], row["id"]),
            parent=ParentLink(schema="subscriptions", columns={"subscription_id": "id"}),
        ),
    },
)
