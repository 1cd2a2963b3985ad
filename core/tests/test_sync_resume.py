"""Resumable reads: a read interrupted mid-way continues after its last commit.

A source that yields resume points has each batch committed with the point that covers it;
the next sync hands that state back (with the bounds the interrupted read had) and the read
continues there instead of at the watermark. A full refresh stages its batches next to the
table, so readers see the old table until the new one is complete, and a killed full refresh
continues too. A resume state the API refuses falls back to the watermark.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from memory_source import Events, MemorySchema, MemorySource, at, config, read_rows, runtime

from headwater import SyncMode
from headwater.config import SchemaChoice
from headwater.sync import BatchLimits, sync_schema
from headwater.warehouse import STAGING_PATH, StagedTable, TableLocation, summarize_table

LIMITS = BatchLimits(max_rows=3)  # a batch, and so a commit, per page of 3


class Interrupted(Exception):
    """Stands for the process dying mid-read (SIGKILL is tested in test_sync_crash.py)."""


def rows(count: int, generation: int = 0) -> list[dict]:
    return [
        {"id": n, "updated_at": at(n + 100 * generation), "value": f"g{generation}-{n}"}
        for n in range(1, count + 1)
    ]


def interrupt_at(page: int):
    def hook(number: int) -> None:
        if number == page:
            raise Interrupted

    return hook


def sync(source: MemorySource, warehouse: Path, *, progress=None, **kwargs):
    return sync_schema(
        source,
        config(),
        "items",
        str(warehouse),
        runtime(progress=progress),
        limits=LIMITS,
        **kwargs,
    )


def make(mode: str, count: int = 30) -> MemorySchema:
    schema = MemorySchema(name="items", rows=rows(count), resumable=True, page_size=3)
    if mode == "desc":
        schema.sort_mode = "desc"
    elif mode == "append":
        schema.default_sync_mode = SyncMode.APPEND
    elif mode == "full_refresh":
        schema.default_sync_mode = SyncMode.FULL_REFRESH
    return schema


@pytest.mark.parametrize("mode", ["asc", "desc", "append", "full_refresh"])
def test_an_interrupted_read_continues_after_its_last_commit(mode, tmp_path):
    schema = make(mode)
    source = MemorySource(schema)
    # Pages 0-4 are read and committed (page 4's batch commits at its resume point), then
    # the read dies before page 5.
    schema.after_page = interrupt_at(4)

    with pytest.raises(Interrupted):
        sync(source, tmp_path)
    first_run = list(schema.pages_read)
    schema.pages_read.clear()
    schema.after_page = None
    result = sync(source, tmp_path)

    assert first_run == [0, 1, 2, 3, 4]
    resumed = source.inputs[-1]
    assert resumed.resume_state is not None
    # The resumed read asks only for the pages after the last committed one: 10 in all.
    assert len(schema.pages_read) == 10 - 5
    assert read_rows(result.table_uri) == sorted(rows(30), key=lambda r: r["id"])
    assert result.state is not None
    assert result.state.complete
    assert result.state.resume is None


def test_a_resumed_read_gets_the_bounds_its_interrupted_read_had(tmp_path):
    schema = make("asc")
    source = MemorySource(schema)
    sync(source, tmp_path)
    schema.rows = (
        rows(30)
        + rows(12, generation=1)[:0]
        + [{"id": n, "updated_at": at(200 + n), "value": "new"} for n in range(31, 46)]
    )
    schema.after_page = interrupt_at(2)
    with pytest.raises(Interrupted):
        sync(source, tmp_path)
    schema.after_page = None
    result = sync(source, tmp_path)

    interrupted, resumed = source.inputs[-2], source.inputs[-1]
    # The watermark moved with every commit of the interrupted read, but the cursor belongs
    # to the read that started at the old one.
    assert resumed.db_incremental_field_last_value == interrupted.db_incremental_field_last_value
    assert resumed.resume_state is not None
    assert [row["id"] for row in read_rows(result.table_uri)] == list(range(1, 46))


def test_an_expired_resume_state_falls_back_to_the_watermark(tmp_path):
    schema = make("append")
    source = MemorySource(schema)
    schema.after_page = interrupt_at(4)
    with pytest.raises(Interrupted):
        sync(source, tmp_path)
    schema.after_page = None
    schema.expired = True
    events = Events()

    result = sync(source, tmp_path, progress=events)

    messages = [e.detail for e in events.events if e.detail and "refused" in e.detail]
    assert len(messages) == 1
    assert "from the last committed watermark" in messages[0]
    fallback = source.inputs[-1]
    assert fallback.resume_state is None
    assert fallback.db_incremental_field_last_value == at(15)  # the last committed row's
    # Append mode: the rows at the watermark that are read again are not written twice.
    assert read_rows(result.table_uri) == sorted(rows(30), key=lambda r: r["id"])


def test_a_full_refresh_is_staged_readers_see_the_old_table_until_it_completes(tmp_path):
    schema = make("full_refresh", count=9)
    source = MemorySource(schema)
    result = sync(source, tmp_path)
    old = read_rows(result.table_uri)
    schema.rows = rows(30, generation=1)
    schema.after_page = interrupt_at(4)

    with pytest.raises(Interrupted):
        sync(source, tmp_path)

    # Readers still see the old table, whole; the new rows wait in the staged table.
    assert read_rows(result.table_uri) == old
    location = TableLocation(uri=result.table_uri)
    staged = StagedTable(location)
    assert staged.exists
    assert staged.rows == 15
    summary = summarize_table("mem", "items", location)
    assert summary.staged_rows == 15
    assert summary.resumes_mid_read

    schema.after_page = None
    schema.pages_read.clear()
    final = sync(source, tmp_path)

    assert len(schema.pages_read) == 10 - 5
    assert read_rows(final.table_uri) == sorted(rows(30, generation=1), key=lambda r: r["id"])
    assert not (Path(final.table_uri) / STAGING_PATH).exists()


def test_a_staged_read_of_another_mode_is_discarded_not_resumed(tmp_path):
    schema = make("full_refresh")
    source = MemorySource(schema)
    schema.after_page = interrupt_at(4)
    with pytest.raises(Interrupted):
        sync(source, tmp_path)
    schema.after_page = None
    choice = SchemaChoice(sync_mode="incremental")

    result = sync_schema(
        source,
        config(items=choice),
        "items",
        str(tmp_path),
        runtime(),
        full_refresh=True,
        limits=LIMITS,
    )

    assert source.inputs[-1].resume_state is None  # another mode: read from the start
    assert read_rows(result.table_uri) == sorted(rows(30), key=lambda r: r["id"])
    assert not (Path(result.table_uri) / STAGING_PATH).exists()


@pytest.mark.parametrize("mode", ["full_refresh", "append"])
def test_a_read_killed_after_its_last_batch_finishes_without_reading_again(
    mode, tmp_path, monkeypatch
):
    # The last batch is committed (staged, for a full refresh), then the process dies before
    # the commit that ends the sync: the swap, or the state that marks the read complete.
    from headwater.warehouse import TableWriter

    schema = make(mode)
    schema.rows = [{**row, "updated_at": at(1)} for row in schema.rows]  # one value: no filter
    source = MemorySource(schema)
    ending = "replace" if mode == "full_refresh" else "commit_state"
    real = getattr(TableWriter, ending)
    calls = []

    def dies_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Interrupted
        return real(self, *args, **kwargs)

    monkeypatch.setattr(TableWriter, ending, dies_once)
    with pytest.raises(Interrupted):
        sync(source, tmp_path)
    schema.pages_read.clear()

    result = sync(source, tmp_path)

    assert schema.pages_read == []  # every row was committed: nothing to read again
    ids = [row["id"] for row in read_rows(result.table_uri)]
    assert ids == list(range(1, 31))  # the last page is not there twice
    assert result.state.complete
