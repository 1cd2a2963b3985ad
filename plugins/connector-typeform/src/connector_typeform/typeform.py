"""Talking to Typeform: the client and its auth, the credential check, each schema's response.

Requests, retries and pagination are the shared machinery's (headwater.rest); this module
says how to reach the API and which endpoint a schema reads. The one custom iterator is the
responses fan-out (:func:`responses_newest_first`): each form's list can only be paged newest
first, so the forms' lists are merged into one newest-first stream, which makes the host's
desc bookkeeping (one earliest value, sent back as ``until``) hold across all forms.
"""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING, Any

import attrs

from connector_typeform import settings
from headwater.errors import (
    AuthenticationError,
    ConfigError,
    ConfigProblem,
    HTTPStatusError,
    PermissionDeniedError,
    SourceError,
)
from headwater.rest import (
    BearerAuth,
    PageReader,
    RestClient,
    dependent_endpoints,
    dependent_response,
    endpoint_response,
    parallel_chain,
    parent_columns,
    response_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from connector_typeform._config import TypeformConfig
    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig

__all__ = [
    "base_url",
    "check_credentials",
    "client_config",
    "form_field_rows",
    "response",
    "responses_newest_first",
]

LABEL = settings.LABEL
REJECTED = (
    f"{LABEL} rejected the personal access token: create a new one under Account > Personal"
    " tokens (and check the API region: an EU account's token is unknown to the other hosts)"
)


def base_url(config: TypeformConfig) -> str:
    """The configured API host, checked against Typeform's documented hosts.

    The form offers only those, but a config built in code can hold anything; the token must
    never be sent elsewhere.

    :raises ConfigError: at ``$.base_url`` for any other value.
    """
    value = str(config.base_url).rstrip("/")
    if value not in settings.BASE_URLS:
        raise ConfigError(
            [
                ConfigProblem(
                    path="$.base_url",
                    message="not a Typeform API host; expected one of "
                    + ", ".join(settings.BASE_URLS),
                )
            ],
            context=f"invalid {LABEL} configuration",
        )
    return value


def client_config(config: TypeformConfig) -> ClientConfig:
    """The API client for the configured region, signing requests with the token."""
    return attrs.evolve(
        settings.CLIENT, base_url=base_url(config), auth=BearerAuth(token=config.token)
    )


def check_credentials(config: TypeformConfig, runtime: Runtime) -> tuple[bool, str | None]:
    """List one form: the cheapest request that needs a valid token with forms:read."""
    try:
        with RestClient(client_config(config), runtime) as client:
            client.get_json("/forms", params={"page_size": "1"})
    except ConfigError as error:
        return False, str(error)
    except AuthenticationError:
        return False, REJECTED
    except PermissionDeniedError:
        return False, (
            f"The {LABEL} token may not list forms: create a token with the forms:read and"
            " responses:read scopes"
        )
    except SourceError as error:
        return False, f"{LABEL} could not be reached: {error}"
    return True, None


def response(config: TypeformConfig, inputs: SourceInputs, runtime: Runtime) -> SourceResponse:
    """The rows of ``inputs.schema_name``, read when the host iterates them."""
    client = client_config(config)
    if inputs.schema_name == settings.RESPONSES.name:
        return responses_newest_first(client, inputs, runtime)
    if inputs.schema_name == settings.FORM_FIELDS.name:
        return _form_fields(client, inputs, runtime)
    return endpoint_response(client, settings.ENDPOINTS[inputs.schema_name], inputs, runtime)


def _form_fields(client: ClientConfig, inputs: SourceInputs, runtime: Runtime) -> SourceResponse:
    """One detail request per form (the shared fan-out: workers, skips, resume), each form
    turned into its question rows."""
    forms = dependent_response(
        client,
        settings.FORM_PARENTS,
        settings.FORM_FIELDS,
        settings.FIELDS_OF_FORMS,
        inputs,
        runtime,
    )
    read = forms.items

    def items() -> Iterator[Any]:
        for page in read():
            if isinstance(page, list):
                yield [field for form in page for field in form_field_rows(form)]
            else:
                yield page  # a resume point: the fan-out position, unchanged

    return attrs.evolve(forms, items=items)


def form_field_rows(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions of one form (``GET /forms/{form_id}``), one row each.

    A row is the field as Typeform sends it (``id``, ``ref``, ``title``, ``type``,
    ``properties``, ``validations``...) with ``form_id``, ``position`` (its place among its
    siblings), and ``parent_id`` / ``parent_ref`` (the group it sits in; ``None`` at the top).
    A group's own questions (``properties.fields``) follow it as rows of their own and are
    left out of its ``properties``. A form without ``fields`` has no rows.
    """
    form_id = form.get("form_id", form.get("id"))
    rows: list[dict[str, Any]] = []

    def walk(fields: Any, parent: dict[str, Any] | None) -> None:
        if not isinstance(fields, list):
            return
        for position, field in enumerate(fields):
            if not isinstance(field, dict):
                continue
            properties = field.get("properties")
            properties = properties if isinstance(properties, dict) else {}
            kept = {key: value for key, value in properties.items() if key != "fields"}
            rows.append(
                {
                    **{key: value for key, value in field.items() if key != "properties"},
                    "properties": kept or None,
                    "form_id": form_id,
                    "position": position,
                    "parent_id": parent.get("id") if parent else None,
                    "parent_ref": parent.get("ref") if parent else None,
                }
            )
            walk(properties.get("fields"), field)

    walk(form.get("fields"), None)
    return rows


def _newest_first(row: dict[str, Any]) -> tuple[str, str]:
    # submitted_at is UTC text of one fixed shape (2025-03-01T08:00:37Z), so it sorts as text.
    return (str(row.get("submitted_at") or ""), str(row.get("token") or ""))


def responses_newest_first(
    client_config: ClientConfig, inputs: SourceInputs, runtime: Runtime
) -> SourceResponse:
    """Every form's responses, merged into one stream, newest submission first.

    The first page of each form is read by the shared worker threads (``parallel_chain``, one
    client, one budget); later pages of a form are read as the merge reaches them. A form
    answering 404 (deleted since the forms list was read) is skipped, as its
    ``ParentErrorPolicy`` says. Memory: one page per form is held at once.
    """
    dependent = settings.RESPONSES_OF_FORMS
    parent, child = dependent_endpoints(settings.FORM_PARENTS, settings.RESPONSES, dependent)
    page_size = child.page_size or 1000

    def items() -> Iterator[list[Any]]:
        with RestClient(client_config, runtime) as client:

            def opened(form: dict[str, Any]) -> Iterator[list[Iterator[dict[str, Any]]]]:
                extra = parent_columns(form, dependent)
                reader = PageReader(
                    client,
                    child,
                    inputs=inputs,
                    path_values={dependent.resolve_param: dependent.resolve_field.find(form)},
                    schema=child.name,
                )
                first = _next_page(reader, form, runtime)
                if first:
                    rest = _pages(reader, form, runtime)
                    pages = itertools.chain([first], rest)
                    yield [({**row, **extra} for page in pages for row in page)]

            forms = itertools.chain.from_iterable(PageReader(client, parent, schema=child.name))
            streams = [
                stream
                for batch in parallel_chain(forms, opened, max_workers=dependent.max_workers)
                for stream in batch
            ]
            merged = heapq.merge(*streams, key=_newest_first, reverse=True)
            while chunk := list(itertools.islice(merged, page_size)):
                yield chunk

    return response_for(settings.RESPONSES, inputs, items)


def _pages(reader: PageReader, form: dict[str, Any], runtime: Runtime) -> Iterator[list[Any]]:
    while (page := _next_page(reader, form, runtime)) is not None:
        yield page


def _next_page(reader: PageReader, form: dict[str, Any], runtime: Runtime) -> list[Any] | None:
    """The next page of a form's responses; ``None`` at its end or when the form is skipped."""
    try:
        return next(reader, None)
    except HTTPStatusError as error:
        if not settings.RESPONSES_OF_FORMS.parent_errors.skips(error):
            raise
        runtime.logger.warning("responses: skipped form %r: HTTP %s", form.get("id"), error.status)
        return None
