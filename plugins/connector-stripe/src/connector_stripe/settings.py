"""The Stripe source as data: its form, client, credential check and endpoint catalog.

Each endpoint's behaviour (pagination, filters, order, keys) is documented, with references,
in api_inventory.md; keep the two in step. Requests, retries and pagination are the shared
machinery's (headwater.rest). What the API needs real code for has a module of its own: the
change feed (changes.py: the Events API as the incremental read of objects that change),
nested lists (nested.py: an object's embedded sub-list as a table) and the error envelope
(envelope.py).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs

from connector_stripe import SPEC
from connector_stripe._config import StripeConfig
from connector_stripe.changes import CHANGED_FIELD, ChangeFeed, changes_response, stamped
from connector_stripe.envelope import stripe_message
from connector_stripe.nested import NestedList, nested_response
from headwater import ErrorKind, ErrorRule, IncrementalField, SecretField, SyncMode, TextField
from headwater.errors import ConfigError, ConfigProblem
from headwater.rest import (
    BasicAuth,
    ClientConfig,
    CredentialCheck,
    DependentEndpoint,
    Endpoint,
    EpochSeconds,
    HasMorePaginator,
    IncrementalParams,
    RestSource,
    endpoint_response,
)

if TYPE_CHECKING:
    from headwater import Runtime, SourceInputs, SourceResponse

__all__ = [
    "BALANCE_TRANSACTIONS",
    "BASE_URL",
    "CHARGES",
    "CLIENT",
    "CUSTOMERS",
    "ENDPOINTS",
    "EVENTS",
    "FEEDS",
    "INVOICES",
    "INVOICE_LINES",
    "LABEL",
    "NESTED",
    "NON_RETRYABLE_ERRORS",
    "PAYMENT_INTENTS",
    "PRICES",
    "PRODUCTS",
    "REFUNDS",
    "SUBSCRIPTIONS",
    "SUBSCRIPTION_ITEMS",
    "StripeSource",
    "secret_key_problem",
]

BASE_URL = "https://api.stripe.com"
LABEL = SPEC.label

# No Stripe-Version header: rows take the account's default API version, as the account's
# own dashboard and webhooks do (see api_inventory.md, "API version").
# Stripe's error envelope is read into every permanent failure's message (envelope.py).
CLIENT = ClientConfig(base_url=BASE_URL, error_message=stripe_message)

CREATED = IncrementalField(field="created", label="Created", type="timestamp")
# The change feed's watermark (changes.py): Unix seconds of the last change read.
CHANGED = IncrementalField(field=CHANGED_FIELD, label="Changed (Events API)", type="timestamp")


def _created_at(row: dict[str, Any]) -> dict[str, Any]:
    # `created` is Unix seconds; the partition key is the same instant as an ISO datetime,
    # because datetime partitions are checked to hold datetimes. `created` stays as sent: it
    # is the incremental field and the value `created[gte]` compares with.
    created = row.get("created")
    if isinstance(created, int) and not isinstance(created, bool):
        moment = dt.datetime.fromtimestamp(created, tz=dt.UTC)
        return {**row, "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return row


# Every list: `{"object": "list", "data": [...], "has_more": bool, "url": ...}`, newest first
# by creation, `limit` 1..100, the next page starts after the last object's id
# (`starting_after`). `created[gte]`/`created[lte]` take Unix seconds, bounds inclusive.
# The cursor paginator keeps the first request's query (the `created` bounds included).
# Lists cannot be asked to ascend, so the order is desc and an interrupted read resumes
# below the earliest `created` it reached (`created[lte]`).
_LIST: dict[str, Any] = {
    "primary_keys": ("id",),
    "data_selector": "data",
    "paginator": HasMorePaginator(
        has_more_path="has_more", cursor_field="id", cursor_param="starting_after"
    ),
    "page_size": 100,
    "page_size_param": "limit",
    "incremental": IncrementalParams(
        start_param="created[gte]", end_param="created[lte]", format=EpochSeconds()
    ),
    "incremental_fields": [CREATED],
    # Every object listed here can change after it is created, and the lists filter on
    # `created` only, so an incremental read sees new rows but never a change: full refresh is
    # the default, incremental on `created` an opt-in (api_inventory.md, "Changes").
    "default_sync_mode": SyncMode.FULL_REFRESH,
    # `created` never changes after creation, so a row stays in its partition.
    "partition_key": "created_at",
    "normalize": _created_at,
    "sort_mode": "desc",
}

# Objects the Events API reports every change of (api_inventory.md, "Change feed"): their
# tables offer a second incremental field, `changed`, read through the feed. `created` stays
# the first, so a config that names no field keeps its meaning.
_CHANGING = {
    "incremental_fields": [CREATED, CHANGED],
    # The list filters `created`; `changed` is read from the events, whose own `created`
    # takes the same bounds (changes.py sends them to /v1/events).
    "incremental": {"created": _LIST["incremental"], CHANGED_FIELD: _LIST["incremental"]},
}

CHARGES = Endpoint(
    name="charges", description="Charges, newest first.", path="/v1/charges", **_LIST
)
CUSTOMERS = Endpoint(
    name="customers",
    description="Customers (deleted ones are not listed).",
    path="/v1/customers",
    **{**_LIST, **_CHANGING},
)
INVOICES = Endpoint(
    name="invoices",
    description="Invoices in every status, drafts included.",
    path="/v1/invoices",
    **{**_LIST, **_CHANGING},
)
SUBSCRIPTIONS = Endpoint(
    name="subscriptions",
    description="Subscriptions in every status, canceled ones included.",
    path="/v1/subscriptions",
    # Without `status`, canceled subscriptions are left out of the list.
    params={"status": "all"},
    **{**_LIST, **_CHANGING},
)
PAYMENT_INTENTS = Endpoint(
    name="payment_intents",
    description="PaymentIntents, newest first.",
    path="/v1/payment_intents",
    **_LIST,
)
REFUNDS = Endpoint(
    name="refunds", description="Refunds, newest first.", path="/v1/refunds", **_LIST
)
BALANCE_TRANSACTIONS = Endpoint(
    name="balance_transactions",
    description="Balance transactions: every movement of the account's balance.",
    path="/v1/balance_transactions",
    **_LIST,
)
PRODUCTS = Endpoint(
    name="products",
    description="Products, active and archived.",
    path="/v1/products",
    **{**_LIST, **_CHANGING},
)
PRICES = Endpoint(
    name="prices",
    description="Prices, active and archived.",
    path="/v1/prices",
    **{**_LIST, **_CHANGING},
)

# The Events API (api_inventory.md, "Change feed"): a list like the others, newest first,
# `created[gte]`/`created[lte]` in Unix seconds, `type` filtering by a name with `*`.
EVENTS = Endpoint(
    name="events",
    description="Events of the last 30 days (the change feed; not a table).",
    path="/v1/events",
    primary_keys=("id",),
    data_selector="data",
    paginator=_LIST["paginator"],
    page_size=100,
    page_size_param="limit",
    incremental=_LIST["incremental"],
    sort_mode="desc",
)
FEEDS = {
    "customers": ChangeFeed(
        event_type="customer.*", object_name="customer", deletions=frozenset({"customer.deleted"})
    ),
    "invoices": ChangeFeed(
        event_type="invoice.*", object_name="invoice", deletions=frozenset({"invoice.deleted"})
    ),
    # `customer.subscription.deleted` is a cancellation: the subscription stays, canceled.
    "subscriptions": ChangeFeed(
        event_type="customer.subscription.*", object_name="subscription", deletions=frozenset()
    ),
    "products": ChangeFeed(
        event_type="product.*", object_name="product", deletions=frozenset({"product.deleted"})
    ),
    "prices": ChangeFeed(
        event_type="price.*", object_name="price", deletions=frozenset({"price.deleted"})
    ),
}

# Nested lists (api_inventory.md, "Nested lists"): an invoice's `lines` and a subscription's
# `items` come embedded with their first page only and their own `has_more`. Each is a table
# of its own: the embedded entries, then the rest of a list whose `has_more` is true through
# the sub-list's endpoint (nested.py). Entries carry their parent's id; their order is the
# parent's, not a creation order, and they have no `created` filter: full refresh only.
_SUB_LIST: dict[str, Any] = {
    "data_selector": "data",
    "paginator": _LIST["paginator"],
    "page_size": 100,
    "page_size_param": "limit",
    "default_sync_mode": SyncMode.FULL_REFRESH,
}
INVOICE_LINES = Endpoint(
    name="invoice_lines",
    description="Every line of every invoice (an invoice's own `lines` hold the first page only).",
    path="/v1/invoices/{invoice}/lines",
    # A line's id is unique within its invoice; the invoice id makes the key certain.
    primary_keys=("invoice_id", "id"),
    **_SUB_LIST,
)
SUBSCRIPTION_ITEMS = Endpoint(
    name="subscription_items",
    description="Every item of every subscription, canceled subscriptions included (a"
    " subscription's own `items` hold the first page only).",
    path="/v1/subscription_items",
    primary_keys=("subscription_id", "id"),
    **_SUB_LIST,
)
NESTED = {
    INVOICE_LINES.name: NestedList(
        parent=INVOICES,
        field="lines",
        link=DependentEndpoint(
            parent_name="invoices",
            resolve_param="invoice",
            resolve_field="id",
            include_from_parent=("id",),
            renames={"id": "invoice_id"},
        ),
    ),
    SUBSCRIPTION_ITEMS.name: NestedList(
        parent=SUBSCRIPTIONS,
        field="items",
        link=DependentEndpoint(
            parent_name="subscriptions",
            # The list takes the subscription as a (required) query parameter.
            resolve_param="subscription",
            resolve_field="id",
            include_from_parent=("id",),
            renames={"id": "subscription_id"},
        ),
    ),
}

ENDPOINTS = {
    endpoint.name: endpoint
    for endpoint in (
        CHARGES,
        CUSTOMERS,
        INVOICES,
        SUBSCRIPTIONS,
        PAYMENT_INTENTS,
        REFUNDS,
        BALANCE_TRANSACTIONS,
        PRODUCTS,
        PRICES,
        INVOICE_LINES,
        SUBSCRIPTION_ITEMS,
    )
}

# Rules match on the typed error first (status kind), so the connected-account rule, which
# narrows a 403 by Stripe's wording, comes before the generic permission rule. Stripe's own
# `error.message` is in the error itself (envelope.py puts it there); these say what to do.
NON_RETRYABLE_ERRORS = (
    ErrorRule(
        text="expected a secret key",
        message="Set `secret_key` to a Stripe secret key (sk_live_..., sk_test_...) or a"
        " restricted key (rk_live_..., rk_test_...), not a publishable key",
    ),
    ErrorRule(
        kind=ErrorKind.AUTHENTICATION,
        message=f"{LABEL} rejected the secret key: copy a current key from Developers > API keys"
        " in the Stripe Dashboard (a rolled or deleted key stops working)",
    ),
    ErrorRule(
        kind=ErrorKind.PERMISSION,
        text="does not have access to account",
        message=f"The {LABEL} key may not act for the configured connected account: check"
        " `account_id`, and that the account is still connected to the platform",
    ),
    ErrorRule(
        kind=ErrorKind.PERMISSION,
        message=f"The {LABEL} restricted key lacks a read permission this table needs: give it"
        " Read on the resource named in the error, or use a secret key",
    ),
    ErrorRule(
        kind=ErrorKind.NOT_FOUND,
        message=f"{LABEL} answered 404 for a list endpoint: check `account_id`",
    ),
    ErrorRule(
        kind=ErrorKind.BAD_REQUEST,
        message=f"{LABEL} refused the request (invalid_request_error); the error names the"
        " parameter",
    ),
)


# Secret keys are sk_live_/sk_test_, restricted keys rk_live_/rk_test_ (docs.stripe.com/keys).
# A publishable key (pk_) can read nothing this connector lists, so it is refused up front.
_KEY_PREFIXES = ("sk_", "rk_")


def secret_key_problem(config: StripeConfig) -> ConfigError | None:
    """A :class:`ConfigError` at ``$.secret_key`` when the key is not a secret or restricted
    key; the value is never quoted."""
    if config.secret_key.reveal().strip().startswith(_KEY_PREFIXES):
        return None
    return ConfigError(
        [
            ConfigProblem(
                path="$.secret_key",
                message="expected a secret key (sk_...) or a restricted key (rk_...)",
            )
        ],
        context=f"invalid {LABEL} configuration",
    )


def _for_account(config: StripeConfig) -> str:
    return f" for connected account {config.account_id}" if config.account_id else ""


class StripeSource(RestSource[StripeConfig]):
    """Reads one Stripe account."""

    spec = SPEC
    caption = (
        "Charges, customers, invoices and their lines, subscriptions and their items,"
        " PaymentIntents, refunds, balance transactions, products and prices of one Stripe"
        " account (or one connected account)."
    )
    category = "Payments"
    docs_url = "https://docs.stripe.com/api"
    # After changing the fields, regenerate _config.py (`headwater generate stripe`).
    fields = (
        SecretField(
            name="secret_key",
            label="Secret key",
            caption=(
                "A secret key (sk_live_...) or a restricted key (rk_live_...) with Read"
                " on every table to sync, from Developers > API keys."
            ),
        ),
        TextField(
            name="account_id",
            label="Connected account",
            caption=(
                "Optional: a connected account's id, to read that account through a"
                " platform key (sent as the Stripe-Account header)."
            ),
            placeholder="acct_1032D82eZvKYlo2C",
            required=False,
            pattern=r"acct_[A-Za-z0-9]+",
            pattern_hint="acct_ followed by letters and digits",
        ),
    )
    client = CLIENT
    # The key is the basic-auth user name, with an empty password.
    auth = BasicAuth.from_config("secret_key")
    # Listing one charge needs a valid key, read access to charges and the connected account.
    credential_check = CredentialCheck(
        path="/v1/charges",
        params={"limit": "1"},
        messages={
            ErrorKind.AUTHENTICATION: "{label} rejected the secret key: copy a current key"
            " from Developers > API keys in the Stripe Dashboard",
            ErrorKind.PERMISSION: "The {label} key may not list charges{for_account}: {reason}."
            " Give a restricted key Read on the tables to sync, or use a secret key",
            ErrorKind.NOT_FOUND: "{label} answered 404{for_account}: {reason}",
            ErrorKind.BAD_REQUEST: "{label} refused the check: {error}",
        },
        values={"for_account": _for_account},
    )
    endpoints = ENDPOINTS
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def client_config(self, config: StripeConfig) -> ClientConfig:
        """The declared client, for the connected account when one is configured.

        :raises ConfigError: at ``$.secret_key`` when the key is not a secret or restricted key.
        """
        problem = secret_key_problem(config)
        if problem is not None:
            raise problem
        client = super().client_config(config)
        if not config.account_id:
            return client
        headers = {**client.headers, "Stripe-Account": config.account_id.strip()}
        return attrs.evolve(client, headers=headers)

    def source_for_pipeline(
        self, config: StripeConfig, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        feed = FEEDS.get(inputs.schema_name)
        nested = NESTED.get(inputs.schema_name)
        if feed is None and nested is None:
            return super().source_for_pipeline(config, inputs, runtime)
        client = self.client_config(config)
        endpoint = ENDPOINTS[inputs.schema_name]
        if feed is not None and inputs.incremental_field == CHANGED_FIELD:
            return changes_response(client, endpoint, EVENTS, feed, inputs, runtime)
        if feed is not None:
            # Every row of a table with a change feed says when its state was read, so
            # `changed` is never missing, whatever the mode (changes.py).
            endpoint = endpoint.evolve(normalize=stamped(endpoint.normalize, runtime))
        if nested is not None:
            return nested_response(client, nested, endpoint, inputs, runtime)
        return endpoint_response(client, endpoint, inputs, runtime)
