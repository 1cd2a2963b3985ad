"""The resume figure: a read of 200,000 rows SIGKILLed at 90 %, then continued.

A throwaway connector (``bench_resume``, installed into a temporary site folder) reads
``/wide/items`` of the benchmark API (records of 20 mixed fields, pages of 100, a cursor in
the body) through ``headwater.rest``: one ``Endpoint``, so every page is followed by a
``ResumePoint`` holding the next cursor, without connector code. The API ignores the lower
bound (``min_id``), like an API without a filter: a read that starts over reads everything.

The API here is ``bench/api_server.py``'s routes served by this process, with a counter of
the rows it serves. Each case runs ``headwater sync bench_resume --json`` in a
subprocess on an empty warehouse and SIGKILLs it when the API is asked for row 185,000: 90 %
of the table is committed (batches of 10,000 rows) and half of the next batch read but not
committed, the average loss of a kill at a random moment. The JSON events (rows written;
rows staged, for a full refresh) tell how many rows were committed by then. Then the same
command runs again to completion: the rows the API serves to it are the figure (target: at
most 15 % of the table). The table is then checked: 200,000 distinct ids, the sum of ids
exact.

Cases: append mode (a batch of 10,000 rows per commit) and full refresh (batches staged next
to the table, swapped in at the end), each with resume points and, for comparison, with the
connector's resume points dropped (``resume = "off"``: a read without resume state, which
restarts from the watermark, i.e. from the start for this API).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import api_server
from harness import ApiServer, Figure

__all__ = ["run"]

RECORDS = 200_000
PAGE = 100
KILL_AT = 185_000  # 90 % committed, half of the next batch read
TARGET = 0.15
CONNECTOR = "bench_resume"
MODES = ("append", "full_refresh")

_INIT = """
from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl


@hookimpl
def register_sources():
    return [SourceSpec(
        source_type="bench_resume",
        contract_major=CONTRACT_MAJOR,
        label="Benchmark API (resume)",
        load="bench_resume.source:BenchSource",
        release_status="alpha",
    )]
"""

_SOURCE = """
import attrs

from headwater import (
    IncrementalField, ResumePoint, Source, SourceConfig, SourceSchema, SortMode, TextField,
)
from headwater.rest import (
    ClientConfig, CursorPaginator, Endpoint, IncrementalParams, endpoint_response,
)

ID = IncrementalField(field="id", label="ID", type="integer")


class BenchSource(Source):
    source_type = "bench_resume"

    def get_source_config(self):
        return SourceConfig(
            label="Benchmark API (resume)",
            release_status="alpha",
            fields=[
                TextField(name="base_url", label="Base URL"),
                TextField(name="total", label="Records"),
                TextField(name="resume", label="on, or off: drop the resume points",
                          required=False),
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
            )
        ]

    def source_for_pipeline(self, config, inputs, runtime):
        endpoint = Endpoint(
            name=inputs.schema_name,
            path="/wide/items",
            primary_keys="id",
            params={"total": config.total},
            data_selector="data",
            paginator=CursorPaginator(cursor_path="next_cursor"),
            page_size=100,
            incremental_fields=[ID],
            incremental=IncrementalParams(start_param="min_id"),  # ignored by the API
            sort_mode=SortMode.ASC,
        )
        response = endpoint_response(ClientConfig(base_url=config.base_url), endpoint, inputs,
                                     runtime)
        if config.resume != "off":
            return response
        items = response.items

        def without_points():
            return (item for item in items() if not isinstance(item, ResumePoint))

        return attrs.evolve(response, items=without_points)
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


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows = 0
        self.requests = 0
        self.kill: tuple[int, int] | None = None  # (pid, rows): SIGKILL pid on reaching rows

    def reset(self, kill: tuple[int, int] | None = None) -> None:
        with self.lock:
            self.rows = self.requests = 0
            self.kill = kill


COUNTER = _Counter()


class _CountingHandler(api_server._Handler):
    """``bench/api_server.py``'s answers, counting the ``/wide/items`` rows it serves."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/wide/items":
            params = dict(parse_qsl(parts.query))
            start, size = int(params.get("cursor", "0")), int(params.get("limit", "100"))
            rows = max(0, min(size, int(params.get("total", str(RECORDS))) - start))
            with COUNTER.lock:
                if COUNTER.kill is not None and COUNTER.rows + rows > COUNTER.kill[1]:
                    os.kill(COUNTER.kill[0], signal.SIGKILL)  # before this page is answered
                    COUNTER.kill = None
                    return
                COUNTER.rows += rows
                COUNTER.requests += 1
        super().do_GET()


class _QuietServer(api_server._Server):
    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a killed client resets its connections: expected here


class _CountingApi:
    def __enter__(self) -> _CountingApi:
        for start in range(0, RECORDS, PAGE):  # encoded before anything is timed
            api_server._wide_page(start, PAGE, RECORDS)
        self.server = _QuietServer(("127.0.0.1", 0), _CountingHandler)
        self.server.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Run:
    def __init__(self, wall: float, rows_served: int, requests: int, committed: int) -> None:
        self.wall, self.rows_served, self.requests = wall, rows_served, requests
        self.committed = committed


def _sync(config: Path, warehouse: Path, env: dict[str, str], kill_at: int | None) -> _Run:
    """``headwater sync`` to completion, or SIGKILLed when asked for more than ``kill_at`` rows."""
    COUNTER.reset()
    command = [sys.executable, "-c", "from headwater.cli import main; main()", "sync", CONNECTOR]
    command += ["-c", str(config), "-w", str(warehouse), "--json"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    if kill_at is not None:
        COUNTER.reset(kill=(process.pid, kill_at))
    assert process.stdout is not None
    committed = 0
    for line in process.stdout:
        event = json.loads(line)
        detail = str(event.get("detail", ""))
        written = event.get("event") == "rows" and detail == "written"
        staged = event.get("event") == "message" and detail.startswith("staged ")
        if written or staged:  # a batch committed to the table, or to the staged table
            committed += int(event["count"])
    process.stdout.close()
    code = process.wait()
    wall = time.perf_counter() - started
    if kill_at is not None and code != -signal.SIGKILL:
        raise RuntimeError(f"the sync ended (exit {code}) before it read {kill_at:,} rows")
    if kill_at is None and code != 0:
        raise RuntimeError(f"the resumed sync failed with exit code {code}")
    with COUNTER.lock:
        return _Run(wall, COUNTER.rows, COUNTER.requests, committed)


def _check(table_uri: str) -> None:
    import duckdb
    from deltalake import DeltaTable

    connection = duckdb.connect()
    connection.register("t", DeltaTable(table_uri).to_pyarrow_dataset())
    row = connection.execute("select count(*), count(distinct id), sum(id) from t").fetchone()
    expected = (RECORDS, RECORDS, RECORDS * (RECORDS - 1) // 2)
    if row is None or tuple(int(v or 0) for v in row) != expected:
        raise AssertionError(f"{table_uri}: count, distinct ids, sum(id) = {row} != {expected}")


def run(api: ApiServer) -> list[Figure]:
    del api  # this runner serves the same routes itself, to count what it serves
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="headwater-bench-resume-") as tmp, _CountingApi() as me:
        work = Path(tmp)
        site = work / "site"
        _install_connector(site)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
            "HEADWATER_LOAD_CONNECTORS": CONNECTOR,
        }
        headwater = [sys.executable, "-c", "from headwater.cli import main; main()"]
        subprocess.run([*headwater, "generate", CONNECTOR], env=env, check=True)
        for mode in MODES:
            for resume in ("on", "off"):
                name = f"{mode}-{resume}"
                config = work / f"{name}.toml"
                config.write_text(
                    f'[source]\nbase_url = "{me.server.base_url}"\ntotal = "{RECORDS}"\n'
                    f'resume = "{resume}"\n[schemas.items]\nsync_mode = "{mode}"\n'
                )
                warehouse = work / name
                first = _sync(config, warehouse, env, KILL_AT)
                second = _sync(config, warehouse, env, None)
                _check(str(warehouse / CONNECTOR / "items"))
                shutil.rmtree(warehouse, ignore_errors=True)
                share = second.rows_served / RECORDS
                again = first.rows_served + second.rows_served - RECORDS
                label = "resume points" if resume == "on" else "no resume state"
                verdict = (
                    f"{'ok' if share <= TARGET else 'MISSED'} (target <= {TARGET:.0%})"
                    if resume == "on"
                    else "(comparison)"
                )
                figures.append(
                    Figure(
                        f"{mode}, {label}: 2nd run read",
                        f"{second.rows_served:7,} rows = {share:6.1%} of {RECORDS:,}"
                        f" ({second.requests:,} requests) in {second.wall:5.2f} s",
                        verdict,
                    )
                )
                figures.append(
                    Figure(
                        f"{mode}, {label}: 1st run",
                        f"SIGKILLed after {first.wall:.2f} s, {first.rows_served:,} rows served,"
                        f" {first.committed:,} committed; rows served twice in all: {again:,}"
                        f" ({again / RECORDS:.1%}); table verified",
                    )
                )
    return figures


if __name__ == "__main__":
    from harness import print_figures

    print_figures("resume_bench", run(None))  # type: ignore[arg-type]
