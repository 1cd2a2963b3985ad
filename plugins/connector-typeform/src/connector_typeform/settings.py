"""The Typeform source as data: its form, client, credential check and endpoint catalog.

Each endpoint's behaviour (pagination, filters, order, keys) is documented, with references,
in api_inventory.md; keep the two in step. Requests, retries, pagination and fan-out are the
shared machinery's (headwater.rest). Two tables need code of their own: ``form_fields``
(form_fields.py: a form's question tree as rows) and ``responses`` (responses.py: every
form's list merged newest first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector_typeform import SPEC
from connector_typeform._config import TypeformConfig
from connector_typeform.form_fields import form_fields_response
from connector_typeform.responses import responses_newest_first
from headwater import (
    ErrorKind,
    ErrorRule,
    IncrementalField,
    SecretField,
    SelectField,
    SelectOption,
)
from headwater.rest import (
    BaseUrlFrom,
    BearerAuth,
    ClientConfig,
    CredentialCheck,
    CursorPaginator,
    DependentEndpoint,
    Endpoint,
    IncrementalParams,
    Iso8601,
    PageNumberPaginator,
    ParentErrorPolicy,
    RestSource,
    SinglePagePaginator,
)

if TYPE_CHECKING:
    from headwater import Runtime, SourceInputs, SourceResponse

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
    "TypeformSource",
]

LABEL = SPEC.label

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
# detail request per form, through the shared fan-out. form_fields.py turns each form into one
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
    # tokens: the docs only rule out `sort` with them. responses.py merges the forms' lists
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
    # Raised before any request for a host BASE_URLS does not list (TypeformSource.base_url).
    ErrorRule(
        text="unknown Typeform API host",
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


class TypeformSource(RestSource[TypeformConfig]):
    """Reads the forms one personal access token can see, and their responses."""

    spec = SPEC
    caption = (
        "Forms of a Typeform account, the questions of each form, and the completed responses"
        " to each of them."
    )
    category = "Surveys"
    docs_url = "https://www.typeform.com/developers/"
    # After changing the fields, regenerate _config.py (`headwater generate typeform`).
    fields = (
        SecretField(
            name="token",
            label="Personal access token",
            caption=(
                "Created under Account > Personal tokens, with the Forms: Read and"
                " Responses: Read scopes."
            ),
        ),
        SelectField(
            name="base_url",
            label="API region",
            caption="The API host of the account's data center.",
            default=DEFAULT_BASE_URL,
            options=[SelectOption(value=url, label=label) for url, label in BASE_URLS.items()],
        ),
    )
    client = CLIENT
    # The form offers only the documented hosts, but a config built in code can hold
    # anything; the token must never be sent elsewhere.
    base_url = BaseUrlFrom(field="base_url", urls={url: url for url in BASE_URLS})
    auth = BearerAuth.from_config("token")
    # Listing one form is the cheapest request that needs a valid token with forms:read.
    credential_check = CredentialCheck(
        path="/forms",
        params={"page_size": "1"},
        messages={
            ErrorKind.AUTHENTICATION: "{label} rejected the personal access token: create a"
            " new one under Account > Personal tokens (and check the API region: an EU"
            " account's token is unknown to the other hosts)",
            ErrorKind.PERMISSION: "The {label} token may not list forms: create a token with"
            " the forms:read and responses:read scopes",
        },
    )
    endpoints = ENDPOINTS
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def source_for_pipeline(
        self, config: TypeformConfig, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        if inputs.schema_name == RESPONSES.name:
            return responses_newest_first(
                self.client_config(config),
                FORM_PARENTS,
                RESPONSES,
                RESPONSES_OF_FORMS,
                inputs,
                runtime,
            )
        if inputs.schema_name == FORM_FIELDS.name:
            return form_fields_response(
                self.client_config(config),
                FORM_PARENTS,
                FORM_FIELDS,
                FIELDS_OF_FORMS,
                inputs,
                runtime,
            )
        return super().source_for_pipeline(config, inputs, runtime)
