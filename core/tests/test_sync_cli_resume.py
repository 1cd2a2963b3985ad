"""`headwater sync` SIGKILLed mid-read continues where its last commit ended.

The built-in example source yields resume points (a plain Source that opts in): the killed
run's commits carry the position, `headwater tables` shows the read as unfinished, and the
next `headwater sync` reads only the rest, ending with exactly the rows the source holds for
the interrupted read's bounds: none missing, none twice.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from headwater.examples.shop import Shop
from headwater.warehouse import read_state_document

from conftest import run_cli

CONFIG = """
connection = "shop"

[source]
seed = 3
orders_per_hour = 120
history_days = 7

[schemas.customers]
enabled = false
"""


def sync_until_killed(config: Path, warehouse: Path, schema: str, commits: int) -> None:
    """Run the sync of ``schema`` and SIGKILL it once it has made ``commits`` commits."""
    command = [sys.executable, "-c", "from headwater.cli import main; main()", "sync", "example"]
    options = ["--config", str(config), "--warehouse", str(warehouse), "--schema", schema]
    with subprocess.Popen(
        [*command, *options, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        assert process.stdout is not None
        seen = 0
        for line in process.stdout:
            event = json.loads(line)
            if event.get("event") == "message" and "committed version" in event.get("detail", ""):
                seen += 1
                if seen == commits:
                    os.kill(process.pid, signal.SIGKILL)
                    break
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the sync ended before it could be killed"


def events_of(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(("schema", "key"), [("orders", "id"), ("events", "id")])
def test_a_killed_sync_continues_mid_read_with_exact_rows(schema, key, tmp_path):
    config = tmp_path / "shop.toml"
    config.write_text(CONFIG)
    warehouse = tmp_path / "warehouse"
    commits = random.Random(f"cli-{schema}").randint(1, 3)

    sync_until_killed(config, warehouse, schema, commits)

    uri = str(warehouse / "shop" / schema)
    state = read_state_document(DeltaTable(uri))
    assert state is not None
    assert state["complete"] is False
    until = dt.datetime.fromisoformat(state["resume"]["token"]["until"])
    written_before = DeltaTable(uri).count()
    listed = run_cli("tables", "--warehouse", str(warehouse), "--json")
    [summary] = [t for t in json.loads(listed.stdout) if t["schema"] == schema]
    assert summary["resumes_mid_read"] is True

    again = run_cli(
        "sync", "example", "--config", str(config), "--warehouse", str(warehouse),
        "--schema", schema, "--json",
    )  # fmt: skip

    assert again.returncode == 0, again.stderr
    log = events_of(again.stdout)
    assert any("continuing an interrupted read" in str(e.get("detail")) for e in log)
    read = sum(e["count"] for e in log if e.get("event") == "rows" and e["detail"] == "read")
    shop = Shop(seed=3, orders_per_hour=120)
    since = until - dt.timedelta(days=7)
    if schema == "orders":
        expected = shop.orders_updated_since(since, until, placed_from=since)
    else:
        expected = list(shop.events_since(since, until, placed_from=since))
    # Only what the killed run had not committed is read again.
    assert read == len(expected) - written_before
    ids = DeltaTable(uri).to_pyarrow_table(columns=[key]).column(key).to_pylist()
    assert len(ids) == len(set(ids))  # none twice
    assert sorted(map(str, ids)) == sorted(str(row[key]) for row in expected)  # none missing
