"""Pagination: a full read returns every row once and stops; a repeating API is stopped; the
same read works over a real socket, with the emulator served on 127.0.0.1.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import httpx

from headwater.emulator import EmulatorServer
from headwater.errors import PaginationLoopError
from headwater.sources import SourceInputs
from headwater_contract.checks._common import Shown, examples, fail, fail_if
from headwater_contract.observe import REQUEST_LIMIT, Exchange
from headwater_contract.subject import Subject, key_of

if TYPE_CHECKING:
    from collections.abc import Hashable

__all__ = [
    "a_repeating_api_is_stopped",
    "full_read_returns_every_row_once",
    "full_read_works_over_a_socket",
    "no_duplicate_query_params",
    "repeated_request",
]


def _last(exchanges: tuple[Exchange, ...], count: int = 3) -> str:
    return "; ".join(exchange.describe() for exchange in exchanges[-count:]) or "none"


def _answered(exchanges: tuple[Exchange, ...]) -> int:
    return sum(1 for e in exchanges if e.status is not None and 200 <= e.status < 300)


def repeated_request(exchanges: tuple[Exchange, ...]) -> str | None:
    """Where a read first asked again for a page it had already read, said plainly.

    ``None`` when it never did. A retry of a request that failed is not a repeat: only a
    request that was answered with a page counts.

    .. versionadded:: 0.1
    """
    answered: dict[tuple[str, str], int] = {}
    pages = 0
    for number, exchange in enumerate(exchanges, start=1):
        key = (exchange.method, str(exchange.url))
        earlier = answered.get(key)
        if earlier == number - 1:
            return (
                f"the cursor did not advance past page {pages}: request {number} repeated"
                f" request {number - 1} ({exchange.describe()})"
            )
        if earlier is not None:
            return (
                f"the pages went round in a circle: request {number} repeated request"
                f" {earlier}, a page already read ({exchange.describe()})"
            )
        if exchange.status is not None and 200 <= exchange.status < 300:
            answered[key] = number
            pages += 1
    return None


def full_read_returns_every_row_once(subject: Subject, schema: str) -> None:
    """A full read ends on its own and returns each of the emulator's rows exactly once.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    result = subject.full_read(schema)
    repeat = repeated_request(result.exchanges)
    if result.exceeded:
        if repeat is not None:
            fail(
                f"the full read of {schema!r} did not stop (more than {REQUEST_LIMIT}"
                f" requests): {repeat}. The paginator sent the same cursor (or next link)"
                " again, so it reads that page forever: take the next page's cursor from the"
                " field of the answer that the API documents for it, and stop when there is"
                " none"
            )
        fail(
            f"the full read of {schema!r} did not stop: it sent more than {REQUEST_LIMIT}"
            f" requests (the last: {_last(result.exchanges)}). The paginator never saw its"
            " last page: check how the API marks it (no next link, an empty page, a"
            ' has_more flag, a results="false" link)'
        )
    if result.error is not None:
        hint = ""
        if repeat is not None:
            hint = (
                f". Before it, {repeat}: take the next page's cursor (or link) from the field"
                " the API documents for it"
            )
        elif isinstance(result.error, PaginationLoopError):
            hint = (
                ". The loop guard stopped it: the paginator kept asking for pages after the"
                " last (a next link or cursor that never ends); check how the API marks its"
                " last page"
            )
        fail(f"the full read of {schema!r} failed: {subject.describe(result.error)}{hint}")
    if not result.rows:
        fail(
            f"the full read of {schema!r} returned no rows, so nothing about it can be"
            " checked; the emulator must serve rows for every schema (seed its store)"
        )
    problems = []
    keys = subject.need_keys(facts, result.rows)
    emulator = subject.reference.emulator
    expected = subject.expected_keys(facts, emulator)
    table = facts.kit.table or schema
    if keys:
        emitted = Counter(key_of(row, keys) for row in result.rows)
        repeated = {key: count for key, count in emitted.items() if count > 1}
        if repeated:
            shown = examples(
                Shown(f"{examples([key])} ({count} times)") for key, count in repeated.items()
            )
            problems.append(
                f"{len(repeated)} rows came more than once ({shown}): a page was read twice."
                " Check where the paginator starts (page 0 and page 1 may be the same page)"
                " and how it steps"
            )
        wanted: set[Hashable] = set(expected)
        missing = [key for key in expected if key not in emitted]
        extra = [key for key in emitted if key not in wanted]
        if missing:
            problems.append(
                f"{len(missing)} of the emulator's {len(wanted)} rows never came (e.g."
                f" {examples(missing)}): a page was skipped, or the read stopped early"
            )
        if extra:
            problems.append(
                f"{len(extra)} rows are not in the emulator's table {table!r} (e.g."
                f" {examples(extra)}); if the schema is served from another table, or its"
                " keys are derived, declare SchemaKit(table=..., expected_key=...)"
            )
    elif len(result.rows) != len(expected):
        # Without primary keys rows cannot be told apart: their number is all there is.
        problems.append(
            f"the read returned {len(result.rows)} rows, but the emulator's table {table!r}"
            f" holds {len(expected)}"
        )
    if _answered(result.exchanges) == 1 and not facts.kit.single_page and not facts.is_fan_out:
        problems.append(
            f"the full read of {schema!r} took a single request, so its pagination was not"
            " exercised: seed the emulator with more rows than fit on one page (or, if the"
            " endpoint has no pagination, declare SchemaKit(single_page=True))"
        )
    fail_if(problems)


def no_duplicate_query_params(subject: Subject, schema: str) -> None:
    """No request of a full read sends a query parameter twice.

    .. versionadded:: 0.1
    """
    result = subject.clean_full_read(schema)
    problems = []
    for exchange in result.exchanges:
        counts = Counter(name for name, _ in exchange.url.params.multi_items())
        twice = sorted(name for name, count in counts.items() if count > 1)
        if twice:
            problems.append(f"{exchange.describe()} sends {examples(twice)} more than once")
    if problems:
        fail(
            f"{len(problems)} requests of the full read of {schema!r} repeat query parameters"
            f" ({problems[0]}{'; ...' if len(problems) > 1 else ''}). A next URL already"
            " carries its parameters: use it as the API sent it, and add back only filters"
            " it lacks"
        )


def a_repeating_api_is_stopped(subject: Subject, schema: str) -> None:
    """When the API answers every request with its first page, the read ends with an error.

    .. versionadded:: 0.1
    """
    reference = subject.clean_full_read(schema)
    if _answered(reference.exchanges) < 2:
        return  # single page: nothing can repeat (the full-read check asks for more rows)
    api = subject.api()
    api.repeat_from(1)
    result = subject.read(api, SourceInputs(schema_name=schema))
    if result.exceeded:
        fail(
            f"when the API repeats its first page forever, the read of {schema!r} never stops"
            f" (more than {REQUEST_LIMIT} requests): it needs a loop guard (the shared"
            " PageReader has one) or a page limit (Endpoint.max_pages)"
        )
    if result.error is None:
        fail(
            f"when the API repeats its first page forever, the read of {schema!r} ends after"
            f" {len(result.exchanges)} requests without an error, as if the repeated pages"
            " were the data; a loop guard must end such a read with an error"
            " (PaginationLoopError) so the sync does not commit it"
        )


class _LoopbackOnly(httpx.HTTPTransport):
    """httpx's own transport, refusing every host but the emulator's (127.0.0.1).

    A connector that ignores the runtime's base URL would otherwise send its requests, and
    the kit's credentials, to the real API.
    """

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "127.0.0.1":
            self.refused.append(str(request.url.copy_with(query=None)))
            raise httpx.ConnectError(
                f"the contract suite refused a request to {request.url.host}: only the"
                " emulator on 127.0.0.1 may be reached",
                request=request,
            )
        return super().handle_request(request)


def full_read_works_over_a_socket(subject: Subject, schema: str) -> None:
    """With the emulator served on 127.0.0.1 and ``Runtime(base_url=...)``, a full read
    returns the same rows as in process (what ``headwater demo`` does).

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    reference = subject.clean_full_read(schema)
    api = subject.api()
    transport = _LoopbackOnly()
    with transport, EmulatorServer(api) as server:
        base_url = server.base_url
        result = subject.read(
            api, SourceInputs(schema_name=schema), transport=transport, base_url=base_url
        )
    if transport.refused:
        fail(
            f"the read of {schema!r} sent requests to {examples(transport.refused)} instead of"
            f" the emulator at {base_url}: build every URL on"
            " runtime.resolve_base_url(...) (the REST client does), and make the emulator's"
            " next links from the request's own URL"
        )
    if result.exceeded:
        fail(
            f"over a socket, the full read of {schema!r} did not stop (more than"
            f" {REQUEST_LIMIT} requests; the last: {_last(result.exchanges)})"
        )
    if result.error is not None:
        fail(
            f"over a socket, the full read of {schema!r} failed:"
            f" {subject.describe(result.error)} (in process it did not; the last requests:"
            f" {_last(result.exchanges)}). Does the emulator answer on any host, and on the"
            " API's own paths?"
        )
    keys = subject.need_keys(facts, reference.rows)
    wanted: Counter[Hashable] = Counter()
    got: Counter[Hashable] = Counter()
    if keys:
        wanted.update(key_of(row, keys) for row in reference.rows)
        got.update(key_of(row, keys) for row in result.rows)
    else:  # rows without keys cannot be told apart: their number is all there is
        wanted["rows"], got["rows"] = len(reference.rows), len(result.rows)
    if got != wanted:
        missing = list((wanted - got).elements())
        extra = list((got - wanted).elements())
        fail(
            f"over a socket, the full read of {schema!r} returned {len(result.rows)} rows, in"
            f" process {len(reference.rows)}"
            + (f"; missing: {examples(missing)}" if missing else "")
            + (f"; not in process: {examples(extra)}" if extra else "")
        )
