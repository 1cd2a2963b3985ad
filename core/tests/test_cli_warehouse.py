"""`headwater tables`, `query` and `maintain` over a warehouse the example connector wrote."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from conftest import run_cli

EXAMPLE = Path(__file__).parents[2] / "examples" / "example.toml"


def sync(warehouse: Path, *args: str):
    result = run_cli(
        "sync", "example", "--config", str(EXAMPLE), "-w", str(warehouse), "--log-format",
        "json", *args,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return {e["schema"]: e for e in events if e["event"] == "schema_finished"}


def tables(warehouse: Path) -> dict[str, dict]:
    result = run_cli("tables", "-w", str(warehouse), "--json")
    assert result.returncode == 0, result.stderr
    return {f"{t['connection']}.{t['schema']}": t for t in json.loads(result.stdout)}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("warehouse")
    sync(path)
    return path


def test_tables_lists_rows_size_last_sync_and_state(warehouse):
    listed = tables(warehouse)

    assert sorted(listed) == ["example.customers", "example.events", "example.orders"]
    assert listed["example.customers"]["rows"] == 25
    assert listed["example.customers"]["watermark"] is None
    assert listed["example.orders"]["sync_mode"] == "incremental"
    assert listed["example.orders"]["watermark"]
    assert listed["example.events"]["sync_mode"] == "append"
    for table in listed.values():
        assert table["size_bytes"] > 0
        assert table["files"] >= 1
        assert table["last_sync"]
        assert table["complete"] is True


def test_tables_prints_a_table_for_people(warehouse):
    result = run_cli("tables", "-w", str(warehouse))

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "example." in line]
    assert [line.split("│")[1].strip() for line in lines] == [
        "example.customers",
        "example.events",
        "example.orders",
    ]
    assert "incremental, watermark 20" in lines[2]


def test_an_empty_warehouse_has_no_tables(tmp_path):
    result = run_cli("tables", "-w", str(tmp_path / "nothing"))

    assert result.returncode == 0
    assert result.stdout.startswith("No tables in ")


@pytest.mark.parametrize(
    "table", ["example.orders", "example__orders", '"example"."orders"', "main.example__orders"]
)
def test_query_names_each_table_two_ways(warehouse, table):
    result = run_cli(
        "query", "-w", str(warehouse), "--format", "json", f"select count(*) as n from {table}"
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": tables(warehouse)["example.orders"]["rows"]}]


SQL = "select id, status, updated_at from example.orders order by id limit 3"


def parse_table(text: str, columns: list[str]) -> list[dict]:
    return [
        dict(zip(columns, [cell.strip() for cell in line.split("│")[1:-1]], strict=True))
        for line in text.splitlines()
        if line.startswith("│")
    ]


def parse_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("output_format", "parse"),
    [
        ("json", json.loads),
        ("csv", parse_csv),
        ("table", lambda text: parse_table(text, ["id", "status", "updated_at"])),
    ],
)
def test_query_prints_a_table_csv_or_json(warehouse, output_format, parse):
    expected = json.loads(run_cli("query", "-w", str(warehouse), "--format", "json", SQL).stdout)

    result = run_cli("query", "-w", str(warehouse), "--format", output_format, SQL)

    assert result.returncode == 0, result.stderr
    rows = parse(result.stdout)
    assert [str(row["id"]) for row in rows] == [str(row["id"]) for row in expected]
    assert [row["status"] for row in rows] == [row["status"] for row in expected]
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("query", "select * from example.nope"), "the query failed: Catalog Error"),
        (("query", "selec 1"), "the query failed: Parser Error"),
        (("maintain", "--table", "example.ordrs"), "no table 'example.ordrs'"),
        (("tables", "-w", "s3://bucket/wh"), "only local warehouses can be listed"),
    ],
)
def test_mistakes_are_one_clear_error(warehouse, args, fragment):
    result = run_cli(*args, *(() if "-w" in args else ("-w", str(warehouse))))

    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_maintain_compacts_and_the_next_sync_continues_incrementally(tmp_path):
    warehouse = tmp_path / "wh"
    first = sync(warehouse)
    for _ in range(3):
        sync(warehouse)
    before = tables(warehouse)
    count = "select count(*) as n, count(distinct id) as ids from example.orders"
    rows_before = run_cli("query", "-w", str(warehouse), "--format", "json", count).stdout

    maintained = run_cli("maintain", "-w", str(warehouse), "--retention-hours", "0")

    assert maintained.returncode == 0, maintained.stderr
    assert len(maintained.stdout.splitlines()) == 3
    after = tables(warehouse)
    assert after["example.orders"]["files"] <= before["example.orders"]["files"]
    for name, table in before.items():
        assert after[name]["rows"] == table["rows"]
        assert after[name]["watermark"] == table["watermark"]
    rows_after = run_cli("query", "-w", str(warehouse), "--format", "json", count).stdout
    assert rows_after == rows_before
    # State survived: the next sync reads only what changed, as after any sync.
    again = sync(warehouse)
    assert again["orders"]["rows_written"] < 10 < first["orders"]["rows_written"]
    assert again["events"]["rows_written"] < 10 < first["events"]["rows_written"]
    assert again["customers"]["rows_written"] == 25
    log = warehouse / "example" / "orders" / "_delta_log"
    assert list(log.glob("*.checkpoint.parquet"))
