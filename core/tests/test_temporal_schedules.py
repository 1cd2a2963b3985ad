"""`headwater schedule` and `headwater runs` against the dev server, with the example connector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from temporal_server import DevServer, Worker


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from headwater.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def test_a_schedule_is_created_listed_triggered_paused_unpaused_and_deleted(
    temporal_server: DevServer, tmp_path: Path
) -> None:
    connection = "example_" + uuid.uuid4().hex[:8]
    config = tmp_path / "example.toml"
    config.write_text(
        f'connection = "{connection}"\n[source]\nseed = 3\nhistory_days = 1\n', encoding="utf-8"
    )
    env = {
        "HEADWATER_TEMPORAL_ADDRESS": temporal_server.address,
        "HEADWATER_TEMPORAL_TASK_QUEUE": "tq-" + uuid.uuid4().hex[:8],
    }
    worker = Worker(
        temporal_server.address,
        env["HEADWATER_TEMPORAL_TASK_QUEUE"],
        warehouse=str(tmp_path / "warehouse"),
        env=env,
        log=tmp_path / "worker.log",
    )
    try:
        created = cli(
            env,
            "schedule",
            "create",
            "example",
            "--config",
            str(config),
            "--every",
            "1h",
            "--jitter",
            "5m",
        )
        assert created.returncode == 0, created.stderr
        again = cli(env, "schedule", "create", "example", "--config", str(config), "--every", "1h")
        assert again.returncode == 2
        assert f"connection {connection} has a schedule already" in again.stderr

        [listed] = [
            s
            for s in json.loads(cli(env, "schedule", "list", "--json").stdout)
            if s["connection"] == connection
        ]
        assert listed["every_seconds"] == 3600
        assert listed["paused"] is False
        assert listed["next_run"] is not None

        assert cli(env, "schedule", "trigger", connection).returncode == 0
        deadline = time.monotonic() + 60
        while True:
            runs = json.loads(cli(env, "runs", "--connection", connection, "--json").stdout)
            if runs and runs[0]["status"] == "completed":
                break
            assert time.monotonic() < deadline, (runs, worker.text())
            time.sleep(0.5)
        [run] = runs
        assert run["workflow_id"].startswith(f"headwater-sync/{connection}-")
        summary = run["summary"]
        assert {s["schema"] for s in summary["schemas"]} == {"orders", "events", "customers"}
        assert all(s["ok"] and s["rows_written"] > 0 for s in summary["schemas"])
        table = cli(env, "runs", "--connection", connection).stdout
        assert "completed" in table
        assert f"{sum(s['rows_written'] for s in summary['schemas']):,}" in table

        assert cli(env, "schedule", "pause", connection, "--note", "maintenance").returncode == 0
        [paused] = [
            s
            for s in json.loads(cli(env, "schedule", "list", "--json").stdout)
            if s["connection"] == connection
        ]
        assert paused["paused"] is True
        assert paused["note"] == "maintenance"
        assert paused["last_run"] is not None
        assert cli(env, "schedule", "unpause", connection).returncode == 0
        listed_again = json.loads(cli(env, "schedule", "list", "--json").stdout)
        assert [s["paused"] for s in listed_again if s["connection"] == connection] == [False]

        assert cli(env, "schedule", "delete", connection).returncode == 0
        gone = cli(env, "schedule", "trigger", connection)
        assert gone.returncode == 2
        assert f"no schedule for connection '{connection}'" in gone.stderr
    finally:
        worker.stop()
