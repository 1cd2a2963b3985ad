"""The sync engine end to end, with in-memory sources: modes, state, layout, evolution."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from deltalake import DeltaTable
from memory_source import T0, Events, MemorySchema, MemorySource, at, config, read_rows, runtime

from headwater import ManualClock, ProgressKind, SyncMode
from headwater.config import SchemaChoice
from headwater.errors import (
    LayoutChangedError,
    PrimaryKeyError,
    StateError,
    SyncError,
    TableLockedError,
)
from headwater.sync import BatchLimits, reset_schema, sync_schema
from headwater.warehouse import lock_table, table_location
from headwater.warehouse.staging import StagedTable


@pytest.fixture
def warehouse(tmp_path):
    return str(tmp_path / "warehouse")


def sync(source, schema, warehouse, *, cfg=None, clock=None, **kwargs):
    return sync_schema(source, cfg or config(), schema, warehouse, runtime(clock), **kwargs)


def table(warehouse, schema="items"):
    return DeltaTable(f"{warehouse}/mem/{schema}")


# --- incremental (MERGE) ---------------------------------------------------------------------


def test_incremental_merges_changed_rows_and_continues_from_the_watermark(warehouse):
    items = MemorySchema(name="items")
    for n in range(1, 6):
        items.put(id=n, name=f"v1-{n}", updated_at=at(n))
    source = MemorySource(items)

    first = sync(source, "items", warehouse)
    items.put(id=2, name="v2-2", updated_at=at(10))
    items.put(id=6, name="v1-6", updated_at=at(11))
    second = sync(source, "items", warehouse)

    assert (first.rows_written, first.sync_mode, first.watermark) == (5, "incremental", at(5))
    assert source.inputs[1].db_incremental_field_last_value == at(5)
    assert second.rows_written == 3  # the row at the watermark again (inclusive), 2 and 6
    assert second.watermark == at(11)
    rows = read_rows(table(warehouse).table_uri)
    assert [(r["id"], r["name"]) for r in rows] == [
        (1, "v1-1"),
        (2, "v2-2"),
        (3, "v1-3"),
        (4, "v1-4"),
        (5, "v1-5"),
        (6, "v1-6"),
    ]


def test_a_batch_is_deduplicated_before_merge_and_the_last_occurrence_wins(warehouse):
    items = MemorySchema(name="items", page_size=10)
    items.rows = [
        {"id": 1, "name": "first", "updated_at": at(1)},
        {"id": 1, "name": "second", "updated_at": at(1)},
        {"id": 2, "name": "only", "updated_at": at(2)},
    ]

    sync(MemorySource(items), "items", warehouse)

    rows = read_rows(table(warehouse).table_uri)
    assert [(r["id"], r["name"]) for r in rows] == [(1, "second"), (2, "only")]


def test_keys_are_deduplicated_the_way_arrow_groups_them(warehouse):
    # Every NaN is one key and 0.0 and -0.0 are two, as in Arrow's hash grouping; composite
    # keys compare column by column.
    nan = float("nan")
    keys = [(nan, "a"), (0.0, "a"), (-0.0, "a"), (nan, "a"), (0.0, "b"), (1.5, "a"), (0.0, "a")]
    items = MemorySchema(name="items", primary_keys=("id", "region"), page_size=10)
    items.rows = [
        {"id": key, "region": region, "n": n, "updated_at": at(1)}
        for n, (key, region) in enumerate(keys)
    ]

    sync(MemorySource(items), "items", warehouse)

    rows = table(warehouse).to_pyarrow_table().sort_by("n").to_pylist()
    assert [row["n"] for row in rows] == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"id": 1}, {"id": None}], "1 row(s) have a null primary key 'id'"),
        ([{"id": 1}, {"name": "no key"}], "1 row(s) have a null primary key 'id'"),
        ([{"name": "no key"}], "1 row(s) lack the primary key 'id', missing or null"),
    ],
)
def test_a_missing_or_null_primary_key_is_an_error_naming_schema_and_key(warehouse, rows, message):
    items = MemorySchema(name="items", page_size=5, rows=[{**r, "updated_at": at(1)} for r in rows])

    with pytest.raises(PrimaryKeyError, match=re.escape(message)) as raised:
        sync(MemorySource(items), "items", warehouse)

    assert "schema 'items'" in str(raised.value)


def test_an_incremental_schema_without_primary_keys_is_refused(warehouse):
    items = MemorySchema(name="items", primary_keys=None, rows=[{"id": 1, "updated_at": at(1)}])

    with pytest.raises(SyncError, match="declares no primary keys"):
        sync(MemorySource(items), "items", warehouse)


# --- append ----------------------------------------------------------------------------------


def test_append_never_repeats_rows_at_the_inclusive_boundary(warehouse):
    events = MemorySchema(name="events", default_sync_mode=SyncMode.APPEND)
    for n in range(1, 5):  # three rows share the last timestamp
        events.put(id=n, updated_at=at(min(n, 2)))
    source = MemorySource(events)

    first = sync(source, "events", warehouse)
    events.put(id=5, updated_at=at(2))  # arrives later at the same timestamp
    events.put(id=6, updated_at=at(3))
    second = sync(source, "events", warehouse)
    third = sync(source, "events", warehouse)

    assert (first.sync_mode, first.rows_written) == ("append", 4)
    assert (second.rows_read, second.rows_written) == (5, 2)
    assert (third.rows_read, third.rows_written) == (1, 0)
    assert [r["id"] for r in read_rows(table(warehouse, "events").table_uri)] == [1, 2, 3, 4, 5, 6]


def test_append_drops_rows_already_written_even_when_the_source_ignores_the_bound(warehouse):
    events = MemorySchema(name="events", default_sync_mode=SyncMode.APPEND, honours_bounds=False)
    for n in range(1, 4):
        events.put(id=n, updated_at=at(n))
    source = MemorySource(events)

    sync(source, "events", warehouse)
    events.put(id=4, updated_at=at(4))
    second = sync(source, "events", warehouse)

    assert (second.rows_read, second.rows_written) == (4, 1)
    assert [r["id"] for r in read_rows(table(warehouse, "events").table_uri)] == [1, 2, 3, 4]


def test_append_without_primary_keys_remembers_boundary_rows_by_content(warehouse):
    events = MemorySchema(name="events", primary_keys=None, default_sync_mode=SyncMode.APPEND)
    events.rows = [{"kind": "a", "updated_at": at(1)}, {"kind": "b", "updated_at": at(1)}]
    source = MemorySource(events)

    sync(source, "events", warehouse)
    events.rows.append({"kind": "c", "updated_at": at(1)})
    second = sync(source, "events", warehouse)

    assert second.rows_written == 1
    kinds = [r["kind"] for r in read_rows(table(warehouse, "events").table_uri, sort_by="kind")]
    assert kinds == ["a", "b", "c"]


# --- full refresh ----------------------------------------------------------------------------


def test_full_refresh_replaces_the_table_in_one_commit(warehouse):
    items = MemorySchema(name="items", incremental_field=None)
    items.rows = [{"id": n, "v": "old"} for n in range(1, 8)]
    source = MemorySource(items)
    sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))
    before = table(warehouse).version()

    items.rows = [{"id": n, "v": "new"} for n in range(3, 10)]
    result = sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))

    history = table(warehouse).history()
    data_commits = [h for h in history if h["version"] > before and h["operation"] == "WRITE"]
    assert result.sync_mode == SyncMode.FULL_REFRESH
    assert len(data_commits) == 1
    assert data_commits[0]["operationParameters"]["mode"] == "Overwrite"
    # Every version a reader can see is a whole table: the old one, then the new one.
    for version in range(before, table(warehouse).version() + 1):
        seen = DeltaTable(table(warehouse).table_uri, version=version).to_pyarrow_table()
        assert seen.num_rows == 7
    assert {r["v"] for r in read_rows(table(warehouse).table_uri)} == {"new"}


@pytest.mark.parametrize(("max_rows", "staged"), [(100, False), (2, True)])
def test_a_full_refresh_stages_its_batches_only_when_the_read_spans_more_than_one(
    warehouse, max_rows, staged, monkeypatch
):
    """A read that fits one batch has nothing a crash could resume: it goes straight into
    the replace commit (staging it cost a table and two commits). A longer read stages."""
    items = MemorySchema(name="items", incremental_field=None)
    items.rows = [{"id": n, "v": "old"} for n in range(1, 8)]
    source = MemorySource(items)
    sync(source, "items", warehouse)
    before = table(warehouse).version()
    added = []
    monkeypatch.setattr(
        "headwater.warehouse.staging.StagedTable.add",
        lambda self, batch, *, document, _add=StagedTable.add: (
            added.append(batch.num_rows) or _add(self, batch, document=document)
        ),
    )

    items.rows = [{"id": n, "v": "new"} for n in range(3, 10)]
    result = sync(source, "items", warehouse, limits=BatchLimits(max_rows=max_rows))

    assert added == ([2, 2, 2, 1] if staged else [])
    # The replacing commit, then the state's mirror.
    assert result.commits == (before + 1, before + 2)
    assert table(warehouse).history(2)[1]["operationParameters"]["mode"] == "Overwrite"
    assert (result.rows_read, result.rows_written) == (7, 7)
    assert result.state is not None
    assert result.state.complete
    assert sorted(r["id"] for r in read_rows(table(warehouse).table_uri)) == list(range(3, 10))
    assert not Path(warehouse, "mem", "items", "_headwater", "staging").exists()


def test_full_refresh_flag_rewrites_an_incremental_schema_and_starts_a_new_state(warehouse):
    items = MemorySchema(name="items")
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 4)]
    source = MemorySource(items)
    sync(source, "items", warehouse)
    items.rows = [{"id": n, "updated_at": at(n)} for n in (2, 3)]  # row 1 was deleted upstream

    result = sync(source, "items", warehouse, full_refresh=True)

    assert source.inputs[-1].db_incremental_field_last_value is None
    assert result.rewrote
    assert result.watermark == at(3)
    assert [r["id"] for r in read_rows(table(warehouse).table_uri)] == [2, 3]


def test_a_rewrite_of_an_incremental_schema_keeps_one_row_per_key(warehouse):
    items = MemorySchema(name="items", page_size=1)
    items.rows = [
        {"id": 1, "v": "a", "updated_at": at(1)},
        {"id": 2, "v": "a", "updated_at": at(2)},
        {"id": 1, "v": "b", "updated_at": at(3)},  # updated while the read ran
    ]

    sync(MemorySource(items), "items", warehouse, full_refresh=True, limits=BatchLimits(max_rows=1))

    rows = read_rows(table(warehouse).table_uri)
    assert [(r["id"], r["v"]) for r in rows] == [(1, "b"), (2, "a")]


# --- mode choice and inputs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("incremental", "append", "default", "choice", "expected"),
    [
        (True, True, None, None, "incremental"),
        (False, True, None, None, "append"),
        (False, False, None, None, "full_refresh"),
        (True, True, SyncMode.APPEND, None, "append"),
        (True, True, None, "full_refresh", "full_refresh"),
        (True, True, None, "append", "append"),
    ],
)
def test_the_mode_is_incremental_then_append_then_full_refresh_unless_configured(
    warehouse, incremental, append, default, choice, expected
):
    items = MemorySchema(
        name="items",
        supports_incremental=incremental,
        supports_append=append,
        default_sync_mode=default,
        rows=[{"id": 1, "updated_at": at(1)}],
    )
    cfg = config(items=SchemaChoice(sync_mode=choice)) if choice else config()

    result = sync(MemorySource(items), "items", warehouse, cfg=cfg)

    assert result.sync_mode == expected


def test_start_date_and_the_incremental_field_reach_the_source(warehouse):
    from headwater.config import UserConfig

    items = MemorySchema(name="items", rows=[{"id": 1, "updated_at": at(1)}])
    source = MemorySource(items)
    cfg = UserConfig(connection="mem", start_date=T0, source=object())

    sync(source, "items", warehouse, cfg=cfg)

    inputs = source.inputs[0]
    assert inputs.start_date == T0
    assert inputs.should_use_incremental_field
    assert (inputs.incremental_field, inputs.incremental_field_type) == ("updated_at", "datetime")
    assert inputs.db_incremental_field_last_value is None


# --- watermarks: asc per batch, desc at completion -------------------------------------------


class Boom(Exception):
    pass


def fail_after(page: int):
    def after_page(number: int) -> None:
        if number == page:
            raise Boom

    return after_page


def test_asc_advances_per_batch_so_a_failed_read_resumes_after_the_last_commit(warehouse):
    items = MemorySchema(name="items", page_size=2, after_page=fail_after(1))
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 8)]
    source = MemorySource(items)

    with pytest.raises(Boom):
        sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))
    items.after_page = None
    sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))

    assert source.inputs[1].db_incremental_field_last_value == at(4)
    assert [r["id"] for r in read_rows(table(warehouse).table_uri)] == list(range(1, 8))


def test_desc_moves_the_watermark_only_when_the_read_completes(warehouse):
    items = MemorySchema(name="items", page_size=2, sort_mode="desc", after_page=fail_after(1))
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 8)]
    source = MemorySource(items)

    with pytest.raises(Boom):
        sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))
    interrupted = source.inputs
    items.after_page = None
    resumed = sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))
    items.put(id=8, updated_at=at(8))
    later = sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))

    second, third = interrupted[1], interrupted[2]
    # The interrupted read wrote 7..4; the next one resumes from there, and only then moves.
    assert second.db_incremental_field_last_value is None
    assert second.db_incremental_field_earliest_value == at(4)
    assert resumed.watermark == at(7)
    assert third.db_incremental_field_last_value == at(7)
    assert third.db_incremental_field_earliest_value is None
    assert later.watermark == at(8)
    assert [r["id"] for r in read_rows(table(warehouse).table_uri)] == list(range(1, 9))


def test_desc_append_resumes_without_repeating_rows(warehouse):
    events = MemorySchema(
        name="events",
        page_size=2,
        sort_mode="desc",
        default_sync_mode=SyncMode.APPEND,
        honours_bounds=False,  # re-reads from the top: the host must drop what it wrote
        after_page=fail_after(1),
    )
    events.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 8)]
    source = MemorySource(events)

    with pytest.raises(Boom):
        sync(source, "events", warehouse, limits=BatchLimits(max_rows=2))
    events.after_page = None
    sync(source, "events", warehouse, limits=BatchLimits(max_rows=2))
    sync(source, "events", warehouse, limits=BatchLimits(max_rows=2))

    ids = [r["id"] for r in read_rows(table(warehouse, "events").table_uri)]
    assert ids == list(range(1, 8))


# --- partitioning ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partition", "rows", "buckets"),
    [
        (
            {
                "partition_mode": "datetime",
                "partition_keys": ["created"],
                "partition_format": "month",
            },
            [{"id": 1, "created": "2024-05-13T10:00:00Z"}, {"id": 2, "created": "soon"}],
            {1: "2024-05", 2: "__unparseable__"},
        ),
        (
            {
                "partition_mode": "datetime",
                "partition_keys": ["created"],
                "partition_format": "hour",
            },
            [{"id": 1, "created": at(61)}],
            {1: "2026-01-01T01"},
        ),
        (
            {"partition_mode": "md5", "partition_keys": ["id"], "partition_count": 4},
            [{"id": 1}, {"id": 2}],
            {n: str(int(hashlib.md5(str(n).encode()).hexdigest(), 16) % 4) for n in (1, 2)},
        ),
        (
            {"partition_mode": "numerical", "partition_keys": ["id"], "partition_size": 100},
            [{"id": 5}, {"id": 250}],
            {5: "0", 250: "200"},
        ),
    ],
)
def test_rows_are_partitioned_as_the_response_asks(warehouse, partition, rows, buckets):
    items = MemorySchema(name="items", incremental_field=None, partition=partition, rows=rows)

    sync(MemorySource(items), "items", warehouse)

    data = table(warehouse).to_pyarrow_table().to_pylist()
    assert {r["id"]: r["_headwater_partition"] for r in data} == buckets
    assert table(warehouse).metadata().partition_columns == ["_headwater_partition"]


# --- the layout a table was written with -----------------------------------------------------


MONTHLY = {
    "partition_mode": "datetime",
    "partition_keys": ["updated_at"],
    "partition_format": "month",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"primary_keys": ("id", "region")}, "primary keys (id) -> (id, region)"),
        (
            {
                "partition": {
                    "partition_mode": "md5",
                    "partition_keys": ["id"],
                    "partition_count": 8,
                }
            },
            "partitioning datetime month of updated_at -> md5 of id into 8 buckets",
        ),
        ({"incremental_field": "seen_at"}, "incremental field updated_at (datetime) -> seen_at"),
        # A connector that stops partitioning a table: the full refresh drops the partitions.
        ({"partition": {}}, "partitioning datetime month of updated_at -> none"),
    ],
)
def test_a_changed_layout_is_reported_with_what_changed_and_how_to_proceed(
    warehouse, change, message
):
    items = MemorySchema(name="items", partition=MONTHLY)
    items.rows = [{"id": 1, "region": "eu", "updated_at": at(1), "seen_at": at(1)}]
    sync(MemorySource(items), "items", warehouse)

    upgraded = MemorySource(MemorySchema(name="items", rows=items.rows, partition=MONTHLY))
    for name, value in change.items():
        setattr(upgraded.schemas["items"], name, value)
    with pytest.raises(LayoutChangedError) as raised:
        sync(upgraded, "items", warehouse)
    result = sync(upgraded, "items", warehouse, full_refresh=True)
    after = sync(upgraded, "items", warehouse)

    assert message in str(raised.value)
    assert "--full-refresh" in str(raised.value)
    assert result.rewrote
    assert after.rows_read == 1


# --- schema evolution ------------------------------------------------------------------------


def test_the_schema_evolves_across_runs_by_the_documented_rules(warehouse):
    items = MemorySchema(name="items")
    items.put(id=1, price=10, tag="x", updated_at=at(1))
    source = MemorySource(items)
    sync(source, "items", warehouse)

    items.put(id=2, price=10.5, tag=7, extra={"a": [1, 2]}, updated_at=at(2))
    sync(source, "items", warehouse)

    schema = {f.name: str(f.type) for f in table(warehouse).to_pyarrow_table().schema}
    rows = read_rows(table(warehouse).table_uri)
    assert schema["price"] == "double"  # int64 widened to float64: the table was rewritten
    assert (schema["tag"], schema["tag__int64"]) == ("string", "int64")  # a conflict
    assert [(r["price"], r["tag"], r["tag__int64"], r["extra"]) for r in rows] == [
        (10.0, "x", None, None),
        (10.5, None, 7, '{"a":[1,2]}'),
    ]
    assert table(warehouse).schema().to_json().count('"headwater.type":"json"') == 1


def test_arrow_pages_are_written_like_dict_pages(warehouse):
    items = MemorySchema(name="items", arrow_pages=True)
    items.rows = [{"id": n, "updated_at": at(n), "nested": {"n": n}} for n in range(1, 5)]

    result = sync(MemorySource(items), "items", warehouse)

    rows = read_rows(table(warehouse).table_uri)
    assert result.rows_written == 4
    assert [r["nested"] for r in rows] == [f'{{"n":{n}}}' for n in range(1, 5)]


# --- state, reset, locking, progress ---------------------------------------------------------


def test_reset_drops_the_state_and_the_next_sync_rewrites_the_table(warehouse):
    events = MemorySchema(name="events", default_sync_mode=SyncMode.APPEND)
    events.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 4)]
    source = MemorySource(events)
    sync(source, "events", warehouse)

    dropped = reset_schema(source, config(), "events", warehouse, runtime())
    rows_after_reset = read_rows(table(warehouse, "events").table_uri)
    result = sync(source, "events", warehouse)

    assert dropped
    assert len(rows_after_reset) == 3  # the rows stay until the rewrite
    assert source.inputs[-1].db_incremental_field_last_value is None
    assert result.rewrote
    assert [r["id"] for r in read_rows(table(warehouse, "events").table_uri)] == [1, 2, 3]
    assert reset_schema(source, config(), "missing", warehouse, runtime()) is False


@pytest.mark.parametrize("mode", ["incremental", "append", "full_refresh"])
def test_a_new_table_is_checkpointed_every_ten_commits(warehouse, mode):
    items = MemorySchema(name="items", page_size=1)
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 13)]
    cfg = config(items=SchemaChoice(sync_mode=mode))

    sync(MemorySource(items), "items", warehouse, cfg=cfg, limits=BatchLimits(max_rows=1))

    assert table(warehouse).metadata().configuration["delta.checkpointInterval"] == "10"
    checkpoints = Path(warehouse, "mem", "items", "_delta_log").glob("*.checkpoint.parquet")
    # One commit per row then one for the state, or a replacing commit and the state.
    assert [p.name for p in checkpoints] == (
        [] if mode == "full_refresh" else ["00000000000000000009.checkpoint.parquet"]
    )


def test_a_table_with_rows_but_no_state_is_refused_until_a_full_refresh(warehouse):
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(f"{warehouse}/mem/items", pa.table({"id": [9]}))
    source = MemorySource(MemorySchema(name="items", rows=[{"id": 1, "updated_at": at(1)}]))

    with pytest.raises(StateError, match="holds rows but no Headwater sync state"):
        sync(source, "items", warehouse)
    sync(source, "items", warehouse, full_refresh=True)

    assert [r["id"] for r in read_rows(table(warehouse).table_uri)] == [1]


def test_a_second_sync_of_the_same_table_fails_fast(warehouse):
    source = MemorySource(MemorySchema(name="items", rows=[{"id": 1, "updated_at": at(1)}]))
    location = table_location(warehouse, "mem", "items")

    with (
        lock_table(location, clock=ManualClock(T0), purpose="the first sync"),
        pytest.raises(TableLockedError) as raised,
    ):
        sync(source, "items", warehouse)

    assert "is being written by process" in str(raised.value)
    assert "(the first sync)" in str(raised.value)
    sync(source, "items", warehouse)  # free again


def test_the_engine_reports_pages_rows_and_commits(warehouse):
    items = MemorySchema(name="items", page_size=2)
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 6)]
    events = Events()

    sync_schema(
        MemorySource(items),
        config(),
        "items",
        warehouse,
        runtime(progress=events),
        limits=BatchLimits(max_rows=2),
    )

    kinds = [(e.kind, e.detail) for e in events.events if e.kind is not ProgressKind.MESSAGE]
    pages = [e.count for e in events.events if e.kind is ProgressKind.PAGE]
    written = [e.count for e in events.events if e.detail == "written"]
    assert pages == [2, 2, 1]
    assert written == [2, 2, 1]
    assert kinds[:3] == [
        (ProgressKind.PAGE, ""),
        (ProgressKind.ROWS, "read"),
        (ProgressKind.ROWS, "written"),
    ]
    assert all(e.schema == "items" for e in events.events)


def test_memory_is_bounded_by_the_batch_so_batches_commit_while_the_source_still_reads(warehouse):
    seen_versions = []
    items = MemorySchema(name="items", page_size=1)
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 41)]

    def after_page(number: int) -> None:
        uri = f"{warehouse}/mem/items"
        seen_versions.append(DeltaTable(uri).version() if DeltaTable.is_deltatable(uri) else None)

    items.after_page = after_page
    sync(MemorySource(items), "items", warehouse, limits=BatchLimits(max_rows=2))

    # Batches of two rows are committed while the source still reads, and the source runs
    # ahead of the commits by a bounded number of rows, never the whole table: the batch
    # being written (2), the batch filling (1), the rows read ahead (2) and its page in hand.
    committed = [0 if v is None else 2 * (v + 1) for v in seen_versions]
    ahead = [read - done for read, done in zip(range(1, 41), committed, strict=True)]
    assert max(ahead) <= 6, ahead
    assert committed[-1] >= 34


def test_a_sync_without_changes_re_merges_only_the_rows_at_the_watermark(warehouse):
    items = MemorySchema(name="items")
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 5)]
    source = MemorySource(items)
    sync(source, "items", warehouse)

    result = sync(source, "items", warehouse)

    # Lower bounds are inclusive, so the row at the watermark is read and merged again: a row
    # changed twice within the field's resolution is not missed.
    assert (result.rows_read, result.rows_written, result.watermark) == (1, 1, at(4))
    assert len(read_rows(table(warehouse).table_uri)) == 4


def test_an_append_sync_without_changes_commits_nothing(warehouse):
    events = MemorySchema(name="events", default_sync_mode=SyncMode.APPEND)
    events.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 5)]
    source = MemorySource(events)
    sync(source, "events", warehouse)
    version = table(warehouse, "events").version()

    result = sync(source, "events", warehouse)

    assert (result.rows_read, result.rows_written, result.commits) == (1, 0, ())
    assert table(warehouse, "events").version() == version


def test_an_interleaved_schema_moves_its_watermark_only_at_completion(warehouse):
    import attrs

    class Interleaved(MemorySource):
        def source_for_pipeline(self, config, inputs, runtime):
            response = super().source_for_pipeline(config, inputs, runtime)
            return attrs.evolve(response, interleaved=True)

    items = MemorySchema(name="items", page_size=2, after_page=fail_after(1))
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 8)]
    source = Interleaved(items)

    with pytest.raises(Boom):
        sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))
    items.after_page = None
    done = sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))

    assert source.inputs[1].db_incremental_field_last_value is None  # read again from the start
    assert source.inputs[1].db_incremental_field_earliest_value is None
    assert done.watermark == at(7)
    assert [r["id"] for r in read_rows(table(warehouse).table_uri)] == list(range(1, 8))


@pytest.mark.parametrize(
    "failure",
    [
        OSError(30, "Read-only file system"),
        OSError(28, "No space left on device"),
    ],
    ids=["read-only", "full"],
)
def test_a_storage_failure_while_writing_is_a_warehouse_error_and_keeps_the_table(
    warehouse, monkeypatch, failure
):
    import deltalake

    from headwater.errors import WarehouseError

    items = MemorySchema(name="items", page_size=2)
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 7)]
    source = MemorySource(items)
    sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))
    before = read_rows(table(warehouse).table_uri)
    items.put(id=7, updated_at=at(7))

    def failing(*args, **kwargs):
        raise failure

    monkeypatch.setattr(deltalake.DeltaTable, "merge", failing)
    with pytest.raises(WarehouseError) as raised:
        sync(source, "items", warehouse, limits=BatchLimits(max_rows=2))

    assert failure.strerror in str(raised.value)
    assert "Nothing was committed by this step" in str(raised.value)
    assert raised.value.path == f"{warehouse}/mem/items"
    monkeypatch.undo()
    assert read_rows(table(warehouse).table_uri) == before  # the last commit, whole


def test_a_full_refresh_partitions_a_table_that_was_not(warehouse):
    items = MemorySchema(name="items")
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 4)]
    sync(MemorySource(items), "items", warehouse)

    upgraded = MemorySource(MemorySchema(name="items", rows=items.rows, partition=MONTHLY))
    with pytest.raises(LayoutChangedError):
        sync(upgraded, "items", warehouse)
    sync(upgraded, "items", warehouse, full_refresh=True)

    assert table(warehouse).metadata().partition_columns == ["_headwater_partition"]
    assert [row["id"] for row in read_rows(table(warehouse).table_uri)] == [1, 2, 3]
