"""Every form's responses in one stream, newest submission first: the ``responses`` table.

Real code because each form's list can only be paged newest first: the forms' lists are
merged into one newest-first stream (:func:`responses_newest_first`), which makes the host's
desc bookkeeping (one earliest value, sent back as ``until``) hold across all forms. The
shared fan-out would interleave the forms' rows instead.
"""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING, Any

from headwater.errors import HTTPStatusError
from headwater.rest import (
    PageReader,
    RestClient,
    dependent_endpoints,
    parallel_chain,
    parent_columns,
    response_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig, DependentEndpoint, Endpoint

__all__ = ["responses_newest_first"]


def _newest_first(row: dict[str, Any]) -> tuple[str, str]:
    # submitted_at is UTC text of one fixed shape (2025-03-01T08:00:37Z), so it sorts as text.
    return (str(row.get("submitted_at") or ""), str(row.get("token") or ""))


def responses_newest_first(
    client_config: ClientConfig,
    forms: Endpoint,
    responses: Endpoint,
    dependent: DependentEndpoint,
    inputs: SourceInputs,
    runtime: Runtime,
) -> SourceResponse:
    """Every form's responses, merged into one stream, newest submission first.

    The first page of each form is read by the shared worker threads (``parallel_chain``, one
    client, one budget); later pages of a form are read as the merge reaches them. A form
    answering 404 (deleted since the forms list was read) is skipped, as its
    ``ParentErrorPolicy`` says. Memory: one page per form is held at once.
    """
    parent, child = dependent_endpoints(forms, responses, dependent)
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
                first = _next_page(reader, form, dependent, runtime)
                if first:
                    rest = _pages(reader, form, dependent, runtime)
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

    return response_for(responses, inputs, items)


def _pages(
    reader: PageReader, form: dict[str, Any], dependent: DependentEndpoint, runtime: Runtime
) -> Iterator[list[Any]]:
    while (page := _next_page(reader, form, dependent, runtime)) is not None:
        yield page


def _next_page(
    reader: PageReader, form: dict[str, Any], dependent: DependentEndpoint, runtime: Runtime
) -> list[Any] | None:
    """The next page of a form's responses; ``None`` at its end or when the form is skipped."""
    try:
        return next(reader, None)
    except HTTPStatusError as error:
        if not dependent.parent_errors.skips(error):
            raise
        runtime.logger.warning("responses: skipped form %r: HTTP %s", form.get("id"), error.status)
        return None
