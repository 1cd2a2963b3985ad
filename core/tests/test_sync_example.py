"""The built-in example connector: a shop generated from a seed and the clock."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from deltalake import DeltaTable
from memory_source import read_rows

from headwater import ManualClock, Runtime
from headwater.config import SchemaChoice, UserConfig, check_generated
from headwater.discovery import Registry
from headwater.examples._config import ExampleConfig
from headwater.examples.shop import EPOCH, Shop
from headwater.sync import sync_schema

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def example():
    return Registry(entry_points=[], environ={}).connector("example")


def config(**source):
    return UserConfig(
        source=ExampleConfig(**source), schemas={"events": SchemaChoice(sync_mode="append")}
    )


def sync(example, schema, warehouse, clock, **source):
    return sync_schema(
        example, config(**source), schema, warehouse, Runtime(clock=clock, sleep=clock.sleep)
    )


def test_a_second_sync_writes_only_new_and_changed_orders(example, tmp_path):
    warehouse, clock = str(tmp_path), ManualClock(NOW)
    first = sync(example, "orders", warehouse, clock)
    clock.advance(3 * 3600)
    second = sync(example, "orders", warehouse, clock)

    shop = Shop(seed=1, orders_per_hour=12)
    changed = shop.orders_updated_since(first.watermark, clock.now(), placed_from=EPOCH)
    rows = read_rows(first.table_uri)
    assert first.rows_written == 7 * 24 * 12 + 1  # a week of orders, both ends included
    assert second.rows_written == len(changed)
    assert second.watermark == max(row["updated_at"] for row in changed)
    assert all(row["status"] == shop.order(row["id"], clock.now())["status"] for row in rows)
    buckets = {p["_headwater_partition"] for p in DeltaTable(first.table_uri).partitions()}
    assert buckets == {"2025-12", "2026-01"}  # the month each order was placed


def test_events_are_appended_once_each(example, tmp_path):
    warehouse, clock = str(tmp_path), ManualClock(NOW)
    sync(example, "events", warehouse, clock)
    clock.advance(2 * 3600)
    second = sync(example, "events", warehouse, clock)
    third = sync(example, "events", warehouse, clock)

    ids = [row["id"] for row in read_rows(second.table_uri)]
    assert second.rows_written > 0
    assert third.rows_written == 0
    assert len(ids) == len(set(ids))


def test_customers_are_a_full_refresh_with_nested_json(example, tmp_path):
    result = sync(example, "customers", str(tmp_path), ManualClock(NOW))

    rows = read_rows(result.table_uri)
    assert result.sync_mode == "full_refresh"
    assert len(rows) == 25
    assert rows[0]["address"].startswith('{"city":')
    assert rows[0]["tags"].startswith("[")


def test_the_same_seed_generates_the_same_shop(example, tmp_path):
    tables = [
        read_rows(sync(example, "orders", str(tmp_path / name), ManualClock(NOW), seed=5).table_uri)
        for name in ("a", "b")
    ]
    other = read_rows(
        sync(example, "orders", str(tmp_path / "c"), ManualClock(NOW), seed=6).table_uri
    )

    assert tables[0] == tables[1]
    assert tables[0] != other


def test_the_generated_config_class_is_current(example):
    assert check_generated(example.spec, example.load_source().get_source_config()) is None


def test_the_sync_and_warehouse_packages_import_nothing_heavy():
    code = (
        "import sys, headwater.sync, headwater.warehouse, headwater.examples,"
        " headwater.cli.sync_commands;"
        "print(sorted(m for m in ('pyarrow', 'deltalake') if m in sys.modules))"
    )

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"
