"""The sync figures: ``headwater sync`` beside a bare loop and dlt, into Delta.

The API (``/wide/items``) serves records of 20 mixed fields (:func:`api_server.wide_record`)
in pages of 100, cursor-paginated. Each contender runs in its own process, so its wall time
and peak RSS (``ru_maxrss`` from ``wait4``) are its own:

- **headwater**: ``headwater sync bench_wide --quiet`` of a throwaway connector installed
  into a temporary site folder (one ``Endpoint`` read through ``headwater.rest``), append mode
  (the incremental field is ``id``, ascending), default batches of 10,000 rows, one commit
  each. Twice: ``rows pages``, the connector yielding each page's dicts as ``headwater.rest``
  does (the engine builds Arrow from them, column-wise where it can), and ``arrow pages``, the
  connector gathering 10,000 rows into a ``pyarrow.Table.from_pylist`` table;
- **bare**: httpx + orjson + ``pyarrow.Table.from_pylist`` per page, one Delta write;
- **dlt**: dlt's ``rest_api`` source into Delta (filesystem destination), in its own
  virtualenv under ``.nox/bench-dlt`` created on first use, telemetry off.

These four run in :data:`ROUNDS` rounds, one of each per round, so that whatever else the host
does slows them alike: each figure is the median of its runs (every run is shown), each ratio
the median of the rounds' ratios. Every table is verified (row count and a checksum over ids,
quantities and flags) before its figures are printed. Then Headwater alone, once each: at
2,000,000 records (append) for the memory target, and at 200,000 in merge (incremental) mode,
reported separately.

Targets (issue 17): Headwater at most 1.0x the bare loop (the floor); peak RSS at most 250 MiB,
and at 2,000,000 rows within 1.1x of that at 200,000. dlt's figure is reported beside them (it
was at least 5x slower when it last had a target).

Peak RSS counts the shared libraries' pages a process maps (deltalake's alone is ~80 MiB of
it), and how many of those the kernel maps depends on the host's page cache: compare figures
of one run, not of runs on different days.
"""

from __future__ import annotations

import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from api_server import wide_record
from harness import BENCH, ApiServer, Figure

__all__ = ["run"]

RECORDS = 200_000
LARGE = 2_000_000
ROUNDS = 3
PAGES = ("rows", "arrow")
PARTITIONED = "rows, partitioned"
ROOT = BENCH.parent
DLT_VENV = ROOT / ".nox" / "bench-dlt"
CONNECTOR = "bench_wide"

_INIT = """
from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl


@hookimpl
def register_sources():
    return [SourceSpec(
        source_type="bench_wide",
        contract_major=CONTRACT_MAJOR,
        label="Benchmark API",
        load="bench_wide.source:BenchSource",
        release_status="alpha",
    )]
"""

_SOURCE = """
from headwater import (
    IncrementalField, Source, SourceConfig, SourceSchema, SortMode, TextField,
)
from headwater.rest import (
    DEFAULT_MAX_WORKERS, ClientConfig, CursorPaginator, DependentEndpoint, Endpoint,
    IncrementalParams, LinkHeaderPaginator, PageReader, RestClient, dependent_response,
    endpoint_response, response_for,
)

ID = IncrementalField(field="id", label="ID", type="integer")


class BenchSource(Source):
    source_type = "bench_wide"

    def get_source_config(self):
        return SourceConfig(
            label="Benchmark API",
            release_status="alpha",
            fields=[
                TextField(name="base_url", label="Base URL"),
                TextField(name="total", label="Records"),
                TextField(name="pages", label="rows (the REST path) or arrow", required=False),
                TextField(name="partition", label="datetime field to partition by", required=False),
                TextField(name="workers", label="children read at once", required=False),
            ],
        )

    def validate_credentials(self, config, runtime):
        return True, None

    def get_schemas(self, config, runtime):
        return self.get_catalog_schemas()

    def get_catalog_schemas(self):
        return [
            SourceSchema(
                name="items",
                supports_incremental=True,
                supports_append=True,
                incremental_fields=[ID],
            ),
            # 200 parents, each with 5 children answered after 50 ms: the fan-out figures.
            SourceSchema(name="children", supports_incremental=False, supports_append=False),
        ]

    def source_for_pipeline(self, config, inputs, runtime):
        if inputs.schema_name == "children":
            return self._children(config, inputs, runtime)
        endpoint = Endpoint(
            name=inputs.schema_name,
            path="/wide/items",
            primary_keys="id",
            params={"total": config.total},
            data_selector="data",
            paginator=CursorPaginator(cursor_path="next_cursor"),
            page_size=100,
            incremental_fields=[ID],
            # The API starts the list at min_id (its ids are positions): a second sync reads
            # only what is new.
            incremental=IncrementalParams(start_param="min_id"),
            sort_mode=SortMode.ASC,
            partition_key=config.partition or None,
        )
        client_config = ClientConfig(base_url=config.base_url)
        if config.pages != "arrow":
            return endpoint_response(client_config, endpoint, inputs, runtime)

        def items():
            # Pages gathered into Arrow tables of one batch each (10,000 rows), converted
            # column-wise by pyarrow instead of value by value by the engine.
            import pyarrow as pa

            # The rows are let go before each yield, so the dicts and their table are never
            # held while the engine writes.
            rows = []
            with RestClient(client_config, runtime) as client:
                for page in PageReader(client, endpoint, inputs=inputs):
                    rows.extend(page)
                    if len(rows) >= 10_000:
                        table, rows = pa.Table.from_pylist(rows), []
                        yield table
            if rows:
                table, rows = pa.Table.from_pylist(rows), []
                yield table

        return response_for(endpoint, inputs, items)

    def _children(self, config, inputs, runtime):
        parents = Endpoint(
            name="parents",
            path="/parents",
            primary_keys="id",
            paginator=LinkHeaderPaginator(),
            page_size=100,
            page_size_param="per_page",
        )
        children = Endpoint(
            name="children",
            path="/parents/{parent}/children",
            primary_keys="id",
            partition_key=config.partition or None,
        )
        dependent = DependentEndpoint(
            parent_name="parents",
            resolve_param="parent",
            resolve_field="id",
            include_from_parent=["slug"],
            max_workers=int(config.workers or DEFAULT_MAX_WORKERS),
        )
        return dependent_response(
            ClientConfig(base_url=config.base_url), parents, children, dependent, inputs, runtime
        )
"""


def _install_connector(site: Path) -> None:
    package = site / CONNECTOR
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(_INIT))
    (package / "source.py").write_text(textwrap.dedent(_SOURCE))
    info = site / f"{CONNECTOR}-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {CONNECTOR}\nVersion: 0.0.0\n")
    (info / "entry_points.txt").write_text(f"[headwater]\n{CONNECTOR} = {CONNECTOR}\n")


def _measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``command`` run as a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed with exit code {process.returncode}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def _warm(base_url: str, total: int) -> None:
    """Read every page once, so the server's page cache is full before anyone is timed."""
    import httpx
    import orjson

    with httpx.Client(base_url=base_url) as client:
        params = {"limit": "100", "total": str(total)}
        while True:
            body = orjson.loads(client.get("/wide/items", params=params).content)
            if not body["next_cursor"]:
                return
            params = {**params, "cursor": body["next_cursor"]}


def _expected(total: int) -> tuple[int, int, int, int]:
    quantity = active = 0
    for i in range(total):
        record = wide_record(i)
        quantity += int(record["quantity"])  # type: ignore[call-overload]
        active += bool(record["active"])
    return total, total * (total - 1) // 2, quantity, active


_CHECKSUM = """
import sys, duckdb
from deltalake import DeltaTable
connection = duckdb.connect()
connection.execute("SET enable_progress_bar = false")
connection.register("t", DeltaTable(sys.argv[1]).to_pyarrow_dataset())
row = connection.execute(
    "select count(*), sum(id), sum(quantity), count(*) filter (where active) from t"
).fetchone()
print(" ".join(str(int(value or 0)) for value in row))
"""


def _checksum(table_uri: str) -> tuple[int, int, int, int]:
    """Rows, sums of ids and quantities, and active rows of a Delta table.

    In a process of its own: the benchmark's own process must stay small, because a child
    starts as a copy of it and the child's peak RSS (``wait4``) counts that copy too. (Reading
    the 2,000,000-row tables here made every later contender's peak 488 MiB.)
    """
    done = subprocess.run(
        [sys.executable, "-c", _CHECKSUM, table_uri], capture_output=True, text=True, check=True
    )
    last = done.stdout.strip().splitlines()[-1]
    count, ids, quantity, active = (int(value) for value in last.split())
    return count, ids, quantity, active


def _dlt_python() -> Path:
    python = DLT_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "dlt[deltalake]"], check=True)
    return python


class _Run:
    def __init__(self, name: str, wall: float, rss: float, rows: int) -> None:
        self.name, self.wall, self.rss, self.rows = name, wall, rss, rows


class _Runs:
    """The runs of one contender: figures are medians, each run's shown beside them."""

    def __init__(self, runs: list[_Run]) -> None:
        self.runs = runs
        self.name, self.rows = runs[0].name, runs[0].rows
        self.wall = statistics.median(run.wall for run in runs)
        self.rss = statistics.median(run.rss for run in runs)


def _ratio(ours: _Runs, theirs: _Runs) -> float:
    """The median of the per-round ratios of wall times (rounds ran back to back)."""
    pairs = zip(ours.runs, theirs.runs, strict=True)
    return statistics.median(mine.wall / other.wall for mine, other in pairs)


def run(api: ApiServer) -> list[Figure]:
    figures: list[Figure] = []
    expected = {RECORDS: _expected(RECORDS)}
    _warm(api.base_url, RECORDS)
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as tmp:
        work = Path(tmp)
        site = work / "site"
        _install_connector(site)
        env = {"PYTHONPATH": str(site), "RUNTIME__DLTHUB_TELEMETRY": "false"}
        headwater = [sys.executable, "-c", "from headwater.cli import main; main()"]
        subprocess.run([*headwater, "generate", CONNECTOR], env={**os.environ, **env}, check=True)

        def verify(result: _Run, table_uri: str) -> _Run:
            if result.rows not in expected:
                expected[result.rows] = _expected(result.rows)
            got = _checksum(table_uri)
            if got != expected[result.rows]:
                raise AssertionError(f"{result.name}: checksum {got} != {expected[result.rows]}")
            shutil.rmtree(table_uri, ignore_errors=True)  # verified: its disk is not needed
            return result

        def sync(total: int, mode: str, pages: str, round_: int = 0, partition: str = "") -> _Run:
            name = f"{mode}-{pages}-{total}-{round_}{'-partitioned' if partition else ''}"
            config = work / f"{name}.toml"
            config.write_text(
                f'[source]\nbase_url = "{api.base_url}"\ntotal = "{total}"\npages = "{pages}"\n'
                f'partition = "{partition}"\n[schemas.items]\nsync_mode = "{mode}"\n'
            )
            warehouse = work / name
            wall, rss = _measured(
                [*headwater, "sync", CONNECTOR, "-c", str(config), "-w", str(warehouse), "-q"],
                env,
            )
            label = f"headwater {mode}, {pages} pages"
            if partition:
                label += f", partitioned by month of {partition}"
            return verify(_Run(label, wall, rss, total), str(warehouse / CONNECTOR / "items"))

        def bare(round_: int) -> _Run:
            table = work / f"bare-{round_}"
            wall, rss = _measured(
                [sys.executable, str(BENCH / "contenders.py"), "bare", api.base_url,
                 str(table), str(RECORDS)],
            )  # fmt: skip
            return verify(_Run("bare loop", wall, rss, RECORDS), str(table))

        def dlt(round_: int) -> _Run:
            bucket = work / f"dlt-{round_}"
            wall, rss = _measured(
                [str(_dlt_python()), str(BENCH / "contenders.py"), "dlt", api.base_url,
                 str(bucket), str(RECORDS)],
                env,
            )  # fmt: skip
            return verify(_Run("dlt rest_api", wall, rss, RECORDS), str(bucket / "dlt" / "items"))

        def show(result: _Run | _Runs, note: str = "") -> None:
            if isinstance(result, _Runs) and len(result.runs) > 1:
                walls = ", ".join(f"{run.wall:.2f}" for run in result.runs)
                rss = ", ".join(f"{run.rss:.0f}" for run in result.runs)
                note = f"; median of {len(result.runs)} (s: {walls}; MiB: {rss}){note}"
            figures.append(
                Figure(
                    f"{result.name}, {result.rows:,} rows",
                    f"{result.wall:6.2f} s  {result.rows / result.wall:9,.0f} rows/s"
                    f"  peak RSS {result.rss:4.0f} MiB  (verified){note}",
                )
            )

        # The 200,000-row contenders run in rounds, one of each per round, so that whatever
        # else the host does slows them alike; figures are medians, ratios medians of the
        # rounds' ratios.
        contenders: dict[str, Callable[[int], _Run]] = {
            pages: functools.partial(sync, RECORDS, "append", pages) for pages in PAGES
        }
        contenders[PARTITIONED] = lambda round_: sync(
            RECORDS, "append", "rows", round_, partition="created_at"
        )
        contenders["bare"] = bare
        contenders["dlt"] = dlt
        done: dict[str, list[_Run]] = {name: [] for name in contenders}
        for round_ in range(ROUNDS):
            for name, contender in list(contenders.items()):
                try:
                    done[name].append(contender(round_))
                except (RuntimeError, subprocess.CalledProcessError, AssertionError) as error:
                    if name != "dlt":
                        raise
                    figures.append(Figure("dlt", f"not measured: {error}", "MISSED"))
                    del contenders[name], done[name]
        results = {name: _Runs(runs) for name, runs in done.items()}
        ours = {pages: results[pages] for pages in (*PAGES, PARTITIONED)}
        theirs = results.get("dlt")

        for result in results.values():
            show(result)
        for pages, result in ours.items():
            ratio = _ratio(result, results["bare"])
            figures.append(
                Figure(
                    f"headwater ({pages} pages) / bare loop",
                    f"{ratio:.2f}x",
                    _verdict(ratio <= 1.0, "<= 1.0x"),
                )
            )
            if theirs is not None:
                speedup = _ratio(theirs, result)
                figures.append(
                    Figure(
                        f"dlt / headwater ({pages} pages)",
                        f"{speedup:.1f}x (reported, no target)",
                    )
                )
            figures.append(
                Figure(
                    f"headwater ({pages} pages) peak RSS",
                    f"{result.rss:.0f} MiB",
                    _verdict(result.rss <= 250, "<= 250 MiB"),
                )
            )
        for pages in PAGES:
            small = ours[pages]
            large = sync(LARGE, "append", pages)
            show(large)
            growth = large.rss / small.rss
            figures.append(
                Figure(
                    f"peak RSS {LARGE:,} / {RECORDS:,} ({pages} pages)",
                    f"{growth:.2f}x",
                    _verdict(growth <= 1.1, "<= 1.1x"),
                )
            )
        for pages in PAGES:
            show(sync(RECORDS, "incremental", pages), "; MERGE, reported without a target")
        show(
            sync(RECORDS, "incremental", "rows", partition="created_at"),
            "; MERGE into a partitioned table, reported without a target",
        )
    return figures


def _verdict(ok: bool, target: str) -> str:
    return f"{'ok' if ok else 'MISSED'} (target {target})"
