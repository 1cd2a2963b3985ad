"""State lives in the table's commits: it survives maintenance and log cleanup, and fences."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from deltalake import DeltaTable
from memory_source import MemorySchema, MemorySource, at, config, runtime

from headwater.errors import StateError, TableLockedError
from headwater.sync import BatchLimits, SchemaState, sync_schema
from headwater.warehouse import (
    STATE_KEY,
    TableWriter,
    read_state_document,
    state_sequence,
    table_location,
)


class Boom(Exception):
    pass


@pytest.fixture
def warehouse(tmp_path):
    return str(tmp_path / "warehouse")


def items_source(count: int = 4, *, fail_after_page: int | None = None) -> MemorySource:
    items = MemorySchema(name="items", page_size=2)
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, count + 1)]
    if fail_after_page is not None:

        def after_page(number: int) -> None:
            if number == fail_after_page:
                raise Boom

        items.after_page = after_page
    return MemorySource(items)


def sync(source, warehouse):
    return sync_schema(
        source, config(), "items", warehouse, runtime(), limits=BatchLimits(max_rows=2)
    )


def maintain(uri: str, *, clean_log: bool) -> None:
    """What a user's maintenance does: OPTIMIZE, VACUUM, and (optionally) log cleanup."""
    table = DeltaTable(uri)
    table.optimize.compact()
    table = DeltaTable(uri)
    table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    if clean_log:
        table = DeltaTable(uri)
        table.alter.set_table_properties({"delta.logRetentionDuration": "interval 0 seconds"})
        table = DeltaTable(uri)
        table.create_checkpoint()
        table.cleanup_metadata()


def headwater_commits(uri: str) -> list[dict]:
    return [h for h in DeltaTable(uri).history() if STATE_KEY in h]


@pytest.mark.parametrize("clean_log", [False, True])
def test_state_survives_optimize_vacuum_and_log_cleanup(warehouse, clean_log):
    source = items_source()
    first = sync(source, warehouse)
    uri = first.table_uri

    maintain(uri, clean_log=clean_log)
    second = sync(source, warehouse)

    assert source.inputs[1].db_incremental_field_last_value == at(4)
    assert second.watermark == at(4)
    assert len(DeltaTable(uri).to_pyarrow_table()) == 4


def test_log_cleanup_really_removes_the_commits_that_carried_state(warehouse):
    uri = sync(items_source(), warehouse).table_uri

    maintain(uri, clean_log=True)

    assert headwater_commits(uri) == []
    assert read_state_document(DeltaTable(uri))["position"]["watermark"] == at(4).isoformat()


def test_every_headwater_commit_carries_the_whole_state(warehouse):
    uri = sync(items_source(), warehouse).table_uri

    commits = headwater_commits(uri)
    documents = [json.loads(c[STATE_KEY]) for c in commits]

    assert [d["sequence"] for d in documents] == [3, 2, 1]
    assert [d["position"]["watermark"] for d in documents] == [
        at(4).isoformat(),
        at(4).isoformat(),
        at(2).isoformat(),
    ]
    assert {d["format"] for d in documents} == {1}
    assert documents[0]["layout"] == {
        "primary_keys": ["id"],
        "incremental_field": "updated_at",
        "incremental_field_type": "datetime",
        "partition": None,
    }
    assert state_sequence(DeltaTable(uri)) == 3


def test_after_a_crash_the_state_is_read_back_from_the_commit_history(warehouse):
    source = items_source(fail_after_page=0)  # one batch committed, then the source failed
    with pytest.raises(Boom):
        sync(source, warehouse)
    uri = f"{warehouse}/mem/items"
    maintain(uri, clean_log=False)  # OPTIMIZE commits on top carry no state

    source.schemas["items"].after_page = None
    sync(source, warehouse)

    assert source.inputs[1].db_incremental_field_last_value == at(2)


def test_a_state_lost_to_log_cleanup_is_reported_not_guessed(warehouse):
    # Crashed after its first commit (no mirror yet), then the log was cleaned.
    source = items_source(fail_after_page=0)
    with pytest.raises(Boom):
        sync(source, warehouse)
    maintain(f"{warehouse}/mem/items", clean_log=True)

    with pytest.raises(StateError, match="is lost") as raised:
        sync(source, warehouse)

    assert "--full-refresh" in str(raised.value)


def test_a_state_of_a_newer_format_is_refused(warehouse):
    uri = sync(items_source(), warehouse).table_uri
    document = read_state_document(DeltaTable(uri))

    with pytest.raises(StateError, match="upgrade headwater"):
        SchemaState.from_document({**document, "format": 2})


def test_a_commit_that_does_not_follow_the_latest_state_is_refused(warehouse):
    result = sync(items_source(), warehouse)
    writer = TableWriter(table_location(warehouse, "mem", "items"))
    document = {**read_state_document(writer.table), "sequence": result.state.sequence + 1}
    batch = pa.record_batch({"id": [9], "updated_at": pa.array([at(9)], pa.timestamp("us", "UTC"))})

    writer.append(batch, partitioned=False, document=document)
    with pytest.raises(TableLockedError, match="another writer committed"):
        writer.append(batch, partitioned=False, document=document)  # the same sequence again


def test_two_writers_claiming_the_same_state_from_one_snapshot_get_one_commit(warehouse):
    result = sync(items_source(), warehouse)
    location = table_location(warehouse, "mem", "items")
    first, second = TableWriter(location), TableWriter(location)  # both read one snapshot
    document = {"sequence": result.state.sequence + 1}
    batch = pa.record_batch({"id": [9]})

    first.append(batch, partitioned=False, document=document)
    with pytest.raises(TableLockedError, match="another writer committed"):
        second.append(batch, partitioned=False, document=document)

    assert DeltaTable(result.table_uri).to_pyarrow_table().num_rows == 5
