"""The figures of a sync users run every day: a second incremental sync, and fan-out, both
into partitioned tables.

1. **Second incremental sync.** A 2,000,000-row table partitioned by month of
   ``created_at`` (written by a first incremental sync, 10,000 rows a commit), then the API
   grows by 1 % (20,000 records) and ``headwater sync`` runs again: it asks for the records
   from its watermark on (``min_id``), and MERGEs them on the primary key and the partition.
   Its contender is the bare loop of ``bench/contenders.py``: it reads the same records and
   MERGEs them into its own table of the same layout (``bare_base``, written beforehand by
   the same bare code). Both start every round from a copy of their first table; both are
   timed as whole processes (start-up, reading, MERGE, commit) and their tables verified.
   Target: headwater at most 1.2x the bare loop (median of the rounds' ratios).
2. **Fan-out through a sync.** ``headwater sync`` of a child table read for each of 200
   parents, each child request answered after 50 ms: sequential (``workers = 1``) against
   the default number of children in flight, unpartitioned and partitioned by month. The
   figure is the sync's own duration (``--json``), which leaves out the interpreter's
   start-up that both pay alike. Target: at least 8x, partitioned too.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import BENCH, ApiServer, Figure
from sync_bench import CONNECTOR, _checksum, _expected, _install_connector, _measured, _verdict

__all__ = ["run"]

BASE = 2_000_000
GROWTH = BASE // 100
ROUNDS = 3
FANOUT_RUNS = 2
PARTITION = "created_at"


def _warm(base_url: str, since: int, total: int) -> None:
    """Fetch the new records once, so neither contender pays for their first encoding."""
    import httpx
    import orjson

    with httpx.Client(base_url=base_url) as client:
        params = {"limit": "100", "total": str(total), "min_id": str(since)}
        while True:
            body = orjson.loads(client.get("/wide/items", params=params).content)
            if not body["next_cursor"]:
                return
            params = {"limit": "100", "total": str(total), "cursor": body["next_cursor"]}


def run(api: ApiServer) -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="headwater-floor-") as tmp:
        work = Path(tmp)
        site = work / "site"
        _install_connector(site)
        env = {"PYTHONPATH": str(site)}
        headwater = [sys.executable, "-c", "from headwater.cli import main; main()"]
        subprocess.run([*headwater, "generate", CONNECTOR], env={**os.environ, **env}, check=True)
        figures += _second_sync(api, work, headwater, env)
        figures += _fan_out(api, work, headwater, env)
    return figures


def _config(work: Path, name: str, body: str) -> Path:
    path = work / f"{name}.toml"
    path.write_text(body)
    return path


def _second_sync(
    api: ApiServer, work: Path, headwater: list[str], env: dict[str, str]
) -> list[Figure]:
    grown = BASE + GROWTH

    def items_config(total: int) -> Path:
        return _config(
            work,
            f"items-{total}",
            f'[source]\nbase_url = "{api.base_url}"\ntotal = "{total}"\npages = "rows"\n'
            f'partition = "{PARTITION}"\n[schemas.items]\nsync_mode = "incremental"\n',
        )

    sync = [*headwater, "sync", CONNECTOR, "-q", "-s", "items"]
    first = work / "first"
    wall, rss = _measured([*sync, "-c", str(items_config(BASE)), "-w", str(first)], env)
    figures = [
        Figure(
            f"first incremental sync, {BASE:,} rows, partitioned",
            f"{wall:6.2f} s  {BASE / wall:9,.0f} rows/s  peak RSS {rss:4.0f} MiB",
        )
    ]
    bare_first = work / "bare-first"
    contender = [sys.executable, str(BENCH / "contenders.py")]
    subprocess.run([*contender, "bare_base", api.base_url, str(bare_first), str(BASE)], check=True)
    # Both tables hold the same records before the second sync.
    expected_first = _expected(BASE)
    for table in (first / CONNECTOR / "items", bare_first):
        got = _checksum(str(table))
        if got != expected_first:
            raise AssertionError(f"{table}: checksum {got} != {expected_first}")
    # headwater's watermark: the largest id, read again (its lower bound is inclusive).
    since = str(BASE - 1)
    _warm(api.base_url, BASE - 1, grown)
    expected = _expected(grown)
    config = items_config(grown)
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for round_ in range(ROUNDS):
        warehouse = work / f"second-{round_}"
        shutil.copytree(first, warehouse)
        ours.append(_measured([*sync, "-c", str(config), "-w", str(warehouse)], env))
        bare_table = work / f"bare-second-{round_}"
        shutil.copytree(bare_first, bare_table)
        theirs.append(
            _measured([*contender, "bare_merge", api.base_url, str(bare_table), str(grown), since])
        )
        for table in (warehouse / CONNECTOR / "items", bare_table):
            got = _checksum(str(table))
            if got != expected:
                raise AssertionError(f"{table}: checksum {got} != {expected}")
            shutil.rmtree(table)
    ratio = statistics.median(mine[0] / other[0] for mine, other in zip(ours, theirs, strict=True))

    def shown(runs: list[tuple[float, float]]) -> str:
        walls = ", ".join(f"{wall:.2f}" for wall, _ in runs)
        median = statistics.median(wall for wall, _ in runs)
        rss = statistics.median(rss for _, rss in runs)
        return f"{median:6.2f} s  peak RSS {rss:4.0f} MiB  (verified; s: {walls})"

    label = f"second incremental sync, {GROWTH:,} new rows into {BASE:,}, partitioned"
    return [
        *figures,
        Figure(f"{label}: headwater", shown(ours)),
        Figure(f"{label}: bare fetch + MERGE", shown(theirs)),
        Figure(
            "second incremental sync: headwater / bare loop",
            f"{ratio:.2f}x (median of {ROUNDS} rounds)",
            _verdict(ratio <= 1.2, "<= 1.2x"),
        ),
    ]


def _fan_out(api: ApiServer, work: Path, headwater: list[str], env: dict[str, str]) -> list[Figure]:
    def sync(workers: int, partition: str, run: int) -> float:
        name = f"children-{workers}-{partition or 'flat'}-{run}"
        config = _config(
            work,
            name,
            f'[source]\nbase_url = "{api.base_url}"\ntotal = "0"\nworkers = "{workers}"\n'
            f'partition = "{partition}"\n[schemas.children]\nsync_mode = "full_refresh"\n',
        )
        warehouse = work / name
        done = subprocess.run(
            [
                *headwater,
                "sync",
                CONNECTOR,
                "-s",
                "children",
                "-c",
                str(config),
                "-w",
                str(warehouse),
                "--json",
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        [schema] = [
            line for line in map(json.loads, done.stdout.splitlines()) if "duration" in line
        ]
        if schema["rows_written"] != 1_000:
            raise AssertionError(f"{name}: {schema['rows_written']} rows, not 1,000")
        shutil.rmtree(warehouse)
        return float(schema["duration"])

    figures: list[Figure] = []
    for partition in ("", PARTITION):
        sequential, concurrent = [], []
        for run in range(FANOUT_RUNS):
            sequential.append(sync(1, partition, run))
            concurrent.append(sync(10, partition, run))
        speedup = min(sequential) / min(concurrent)
        how = "partitioned by month" if partition else "unpartitioned"
        figures += [
            Figure(
                f"fan-out sync, 200 parents x 50 ms, {how}: sequential", f"{min(sequential):.2f} s"
            ),
            Figure(f"fan-out sync, {how}: 10 in flight", f"{min(concurrent):.2f} s"),
            Figure(
                f"fan-out sync, {how}: speed-up", f"{speedup:.1f}x", _verdict(speedup >= 8, ">= 8x")
            ),
        ]
    return figures
