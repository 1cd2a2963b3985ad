"""The Klaviyo source as data: its form, client, credential check and endpoint catalog.

Each endpoint's behaviour (pagination, filters, order, keys) is documented, with references,
in api_inventory.md; keep the two in step. Requests, retries, pagination and fan-out are the
shared machinery's (headwater.rest).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from connector_klaviyo import SPEC
from connector_klaviyo._config import KlaviyoConfig
from headwater import ErrorKind, ErrorRule, IncrementalField, SecretField
from headwater.rest import (
    ApiKeyAuth,
    ClientConfig,
    CredentialCheck,
    DependentEndpoint,
    Endpoint,
    FanOut,
    IncrementalParams,
    Iso8601,
    NextUrlPaginator,
    ParentErrorPolicy,
    RestSource,
)

__all__ = [
    "BASE_URL",
    "CLIENT",
    "EMAIL_CAMPAIGNS",
    "ENDPOINTS",
    "EVENTS",
    "FLOWS",
    "LABEL",
    "LISTS",
    "LIST_PARENTS",
    "LIST_PROFILES",
    "METRICS",
    "NON_RETRYABLE_ERRORS",
    "PROFILES",
    "PROFILES_OF_LISTS",
    "PROFILE_EXTRAS",
    "REVISION",
    "SMS_CAMPAIGNS",
    "GreaterThan",
    "KlaviyoSource",
    "flatten",
]

BASE_URL = "https://a.klaviyo.com"
# Every request names the API revision it was written for (required header); the shapes,
# filters and page sizes below are those of this revision, the latest stable one when the
# connector was last checked against Klaviyo's reference (api_inventory.md, December 2026).
REVISION = "2026-10-15"
LABEL = SPEC.label

CLIENT = ClientConfig(
    base_url=BASE_URL,
    headers={"Accept": "application/vnd.api+json", "revision": REVISION},
)


@attrs.frozen(kw_only=True)
class GreaterThan:
    """Writes a lower bound as a JSON:API filter expression: ``greater-than(<field>,<time>)``.

    ``base`` is a filter every request of the endpoint needs (the campaigns' channel); the two
    are then combined as ``and(<base>,greater-than(...))``. Datetimes go unquoted, as the
    filtering guide requires. Used as the ``format`` of :class:`IncrementalParams`, so the
    bound is the shared one (watermark or start date, lookback, clamped to now).
    """

    field: str
    base: str | None = None

    def __call__(self, value: Any) -> str:
        bound = f"greater-than({self.field},{Iso8601()(value)})"
        return f"and({self.base},{bound})" if self.base else bound


def _since(field: str, base: str | None = None) -> IncrementalParams:
    # `greater-than` is the one lower-bound operator every endpoint below documents for its
    # time field (profiles and lists offer no `greater-or-equal`). Klaviyo's times have whole
    # seconds, so a one-second lookback makes the bound inclusive, as the host expects; MERGE
    # absorbs the rows read again.
    return IncrementalParams(
        start_param="filter",
        format=GreaterThan(field=field, base=base),
        lookback=dt.timedelta(seconds=1),
    )


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """A JSON:API resource as one flat row: ``id``, ``type``, its ``attributes``, and the id
    of each to-one relationship as ``<relationship>_id`` (an event's ``metric_id``)."""
    flat: dict[str, Any] = {"id": row.get("id"), "type": row.get("type")}
    flat.update(row.get("attributes") or {})
    for name, relationship in (row.get("relationships") or {}).items():
        data = relationship.get("data") if isinstance(relationship, dict) else None
        if isinstance(data, dict) and "id" in data:
            flat[f"{name.replace('-', '_')}_id"] = data["id"]
    return flat


# Every list is JSON:API: rows in `data`, the next page's full URL in `links.next` (null on
# the last page). The next URL carries every query parameter of the request (filter, sort,
# page[size]) plus the opaque `page[cursor]`, so it is followed as sent.
_PAGES: dict[str, Any] = {
    "data_selector": "data",
    "paginator": NextUrlPaginator(next_url_path="links.next"),
    "page_size_param": "page[size]",
    "normalize": flatten,
}


def _datetime(field: str, label: str) -> IncrementalField:
    return IncrementalField(field=field, label=label, type="datetime")


# Consent (`subscriptions`) and `predictive_analytics` are left out of a profile unless asked
# for; Get Profiles documents both values of `additional-fields[profile]` (Get Profiles for
# List is not confirmed to, so list_profiles does not ask). Asking for predictive analytics
# lowers the endpoint's rate limit (10/s burst, 150/m steady instead of 75/s, 750/m); the
# client waits out the 429s that may bring.
PROFILE_EXTRAS = "subscriptions,predictive_analytics"

PROFILES = Endpoint(
    name="profiles",
    description="Every profile of the account, with its consent and predictive analytics.",
    path="/api/profiles",
    primary_keys=("id",),
    # Sorted by update time, oldest first, so the watermark advances page by page. `updated`
    # is nullable in the spec: such a profile sorts first, matches no time filter (so only a
    # first or full read brings it), is written and counted, and never moves the watermark.
    params={"sort": "updated", "additional-fields[profile]": PROFILE_EXTRAS},
    **_PAGES,
    page_size=100,
    incremental=_since("updated"),
    incremental_fields=[_datetime("updated", "Updated")],
    partition_key="created",
    sort_mode="asc",
)

EVENTS = Endpoint(
    name="events",
    description="Every event (a metric's occurrence for a profile), oldest first.",
    path="/api/events",
    primary_keys=("id",),
    params={"sort": "datetime"},
    **_PAGES,
    # 200 a page by default, "up to 1000 with page[size]" (since revision 2026-01-15).
    page_size=1000,
    # An event never changes: its time is both the watermark and the partition.
    incremental=_since("datetime"),
    incremental_fields=[_datetime("datetime", "Event time")],
    partition_key="datetime",
    sort_mode="asc",
)


def _campaigns(channel: str) -> Endpoint:
    base = f"equals(messages.channel,'{channel}')"
    return Endpoint(
        name=f"{channel}_campaigns",
        description=f"Campaigns sent (or to be sent) by {channel}, drafts and archived included.",
        path="/api/campaigns",
        primary_keys=("id",),
        # The channel filter is required; the incremental bound is combined with it.
        params={"filter": base, "sort": "updated_at"},
        # No page[size] in this revision: the page size is the API's.
        **_PAGES,
        incremental=_since("updated_at", base),
        incremental_fields=[_datetime("updated_at", "Updated at")],
        partition_key="created_at",
        sort_mode="asc",
    )


EMAIL_CAMPAIGNS = _campaigns("email")
SMS_CAMPAIGNS = _campaigns("sms")

FLOWS = Endpoint(
    name="flows",
    description="Every flow (automation) of the account.",
    path="/api/flows",
    primary_keys=("id",),
    params={"sort": "updated"},
    **_PAGES,
    page_size=50,  # the documented maximum
    incremental=_since("updated"),
    incremental_fields=[_datetime("updated", "Updated")],
    partition_key="created",
    sort_mode="asc",
)

LISTS = Endpoint(
    name="lists",
    description="Every list of the account.",
    path="/api/lists",
    primary_keys=("id",),
    params={"sort": "updated"},
    # No page[size] in this revision.
    **_PAGES,
    incremental=_since("updated"),
    incremental_fields=[_datetime("updated", "Updated")],
    partition_key="created",
    sort_mode="asc",
)

# The parent of the list members fan-out: every list, oldest first, without a time filter.
LIST_PARENTS = LISTS.evolve(params={"sort": "created"}, incremental=None, incremental_fields=())

METRICS = Endpoint(
    name="metrics",
    description="Every metric (event type) of the account.",
    path="/api/metrics",
    primary_keys=("id",),
    # No time filter and no sort: read whole (full refresh).
    **_PAGES,
    partition_key="created",
)

LIST_PROFILES = Endpoint(
    name="list_profiles",
    description="The profiles on each list, read per list.",
    path="/api/lists/{list_id}/profiles",
    primary_keys=("list_id", "id"),
    **_PAGES,
    page_size=100,
    # Read whole per list: a profile removed from a list would never leave an incremental
    # table, and the list's rows interleave with other lists' rows.
    partition_key="created",
)

PROFILES_OF_LISTS = DependentEndpoint(
    parent_name="lists",
    resolve_param="list_id",
    resolve_field="id",
    include_from_parent=("id",),
    renames={"id": "list_id"},
    # A list deleted between the two reads answers 404.
    parent_errors=ParentErrorPolicy(skip_statuses=[404]),
)

ENDPOINTS = {
    endpoint.name: endpoint
    for endpoint in (
        PROFILES,
        EVENTS,
        EMAIL_CAMPAIGNS,
        SMS_CAMPAIGNS,
        FLOWS,
        LISTS,
        METRICS,
        LIST_PROFILES,
    )
}


def _scope(*scopes: str) -> str:
    named = " and ".join(f"'{scope}'" for scope in scopes)
    return (
        f"The {LABEL} private API key lacks a read scope for this table: give it {named}"
        " (Settings > API keys), or create a key with read access"
    )


# 429s never get here: the client waits them out (Retry-After). The first match wins, so the
# permission rules name the scope of the failing path, and the generic one comes last.
NON_RETRYABLE_ERRORS = (
    ErrorRule(
        kind=ErrorKind.AUTHENTICATION,
        message=f"{LABEL} rejected the private API key: create a new one under Settings >"
        " API keys and update the config",
    ),
    ErrorRule(
        kind=ErrorKind.PERMISSION,
        text="/api/lists/",
        message=_scope("lists:read", "profiles:read"),
    ),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/api/events", message=_scope("events:read")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/profiles", message=_scope("profiles:read")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/api/campaigns", message=_scope("campaigns:read")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/api/flows", message=_scope("flows:read")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/api/lists", message=_scope("lists:read")),
    ErrorRule(kind=ErrorKind.PERMISSION, text="/api/metrics", message=_scope("metrics:read")),
    ErrorRule(
        kind=ErrorKind.PERMISSION,
        message=f"The {LABEL} private API key may not read this: give it read access",
    ),
    ErrorRule(
        kind=ErrorKind.BAD_REQUEST,
        text="revision",
        message=f"{LABEL} no longer accepts API revision {REVISION}: upgrade connector-klaviyo",
    ),
)


class KlaviyoSource(RestSource[KlaviyoConfig]):
    """Reads one Klaviyo account through its private API key."""

    spec = SPEC
    caption = (
        "Profiles, events, email and SMS campaigns, flows, lists and their members, and"
        " metrics of one Klaviyo account."
    )
    category = "Marketing"
    docs_url = "https://developers.klaviyo.com/en/reference/api_overview"
    # After changing the fields, regenerate _config.py (`headwater generate klaviyo`).
    fields = (
        SecretField(
            name="private_api_key",
            label="Private API key",
            caption=(
                "A private key (pk_...) from Settings > API keys, with read access"
                " (a read-only key is enough)."
            ),
        ),
    )
    client = CLIENT
    # Authorization: Klaviyo-API-Key <key>
    auth = ApiKeyAuth.from_config(
        "private_api_key", name="Authorization", prefix="Klaviyo-API-Key "
    )
    # Get Accounts is the endpoint Klaviyo documents for checking that a private key works
    # (scope accounts:read; a read-only key has every read scope).
    credential_check = CredentialCheck(
        path="/api/accounts",
        messages={
            ErrorKind.AUTHENTICATION: "{label} rejected the private API key: create a new one"
            " under Settings > API keys and update the config",
            ErrorKind.PERMISSION: "The {label} private API key may not read the account: give"
            " it read access (at least the 'accounts:read' scope) under Settings > API keys",
            ErrorKind.BAD_REQUEST: "{label} refused the request: {error}",
        },
    )
    endpoints = ENDPOINTS
    fanouts = (FanOut(parent=LIST_PARENTS, child=LIST_PROFILES, dependent=PROFILES_OF_LISTS),)
    non_retryable_errors = NON_RETRYABLE_ERRORS
