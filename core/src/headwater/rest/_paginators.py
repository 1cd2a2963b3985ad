"""How an endpoint's pages follow each other: one declaration per pagination style.

A :class:`Paginator` is a frozen declaration in a connector's settings. Each read calls
:meth:`Paginator.start` for a fresh :class:`PageState`, which turns the first request into the
next one page after page, and can say where to resume (:meth:`PageState.resume_state`).

The styles: a next URL in the body (:class:`NextUrlPaginator`), a ``Link`` header
(:class:`LinkHeaderPaginator`), a cursor token in the body sent back as a parameter
(:class:`CursorPaginator`), a ``has_more`` flag with the cursor taken from the last row
(:class:`HasMorePaginator`, Stripe), offset/limit (:class:`OffsetPaginator`), page numbers
(:class:`PageNumberPaginator`), and one page (:class:`SinglePagePaginator`).

Paginators that follow a URL the API sent use it as it is: query parameters are not appended
again (the reader puts back only the endpoint's filters the URL lacks). Loop safety (a
repeated URL, cursor or page) is enforced by the reader for every paginator, custom ones
included, so a paginator only has to say what comes next.

.. versionadded:: 0.1
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from headwater.errors import ResponseFormatError
from headwater.rest._query import QueryTemplate
from headwater.rest._selectors import MISSING, Selector

if TYPE_CHECKING:
    from headwater.rest._client import ApiResponse

__all__ = [
    "CursorPaginator",
    "HasMorePaginator",
    "LinkHeaderPaginator",
    "NextUrlPaginator",
    "OffsetPaginator",
    "Page",
    "PageContext",
    "PageNumberPaginator",
    "PageRequest",
    "PageState",
    "Paginator",
    "SinglePagePaginator",
]


def _selector(value: str | Selector) -> Selector:
    return value if isinstance(value, Selector) else Selector(value)


def _optional_selector(value: str | Selector | None) -> Selector | None:
    return None if value is None else _selector(value)


@attrs.frozen(kw_only=True)
class PageRequest:
    """The request for one page: an absolute URL with its whole query.

    ``followed`` marks a URL the API handed out (a next link): the reader then adds back
    only the endpoint's filters that the URL lacks, instead of the endpoint's parameters.

    .. versionadded:: 0.1
    """

    url: httpx.URL
    followed: bool = False


@attrs.frozen(kw_only=True)
class Page:
    """One page as a paginator sees it: its request, the answer, and the selected rows.

    .. versionadded:: 0.1
    """

    request: PageRequest
    response: ApiResponse
    rows: Sequence[Any]


@attrs.frozen(kw_only=True)
class PageContext:
    """What a paginator may need from its endpoint: the page size and its parameter name.

    .. versionadded:: 0.1
    """

    endpoint: str
    page_size: int | None = None
    page_size_param: str | None = None


class PageState(abc.ABC):
    """One read's position in an endpoint's pages.

    .. versionadded:: 0.1
    """

    @abc.abstractmethod
    def first(self, request: PageRequest) -> PageRequest:
        """The first request of the read, from the endpoint's (or the resumed position's)."""

    @abc.abstractmethod
    def next(self, page: Page) -> PageRequest | None:
        """The request for the page after ``page``, or ``None`` when ``page`` is the last."""

    @abc.abstractmethod
    def resume_state(self) -> dict[str, Any] | None:
        """Where to resume: after :meth:`next`, the position of the page it returned.

        ``None`` when there is nothing to resume (the read is complete, or cannot resume).
        """


class Paginator(abc.ABC):
    """A pagination style, declared once per endpoint. Subclasses are frozen attrs classes.

    .. versionadded:: 0.1
    """

    @abc.abstractmethod
    def start(self, context: PageContext, resume: Mapping[str, Any] | None = None) -> PageState:
        """A fresh state for one read; ``resume`` is a previous :meth:`PageState.resume_state`."""


# --- one page ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SinglePagePaginator(Paginator):
    """The endpoint answers everything at once.

    .. versionadded:: 0.1
    """

    def start(self, context: PageContext, resume: Mapping[str, Any] | None = None) -> PageState:
        return _SinglePage()


class _SinglePage(PageState):
    def first(self, request: PageRequest) -> PageRequest:
        return request

    def next(self, page: Page) -> PageRequest | None:
        return None

    def resume_state(self) -> dict[str, Any] | None:
        return None


# --- next URLs ---------------------------------------------------------------------------------


class _FollowLinks(PageState):
    """Follows URLs the API sends; the next URL is the resume state."""

    def __init__(
        self,
        link: Callable[[Page], str | None],
        resume: Mapping[str, Any] | None,
        stop_on_empty_page: bool,
    ) -> None:
        self._link = link
        self._stop_on_empty = stop_on_empty_page
        self._next: httpx.URL | None = None
        resumed = resume.get("next_url") if resume else None
        self._resume = httpx.URL(resumed) if isinstance(resumed, str) else None

    def first(self, request: PageRequest) -> PageRequest:
        if self._resume is not None:
            return PageRequest(url=self._resume, followed=True)
        return request

    def next(self, page: Page) -> PageRequest | None:
        self._next = None
        if self._stop_on_empty and not page.rows:
            return None
        link = self._link(page)
        if not link:
            return None
        # Relative links resolve against the page that sent them. Most links are absolute,
        # and parsing one is much cheaper than joining it (which parses twice).
        if link.startswith(("https://", "http://")):
            self._next = httpx.URL(link)
        else:
            self._next = page.response.url.join(link)
        return PageRequest(url=self._next, followed=True)

    def resume_state(self) -> dict[str, Any] | None:
        return {"next_url": str(self._next)} if self._next is not None else None


@attrs.frozen(kw_only=True)
class NextUrlPaginator(Paginator):
    """The body holds the next page's URL (``{"next": "https://..."}``); none ends the read.

    A missing or null ``next_url_path`` means the last page, as most APIs send it.

    .. versionadded:: 0.1
    """

    next_url_path: Selector = attrs.field(default=Selector("next"), converter=_selector)
    stop_on_empty_page: bool = True

    def start(self, context: PageContext, resume: Mapping[str, Any] | None = None) -> PageState:
        def link(page: Page) -> str | None:
            value = self.next_url_path.find(page.response.body)
            if value is MISSING or value is None or value == "":
                return None
            if not isinstance(value, str):
                raise ResponseFormatError(
                    f"endpoint {context.endpoint!r}: the next URL at"
                    f" {self.next_url_path.path!r} is a {type(value).__name__}, not a string"
                )
            return value

        return _FollowLinks(link, resume, self.stop_on_empty_page)


@attrs.frozen(kw_only=True)
class LinkHeaderPaginator(Paginator):
    """The ``Link`` header's ``rel="next"`` URL (RFC 8288), as GitHub and Sentry send it.

    Sentry always sends a next link and marks the last page with ``results="false"`` on it
    (https://docs.sentry.io/api/pagination/); ``results_flag`` names that attribute, and a
    link whose flag is ``"false"`` ends the read. ``require_results_flag`` also ends it at a
    link without the flag, for APIs that promise the flag on every link.

    .. versionadded:: 0.1
    """

    rel: str = "next"
    results_flag: str | None = "results"
    require_results_flag: bool = False
    stop_on_empty_page: bool = True

    def start(self, context: PageContext, resume: Mapping[str, Any] | None = None) -> PageState:
        def link(page: Page) -> str | None:
            found = page.response.response.links.get(self.rel)
            if not found:
                return None
            if self.results_flag:
                flag = found.get(self.results_flag, "").lower()
                if flag == "false" or (self.require_results_flag and flag != "true"):
                    return None
            return found.get("url") or None

        return _FollowLinks(link, resume, self.stop_on_empty_page)


# --- cursors -----------------------------------------------------------------------------------


class _CursorState(PageState):
    """Sends a cursor as a query parameter of the first URL; the cursor is the resume state."""

    def __init__(
        self,
        param: str,
        resume: Mapping[str, Any] | None,
        find: Callable[[Page], str | None],
        stop_on_empty: bool,
    ) -> None:
        self._param = param
        self._find = find
        self._stop_on_empty = stop_on_empty
        resumed = resume.get("cursor") if resume else None
        self._cursor: str | None = None if resumed is None else str(resumed)
        self._base: QueryTemplate | None = None

    def first(self, request: PageRequest) -> PageRequest:
        self._base = QueryTemplate(request.url)
        if self._cursor is not None:
            return PageRequest(url=self._base.set({self._param: self._cursor}))
        return request

    def next(self, page: Page) -> PageRequest | None:
        assert self._base is not None, "first() must be called before next()"
        self._cursor = None
        if self._stop_on_empty and not page.rows:
            return None
        cursor = self._find(page)
        if cursor is None:
            return None
        self._cursor = cursor
        return PageRequest(url=self._base.set({self._param: cursor}))

    def resume_state(self) -> dict[str, Any] | None:
        return {"cursor": self._cursor} if self._cursor is not None else None


def _cursor_text(value: Any, endpoint: str, where: str) -> str | None:
    if value is MISSING or value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ResponseFormatError(
            f"endpoint {endpoint!r}: the cursor at {where} is a {type(value).__name__},"
            " not a string or integer"
        )
    return str(value)


@attrs.frozen(kw_only=True)
class CursorPaginator(Paginator):
    """The body holds a cursor token, sent back as ``cursor_param`` for the next page.

    A missing, null or empty cursor ends the read (Slack sends ``""`` on the last page).

    .. versionadded:: 0.1
    """

    cursor_path: Selector = attrs.field(default=Selector("next_cursor"), converter=_selector)
    cursor_param: str = "cursor"
    stop_on_empty_page: bool = True

    def start(self, context: PageContext, resume: Mapping[str, Any] | None = None) -> PageState:
        where = repr(self.cursor_path.path)

        def find(page: Page) -> str | None:
            return _cursor_text(self.cursor_path.find(page.response.body), context.endpoint, where)

        return _CursorState(self.cursor_param, resume, find, self.stop_on_empty_page)


@attrs.frozen(kw_only=True)
class HasMorePaginator(Paginator):
    """A ``has_more`` flag, and the next page starts after the last row's ``cursor_field``.

    Stripe's list endpoints: ``?limit=100&starting_after=<id of the last object>`` while
    ``has_more`` is true (https://docs.stripe.com/api/pagination). A missing flag is an
    error rather than "no more": it means the endpoint is not what its settings say.

    .. versionadded:: 0.1
    """

    has_more_path: Selector = attrs.field(default=Selector("has_more"), converter=_selector)
    cursor_field: Selector = attrs.field(default=Selector("id"), converter=_selector)
    cursor_param: str = "starting_after"
    stop_on_empty_page: bool = True

    def start(self, context: PageContext, resume: Mapping[str, Any] | None = None) -> PageState:
        def find(page: Page) -> str | None:
            more = self.has_more_path.find(page.response.body)
            if more is MISSING or not isinstance(more, bool):
                raise ResponseFormatError(
                    f"endpoint {context.endpoint!r}: the page has no boolean at"
                    f" {self.has_more_path.path!r}; check the endpoint's has_more_path"
                )
            if not more or not page.rows:
                return None
            last = self.cursor_field.find(page.rows[-1])
            where = f"{self.cursor_field.path!r} of the last row"
            cursor = _cursor_text(last, context.endpoint, where)
            if cursor is None:
                raise ResponseFormatError(
                    f"endpoint {context.endpoint!r}: has_more is true but the last row has no"
                    f" {self.cursor_field.path!r} to continue from"
                )
            return cursor

        return _CursorState(self.cursor_param, resume, find, self.stop_on_empty_page)


# --- positions ---------------------------------------------------------------------------------


def _total(selector: Selector | None, page: Page, endpoint: str) -> int | None:
    if selector is None:
        return None
    value = selector.find(page.response.body)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ResponseFormatError(
            f"endpoint {endpoint!r}: the page has no number at {selector.path!r}"
        )
    try:
        return int(value)
    except ValueError:
        raise ResponseFormatError(
            f"endpoint {endpoint!r}: {value!r} at {selector.path!r} is not a number"
        ) from None


class _PositionState(PageState):
    """Counts pages by a number in the query: an offset or a page number."""

    def __init__(
        self,
        *,
        context: PageContext,
        param: str,
        position: int,
        step: int,
        extra: Mapping[str, str],
        limit: int | None,
        stop_on_empty: bool,
        stop_on_short: bool,
        is_last: Callable[[Page, int, int], bool],
    ) -> None:
        self._context = context
        self._param = param
        self._position = position
        self._step = step
        self._extra = extra
        self._limit = limit
        self._stop_on_empty = stop_on_empty
        self._stop_on_short = stop_on_short
        self._is_last = is_last
        self._base: QueryTemplate | None = None
        self._done = False

    def _request(self) -> PageRequest:
        assert self._base is not None
        return PageRequest(url=self._base.set({**self._extra, self._param: str(self._position)}))

    def first(self, request: PageRequest) -> PageRequest:
        self._base = QueryTemplate(request.url)
        return self._request()

    def next(self, page: Page) -> PageRequest | None:
        count = len(page.rows)
        if (
            (self._stop_on_empty and count == 0)
            or (self._stop_on_short and self._limit is not None and count < self._limit)
            or self._is_last(page, self._position, count)
        ):
            self._done = True
            return None
        self._position += self._step
        return self._request()

    def resume_state(self) -> dict[str, Any] | None:
        return None if self._done else {"position": self._position}


@attrs.frozen(kw_only=True)
class OffsetPaginator(Paginator):
    """``?offset=<n>&limit=<page size>``, stepping by the page size.

    The limit is the endpoint's page size, sent as ``limit_param`` (default: the endpoint's
    page-size parameter). The read ends at an empty page, when ``offset`` reaches the total
    at ``total_path`` (if the API sends one), or, with ``stop_on_short_page``, at a page
    shorter than the limit. That last rule is off by default: APIs that cap the page size
    below what was asked would end every read after one page.

    .. versionadded:: 0.1
    """

    offset_param: str = "offset"
    limit_param: str | None = None
    start_offset: int = 0
    total_path: Selector | None = attrs.field(default=None, converter=_optional_selector)
    stop_on_empty_page: bool = True
    stop_on_short_page: bool = False

    def start(self, context: PageContext, resume: Mapping[str, Any] | None = None) -> PageState:
        limit = context.page_size
        if limit is None:
            raise ValueError(f"endpoint {context.endpoint!r}: OffsetPaginator needs a page_size")
        limit_param = self.limit_param or context.page_size_param or "limit"
        position = _resumed_position(resume, self.start_offset)

        def is_last(page: Page, offset: int, count: int) -> bool:
            total = _total(self.total_path, page, context.endpoint)
            return total is not None and offset + limit >= total

        return _PositionState(
            context=context,
            param=self.offset_param,
            position=position,
            step=limit,
            extra={limit_param: str(limit)},
            limit=limit,
            stop_on_empty=self.stop_on_empty_page,
            stop_on_short=self.stop_on_short_page,
            is_last=is_last,
        )


@attrs.frozen(kw_only=True)
class PageNumberPaginator(Paginator):
    """``?page=<n>``, counting from ``start_page``.

    The read ends at an empty page, at the last page when the API says how many there are
    (``total_pages_path``, e.g. ``meta.page_count``), or with ``stop_on_short_page`` at a
    page shorter than the endpoint's page size (off by default, see :class:`OffsetPaginator`).

    .. versionadded:: 0.1
    """

    page_param: str = "page"
    start_page: int = 1
    total_pages_path: Selector | None = attrs.field(default=None, converter=_optional_selector)
    stop_on_empty_page: bool = True
    stop_on_short_page: bool = False

    def start(self, context: PageContext, resume: Mapping[str, Any] | None = None) -> PageState:
        position = _resumed_position(resume, self.start_page)
        first_page = self.start_page

        def is_last(page: Page, number: int, count: int) -> bool:
            total = _total(self.total_pages_path, page, context.endpoint)
            # Pages are counted from start_page: with start_page=0, page 4 of 5 is the last.
            return total is not None and number - first_page + 1 >= total

        return _PositionState(
            context=context,
            param=self.page_param,
            position=position,
            step=1,
            extra={},
            limit=context.page_size,
            stop_on_empty=self.stop_on_empty_page,
            stop_on_short=self.stop_on_short_page,
            is_last=is_last,
        )


def _resumed_position(resume: Mapping[str, Any] | None, default: int) -> int:
    value = resume.get("position") if resume else None
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"a resume position must be an integer, not {value!r}")
    return value
