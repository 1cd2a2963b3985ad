"""What `headwater sync` prints: JSON event lines, quiet runs, the summary table, no secrets."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import run_cli

EXAMPLE = Path(__file__).parents[2] / "examples" / "example.toml"
SCHEMAS = ["orders", "events", "customers"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def sync(warehouse: Path, *args: str, env: dict[str, str] | None = None):
    return run_cli(
        "sync", "example", "--config", str(EXAMPLE), "-w", str(warehouse), *args, env=env
    )


def test_json_log_is_one_parseable_event_per_line(tmp_path):
    result = sync(tmp_path / "wh", "--json")

    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"ts", "event"} <= set(event) for event in events)
    assert events[0]["event"] == "sync_started"
    assert events[0]["schemas"] == SCHEMAS
    assert events[-1] == {**events[-1], "event": "sync_finished", "failed": []}
    started = [e["schema"] for e in events if e["event"] == "schema_started"]
    finished = {e["schema"]: e for e in events if e["event"] == "schema_finished"}
    assert started == SCHEMAS
    assert list(finished) == SCHEMAS
    assert finished["customers"]["rows_written"] == 25
    assert finished["customers"]["mode"] == "full_refresh"
    assert finished["orders"]["mode"] == "incremental"
    assert finished["orders"]["watermark"]
    for schema in SCHEMAS:
        kinds = {e["event"] for e in events if e.get("schema") == schema}
        assert {"page", "rows"} <= kinds
        written = sum(
            e["count"]
            for e in events
            if e.get("schema") == schema and e["event"] == "rows" and e.get("detail") == "written"
        )
        assert written == finished[schema]["rows_written"]


def test_quiet_prints_nothing_and_still_syncs(tmp_path):
    result = sync(tmp_path / "wh", "--quiet")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == ""
    assert (tmp_path / "wh" / "example" / "orders" / "_delta_log").is_dir()


def test_a_terminal_gets_a_summary_table(tmp_path):
    # TTY_COMPATIBLE makes rich treat the captured pipes as a terminal.
    env = {"TTY_COMPATIBLE": "1", "NO_COLOR": "1", "COLUMNS": "200"}

    result = sync(tmp_path / "wh", env=env)

    assert result.returncode == 0, result.stderr
    stdout = ANSI.sub("", result.stdout)
    assert "sync summary" in stdout
    for heading in ("rows written", "mode", "duration", "new watermark", "rows/s"):
        assert heading in stdout
    rows = {line.split("│")[1].strip(): line for line in stdout.splitlines() if "│" in line}
    assert set(rows) == set(SCHEMAS)
    assert "full_refresh" in rows["customers"]
    assert "updated_at = " in rows["orders"]
    # The live table was drawn on stderr.
    assert "rows read" in ANSI.sub("", result.stderr)


@pytest.mark.parametrize(
    "args",
    [(), ("--json",), ("--quiet",)],
    ids=["text", "json", "quiet"],
)
@pytest.mark.parametrize("terminal", ["0", "1"], ids=["piped", "terminal"])
def test_secret_values_never_reach_the_output(make_connector, site, tmp_path, args, terminal):
    make_connector("acme")
    assert run_cli("generate", "acme").returncode == 0
    config = tmp_path / "acme.toml"
    config.write_text(
        '[source]\nrepository = "acme/widgets"\ntoken = "env:ACME_TOKEN"\n'
        '[schemas.issues]\nsync_mode = "full_refresh"\n'
    )
    secret = "ghp_v3ry-s3cret-value"
    env = {"ACME_TOKEN": secret, "TTY_COMPATIBLE": terminal}

    result = run_cli(
        "sync", "acme", "--config", str(config), "-w", str(tmp_path / "wh"), *args, env=env
    )

    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr


def test_connectors_does_not_import_the_display_or_data_libraries():
    code = (
        "import sys\n"
        "from headwater.cli import main\n"
        "try:\n"
        "    main(['connectors'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('rich', 'pyarrow', 'deltalake', 'httpx', 'duckdb')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_the_0_1_log_format_option_still_works_and_says_what_replaced_it(tmp_path):
    old = sync(tmp_path / "old", "--log-format", "json")
    new = sync(tmp_path / "new", "--json")

    assert old.returncode == new.returncode == 0, old.stderr
    events = [json.loads(line)["event"] for line in old.stdout.splitlines()]
    assert events == [json.loads(line)["event"] for line in new.stdout.splitlines()]
    assert "note: --log-format json is deprecated and will be removed; use --json" in old.stderr
    assert "deprecated" not in new.stderr
