"""Each deliberately broken connector fails the check it targets, saying what is wrong.

Every variant is the reference connector (fixtures/connector_forge) with one thing broken, as a
settings override or a small subclass, the way such bugs appear in real connectors. The table
names the checks each variant must fail (and no others: the suite is precise, so a report
points at the cause) with a fragment of each failure message.
"""

from __future__ import annotations

import attrs
import pytest

from conftest import BASE_SOURCE

# The reference connector's schemas whose reads yield resume points (more than one page).
RESUMING = ("issues", "events", "comments", "projects", "members")


@attrs.frozen(kw_only=True)
class Variant:
    name: str
    source: str
    fails: dict[str, list[str]]
    install: dict[str, str] = attrs.field(factory=dict)
    stale_fields: bool = False


VARIANTS = [
    Variant(
        name="page_served_twice",
        # The API numbers pages from 1 and reads page 0 as page 1.
        source="""
from headwater.rest import PageNumberPaginator

class Source(ForgeSource):
    catalog = CATALOG.with_endpoint("issues", paginator=PageNumberPaginator(start_page=0))
""",
        fails={
            "test_full_read_returns_every_row_once[forge::issues]": [
                "5 rows came more than once (1 (2 times), 2 (2 times), 3 (2 times) and 2 more)",
                "a page was read twice",
                "page 0 and page 1 may be the same page",
            ],
            # Page 1 again after page "0": the rows go back in time.
            "test_sort_mode_matches_the_data[forge::issues]": ["not in asc order of 'updated_at'"],
        },
    ),
    Variant(
        name="next_link_never_ends",
        # Ignores the API's results="false" marker on the last page's next link.
        source="""
from headwater.rest import LinkHeaderPaginator

class Source(ForgeSource):
    catalog = CATALOG.with_endpoint(
        "projects", paginator=LinkHeaderPaginator(results_flag=None, stop_on_empty_page=False)
    )
""",
        fails={
            "test_full_read_returns_every_row_once[forge::projects]": [
                "the full read of 'projects' failed: PaginationLoopError",
                "a next link or cursor that never ends",
            ],
            # The fan-out reads its parents through the same endpoint.
            "test_full_read_returns_every_row_once[forge::members]": [
                "the full read of 'members' failed: PaginationLoopError",
            ],
        },
    ),
    Variant(
        name="retries_401",
        source="""
from headwater.rest import RetryPolicy

class Source(ForgeSource):
    catalog = attrs.evolve(
        CATALOG,
        client=attrs.evolve(
            CATALOG.client, retry=RetryPolicy(statuses={401, 429, 500, 502, 503, 504})
        ),
    )
""",
        fails={
            "test_auth_failures_fail_at_once_with_a_message[forge]": [
                "HTTP 401 was retried (",
                "requests got it)",
                "must fail at once",
            ],
        },
    ),
    Variant(
        name="no_rule_for_401",
        source="""
class Source(ForgeSource):
    catalog = attrs.evolve(CATALOG, rules=CATALOG.rules[1:])
""",
        fails={
            "test_auth_failures_fail_at_once_with_a_message[forge]": [
                "no rule of get_non_retryable_errors() matches the HTTP 401 error",
                "treat it as retryable",
                "ErrorRule(kind=ErrorKind.AUTHENTICATION",
            ],
        },
    ),
    Variant(
        name="primary_key_missing",
        source="""
class Source(ForgeSource):
    catalog = CATALOG.with_endpoint("issues", primary_keys=("issue_id",))
""",
        fails={
            "test_primary_keys_are_present_and_not_null[forge::issues]": [
                "12 of 12 rows of 'issues' have no (or a null) primary-key field 'issue_id'",
                "row 0 has: created_at, id, state, title, updated_at",
            ],
        },
    ),
    Variant(
        name="incremental_field_absent",
        source="""
from headwater import IncrementalField

class Source(ForgeSource):
    catalog = CATALOG.with_endpoint(
        "issues",
        incremental_fields=[
            IncrementalField(field="modified_at", label="Modified at", type="datetime")
        ],
    )
""",
        fails={
            "test_incremental_fields_are_present_and_typed[forge::issues]": [
                "12 of 12 rows of 'issues' have no (or a null) incremental field 'modified_at'"
            ],
        },
    ),
    Variant(
        name="incremental_field_mistyped",
        source="""
from headwater import IncrementalField

class Source(ForgeSource):
    catalog = CATALOG.with_endpoint(
        "issues",
        incremental_fields=[IncrementalField(field="updated_at", label="Updated", type="integer")],
    )
""",
        fails={
            "test_incremental_fields_are_present_and_typed[forge::issues]": [
                "12 of 12 rows of 'issues' have an 'updated_at' that does not match its declared"
                " type 'integer': row 0's is a str, not an integer",
            ],
        },
    ),
    Variant(
        name="unmarked_secret",
        source="""
from headwater import TextField

class Source(ForgeSource):
    def get_source_config(self):
        config = super().get_source_config()
        webhook = TextField(name="webhook_secret", label="Webhook secret", required=False)
        return attrs.evolve(config, fields=[*config.fields, webhook])
""",
        fails={
            "test_secret_fields_are_marked[forge]": [
                "$.webhook_secret is named like a credential but is a TextField",
                "make it a SecretField",
            ],
        },
    ),
    Variant(
        name="secret_in_repr",
        # Keeps the token next to the reader, "for a retry later": the partial shows it.
        source="""
import functools


def _read(items, token):
    return items()


class Source(ForgeSource):
    def source_for_pipeline(self, config, inputs, runtime):
        response = super().source_for_pipeline(config, inputs, runtime)
        items = functools.partial(_read, response.items, token=config.api_token.reveal())
        return attrs.evolve(response, items=items)
""",
        fails={
            "test_secrets_are_absent_from_reprs[forge]": [
                "repr(SourceResponse of 'issues') shows the value of '$.api_token'",
                "repr(items of 'members') shows the value of '$.api_token'",
            ],
        },
    ),
    Variant(
        name="retry_after_ignored",
        source="""
from headwater.rest import RetryPolicy

class Source(ForgeSource):
    catalog = attrs.evolve(
        CATALOG, client=attrs.evolve(CATALOG.client, retry=RetryPolicy(max_server_wait=0))
    )
""",
        fails={
            "test_rate_limits_honour_retry_after[forge]": [
                "after a 429 with Retry-After: 7 the next request came 0.0 s later, not 7 s",
                "honour Retry-After",
            ],
        },
    ),
    Variant(
        name="desc_declared_asc",
        source="""
class Source(ForgeSource):
    catalog = CATALOG.with_endpoint("events", sort_mode="asc")
""",
        fails={
            "test_sort_mode_matches_the_data[forge::events]": [
                "'events' declares sort_mode 'asc', but its rows come newest first",
                "declare sort_mode='desc'",
            ],
        },
    ),
    Variant(
        name="parent_field_not_injected",
        source="""
class Source(ForgeSource):
    catalog = attrs.evolve(
        CATALOG,
        members_of_projects=attrs.evolve(CATALOG.members_of_projects, include_from_parent="id"),
    )
""",
        fails={
            "test_child_rows_carry_parent_fields[forge::members]": [
                "rows of 'members' lack '_projects_slug' (the 'projects' parent's 'slug')",
                "include_from_parent",
            ],
        },
    ),
    Variant(
        name="duplicated_query_params",
        # Adds the page size to every next link "to be sure"; the link already has it.
        source="""
from headwater.rest import LinkHeaderPaginator, PageRequest, PageState


class ResendPageSize(LinkHeaderPaginator):
    def start(self, context, resume=None):
        return _Resend(super().start(context, resume), context)


class _Resend(PageState):
    def __init__(self, inner, context):
        self.inner, self.context = inner, context

    def first(self, request):
        return self.inner.first(request)

    def next(self, page):
        request = self.inner.next(page)
        if request is None:
            return None
        size = (self.context.page_size_param, str(self.context.page_size))
        return PageRequest(url=request.url.copy_add_param(*size), followed=True)

    def resume_state(self):
        return self.inner.resume_state()


class Source(ForgeSource):
    catalog = CATALOG.with_endpoint("projects", paginator=ResendPageSize())
""",
        fails={
            "test_no_duplicate_query_params[forge::projects]": [
                "requests of the full read of 'projects' repeat query parameters",
                "sends 'per_page' more than once",
                "use it as the API sent it",
            ],
            "test_no_duplicate_query_params[forge::members]": ["sends 'per_page' more than once"],
        },
    ),
    Variant(
        name="entry_point_differs",
        source="""
class Source(ForgeSource):
    source_type = "forgery"
""",
        install={"source_type": "forgery"},
        fails={
            "test_entry_point_name_is_source_type[forge]": [
                "the entry point is named 'forge', but its plugin registers source_type 'forgery'",
            ],
            "test_loads_strictly[forge]": [
                "registers source 'forgery' under the entry point 'forge'",
            ],
        },
    ),
    # --- beyond the required list ------------------------------------------------------------
    Variant(
        name="other_contract_major",
        source="""
class Source(ForgeSource):
    pass
""",
        install={"contract_major": "2"},
        fails={
            "test_contract_major_is_supported[forge]": [
                "'forge' targets source contract 2, but this host provides contract 1",
            ],
            "test_loads_strictly[forge]": ["targets source contract 2"],
        },
    ),
    Variant(
        name="token_in_debug_log",
        source="""
class Source(ForgeSource):
    def validate_credentials(self, config, runtime):
        runtime.logger.debug("checking Forge token %s", config.api_token.reveal())
        return super().validate_credentials(config, runtime)
""",
        fails={
            name: ["the secret value of $.api_token appeared in log records", "***"]
            for name in (
                "test_valid_credentials_are_accepted[forge]",
                "test_rejected_credentials_return_a_message[forge]",
                "test_network_failures_return_a_message[forge]",
            )
        },
    ),
    Variant(
        name="credential_check_raises",
        source="""
from headwater.rest import RestClient

from connector_forge import forge


class Source(ForgeSource):
    def validate_credentials(self, config, runtime):
        with RestClient(forge.client_config(self.catalog, config), runtime) as client:
            client.get_json("/user")
        return True, None
""",
        fails={
            "test_rejected_credentials_return_a_message[forge]": [
                "on HTTP 401, validate_credentials raised AuthenticationError",
                "must return (False, message) instead",
            ],
            "test_network_failures_return_a_message[forge]": [
                "on a connection reset, validate_credentials raised NetworkError",
            ],
        },
    ),
    Variant(
        name="incremental_filter_not_sent",
        # The API documents `updated_since`; `since` is silently ignored.
        source="""
from headwater.rest import IncrementalParams

class Source(ForgeSource):
    catalog = CATALOG.with_endpoint("issues", incremental=IncrementalParams(start_param="since"))
""",
        fails={
            "test_incremental_reads_return_new_rows_only[forge::issues]": [
                "rows older than it (e.g. one with 'updated_at' = '2025-06-01T13:19:00Z')",
                "the API was not asked for rows from the watermark on",
            ],
        },
    ),
    Variant(
        name="server_errors_not_retried",
        source="""
from headwater.rest import RetryPolicy

class Source(ForgeSource):
    catalog = attrs.evolve(
        CATALOG, client=attrs.evolve(CATALOG.client, retry=RetryPolicy(statuses={429}))
    )
""",
        fails={
            "test_server_errors_are_retried_then_fail_clearly[forge]": [
                "two 503s in a row failed the read of 'issues'",
                "a 503 was not retried before failing",
            ],
        },
    ),
    Variant(
        name="config_class_not_regenerated",
        source="""
from headwater import TextField

class Source(ForgeSource):
    def get_source_config(self):
        config = super().get_source_config()
        labels = TextField(name="label_filter", label="Only issues with label", required=False)
        return attrs.evolve(config, fields=[*config.fields, labels])
""",
        stale_fields=True,
        fails={
            "test_generated_config_class_is_current[forge]": [
                "is stale: it does not match the source's fields",
                "run `headwater generate forge`",
            ],
        },
    ),
    Variant(
        name="base_url_override_ignored",
        # Reads always go to the real host: in process nothing shows, since the emulator's
        # transport answers for any host; served on 127.0.0.1 (headwater demo) it does.
        source="""
class Source(ForgeSource):
    def source_for_pipeline(self, config, inputs, runtime):
        return super().source_for_pipeline(config, inputs, attrs.evolve(runtime, base_url=None))
""",
        fails={
            f"test_full_read_works_over_a_socket[forge::{schema}]": [
                "sent requests to 'https://api.forge.test/",
                "instead of the emulator at http://127.0.0.1:",
                "runtime.resolve_base_url",
            ]
            for schema in RESUMING
        },
    ),
    Variant(
        name="resume_state_ignored",
        # A custom hand-off that drops the saved position: a resumed read starts over, so a
        # sync killed mid-read would append its rows again.
        source="""
class Source(ForgeSource):
    def source_for_pipeline(self, config, inputs, runtime):
        return super().source_for_pipeline(
            config, attrs.evolve(inputs, resume_state=None), runtime
        )
""",
        fails={
            f"test_a_read_resumes_from_its_resume_points[forge::{schema}]": [
                "that came before the resume point came again",
                "the read did not continue from its state",
            ]
            for schema in RESUMING
        },
    ),
    # --- issue 15: what the suite missed before ----------------------------------------------
    Variant(
        name="filter_on_the_first_page_only",
        # The API's next links carry only the position; the connector follows them as they are.
        source="""
class Source(ForgeSource):
    catalog = CATALOG.with_endpoint("comments", reapply_filters=False)
""",
        fails={
            "test_incremental_bounds_reach_every_page[forge::comments]": [
                "the incremental filter reached only the first request of the read of"
                " 'comments' from 'created_at' >= '2025-06-02T05:21:00Z' (3 requests): request"
                " 2 (GET /orgs/acme/comments?offset=4&limit=4 -> 200) lacks"
                " created_since=2025-06-02T05:21:00Z, which request 1 sent, and the read"
                " returned 2 rows older than the bound",
                # Each declared field is checked.
                "lacks updated_since=2025-06-02T05:21:00Z",
                "put it back on each page",
            ],
        },
    ),
    Variant(
        name="exclusive_lower_bound",
        # "Never read the last row twice": the watermark goes out one second later.
        source="""
import datetime as dt

from headwater.rest import IncrementalParams, Iso8601


def _after(value):
    return Iso8601()(value + dt.timedelta(seconds=1))


class Source(ForgeSource):
    catalog = CATALOG.with_endpoint(
        "issues", incremental=IncrementalParams(start_param="updated_since", format=_after)
    )
""",
        fails={
            "test_lower_bounds_are_inclusive[forge::issues]": [
                "reading 'issues' from the watermark ('updated_at' >= '2025-06-01T19:29:00Z')"
                " left out the row added at exactly that value (13)",
                "the bound sent was exclusive",
            ],
        },
    ),
    Variant(
        name="child_auth_failures_skipped",
        # Every child failure of a project is taken for a project deleted since it was listed.
        source="""
from headwater.rest import ParentErrorPolicy

class Source(ForgeSource):
    catalog = attrs.evolve(
        CATALOG,
        members_of_projects=attrs.evolve(
            CATALOG.members_of_projects,
            parent_errors=ParentErrorPolicy(skip_statuses={401, 403, 404}),
        ),
    )
""",
        fails={
            "test_auth_failures_on_children_fail_the_read[forge::members]": [
                "the read of 'members' ended without an error although the child requests of"
                " one 'projects' row (/orgs/acme/projects/alpha/members) answered HTTP 401",
                "skipped as if its children were gone",
                "ParentErrorPolicy(skip_statuses={404})",
            ],
        },
    ),
    Variant(
        name="child_auth_failures_lose_their_kind",
        # A custom wrapper turns every HTTP error of the fan-out into a plain SourceError.
        source="""
from headwater.errors import HTTPStatusError, SourceError


class Source(ForgeSource):
    def source_for_pipeline(self, config, inputs, runtime):
        response = super().source_for_pipeline(config, inputs, runtime)
        if inputs.schema_name != "members":
            return response

        def items():
            try:
                yield from response.items()
            except HTTPStatusError as error:
                raise SourceError(f"reading the members of a project failed: {error}") from None

        return attrs.evolve(response, items=items)
""",
        fails={
            "test_auth_failures_on_children_fail_the_read[forge::members]": [
                "HTTP 401 on the child requests of one 'projects' row",
                "whose kind is transient, not authentication",
                "HTTP 403 on the child requests",
                "whose kind is transient, not permission",
            ],
        },
    ),
    Variant(
        name="sleeps_in_its_own_retry_loop",
        # A transport of its own that retries 5xx answers and dropped connections, sleeping.
        source="""
import time

import httpx


class PatientTransport(httpx.BaseTransport):
    def __init__(self, inner):
        self.inner = inner

    def handle_request(self, request):
        for attempt in range(3):
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError:
                time.sleep(0.01 * 2**attempt)
                continue
            if response.status_code < 500:
                return response
            time.sleep(0.01 * 2**attempt)
        return self.inner.handle_request(request)


class Source(ForgeSource):
    def source_for_pipeline(self, config, inputs, runtime):
        patient = attrs.evolve(runtime, transport=PatientTransport(runtime.transport))
        return super().source_for_pipeline(config, inputs, patient)
""",
        fails={
            "test_waits_go_through_runtime_sleep[forge]": [
                "the connector slept outside runtime.sleep: time.sleep(0.01) at"
                " forge_sleeps_in_its_own_retry_loop/source.py:",
                "while reading 'issues' after a 503 on request 2 (GET /orgs/acme/issues?",
                "Wait through runtime.sleep",
            ],
        },
    ),
    Variant(
        name="retry_reads_from_the_first_page",
        # Its own retry around the whole read (the client's retries turned off): after a
        # failure it starts again from the first page, and the rows before it come twice.
        source="""
from headwater.errors import NetworkError, RateLimitedError, ServerError
from headwater.rest import RetryPolicy


class Source(ForgeSource):
    catalog = attrs.evolve(
        CATALOG, client=attrs.evolve(CATALOG.client, retry=RetryPolicy(attempts=1))
    )

    def source_for_pipeline(self, config, inputs, runtime):
        response = super().source_for_pipeline(config, inputs, runtime)

        def items():
            for attempt in range(1, 4):
                try:
                    yield from response.items()
                    return
                except (NetworkError, RateLimitedError, ServerError) as error:
                    if attempt == 3:
                        raise
                    runtime.sleep(getattr(error, "retry_after", None) or 2**attempt)

        return attrs.evolve(response, items=items)
""",
        fails={
            f"test_a_failure_on_a_later_page_is_retried_in_place[forge::{schema}]": [
                f"after a 503 on request 2 (GET /orgs/acme/{path}",
                f"rows of '{schema}' came more than once",
                "the read started over instead of retrying the request that failed",
            ]
            for schema, path in (
                ("issues", "issues?"),
                ("events", "events?"),
                ("comments", "comments?"),
                ("projects", "projects?"),
            )
        },
    ),
    Variant(
        name="cursor_read_from_the_wrong_field",
        # A cursor loop of its own that reads the page's own position, not the next one.
        source="""
from headwater.rest import RestClient

from connector_forge import forge


class Source(ForgeSource):
    def source_for_pipeline(self, config, inputs, runtime):
        response = super().source_for_pipeline(config, inputs, runtime)
        if inputs.schema_name != "events":
            return response
        client_config = forge.client_config(self.catalog, config)

        def items():
            with RestClient(client_config, runtime) as client:
                params = {"limit": "4"}
                while True:
                    path = f"/orgs/{config.organization}/events"
                    body = client.get_json(path, params=params)
                    yield body["data"]
                    if not body.get("cursor"):
                        return
                    params = {"limit": "4", "cursor": body["cursor"]}

        return attrs.evolve(response, items=items)
""",
        fails={
            "test_full_read_returns_every_row_once[forge::events]": [
                "the full read of 'events' did not stop (more than 1000 requests): the cursor"
                " did not advance past page 2: request 3 repeated request 2 (GET"
                " /orgs/acme/events?limit=4&cursor=e0 -> 200)",
                "take the next page's cursor from the field of the answer",
            ],
        },
    ),
    Variant(
        name="second_field_watermark_in_the_first_fields_parameter",
        # Copied and pasted: a watermark of updated_at goes out as created_since.
        source="""
from headwater.rest import IncrementalParams

class Source(ForgeSource):
    catalog = CATALOG.with_endpoint(
        "comments",
        incremental={
            "created_at": IncrementalParams(start_param="created_since"),
            "updated_at": IncrementalParams(start_param="created_since"),
        },
    )
""",
        fails={
            "test_incremental_reads_return_new_rows_only[forge::comments]": [
                "reading 'comments' from the watermark ('updated_at' >="
                " '2025-06-02T07:49:00Z') missed 1 row that a full read returns with a later"
                " 'updated_at' (e.g. 1; rows changed since the first read)",
                "incremental={'updated_at': IncrementalParams(start_param=...), ...}",
            ],
        },
    ),
]


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
def test_a_broken_connector_fails_the_check_it_targets(harness, variant):
    run = harness()
    run.install_variant(
        f"forge_{variant.name}",
        BASE_SOURCE + variant.source,
        stale_fields=variant.stale_fields,
        **variant.install,
    )

    outcome = run.run("--connector", "forge")

    assert outcome.failed == set(variant.fails), "\n\n".join(
        f"{name}:\n{outcome.messages.get(name, '')}" for name in sorted(outcome.failed)
    )
    for check, fragments in variant.fails.items():
        message = outcome.messages[check]
        for fragment in fragments:
            assert fragment in message, f"{check} says:\n{message}"
    assert outcome.ret == 1
