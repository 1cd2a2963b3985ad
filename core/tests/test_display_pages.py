"""Each page a sync reads is counted once, in the summary and in the JSON log.

A REST source's pages are reported twice on the way in: by the page reader (an HTTP page) and
by the engine (a page the source yielded). What is shown must be the number of HTTP requests
for a REST source, and the number of pages yielded for a plain one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest
from memory_source import MemorySchema, MemorySource, at, config, runtime

from headwater import (
    ManualClock,
    ProgressEvent,
    ProgressKind,
    Runtime,
    Source,
    SourceConfig,
    SourceSchema,
)
from headwater.cli.sync_output import SyncOutput
from headwater.display import ProgressTally
from headwater.emulator import Emulator, emulator_transport, json_response
from headwater.rest import (
    HTTP_PAGE,
    ClientConfig,
    CursorPaginator,
    DependentEndpoint,
    Endpoint,
    OffsetPaginator,
    PageNumberPaginator,
    dependent_response,
    endpoint_response,
)
from headwater.sync import sync_schema

if TYPE_CHECKING:
    import httpx

BASE = "https://shop.example.test"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Shop(Emulator):
    """Orders by cursor, events by offset (the read ends at an empty page), customers by page
    number and each customer's notes on one page.
    """

    def __init__(self, *, orders: int, events: int, customers: int) -> None:
        super().__init__()
        self.orders = [{"id": n, "total": n * 10} for n in range(orders)]
        self.events = [{"id": n, "kind": "click"} for n in range(events)]
        self.customers = [{"id": n, "name": f"customer {n}"} for n in range(customers)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        match request.url.path.strip("/").split("/"):
            case ["orders"]:
                start, size = int(params.get("cursor", "0")), int(params["limit"])
                more = start + size < len(self.orders)
                return json_response(
                    200,
                    {
                        "data": self.orders[start : start + size],
                        "next_cursor": str(start + size) if more else None,
                    },
                )
            case ["events"]:
                start, size = int(params["offset"]), int(params["limit"])
                return json_response(200, {"data": self.events[start : start + size]})
            case ["customers"]:
                page, size = int(params.get("page", "1")), int(params["per_page"])
                return json_response(200, self.customers[(page - 1) * size : page * size])
            case ["customers", customer, "notes"]:
                return json_response(200, [{"id": 1, "text": f"note on {customer}"}])
        return json_response(404, {"message": "Not Found"})


ORDERS = Endpoint(
    name="orders",
    path="/orders",
    primary_keys="id",
    data_selector="data",
    paginator=CursorPaginator(cursor_path="next_cursor"),
    page_size=4,
    page_size_param="limit",
)
EVENTS = Endpoint(
    name="events",
    path="/events",
    primary_keys="id",
    data_selector="data",
    paginator=OffsetPaginator(),
    page_size=4,
    page_size_param="limit",
)
CUSTOMERS = Endpoint(
    name="customers",
    path="/customers",
    primary_keys="id",
    paginator=PageNumberPaginator(),
    page_size=2,
    page_size_param="per_page",
)
NOTES = Endpoint(name="notes", path="/customers/{customer}/notes", primary_keys=["id"])
NOTES_OF_CUSTOMERS = DependentEndpoint(
    parent_name="customers",
    resolve_param="customer",
    resolve_field="id",
    include_from_parent=["id"],
)


class ShopSource(Source[Any]):
    """A REST connector of the :class:`Shop` API, built on ``headwater.rest``."""

    source_type = "shop"

    def get_source_config(self) -> SourceConfig:
        return SourceConfig(label="Shop")

    def validate_credentials(self, config: Any, runtime: Runtime) -> tuple[bool, str | None]:
        return True, None

    def get_schemas(self, config: Any, runtime: Runtime) -> Sequence[SourceSchema]:
        return [SourceSchema(name=name) for name in ("orders", "events", "notes")]

    def source_for_pipeline(self, config: Any, inputs: Any, runtime: Runtime) -> Any:
        client = ClientConfig(base_url=BASE)
        if inputs.schema_name == "notes":
            return dependent_response(client, CUSTOMERS, NOTES, NOTES_OF_CUSTOMERS, inputs, runtime)
        endpoint = {"orders": ORDERS, "events": EVENTS}[inputs.schema_name]
        return endpoint_response(client, endpoint, inputs, runtime)


def sync_with_output(
    source: Source[Any], schema: str, warehouse: str, base: Runtime, log_format: str
) -> None:
    """Sync ``schema`` as ``headwater sync`` does: through a :class:`SyncOutput`."""
    output = SyncOutput.open(
        name=source.source_type,
        schemas=(schema,),
        runtime=base,
        config=config(source.source_type),
        quiet=False,
        log_format=log_format,
    )
    with output:
        output.started(schema)
        output.finished(schema, sync_schema(source, config(), schema, warehouse, output.runtime))


def pages_shown(stdout: str, log_format: str, schema: str) -> int:
    """The page count the output shows: page lines of the JSON log, or the summary's column."""
    if log_format == "json":
        events = [json.loads(line) for line in stdout.splitlines()]
        return sum(1 for e in events if e["event"] == "page" and e.get("schema") == schema)
    lines = [line for line in ANSI.sub("", stdout).splitlines() if "│" in line]
    (row,) = [line for line in lines if line.split("│")[1].strip() == schema]
    # Columns: schema, mode, rows written, rows read, pages, ...
    return int(row.split("│")[5].strip().replace(",", ""))


@pytest.fixture(params=["json", "text"], ids=["json-log", "summary-table"])
def log_format(request, monkeypatch):
    # TTY_COMPATIBLE makes rich treat the captured stdout as a terminal: the summary table.
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return request.param


@pytest.mark.parametrize(
    ("schema", "sizes", "requests"),
    [
        # 10 orders, 4 a page: 4 + 4 + 2, the last without a cursor.
        ("orders", {"orders": 10}, 3),
        # 8 events, 4 a page: 4 + 4, then the empty page that ends the read.
        ("events", {"events": 8}, 3),
        # 5 customers, 2 a page: 2 + 2 + 1 + an empty page; then one notes page per customer.
        ("notes", {"customers": 5}, 4 + 5),
        # A single empty page.
        ("orders", {"orders": 0}, 1),
    ],
    ids=["cursor", "offset-ending-empty", "fan-out", "empty"],
)
def test_a_rest_sync_shows_one_page_per_http_request(
    tmp_path, capsys, log_format, schema, sizes, requests
):
    api = Shop(**{"orders": 0, "events": 0, "customers": 0, **sizes})
    clock = ManualClock()
    base = Runtime(transport=emulator_transport(api), clock=clock, sleep=clock.sleep)

    sync_with_output(ShopSource(), schema, str(tmp_path / "wh"), base, log_format)

    assert len(api.requests) == requests
    assert pages_shown(capsys.readouterr().out, log_format, schema) == requests


@pytest.mark.parametrize(("rows", "pages"), [(10, 4), (3, 1), (0, 0)])
def test_a_plain_source_shows_one_page_per_page_it_yields(
    tmp_path, capsys, log_format, rows, pages
):
    items = MemorySchema(name="items", page_size=3)
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(rows)]

    sync_with_output(MemorySource(items), "items", str(tmp_path / "wh"), runtime(), log_format)

    assert pages_shown(capsys.readouterr().out, log_format, "items") == pages


def page(schema: str = "orders", *, http: bool) -> ProgressEvent:
    detail = HTTP_PAGE if http else ""
    return ProgressEvent(kind=ProgressKind.PAGE, schema=schema, count=2, detail=detail)


@pytest.mark.parametrize(
    ("events", "pages"),
    [
        # A plain source: the engine's events are the pages.
        ([page(http=False)] * 3, 3),
        # A REST source: each HTTP page, then the engine taking it.
        ([page(http=True), page(http=False)] * 3, 3),
        # Pages the source never yields (empty, or a fan-out's parents) still count.
        ([page(http=True)] * 2 + [page(http=True), page(http=False)], 3),
        # Another schema's HTTP pages change nothing here.
        ([page("events", http=True)] + [page(http=False)] * 2, 2),
    ],
    ids=["plain", "rest", "rest-pages-not-yielded", "per-schema"],
)
def test_the_tally_counts_and_forwards_each_page_once(events, pages):
    forwarded: list[ProgressEvent] = []

    class Sink:
        def emit(self, event: ProgressEvent) -> None:
            forwarded.append(event)

    tally = ProgressTally(("orders",), monotonic=ManualClock().monotonic, forward=Sink())
    for event in events:
        tally.emit(event)

    assert tally.of("orders").pages == pages
    assert sum(1 for e in forwarded if e.schema == "orders") == pages
