"""REST reads resume without connector code: every paginator kind and fan-out, stopped at
seeded random pages (by an exception in process, and by SIGKILL ten times in a row in a
process of its own), continue from the last commit with exact rows and fewer requests than
a read from the start."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from memory_source import Events, read_rows
from test_rest_paginators import BASE, ENDPOINTS, Catalog

from headwater import (
    IncrementalField,
    ManualClock,
    Runtime,
    Source,
    SourceConfig,
    SourceSchema,
    SyncMode,
)
from headwater.config import UserConfig
from headwater.emulator import emulator_transport, json_response
from headwater.rest import (
    ClientConfig,
    CursorPaginator,
    DependentEndpoint,
    Endpoint,
    dependent_response,
    endpoint_response,
)
from headwater.runtime import ProgressKind
from headwater.sync import BatchLimits, sync_schema

if TYPE_CHECKING:
    import httpx

GROUPS = [f"g{n}" for n in range(6)]
ROWS = 300  # the SIGKILL test's list: 30 pages of 10, or about 13 pages of 4 per group
TESTS = Path(__file__).parent
DRIVER = TESTS / "rest_resume_driver.py"


class Groups(Catalog):
    """The catalog, plus groups whose items are listed per group with a cursor (fan-out)."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.cursors_expired = False
        self._started: set[str] = set()

    def expire_cursors(self) -> None:
        """Refuse every cursor handed out so far; reads started afresh get working ones."""
        self.cursors_expired = True
        self._started.clear()

    def _expired(self, request: httpx.Request) -> bool:
        path = request.url.path
        if "cursor" not in request.url.params:
            self._started.add(path)  # a read from its first page
            return False
        # A cursor on a list not read from its first page since the expiry: an old one.
        return self.cursors_expired and path not in self._started

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        params = request.url.params
        if parts == ["groups"]:
            return json_response(200, [{"slug": slug} for slug in GROUPS])
        if parts[0] == "groups":
            if self._expired(request):
                return json_response(400, {"error": "cursor expired"})
            group = GROUPS.index(parts[1])
            rows = [r for r in self.rows if r["n"] % len(GROUPS) == group]
            start = int(params.get("cursor", "0"))
            page = rows[start : start + 4]
            cursor = str(start + 4) if start + 4 < len(rows) else None
            return json_response(200, {"data": page, "next_cursor": cursor})
        if self._expired(request):
            return json_response(400, {"error": "cursor expired"})
        return super().handle(request)


PARENT = Endpoint(name="groups", path="/groups", primary_keys="slug")
CHILD = Endpoint(
    name="items",
    path="/groups/{group}/items",
    primary_keys="id",
    data_selector="data",
    paginator=CursorPaginator(cursor_path="next_cursor"),
)
FAN_OUT = DependentEndpoint(parent_name="groups", resolve_param="group", resolve_field="slug")
# One parent at a time, so the test knows which parent is open when the read stops.
SEQUENTIAL = attrs.evolve(FAN_OUT, max_workers=1)
KINDS = ["cursor", "link-header", "page-number", "next-url", "fan-out"]


class ListSource(Source[Any]):
    source_type = "lists"

    def __init__(self, kind: str, mode: SyncMode = SyncMode.FULL_REFRESH) -> None:
        self.kind = kind
        self.mode = mode
        self.fan_out = SEQUENTIAL if kind == "sequential fan-out" else FAN_OUT

    def get_source_config(self) -> SourceConfig:
        return SourceConfig(label="Lists")

    def validate_credentials(self, config: Any, runtime: Runtime) -> tuple[bool, str | None]:
        return True, None

    def get_schemas(self, config: Any, runtime: Runtime) -> list[SourceSchema]:
        if self.mode is SyncMode.FULL_REFRESH:
            return [SourceSchema(name="items", default_sync_mode=SyncMode.FULL_REFRESH)]
        field = IncrementalField(field="n", label="N", type="integer")
        return [
            SourceSchema(
                name="items",
                supports_incremental=True,
                supports_append=True,
                incremental_fields=[field],
                default_sync_mode=self.mode,
            )
        ]

    def source_for_pipeline(self, config: Any, inputs: Any, runtime: Runtime) -> Any:
        client = ClientConfig(base_url=BASE)
        if self.kind.endswith("fan-out"):
            return dependent_response(client, PARENT, CHILD, self.fan_out, inputs, runtime)
        endpoint = ENDPOINTS[self.kind].evolve(name="items")
        return endpoint_response(client, endpoint, inputs, runtime)


class Died(Exception):
    """The read's end, wherever it is (fan-out pages arrive on worker threads)."""


class StopAtPage:
    """Stands for the process dying when the n-th HTTP page arrives."""

    def __init__(self, n: int) -> None:
        self.n, self.seen = n, 0

    def emit(self, event: Any) -> None:
        if event.kind is ProgressKind.PAGE and event.detail == "http":
            self.seen += 1
            if self.seen == self.n:
                raise Died


def sync(
    kind: str,
    api: Groups,
    warehouse: str,
    progress: Any = None,
    rows: int = 4,
    mode: SyncMode = SyncMode.FULL_REFRESH,
    handler: Any = None,
) -> Any:
    clock = ManualClock()
    kwargs = {"progress": progress} if progress is not None else {}
    transport = emulator_transport(handler or api)
    runtime = Runtime(transport=transport, clock=clock, sleep=clock.sleep, **kwargs)
    config = UserConfig(connection="lists", source=object(), schemas={})
    return sync_schema(
        ListSource(kind, mode),
        config,
        "items",
        warehouse,
        runtime,
        limits=BatchLimits(max_rows=rows),
    )


def content_requests(api: Groups) -> int:
    return sum(1 for r in api.requests if r.url.path != "/groups")


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_stopped_at_random_pages_resumes_with_exact_rows_and_fewer_requests(kind, tmp_path):
    full = Groups(45)
    sync(kind, full, str(tmp_path / "full"))
    whole = content_requests(full)
    rng = random.Random(f"resume-{kind}")

    for attempt in range(10):
        api = Groups(45)
        warehouse = str(tmp_path / f"w{attempt}")
        with pytest.raises(Died):
            sync(kind, api, warehouse, StopAtPage(rng.randint(3, whole - 1)))
        before = content_requests(api)
        result = sync(kind, api, warehouse)
        resumed = content_requests(api) - before

        rows = read_rows(result.table_uri)
        assert [row["id"] for row in rows] == [row["id"] for row in api.rows]
        assert resumed < whole, f"attempt {attempt}: the resumed read started over"


@pytest.mark.parametrize(
    ("kind", "stop_at"),
    [
        ("cursor", 4),  # pages 1-3 committed; the saved cursor is page 4's
        ("sequential fan-out", 5),  # groups, g0 (2 pages), g1's first: g1's cursor is saved
    ],
)
def test_a_resume_state_the_api_refuses_falls_back_to_a_fresh_read(kind, stop_at, tmp_path):
    api = Groups(45)
    warehouse = str(tmp_path / "w")
    with pytest.raises(Died):
        sync(kind, api, warehouse, StopAtPage(stop_at))
    api.expire_cursors()

    events = Events()
    result = sync(kind, api, warehouse, events)

    assert [row["id"] for row in read_rows(result.table_uri)] == [r["id"] for r in api.rows]
    refused = [e.detail for e in events.events if "refused the saved position" in str(e.detail)]
    assert len(refused) == 1
    assert "HTTP 400" in refused[0]


@pytest.mark.parametrize("mode", [SyncMode.APPEND, SyncMode.INCREMENTAL])
def test_a_fan_out_read_keeps_rows_of_later_parents_below_earlier_parents_values(mode, tmp_path):
    # Group g0 holds n = 0, 6, ..., 42 and g1 n = 1, 7, ...: read one parent after the other,
    # the incremental values go up and down again. A watermark that moved with each batch
    # would make append drop g1's rows, and a crash leave a bound above rows not yet read.
    api = Groups(45)

    result = sync("sequential fan-out", api, str(tmp_path), mode=mode)

    assert [row["id"] for row in read_rows(result.table_uri)] == [r["id"] for r in api.rows]
    assert result.state.watermark == 44


def run_driver(kind: str, warehouse: str, kill_after: int, log: Path) -> int:
    paths = [str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    process = subprocess.run(
        [sys.executable, str(DRIVER), kind, warehouse, str(kill_after), str(log)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if process.returncode not in (0, -9):
        raise AssertionError(f"the sync failed:\n{process.stdout}\n{process.stderr}")
    return process.returncode


def logged_requests(log: Path) -> list[str]:
    text = log.read_text() if log.exists() else ""
    return [line for line in text.splitlines() if not line.startswith("/groups?")]


@pytest.mark.parametrize("kind", KINDS)
def test_an_append_read_sigkilled_ten_times_in_a_row_ends_exact(kind, tmp_path):
    whole_log = tmp_path / "whole.log"
    assert run_driver(kind, str(tmp_path / "whole"), 0, whole_log) == 0
    whole = len(logged_requests(whole_log))
    warehouse = str(tmp_path / "w")
    rng = random.Random(f"sigkill-{kind}")

    kills = 0
    for attempt in range(10):
        log = tmp_path / f"run{attempt}.log"
        # Killed as a page arrives after one or two more commits: at most 20 of 30 pages.
        if run_driver(kind, warehouse, rng.randint(1, 2), log) == 0:
            break  # the read finished before this kill point
        kills += 1
    final = tmp_path / "final.log"
    assert run_driver(kind, warehouse, 0, final) == 0

    assert kills == 10
    rows = read_rows(f"{warehouse}/lists/items")
    ids = [row["id"] for row in rows]
    assert ids == [f"row_{n:03d}" for n in range(ROWS)]  # keys: none missing, none twice
    assert all(row["n"] == int(row["id"][4:]) for row in rows)  # content
    # The last run read only what the ten killed runs had not committed.
    assert 0 < len(logged_requests(final)) < whole
