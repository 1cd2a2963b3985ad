"""`headwater tables`, `query` and `maintain` over a warehouse the example connector wrote."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from pathlib import Path

import pytest
from object_store import moto_server

from conftest import run_cli

EXAMPLE = Path(__file__).parents[2] / "examples" / "example.toml"


def sync(warehouse: Path, *args: str):
    result = run_cli(
        "sync", "example", "--config", str(EXAMPLE), "-w", str(warehouse), "--json",
        *args,
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
    (tmp_path / "empty").mkdir()

    result = run_cli("tables", "-w", str(tmp_path / "empty"))

    assert result.returncode == 0
    assert result.stdout.startswith("No tables in ")


@pytest.mark.parametrize(("make", "what"), [(None, "does not exist"), ("file", "is not a folder")])
@pytest.mark.parametrize("command", [["tables"], ["maintain"], ["query", "select 1"]])
def test_a_warehouse_that_is_not_a_folder_is_a_one_line_error(tmp_path, make, what, command):
    path = tmp_path / "typo"
    if make == "file":
        path.write_text("")

    result = run_cli(*command, "-w", str(path))

    assert result.returncode == 2
    assert f"no warehouse at {path}: {path} {what}" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["tables", "--warehouse", ""],
        ["sync", "example", "--config", "examples/example.toml", "--warehouse", " "],
        ["sync", "example", "--config", "examples/example.toml", "--connection", ""],
    ],
)
def test_an_empty_warehouse_or_connection_is_refused(args):
    result = run_cli(*args)

    assert result.returncode == 2
    assert "is empty; give a value or leave the option out for its default" in result.stderr


@pytest.mark.parametrize(
    "table", ["example.orders", "example__orders", '"example"."orders"', "main.example__orders"]
)
def test_query_names_each_table_two_ways(warehouse, table):
    result = run_cli("query", "-w", str(warehouse), "--json", f"select count(*) as n from {table}")

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
    expected = json.loads(run_cli("query", "-w", str(warehouse), "--json", SQL).stdout)

    flags = {"json": ["--json"], "csv": ["--csv"], "table": []}[output_format]
    result = run_cli("query", "-w", str(warehouse), *flags, SQL)

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
        (("tables", "-w", "ftp://host/wh"), "has the scheme 'ftp'"),
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
    rows_before = run_cli("query", "-w", str(warehouse), "--json", count).stdout

    maintained = run_cli("maintain", "-w", str(warehouse), "--retention-hours", "0")

    assert maintained.returncode == 0, maintained.stderr
    assert len(maintained.stdout.splitlines()) == 3
    after = tables(warehouse)
    assert after["example.orders"]["files"] <= before["example.orders"]["files"]
    for name, table in before.items():
        assert after[name]["rows"] == table["rows"]
        assert after[name]["watermark"] == table["watermark"]
    rows_after = run_cli("query", "-w", str(warehouse), "--json", count).stdout
    assert rows_after == rows_before
    # State survived: the next sync reads only what changed, as after any sync.
    again = sync(warehouse)
    assert again["orders"]["rows_written"] < 10 < first["orders"]["rows_written"]
    assert again["events"]["rows_written"] < 10 < first["events"]["rows_written"]
    assert again["customers"]["rows_written"] == 25
    log = warehouse / "example" / "orders" / "_delta_log"
    assert list(log.glob("*.checkpoint.parquet"))


# --- object-store warehouses -------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


def s3_run(s3, *args: str):
    """Run the CLI with the object store's credentials and endpoint in the environment."""
    return run_cli(*args, env=s3.options())


def s3_sync(s3, warehouse: str) -> dict[str, dict]:
    result = s3_run(s3, "sync", "example", "--config", str(EXAMPLE), "-w", warehouse, "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    return {e["schema"]: e for e in events if e["event"] == "schema_finished"}


def s3_tables(s3, warehouse: str) -> dict[str, dict]:
    result = s3_run(s3, "tables", "-w", warehouse, "--json")
    assert result.returncode == 0, result.stderr
    return {f"{t['connection']}.{t['schema']}": t for t in json.loads(result.stdout)}


def s3_query(s3, warehouse: str, sql: str) -> list[dict]:
    result = s3_run(s3, "query", "-w", warehouse, "--json", sql)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_tables_query_and_maintain_work_on_an_object_store(s3):
    warehouse = s3.new_warehouse()
    first = s3_sync(s3, warehouse)
    s3_sync(s3, warehouse)
    before = s3_tables(s3, warehouse)
    count = "select count(*) as n, count(distinct id) as ids from example.orders"
    rows_before = s3_query(s3, warehouse, count)

    maintained = s3_run(s3, "maintain", "-w", warehouse, "--retention-hours", "0")

    assert maintained.returncode == 0, maintained.stderr
    assert [line.split(":")[0] for line in maintained.stdout.splitlines()] == [
        "example.customers",
        "example.events",
        "example.orders",
    ]
    assert sorted(before) == ["example.customers", "example.events", "example.orders"]
    assert before["example.orders"]["uri"] == f"{warehouse}/example/orders"
    assert before["example.customers"]["rows"] == 25
    assert rows_before == [
        {"n": before["example.orders"]["rows"], "ids": before["example.orders"]["rows"]}
    ]
    after = s3_tables(s3, warehouse)
    for name, table in before.items():
        assert after[name]["rows"] == table["rows"]
        assert after[name]["watermark"] == table["watermark"]
        assert after[name]["sync_mode"] == table["sync_mode"]
        assert after[name]["files"] <= table["files"]
    assert s3_query(s3, warehouse, count) == rows_before
    # State survived maintenance: the next sync reads only what changed.
    again = s3_sync(s3, warehouse)
    assert again["orders"]["rows_written"] < 10 < first["orders"]["rows_written"]
    assert again["events"]["rows_written"] < 10 < first["events"]["rows_written"]


def test_tables_of_an_object_store_are_only_folders_with_a_delta_log(s3):
    import pyarrow as pa
    from deltalake import write_deltalake

    from headwater.warehouse import find_tables

    warehouse = s3.new_warehouse()
    options = s3.options()

    def table(path: str) -> None:
        write_deltalake(f"{warehouse}/{path}", pa.table({"id": [1]}), storage_options=options)

    def loose_object(path: str) -> None:
        prefix = warehouse.removeprefix("s3://")
        url = f"{s3.endpoint}/{prefix}/{path}"
        urllib.request.urlopen(urllib.request.Request(url, b"x", method="PUT"), timeout=5).close()

    for path in ("shop/orders", "shop/items", "crm/people"):
        table(path)
    # Not tables: files without a log, a table one level too deep, a name no sync could write.
    loose_object("shop/loose/part-0.parquet")
    loose_object("README.md")
    table("shop/orders/nested")
    table(".hidden/t")

    found = find_tables(warehouse + "/", storage_options=options)

    assert [(c, s, loc.uri) for c, s, loc in found] == [
        ("crm", "people", f"{warehouse}/crm/people"),
        ("shop", "items", f"{warehouse}/shop/items"),
        ("shop", "orders", f"{warehouse}/shop/orders"),
    ]
    assert all(dict(loc.storage_options) == options for _, _, loc in found)


def test_an_empty_object_store_warehouse_has_no_tables(s3):
    result = s3_run(s3, "tables", "-w", s3.new_warehouse())

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No tables in s3://")


@pytest.mark.parametrize(
    "args",
    [("tables",), ("query", "select 1"), ("maintain",)],
    ids=["tables", "query", "maintain"],
)
def test_an_unreachable_object_store_is_one_clear_error(s3, args):
    result = s3_run(s3, *args, "-w", "s3://no-such-bucket/wh")

    assert result.returncode == 2
    assert "cannot list the tables of s3://no-such-bucket/wh:" in result.stderr
    assert "NoSuchBucket: The specified bucket does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert "\x1b[" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def linked(tmp_path_factory, warehouse):
    """A warehouse whose folder `elsewhere` is a link to another warehouse's connection."""
    root = tmp_path_factory.mktemp("linked")
    (root / "elsewhere").symlink_to(warehouse / "example", target_is_directory=True)
    (root / "mine").mkdir()
    return root


def test_tables_and_query_skip_a_folder_that_leads_outside_the_warehouse(linked):
    listed = run_cli("tables", "-w", str(linked), "--json")
    queried = run_cli("query", "-w", str(linked), "select count(*) from elsewhere.orders")

    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert "skipped elsewhere.orders: the table folder" in listed.stderr
    assert "leads outside the warehouse" in listed.stderr
    assert queried.returncode == 2


def test_sync_and_maintain_refuse_to_write_outside_the_warehouse(linked, warehouse):
    before = {p: p.stat().st_mtime_ns for p in (warehouse / "example").rglob("*")}

    synced = run_cli(
        "sync", "example", "--config", str(EXAMPLE), "-w", str(linked),
        "--connection", "elsewhere",
    )  # fmt: skip
    maintained = run_cli("maintain", "-w", str(linked))

    assert synced.returncode == 2
    assert "leads outside the warehouse" in synced.stderr
    assert maintained.returncode == 0, maintained.stderr
    assert {p: p.stat().st_mtime_ns for p in (warehouse / "example").rglob("*")} == before


def test_a_table_that_cannot_be_maintained_fails_typed_and_the_others_are_maintained(
    tmp_path, monkeypatch
):
    from click.testing import CliRunner
    from deltalake.exceptions import DeltaError
    from deltalake.table import TableOptimizer

    from headwater.cli.app import cli

    warehouse = tmp_path / "wh"
    sync(warehouse)
    compact = TableOptimizer.compact

    def read_only_orders(self, *args, **kwargs):
        if self.table.table_uri.rstrip("/").endswith("/orders"):
            raise DeltaError(
                "Generic LocalFileSystem error: Unable to open file"
                f" {warehouse}/example/orders/part-1.parquet: Read-only file system (os error 30)"
            )
        return compact(self, *args, **kwargs)

    monkeypatch.setattr(TableOptimizer, "compact", read_only_orders)
    result = CliRunner().invoke(cli, ["maintain", "-w", str(warehouse)])

    assert result.exit_code == 3, result.output  # partial: the other tables were maintained
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"example.orders: failed: cannot maintain the table {warehouse}")
    assert "Read-only file system" in lines[0]
    assert "run `headwater maintain` again" in lines[0]
    assert "unexpected" not in result.stderr
    maintained = [line.split(":")[0] for line in result.stdout.splitlines()]
    assert maintained == ["example.customers", "example.events"]


@pytest.mark.parametrize(
    ("old", "new"),
    [(["--format", "json"], ["--json"]), (["--format", "csv"], ["--csv"])],
    ids=["json", "csv"],
)
def test_the_0_1_query_format_option_still_works_and_says_what_replaced_it(warehouse, old, new):
    before = run_cli("query", "-w", str(warehouse), *old, SQL)
    now = run_cli("query", "-w", str(warehouse), *new, SQL)

    assert before.returncode == now.returncode == 0, before.stderr
    assert before.stdout == now.stdout
    assert f"note: {' '.join(old)} is deprecated and will be removed; use {new[0]}" in (
        before.stderr
    )
    assert now.stderr == ""


def test_query_takes_one_machine_format(warehouse):
    result = run_cli("query", "-w", str(warehouse), "--json", "--csv", SQL)

    assert result.returncode == 2
    assert "choose one of --json and --csv" in result.stderr


@pytest.fixture
def damaged(tmp_path):
    """A warehouse whose orders table has a damaged Delta log (a commit that is not JSON)."""
    warehouse = tmp_path / "wh"
    sync(warehouse)
    log = warehouse / "example" / "orders" / "_delta_log"
    latest = max(log.glob("*.json"))
    (log / f"{int(latest.stem) + 1:020d}.json").write_text("{garbage")
    return warehouse


def test_tables_lists_the_readable_tables_and_names_a_damaged_one(damaged):
    result = run_cli("tables", "-w", str(damaged), "--json")

    assert result.returncode == 3, result.stderr  # partial: the others are listed
    listed = [f"{t['connection']}.{t['schema']}" for t in json.loads(result.stdout)]
    assert listed == ["example.customers", "example.events"]
    [line] = [line for line in result.stderr.splitlines() if line.startswith("example.orders")]
    assert line.startswith(f"example.orders: cannot read example.orders ({damaged}/example/orders)")
    assert "Json error" in line
    assert "Error: unexpected" not in result.stderr
    assert "<unknown>" not in result.stderr  # no native backtrace frames
    assert (
        result.stderr.splitlines()[-1] == "Error: 1 of 3 tables failed: example.orders (see above)"
    )


def test_a_query_runs_over_the_readable_tables_and_says_which_was_left_out(damaged):
    events = run_cli(
        "query", "-w", str(damaged), "--json", "select count(*) as n from example.events"
    )
    orders = run_cli("query", "-w", str(damaged), "select count(*) as n from example.orders")

    assert events.returncode == 0, events.stderr
    assert json.loads(events.stdout)[0]["n"] > 0
    assert "example.orders left out: cannot read example.orders" in events.stderr
    assert orders.returncode == 2
    assert "the query failed:" in orders.stderr
    assert "(left out as unreadable: example.orders)" in orders.stderr
    assert "<unknown>" not in events.stderr + orders.stderr


def test_sync_fails_a_damaged_table_in_one_line_and_syncs_the_others(damaged):
    result = run_cli("sync", "example", "--config", str(EXAMPLE), "-w", str(damaged))

    assert result.returncode == 3, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["events", "customers"]
    [line] = [line for line in result.stderr.splitlines() if line.startswith("orders:")]
    assert line.startswith(f"orders: failed: cannot read the table ({damaged}/example/orders)")
    assert "Error: unexpected" not in result.stderr
    assert "<unknown>" not in result.stderr
