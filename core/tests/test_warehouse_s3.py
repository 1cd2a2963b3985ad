"""The same writer on an object store: syncs into s3:// against a local S3 emulator."""

from __future__ import annotations

import pytest
from deltalake import DeltaTable
from memory_source import MemorySchema, MemorySource, at, config, read_rows, runtime
from object_store import moto_server

from headwater import SyncMode
from headwater.sync import BatchLimits, reset_schema, sync_schema


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


@pytest.mark.parametrize("mode", [None, SyncMode.APPEND])
def test_incremental_and_append_syncs_write_to_s3(s3, mode):
    warehouse = s3.new_warehouse()
    items = MemorySchema(name="items", default_sync_mode=mode)
    items.rows = [{"id": n, "updated_at": at(n), "doc": {"n": n}} for n in range(1, 6)]
    source = MemorySource(items)
    options = s3.options()

    first = sync_schema(source, config(), "items", warehouse, runtime(), storage_options=options)
    items.put(id=6, updated_at=at(6), doc={"n": 6})
    second = sync_schema(source, config(), "items", warehouse, runtime(), storage_options=options)

    assert first.table_uri == f"{warehouse}/mem/items"
    assert second.watermark == at(6)
    assert source.inputs[1].db_incremental_field_last_value == at(5)
    assert [r["id"] for r in read_rows(first.table_uri, storage_options=options)] == list(
        range(1, 7)
    )


def test_full_refresh_and_reset_work_on_s3(s3):
    warehouse = s3.new_warehouse()
    items = MemorySchema(name="items", incremental_field=None, rows=[{"id": 1}, {"id": 2}])
    source = MemorySource(items)
    options = s3.options()
    sync_schema(source, config(), "items", warehouse, runtime(), storage_options=options)

    items.rows = [{"id": 3}]
    assert reset_schema(source, config(), "items", warehouse, runtime(), storage_options=options)
    result = sync_schema(source, config(), "items", warehouse, runtime(), storage_options=options)

    assert result.rewrote
    assert DeltaTable(result.table_uri, storage_options=options).to_pyarrow_table().to_pylist() == [
        {"id": 3}
    ]


def test_an_interrupted_full_refresh_is_staged_in_the_store_and_its_stage_removed(s3):
    from headwater.warehouse import StagedTable, TableLocation

    warehouse = s3.new_warehouse()
    items = MemorySchema(name="items", incremental_field=None, resumable=True, page_size=2)
    items.rows = [{"id": n} for n in range(1, 9)]
    items.after_page = _stop_at(2)
    source = MemorySource(items)
    options = s3.options()
    limits = BatchLimits(max_rows=2)  # a staged commit per page
    with pytest.raises(_Stopped):
        sync_schema(
            source, config(), "items", warehouse, runtime(), storage_options=options, limits=limits
        )
    location = TableLocation(uri=f"{warehouse}/mem/items", storage_options=options)
    assert StagedTable(location).rows == 6  # pages 0-2, each committed at its resume point

    items.after_page = None
    result = sync_schema(
        source, config(), "items", warehouse, runtime(), storage_options=options, limits=limits
    )

    assert source.inputs[-1].resume_state is not None
    assert [r["id"] for r in read_rows(result.table_uri, storage_options=options)] == list(
        range(1, 9)
    )
    assert not StagedTable(location).exists
    assert s3.keys(f"{location.uri}/_headwater/staging/") == []


class _Stopped(Exception):
    pass


def _stop_at(page):
    def hook(number):
        if number == page:
            raise _Stopped

    return hook
