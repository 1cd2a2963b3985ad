"""The endpoint catalog: every endpoint of the Typeform API this connector reads, as data.

Each endpoint's behaviour (pagination, filters, order, keys) is documented, with references,
in api_inventory.md; keep the two in step.
"""

from __future__ import annotations

from headwater import ErrorKind, ErrorRule, IncrementalField
from headwater.rest import (
    ClientConfig,
    CursorPaginator,
    DependentEndpoint,
    Endpoint,
    IncrementalParams,
    Iso8601,
    PageNumberPaginator,
    ParentErrorPolicy,
    SinglePagePaginator,
)

__all__ = [
    "BASE_URLS",
    "CLIENT",
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "FIELDS_OF_FORMS",
    "FORMS",
    "FORM_FIELDS",
    "FORM_PARENTS",
    "LABEL",
    "NON_RETRYABLE_ERRORS",
    "RESPONSES",
    "RESPONSES_OF_FORMS",
]

LABEL = "Typeform"

# The documented API hosts: the default one, and the two of the EU data center (an account's
# data lives on one of them; Typeform names both). Nothing else is accepted: the token is
# sent to this origin only.
DEFAULT_BASE_URL = "https://api.typeform.com"
BASE_URLS = {
    DEFAULT_BASE_URL: "US / global (api.typeform.com)",
    "https://api.eu.typeform.com": "EU data center (api.eu.typeform.com)",
    "https://api.typeform.eu": "EU data center (api.typeform.eu)",
}

CLIENT = ClientConfig(base_url=DEFAULT_BASE_URL, headers={"Accept": "application/json"})

FORMS = Endpoint(
    name="forms",
    description="Every form the token can see, with its settings and links.",
    path="/forms",
    primary_keys=("id",),
    data_selector="items",
    # `page` counts from 1; `page_count` is the number of pages of `page_size` (at most 200).
    paginator=PageNumberPaginator(page_param="page", start_page=1, total_pages_path="page_count"),
    page_size=200,
    page_size_param="page_size",
    # Oldest first by creation, so a form created during the read lands on the last page
    # instead of shifting the pages still to come. The list has no filter on the update time:
    # it is read whole (full refresh).
    params={"sort_by": "created_at", "order_by": "asc"},
    # Not partitioned: some list items have no created_at at all (api_inventory.md), and a
    # partition key must hold a value on every row (last_updated_at changes, so it is no
    # candidate). The list is small and read whole.
)

# The parent of the responses fan-out: the same list, only the ids are needed.
FORM_PARENTS = FORMS

# The questions are only in the form itself (`GET /forms/{form_id}`), not in the list: one
# detail request per form, through the shared fan-out. typeform.py turns each form into one
# row per question, a group's own questions flattened after it with the group's ref.
FORM_FIELDS = Endpoint(
    name="form_fields",
    description=(
        "The questions of every form, one row per question (questions inside a group come"
        " flattened, with their group's ref), from each form's definition."
    ),
    path="/forms/{form_id}",
    # A field id is unique within its form; the same id may appear in another form.
    primary_keys=("form_id", "id"),
    data_selector="$",  # the body is the form: one row, turned into its questions
    paginator=SinglePagePaginator(),
    # No creation time on a question: not partitioned. Read whole (full refresh).
)

FIELDS_OF_FORMS = DependentEndpoint(
    parent_name="forms",
    resolve_param="form_id",
    resolve_field="id",
    include_from_parent=("id",),
    renames={"id": "form_id"},
    # A form deleted between the two reads answers 404.
    parent_errors=ParentErrorPolicy(skip_statuses=[404]),
    # 2 requests per second per account (see RESPONSES_OF_FORMS).
    max_workers=4,
)

SUBMITTED_AT = IncrementalField(field="submitted_at", label="Submitted at", type="datetime")

RESPONSES = Endpoint(
    name="responses",
    description="Completed responses of every form, newest submission first.",
    path="/forms/{form_id}/responses",
    primary_keys=("form_id", "token"),
    data_selector="items",
    # No cursor in the body: the next page is the one `before` the last row's token
    # (exclusive), in the default order, newest submission first. `sort` may not be combined
    # with the tokens, so the list cannot be paged oldest first. An empty page ends a form
    # (conservative: the docs do not say whether `page_count` reflects the token).
    paginator=CursorPaginator(cursor_path="items[-1].token", cursor_param="before"),
    page_size=1000,
    page_size_param="page_size",
    # `since` and `until` (inclusive, on submitted_at, to the second) may be combined with the
    # tokens: the docs only rule out `sort` with them. typeform.py merges the forms' lists
    # into one newest-first stream, so `until` carrying the earliest value an interrupted
    # read reached is right for every form at once.
    incremental=IncrementalParams(
        start_param="since", end_param="until", format=Iso8601(fmt="%Y-%m-%dT%H:%M:%S")
    ),
    incremental_fields=[SUBMITTED_AT],
    # submitted_at is set once, when the response is completed; only completed responses are
    # listed (the default response_type), so it is never null.
    partition_key="submitted_at",
    sort_mode="desc",
)

RESPONSES_OF_FORMS = DependentEndpoint(
    parent_name="forms",
    resolve_param="form_id",
    resolve_field="id",
    include_from_parent=("id",),
    renames={"id": "form_id"},
    # A form deleted between the two reads answers 404.
    parent_errors=ParentErrorPolicy(skip_statuses=[404]),
    # Typeform allows 2 requests per second per account: a few workers hide the latency;
    # more would only wait at the shared rate-limit gate.
    max_workers=4,
)

ENDPOINTS = {endpoint.name: endpoint for endpoint in (FORMS, FORM_FIELDS, RESPONSES)}

# Typeform scopes a personal access token per area: forms:read lists forms, responses:read
# reads responses. The first matching rule wins, so the scope-specific one comes first.
NON_RETRYABLE_ERRORS = (
    # Raised by typeform.base_url() before any request.
    ErrorRule(
        text="not a Typeform API host",
        message=f"Set `base_url` to one of {LABEL}'s API hosts: {', '.join(BASE_URLS)}",
    ),
    ErrorRule(
        kind=ErrorKind.AUTHENTICATION,
        message=f"{LABEL} rejected the personal access token: create a new one under Account >"
        " Personal tokens and update the config (EU accounts: check the API region too)",
    ),
    ErrorRule(
        kind=ErrorKind.PERMISSION,
        text="/responses",
        message=f"The {LABEL} token lacks the responses:read scope: create a token with"
        " Responses: Read",
    ),
    ErrorRule(
        kind=ErrorKind.PERMISSION,
        message=f"The {LABEL} token lacks the forms:read scope: create a token with Forms: Read",
    ),
    ErrorRule(
        kind=ErrorKind.NOT_FOUND,
        message=f"{LABEL} has no such form for this token: check the API region of the account",
    ),
)
