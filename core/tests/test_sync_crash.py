"""Exactly once across crashes: a sync process is SIGKILLed at seeded points, run again, and
the table ends equal to a clean run's, with no missing rows, no duplicate keys, and a state
that never claims more than the data holds.

Local tables are killed at the n-th progress event of the engine (mid-read, before a write,
after a commit). Tables in the S3 emulator are killed by the proxy in front of it at the
n-th commit request: the batch's data files are uploaded, its commit never lands.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from crash_scenarios import SCENARIOS, rows, sync
from deltalake import DeltaTable
from memory_source import read_rows
from object_store import KillingProxy, moto_server

from headwater.sync import SchemaState
from headwater.warehouse import read_state_document

TESTS = Path(__file__).parent
DRIVER = TESTS / "crash_scenarios.py"
KILLED = -9


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(s3):
    proxy = KillingProxy(s3.endpoint)
    yield proxy
    proxy.close()


def run(scenario, generation, warehouse, *, kill_at=0, env=None, proxy=None, kill_at_commit=0):
    paths = [str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]
    process = subprocess.Popen(
        [sys.executable, str(DRIVER), scenario, str(generation), warehouse, str(kill_at)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(paths), **(env or {})},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if proxy is not None:
        proxy.arm(victim=process.pid, kill_at_commit=kill_at_commit)
    out, err = process.communicate(input="go\n", timeout=120)
    if process.returncode not in (0, KILLED):
        raise AssertionError(f"the sync failed:\n{out}\n{err}")
    return process.returncode


def assert_state_not_ahead(scenario, generation, uri, storage_options=None):
    """Every row the state says is written is in the table, as the source has it now."""
    if not DeltaTable.is_deltatable(uri, storage_options):
        return
    table = DeltaTable(uri, storage_options=storage_options)
    data = table.to_pyarrow_table().to_pylist()
    by_id = {row["id"]: row for row in data}
    assert len(by_id) == len(data), "duplicate primary keys"
    document = read_state_document(table)
    if document is None:
        return
    position = SchemaState.from_document(document).position
    mark, low, high = position.watermark, position.earliest, position.pending
    for row in rows(scenario, generation):
        value, key = row["updated_at"], orjson.dumps([row["id"]]).decode()
        at_mark = value == mark and key in position.watermark_keys
        claimed = (
            (mark is not None and (value < mark or at_mark))
            or (low is not None and high is not None and low < value <= high)
            or (low is not None and value == low and key in position.earliest_keys)
        )
        if claimed:
            assert row["id"] in by_id, f"state is ahead of data: row {row['id']} is missing"
            assert by_id[row["id"]]["updated_at"] == value, f"row {row['id']} is stale"


def clean_rows(scenario, tmp_path):
    warehouse = str(tmp_path / "clean")
    for generation in (0, 1):
        result = sync(scenario, generation, warehouse)
    return read_rows(result.table_uri)


def kill_plan(seed: str, first: int, later: int) -> dict[int, list[int]]:
    """Seeded kill points: one in the first generation's sync, two in the second's."""
    rng = random.Random(seed)
    return {0: [rng.randint(1, first)], 1: [rng.randint(1, later), rng.randint(1, later)]}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_sync_killed_at_seeded_events_recovers_to_the_clean_table(scenario, tmp_path):
    warehouse = str(tmp_path / "warehouse")
    uri = f"{warehouse}/mem/items"
    killed = []

    for generation, points in kill_plan(f"local-{scenario}", 24, 14).items():
        for point in points:
            killed.append(run(scenario, generation, warehouse, kill_at=point) == KILLED)
            assert_state_not_ahead(scenario, generation, uri)
        assert run(scenario, generation, warehouse) == 0
        assert_state_not_ahead(scenario, generation, uri)

    assert any(killed)
    assert read_rows(uri) == clean_rows(scenario, tmp_path)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_sync_killed_between_data_write_and_commit_recovers_to_the_clean_table(
    scenario, tmp_path, s3, proxy
):
    warehouse = s3.new_warehouse()
    uri = f"{warehouse}/mem/items"
    env = s3.options(endpoint=proxy.endpoint)
    killed, between = [], []

    for generation, points in kill_plan(f"s3-{scenario}", 6, 4).items():
        for point in points:
            code = run(scenario, generation, warehouse, env=env, proxy=proxy, kill_at_commit=point)
            killed.append(code == KILLED)
            between.append(proxy.killed and proxy.uploaded_data_before_the_kill())
            assert killed[-1] == proxy.killed
            assert_state_not_ahead(scenario, generation, uri, s3.options())
        assert run(scenario, generation, warehouse, env=env, proxy=proxy) == 0
        assert_state_not_ahead(scenario, generation, uri, s3.options())

    assert any(between), "no kill landed between a data upload and its commit"
    assert read_rows(uri, storage_options=s3.options()) == clean_rows(scenario, tmp_path)
