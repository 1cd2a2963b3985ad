"""`headwater sync postgres --config pg.toml` against a real server: full refresh,
incremental (new and changed rows merged), append, and a read SIGKILLed mid-way that the
next sync finishes with exactly the table's rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from deltalake import DeltaTable

from connector_postgres.testing import READER_PASSWORD, add_rows
from headwater.warehouse import read_state_document

from conftest import PASSWORD_ENV, run_cli, write_config

SCHEMAS = """
[schemas.orders]
sync_mode = "incremental"
incremental_field = "updated_at"

[schemas.events]
sync_mode = "append"
incremental_field = "occurred_at"

[schemas.customers]
sync_mode = "full_refresh"

[schemas.page_views]
sync_mode = "full_refresh"

[schemas.paid_orders]
enabled = false
"""


def table(warehouse, name):
    return DeltaTable(str(warehouse / "shop" / name)).to_pyarrow_table()


def sync(config, warehouse, *extra):
    done = run_cli("sync", "postgres", "--config", str(config), "--warehouse", str(warehouse),
                   "--json", *extra)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_full_incremental_and_append_syncs_end_with_the_database_rows(database, tmp_path):
    config = write_config(tmp_path / "pg.toml", database, SCHEMAS)
    warehouse = tmp_path / "warehouse"

    sync(config, warehouse)

    orders = table(warehouse, "orders")
    assert orders.num_rows == 2000
    assert sorted(orders.column("id").to_pylist()) == list(range(1, 2001))
    assert table(warehouse, "events").num_rows == 3000
    assert table(warehouse, "customers").num_rows == 300
    assert table(warehouse, "page_views").num_rows == 1000  # no primary key: full refresh

    # Between two syncs: five new orders, order 1 is paid, five new events and customers.
    for schema in ("orders", "events", "customers"):
        add_rows(database, schema)
    done = sync(config, warehouse)

    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    read = {
        e["schema"]: e["count"]
        for e in events
        if e.get("event") == "rows" and e.get("detail") == "read"
    }
    # Incremental: only rows at or after the watermark are read again (>= keeps the boundary).
    assert read["orders"] <= 10, read
    orders = table(warehouse, "orders").to_pylist()
    assert len(orders) == 2005  # merged on the primary key: no duplicates
    assert {o["id"]: o["status"] for o in orders}[1] == "paid"  # the changed row is updated
    appended = table(warehouse, "events")
    ids = appended.column("id").to_pylist()
    assert len(ids) == 3005 == len(set(ids))  # append repeats no boundary row
    assert table(warehouse, "customers").num_rows == 305  # full refresh: replaced


def sync_until_killed(config, warehouse, schema, commits):
    command = [sys.executable, "-c", "from headwater.cli import main; main()", "sync", "postgres"]
    options = ["--config", str(config), "--warehouse", str(warehouse), "--schema", schema]
    env = {**os.environ, PASSWORD_ENV: READER_PASSWORD, "HEADWATER_POSTGRES_BATCH_BYTES": "65536"}
    with subprocess.Popen(
        [*command, *options, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        seen = 0
        for line in process.stdout:
            event = json.loads(line)
            detail = event.get("detail") or ""
            if event.get("event") == "message" and (
                "committed version" in detail or detail.startswith("staged ")
            ):
                seen += 1
                if seen == commits:
                    os.kill(process.pid, signal.SIGKILL)
                    break
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the sync ended before it could be killed"


LEDGER_ROWS = 25_000  # more than one engine batch (10,000 rows), so a read commits mid-way


@pytest.mark.parametrize(
    ("mode", "field"),
    [("incremental", "updated_at"), ("append", "updated_at"), ("full_refresh", None)],
)
def test_a_sync_killed_mid_read_continues_with_exact_rows(database, tmp_path, mode, field):
    database.run(
        f"""create table ledger as
            select g::bigint as id, md5(g::text) as note,
                   timestamptz '2024-01-01 00:00Z' + (g / 3) * interval '1 minute' as updated_at
            from generate_series(1, {LEDGER_ROWS}) g""",
        "alter table ledger add primary key (id)",
    )
    chosen = f'[schemas.ledger]\nsync_mode = "{mode}"\n'
    if field:
        chosen += f'incremental_field = "{field}"\n'
    config = write_config(tmp_path / "pg.toml", database, chosen)
    warehouse = tmp_path / "warehouse"

    sync_until_killed(config, warehouse, "ledger", commits=1)

    uri = str(warehouse / "shop" / "ledger")
    # A full refresh stages its batches beside the table until the read completes.
    written = uri + "/_headwater/staging" if mode == "full_refresh" else uri
    state = read_state_document(DeltaTable(written))
    assert state is not None
    assert state["complete"] is False
    assert state["resume"]["token"]["key"]  # a keyset position, not a row count
    before = DeltaTable(written).count()
    assert 0 < before < LEDGER_ROWS

    again = run_cli(
        "sync", "postgres", "--config", str(config), "--warehouse", str(warehouse),
        "--schema", "ledger", "--json", env={"HEADWATER_POSTGRES_BATCH_BYTES": "65536"},
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    log = [json.loads(line) for line in again.stdout.splitlines() if line.startswith("{")]
    read = sum(e["count"] for e in log if e.get("event") == "rows" and e["detail"] == "read")
    assert read == LEDGER_ROWS - before  # only the rest is read
    ids = DeltaTable(uri).to_pyarrow_table(columns=["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids))  # none twice
    assert sorted(ids) == list(range(1, LEDGER_ROWS + 1))  # none missing
