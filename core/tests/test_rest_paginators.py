"""Paginators: every style over multi-page data, loop safety, filters on every page, resuming."""

from __future__ import annotations

import datetime as dt
import itertools

import httpx
import pytest

from headwater import ManualClock, Runtime, SourceInputs
from headwater.emulator import Emulator, emulator_transport, json_response
from headwater.errors import ForeignOriginError, PaginationLoopError, ResponseFormatError
from headwater.rest import (
    ClientConfig,
    CursorPaginator,
    Endpoint,
    HasMorePaginator,
    IncrementalParams,
    LinkHeaderPaginator,
    NextUrlPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PageReader,
    QueryTemplate,
    RestClient,
    SinglePagePaginator,
    with_params,
)

BASE = "https://api.example.com"
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class Catalog(Emulator):
    """One list of rows served in every pagination style, as the APIs document them.

    ``/next`` and ``/cursor`` announce a next page whenever the page was full, so a row count
    that is a multiple of the page size ends with an empty page, as many APIs do.
    """

    def __init__(self, count: int) -> None:
        super().__init__()
        self.rows = [{"id": f"row_{i:03d}", "n": i} for i in range(count)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        route = request.url.path.strip("/")
        return getattr(self, f"_{route.replace('-', '_')}")(request, params)

    def _window(self, start: int, size: int) -> list[dict]:
        return self.rows[start : start + size]

    def _next(self, request, params):
        start, size = int(params.get("after", "0")), int(params["limit"])
        rows = self._window(start, size)
        nxt = None
        if len(rows) == size:
            nxt = f"{BASE}/next?after={start + size}&limit={size}"
        return json_response(200, {"results": rows, "next": nxt})

    def _next_relative(self, request, params):
        start, size = int(params.get("after", "0")), int(params["limit"])
        rows = self._window(start, size)
        nxt = f"/next-relative?after={start + size}&limit={size}" if len(rows) == size else None
        return json_response(200, {"results": rows, "next": nxt})

    def _link(self, request, params):
        # GitHub: Link with rel="next" until the last page.
        page, size = int(params.get("page", "1")), int(params["per_page"])
        rows = self._window((page - 1) * size, size)
        headers = {}
        if page * size < len(self.rows):
            headers["Link"] = f'<{BASE}/link?page={page + 1}&per_page={size}>; rel="next"'
        return json_response(200, rows, headers)

    def _sentry(self, request, params):
        # Sentry: a next link on every page; results="false" when it leads nowhere.
        start = int(params.get("cursor", "0:0:0").split(":")[1])
        rows = self._window(start, 10)
        more = "true" if start + 10 < len(self.rows) else "false"
        link = f'<{BASE}/sentry?cursor=0:{start + 10}:0>; rel="next"; results="{more}"'
        return json_response(200, rows, {"Link": link})

    def _cursor(self, request, params):
        start, size = int(params.get("cursor", "0")), int(params["page_size"])
        rows = self._window(start, size)
        cursor = str(start + size) if len(rows) == size else None
        return json_response(200, {"data": rows, "meta": {"next_cursor": cursor}})

    def _stripe(self, request, params):
        size = int(params["limit"])
        after = params.get("starting_after")
        ids = [row["id"] for row in self.rows]
        start = 0 if after is None else ids.index(after) + 1
        rows = self._window(start, size)
        return json_response(
            200, {"object": "list", "data": rows, "has_more": start + size < len(self.rows)}
        )

    def _offset(self, request, params):
        start, size = int(params["offset"]), int(params["limit"])
        return json_response(200, {"items": self._window(start, size), "total": len(self.rows)})

    def _pages(self, request, params):
        page, size = int(params["page"]), int(params["page[size]"])
        pages = -(-len(self.rows) // size)
        return json_response(
            200, {"data": self._window((page - 1) * size, size), "meta": {"page_count": pages}}
        )

    def _pages_no_total(self, request, params):
        page, size = int(params["page"]), int(params["size"])
        return json_response(200, {"data": self._window((page - 1) * size, size)})

    def _single(self, request, params):
        return json_response(200, {"items": self.rows})


ENDPOINTS = {
    "next-url": Endpoint(
        name="next-url",
        path="/next",
        primary_keys="id",
        data_selector="results",
        paginator=NextUrlPaginator(),
        page_size=10,
    ),
    "next-url-relative": Endpoint(
        name="next-url-relative",
        path="/next-relative",
        primary_keys="id",
        data_selector="results",
        paginator=NextUrlPaginator(),
        page_size=10,
    ),
    "link-header": Endpoint(
        name="link-header",
        path="/link",
        primary_keys="id",
        paginator=LinkHeaderPaginator(),
        page_size=10,
        page_size_param="per_page",
    ),
    "sentry-link": Endpoint(
        name="sentry-link",
        path="/sentry",
        primary_keys="id",
        paginator=LinkHeaderPaginator(results_flag="results"),
    ),
    "cursor": Endpoint(
        name="cursor",
        path="/cursor",
        primary_keys="id",
        data_selector="data",
        paginator=CursorPaginator(cursor_path="meta.next_cursor"),
        page_size=10,
        page_size_param="page_size",
    ),
    "has-more": Endpoint(
        name="has-more",
        path="/stripe",
        primary_keys="id",
        data_selector="data",
        paginator=HasMorePaginator(),
        page_size=10,
    ),
    "offset": Endpoint(
        name="offset",
        path="/offset",
        primary_keys="id",
        data_selector="items",
        paginator=OffsetPaginator(total_path="total"),
        page_size=10,
    ),
    "page-number": Endpoint(
        name="page-number",
        path="/pages",
        primary_keys="id",
        data_selector="data",
        paginator=PageNumberPaginator(total_pages_path="meta.page_count"),
        page_size=10,
        page_size_param="page[size]",
    ),
    "page-number-no-total": Endpoint(
        name="page-number-no-total",
        path="/pages-no-total",
        primary_keys="id",
        data_selector="data",
        paginator=PageNumberPaginator(),
        page_size=10,
        page_size_param="size",
    ),
    "single": Endpoint(
        name="single",
        path="/single",
        primary_keys="id",
        data_selector="items",
        paginator=SinglePagePaginator(),
    ),
}


def reader_for(api: Emulator, endpoint: Endpoint, **kwargs) -> PageReader:
    clock = ManualClock(NOW)
    runtime = Runtime(transport=emulator_transport(api), clock=clock, sleep=clock.sleep)
    return PageReader(RestClient(ClientConfig(base_url=BASE), runtime), endpoint, **kwargs)


@pytest.mark.parametrize("style", sorted(ENDPOINTS))
@pytest.mark.parametrize("count", [0, 7, 25, 30], ids=lambda n: f"{n}-rows")
def test_every_paginator_reads_every_row_once(style, count):
    api = Catalog(count)

    pages = list(reader_for(api, ENDPOINTS[style]))

    rows = [row for page in pages for row in page]
    assert rows == api.rows
    assert all(pages)  # empty pages are not yielded
    if style != "single":
        assert all(len(page) <= 10 for page in pages)


@pytest.mark.parametrize(
    ("style", "requests"),
    [
        # 30 rows, 10 a page: a full last page costs one more (empty) request when the API
        # gives no total, and none when it does.
        ("next-url", 4),
        ("cursor", 4),
        ("page-number-no-total", 4),
        ("has-more", 3),
        ("offset", 3),
        ("page-number", 3),
        ("link-header", 3),
        ("sentry-link", 3),
    ],
)
def test_paginators_stop_as_soon_as_the_api_says_so(style, requests):
    api = Catalog(30)

    list(reader_for(api, ENDPOINTS[style]))

    assert len(api.requests) == requests


def test_page_size_goes_in_the_named_parameter():
    api = Catalog(5)

    list(reader_for(api, ENDPOINTS["page-number"]))

    assert api.requests[0].url.params["page[size]"] == "10"


def test_a_next_url_is_not_given_the_query_again():
    api = Catalog(25)
    endpoint = ENDPOINTS["next-url"].evolve(params={"expand": "owner"})

    list(reader_for(api, endpoint))

    queries = [str(request.url.query, "ascii") for request in api.requests]
    later = [f"after={n}&limit=10&expand=owner" for n in (10, 20)]
    assert queries == ["expand=owner&limit=10", *later]


class Filtered(Emulator):
    """A ``since`` filter; ``carry`` decides whether next links repeat it (APIs differ)."""

    def __init__(self, carry: bool) -> None:
        super().__init__()
        self.carry = carry

    def handle(self, request):
        params = request.url.params
        page = int(params.get("page", "1"))
        since = params.get("since")
        rows = [{"id": page, "since": since}]
        if page < 3:
            query = f"page={page + 1}" + (f"&since={since}" if self.carry and since else "")
            return json_response(200, rows, {"Link": f'<{BASE}/events?{query}>; rel="next"'})
        return json_response(200, rows)


@pytest.mark.parametrize("carry", [True, False], ids=["link-carries-filter", "link-drops-filter"])
def test_every_page_stays_filtered(carry):
    api = Filtered(carry)
    endpoint = Endpoint(
        name="events",
        path="/events",
        primary_keys="id",
        paginator=LinkHeaderPaginator(),
        incremental=IncrementalParams(start_param="since"),
        incremental_fields=[],
    )
    inputs = SourceInputs(
        schema_name="events",
        should_use_incremental_field=True,
        incremental_field="updated_at",
        incremental_field_type="datetime",
        db_incremental_field_last_value=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    )

    rows = [row for page in reader_for(api, endpoint, inputs=inputs) for row in page]

    assert [row["since"] for row in rows] == ["2026-01-02T00:00:00Z"] * 3
    for request in api.requests:
        assert request.url.params.get_list("since") == ["2026-01-02T00:00:00Z"]


def test_filters_are_not_reapplied_when_the_endpoint_says_so():
    api = Filtered(carry=False)
    endpoint = Endpoint(
        name="events",
        path="/events",
        primary_keys="id",
        params={"since": "2026-01-01"},
        paginator=LinkHeaderPaginator(),
        reapply_filters=False,
    )

    rows = [row for page in reader_for(api, endpoint) for row in page]

    assert [row["since"] for row in rows] == ["2026-01-01", None, None]


class Broken(Emulator):
    """An API with a pagination bug, chosen by path."""

    def handle(self, request):
        path, params = request.url.path, request.url.params
        page = int(params.get("page", "1"))
        if path == "/same-next":
            body = {"results": [{"id": page}], "next": f"{BASE}/same-next?page=2"}
            return json_response(200, body)
        cursor = params.get("cursor", "0")
        if path == "/same-cursor":
            return json_response(200, {"data": [{"id": cursor}], "next_cursor": "abc"})
        if path == "/ignores-page":
            return json_response(200, {"data": [{"id": 1}, {"id": 2}]})
        if path == "/foreign":
            return json_response(
                200, {"results": [{"id": 1}], "next": "https://evil.example.com/foreign?page=2"}
            )
        if path == "/endless":
            body = {"data": [{"id": cursor}], "next_cursor": str(int(cursor) + 1)}
            return json_response(200, body)
        raise AssertionError(path)


@pytest.mark.parametrize(
    ("endpoint", "error", "message"),
    [
        (
            Endpoint(
                name="same-next",
                path="/same-next",
                primary_keys="id",
                data_selector="results",
                paginator=NextUrlPaginator(),
            ),
            PaginationLoopError,
            r"endpoint 'same-next': page 3 would request .*/same-next\?page=2 again",
        ),
        (
            Endpoint(
                name="same-cursor",
                path="/same-cursor",
                primary_keys="id",
                data_selector="data",
                paginator=CursorPaginator(),
            ),
            PaginationLoopError,
            r"endpoint 'same-cursor': page 3 would request .*cursor=abc again",
        ),
        (
            Endpoint(
                name="ignores-page",
                path="/ignores-page",
                primary_keys="id",
                data_selector="data",
                paginator=PageNumberPaginator(),
            ),
            PaginationLoopError,
            r"endpoint 'ignores-page': page 2 .* is byte-for-byte the same as page 1",
        ),
        (
            Endpoint(
                name="foreign",
                path="/foreign",
                primary_keys="id",
                data_selector="results",
                paginator=NextUrlPaginator(),
            ),
            ForeignOriginError,
            r"evil\.example\.com",
        ),
        (
            Endpoint(
                name="endless",
                path="/endless",
                primary_keys="id",
                data_selector="data",
                paginator=CursorPaginator(),
                max_pages=50,
            ),
            PaginationLoopError,
            r"endpoint 'endless' still has pages after max_pages=50",
        ),
    ],
    ids=["repeated-url", "repeated-cursor", "identical-page", "foreign-next-link", "max-pages"],
)
def test_a_misbehaving_api_ends_the_read_with_a_clear_error(endpoint, error, message):
    api = Broken()

    with pytest.raises(error, match=message):
        list(reader_for(api, endpoint))

    assert len(api.requests) <= 51


@pytest.mark.parametrize(
    "style", ["next-url", "link-header", "cursor", "has-more", "offset", "page-number"]
)
def test_a_read_resumes_where_it_stopped(style):
    api = Catalog(45)
    endpoint = ENDPOINTS[style]
    first = reader_for(api, endpoint)
    seen = next(first) + next(first)
    state = first.resume_state
    assert state is not None

    rest = reader_for(api, endpoint, resume=state)

    seen += [row for page in rest for row in page]
    assert seen == api.rows
    assert rest.resume_state is None


def test_resume_state_is_none_once_complete_and_for_a_single_page():
    api = Catalog(5)
    reader = reader_for(api, ENDPOINTS["single"])
    list(reader)
    assert reader.resume_state is None


def test_per_endpoint_headers_are_sent():
    api = Catalog(3)
    endpoint = ENDPOINTS["single"].evolve(headers={"Accept": "application/vnd.github.star+json"})

    list(reader_for(api, endpoint))

    assert api.requests[0].headers["accept"] == "application/vnd.github.star+json"


def test_rows_are_normalized_and_dropped_by_the_hook():
    api = Catalog(6)

    def keep_even(row):
        return {"key": row["id"].upper()} if row["n"] % 2 == 0 else None

    endpoint = ENDPOINTS["single"].evolve(normalize=keep_even)
    reader = reader_for(api, endpoint)

    assert list(itertools.chain.from_iterable(reader)) == [
        {"key": "ROW_000"},
        {"key": "ROW_002"},
        {"key": "ROW_004"},
    ]
    assert reader.rows == 3
    assert reader.pages == 1


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (None, r"is a JSON dict, not a list of rows; set the endpoint's data_selector .*'items'"),
        ("data", r"has nothing at 'data'.*lists found at: 'items'"),
    ],
)
def test_a_wrong_data_selector_says_where_the_rows_are(selector, message):
    api = Catalog(2)
    endpoint = ENDPOINTS["single"].evolve(data_selector=selector)

    with pytest.raises(ResponseFormatError, match=message):
        list(reader_for(api, endpoint))


def test_no_rows_statuses_end_the_read_quietly():
    class EmptyRepository(Emulator):
        def handle(self, request):
            return json_response(409, {"message": "Git Repository is empty."})

    endpoint = Endpoint(
        name="commits",
        path="/repos/a/b/commits",
        primary_keys="sha",
        paginator=LinkHeaderPaginator(),
        no_rows_statuses=[409],
    )
    reader = reader_for(EmptyRepository(), endpoint)

    assert list(reader) == []
    assert reader.resume_state is None


def test_nothing_is_requested_before_iteration():
    api = Catalog(5)
    reader = reader_for(api, ENDPOINTS["cursor"])
    assert api.requests == []
    reader.close()
    assert api.requests == []


def test_a_has_more_page_without_the_flag_is_a_format_error():
    class NoFlag(Emulator):
        def handle(self, request):
            return json_response(200, {"data": [{"id": "a"}]})

    endpoint = ENDPOINTS["has-more"]

    with pytest.raises(ResponseFormatError, match="no boolean at 'has_more'"):
        list(reader_for(NoFlag(), endpoint))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cursor": "0:100:0"}, "limit=10&a=1&a=2&cursor=0%3A100%3A0"),
        ({"a": "3"}, "limit=10&a=3"),
        ({"q": "a b/c&d=é"}, "limit=10&a=1&a=2&q=a+b%2Fc%26d%3D%C3%A9"),
        ({}, "limit=10&a=1&a=2"),
    ],
)
def test_query_templates_spell_urls_as_httpx_does(params, expected):
    url = httpx.URL(f"{BASE}/items?limit=10&a=1&a=2")

    assert str(QueryTemplate(url).set(params)) == f"{BASE}/items?{expected}"
    assert with_params(url, params) == (url.copy_merge_params(params) if params else url)


@pytest.mark.parametrize(
    ("flag", "required", "follows"),
    [
        ('; results="true"', True, True),
        ('; results="false"', True, False),
        ("", True, False),
        ("", False, True),
        ('; results="false"', False, False),
    ],
)
def test_a_required_results_flag_ends_the_read_at_a_link_without_it(flag, required, follows):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "2":
            return json_response(200, [{"id": 2}])
        link = f'<{BASE}/flagged?cursor=2>; rel="next"{flag}'
        return json_response(200, [{"id": 1}], headers={"Link": link})

    endpoint = Endpoint(
        name="flagged",
        path="/flagged",
        primary_keys="id",
        paginator=LinkHeaderPaginator(results_flag="results", require_results_flag=required),
    )

    rows = [row for page in reader_for(handler, endpoint) for row in page]

    assert [row["id"] for row in rows] == ([1, 2] if follows else [1])
