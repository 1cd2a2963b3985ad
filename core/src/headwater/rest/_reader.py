"""Reading an endpoint page by page: the loop every paginator runs in.

:class:`PageReader` sends the first request (path, filters, incremental bounds, page size),
hands each answer to the paginator for the next request, selects the rows, normalizes them,
and yields one list of rows per page. It is where the rules that hold for *every* paginator
live, so a custom paginator gets them for free:

- **Filters stay on every page.** A next URL the API sent is used as it is; only the
  endpoint's filters (its ``params`` and incremental bounds) that the URL lacks are put back
  (APIs differ: GitHub's links carry ``since``, others drop it). Nothing is appended twice.
- **Loop safety.** A request URL (so also a cursor) seen before, or a page byte-identical to an
  earlier one, ends the read with :class:`~headwater.errors.PaginationLoopError` naming the
  endpoint; so does going past ``max_pages``.
- **Resume state.** :attr:`PageReader.resume_state` is where to continue after the last page
  yielded, without credentials. A resumed read whose first request the API refuses with one
  of the endpoint's ``resume_expired_statuses`` raises
  :class:`~headwater.errors.ResumeExpiredError`, so the host reads again from the watermark.
- **Bounds the API cannot apply.** For ``IncrementalParams(in_request=False)`` the reader
  drops rows below the lower bound (and, resuming a newest-first read, above the earliest
  value reached), keeps rows whose field cannot be read (conservative), and ends a ``desc``
  read after the first page reaching below the lower bound.
- **Progress.** One ``PAGE`` event per page read (empty pages included), whose ``count`` is
  the rows it held and whose ``detail`` is :data:`HTTP_PAGE`. The host also reports each page
  a source yields; a display that sees ``HTTP_PAGE`` events for a schema counts those and
  leaves out the host's (:class:`~headwater.display.ProgressTally`), so a page is counted once.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from headwater.errors import (
    HTTPStatusError,
    PaginationLoopError,
    ResponseFormatError,
    ResumeExpiredError,
)
from headwater.rest._paginators import Page, PageContext, PageRequest, PageState
from headwater.rest._params import comparable, incremental_bounds, incremental_params
from headwater.rest._paths import fill_path
from headwater.rest._query import with_params
from headwater.rest._selectors import MISSING
from headwater.runtime import ProgressEvent, ProgressKind
from headwater.sources import IncrementalFieldType, SortMode

if TYPE_CHECKING:
    from headwater.rest._client import RestClient
    from headwater.rest._endpoint import Endpoint
    from headwater.sources import SourceInputs

__all__ = ["HTTP_PAGE", "LoopGuard", "PageReader", "select_rows"]

HTTP_PAGE = "http"
"""The ``detail`` of the reader's ``PAGE`` events: the page is one HTTP response.

.. versionadded:: 0.1
"""


class LoopGuard:
    """Remembers every page request and page body of one read, and refuses repeats.

    .. versionadded:: 0.1
    """

    def __init__(self, endpoint: str, client: RestClient) -> None:
        self._endpoint = endpoint
        self._client = client
        self._urls: set[str] = set()
        # Pages are remembered by length and 64-bit hash (a few µs for a page, where a
        # cryptographic digest costs 20): telling two different pages apart wrongly would
        # take a hash collision, about 1 in 10^13 over a read of a million pages.
        self._pages: dict[tuple[int, int], int] = {}

    def check_request(self, url: httpx.URL, page_number: int) -> None:
        key = str(url)
        if key in self._urls:
            raise PaginationLoopError(
                f"endpoint {self._endpoint!r}: page {page_number} would request"
                f" {self._client.redact(url)} again (the API repeated a next link or cursor);"
                " reading stopped instead of looping. Check the endpoint's paginator settings;"
                " if they are right, the API is misbehaving: try again later"
            )
        self._urls.add(key)

    def check_page(self, content: bytes, page_number: int, url: httpx.URL) -> None:
        digest = (len(content), hash(content))
        earlier = self._pages.get(digest)
        if earlier is not None:
            raise PaginationLoopError(
                f"endpoint {self._endpoint!r}: page {page_number} ({self._client.redact(url)})"
                f" is byte-for-byte the same as page {earlier}; the paginator is not moving"
                " forward, so reading stopped. Check the endpoint's paginator settings (the"
                " parameter it sends may be ignored by the API)"
            )
        self._pages[digest] = page_number


def select_rows(endpoint: Endpoint, body: Any) -> list[Any]:
    """The rows of one answer, at the endpoint's ``data_selector``.

    A selected object (a detail endpoint) is one row; ``null`` is no rows.

    .. versionadded:: 0.1
    """
    selector = endpoint.data_selector
    if selector is None:
        if isinstance(body, list):
            return body
        raise ResponseFormatError(
            f"endpoint {endpoint.name!r}: the answer is a JSON {type(body).__name__}, not a list"
            f" of rows; set the endpoint's data_selector to where the rows are{_hint(body)}"
        )
    found = selector.find(body)
    if found is MISSING:
        raise ResponseFormatError(
            f"endpoint {endpoint.name!r}: the answer has nothing at {selector.path!r};"
            f" check the endpoint's data_selector{_hint(body)}"
        )
    if found is None:
        return []
    if isinstance(found, list):
        return found
    if isinstance(found, dict):
        return [found]
    raise ResponseFormatError(
        f"endpoint {endpoint.name!r}: {selector.path!r} holds a {type(found).__name__}, not rows"
    )


def _hint(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    lists = [repr(key) for key, value in body.items() if isinstance(value, list)]
    return f" (lists found at: {', '.join(lists)})" if lists else ""


class PageReader(Iterator[list[Any]]):
    """Reads ``endpoint`` through ``client``; iterating yields one list of rows per page.

    ``inputs`` supplies the incremental bounds (and nothing else: resuming is explicit,
    through ``resume``). ``path_values`` fill placeholders beyond the endpoint's own;
    ``params`` add filters (fan-out passes a resolved value this way when the child path has
    no placeholder for it). Empty pages are not yielded. Nothing is requested before the
    first ``next()``.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        client: RestClient,
        endpoint: Endpoint,
        *,
        inputs: SourceInputs | None = None,
        path_values: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
        resume: Mapping[str, Any] | None = None,
        schema: str | None = None,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.schema = schema or endpoint.name
        runtime = client.runtime
        self._row_bounds = _RowBounds.of(endpoint, inputs, runtime.clock.now())
        self._filters = {
            **endpoint.params,
            **incremental_params(
                endpoint.filter_for(inputs.incremental_field if inputs else None),
                inputs,
                now=runtime.clock.now(),
                sort_mode=endpoint.sort_mode,
            ),
            **(params or {}),
        }
        path = fill_path(endpoint.path, {**endpoint.path_values, **(path_values or {})})
        first = dict(self._filters)
        if endpoint.page_size is not None:
            first[endpoint.page_size_param] = str(endpoint.page_size)
        self._first = PageRequest(url=client.url(path, first))
        context = PageContext(
            endpoint=endpoint.name,
            page_size=endpoint.page_size,
            page_size_param=endpoint.page_size_param,
        )
        self._state: PageState = endpoint.paginator.start(context, resume)
        self._resume: dict[str, Any] | None = dict(resume) if resume else None
        self._started = False
        self._complete = False
        self.pages = 0
        """Pages read so far."""
        self.rows = 0
        """Rows yielded so far."""
        self._pages = self._read()

    def __iter__(self) -> Iterator[list[Any]]:
        # The generator itself: a for loop then skips one Python call per page.
        return self._pages

    def __next__(self) -> list[Any]:
        return next(self._pages)

    def close(self) -> None:
        """Stop reading; nothing more is requested."""
        self._pages.close()

    @property
    def complete(self) -> bool:
        """Whether the last page has been read."""
        return self._complete

    @property
    def resume_state(self) -> dict[str, Any] | None:
        """Where to continue after the last page yielded; ``None`` once the read is complete."""
        if self._complete:
            return None
        # Asked of the paginator only when wanted: building it for every page costs time.
        state = self._state.resume_state() if self._started else self._resume
        if state and isinstance(state.get("next_url"), str):
            url = self.client.without_credentials(httpx.URL(state["next_url"]))
            state = {**state, "next_url": str(url)}
        return state

    def _read(self) -> Generator[list[Any], None, None]:
        endpoint = self.endpoint
        client = self.client
        progress = client.runtime.progress
        guard = LoopGuard(endpoint.name, client)
        normalize = endpoint.normalize
        request: PageRequest | None = self._state.first(self._first)
        while request is not None:
            number = self.pages + 1
            if endpoint.max_pages is not None and number > endpoint.max_pages:
                raise PaginationLoopError(
                    f"endpoint {endpoint.name!r} still has pages after max_pages="
                    f"{endpoint.max_pages}; reading stopped. Raise max_pages if the data really"
                    " is that large"
                )
            url = self._with_filters(request)
            guard.check_request(url, number)
            try:
                answer = client.request(
                    endpoint.method,
                    url,
                    headers=endpoint.headers,
                    json=endpoint.json,
                    no_rows_statuses=endpoint.no_rows_statuses,
                    schema=self.schema,
                )
            except HTTPStatusError as error:
                if (
                    self._resume
                    and number == 1
                    and error.status in endpoint.resume_expired_statuses
                ):
                    raise ResumeExpiredError(
                        f"endpoint {endpoint.name!r}: the API answered HTTP {error.status}"
                        " to the saved position of an interrupted read",
                        status=error.status,
                    ) from error
                raise
            if answer.no_rows:
                self._complete = True
                return
            guard.check_page(answer.content, number, url)
            rows = select_rows(endpoint, answer.body)
            self.pages = number
            request = self._state.next(Page(request=request, response=answer, rows=rows))
            self._started = True
            self._complete = request is None
            if normalize is not None:
                rows = [shaped for row in rows if (shaped := normalize(row)) is not None]
            ended = False
            if self._row_bounds is not None:
                rows, ended = self._row_bounds.apply(rows)
                if ended:
                    # Newest first, and this page reached below the lower bound: every later
                    # page is older still. The read is complete.
                    request = None
                    self._complete = True
            # One event per response; its count is the rows the page held (after normalizing).
            progress.emit(
                ProgressEvent(
                    kind=ProgressKind.PAGE, schema=self.schema, count=len(rows), detail=HTTP_PAGE
                )
            )
            if rows:
                self.rows += len(rows)
                yield rows

    def _with_filters(self, request: PageRequest) -> httpx.URL:
        url = request.url
        if not request.followed or not self._filters or not self.endpoint.reapply_filters:
            return url
        params = url.params
        missing = {name: value for name, value in self._filters.items() if name not in params}
        return with_params(url, missing)


@attrs.frozen(kw_only=True)
class _RowBounds:
    """An incremental filter the API cannot apply (``IncrementalParams(in_request=False)``),
    applied to each page's rows by the reader."""

    field: str
    kind: IncrementalFieldType | None
    lower: Any
    upper: Any
    stops: bool

    @classmethod
    def of(
        cls, endpoint: Endpoint, inputs: SourceInputs | None, now: dt.datetime
    ) -> _RowBounds | None:
        if inputs is None or not endpoint.incremental_fields:
            return None
        spec = endpoint.filter_for(inputs.incremental_field)
        if spec is None or spec.in_request:
            return None
        bounds = incremental_bounds(spec, inputs, now=now, sort_mode=endpoint.sort_mode)
        kind = inputs.incremental_field_type
        if bounds.lower is None and not bounds.resumed:
            return None  # nothing to filter: a full read
        return cls(
            field=inputs.incremental_field or endpoint.incremental_fields[0].field,
            kind=kind,
            lower=comparable(bounds.lower, kind),
            # Only a resumed read has an upper bound: "now" would drop rows updated mid-read.
            upper=comparable(bounds.upper, kind) if bounds.resumed else None,
            stops=endpoint.sort_mode is SortMode.DESC,
        )

    def apply(self, rows: list[Any]) -> tuple[list[Any], bool]:
        """The rows within the bounds, and whether a newest-first read may stop here."""
        kept = []
        below = False
        lower, upper = self.lower, self.upper
        for row in rows:
            value = comparable(row.get(self.field), self.kind) if isinstance(row, dict) else None
            if value is None:
                kept.append(row)  # conservative: a row that cannot be placed is kept
            elif lower is not None and value < lower:
                below = True
            elif upper is None or value <= upper:
                kept.append(row)
        return kept, below and self.stops
