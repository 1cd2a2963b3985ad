"""ReadAhead: a source's items read in a thread, in order, a bounded number of rows ahead."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from deltalake import DeltaTable
from memory_source import MemorySchema, MemorySource, at, config, runtime

from headwater import ResumePoint
from headwater.sync import BatchLimits, sync_schema
from headwater.sync.readahead import ReadAhead
from headwater.warehouse.writer import TableWriter

WAIT = 10  # seconds; only reached when the behaviour under test is missing


class Source:
    """Pages of ``size`` rows; records which thread read them and when it was closed."""

    def __init__(self, pages: int, size: int = 1, fail_at: int | None = None) -> None:
        self.pages, self.size, self.fail_at = pages, size, fail_at
        self.read = 0
        self.threads: set[str] = set()
        self.closed_in: str | None = None
        self.progress = threading.Condition()

    def __iter__(self) -> Iterator[Any]:
        try:
            for page in range(self.pages):
                if page == self.fail_at:
                    raise RuntimeError(f"page {page} failed")
                self.threads.add(threading.current_thread().name)
                with self.progress:
                    self.read += 1
                    self.progress.notify_all()
                yield [{"page": page, "row": row} for row in range(self.size)]
        finally:
            self.closed_in = threading.current_thread().name

    def wait_for(self, pages: int) -> bool:
        with self.progress:
            return self.progress.wait_for(lambda: self.read >= pages, timeout=WAIT)


def test_items_come_in_order_from_a_thread_of_their_own() -> None:
    source = Source(pages=50, size=3)
    with ReadAhead(iter(source), max_rows=10, name="items") as ahead:
        pages = list(ahead)
    assert [page[0]["page"] for page in pages] == list(range(50))
    assert source.threads == {"headwater-read-items"}
    assert source.closed_in == "headwater-read-items"


def test_mixed_items_and_resume_points_keep_their_order() -> None:
    items = [[{"a": 1}], ResumePoint({"cursor": "x"}), {"a": 2}, [], ResumePoint({"cursor": "y"})]
    with ReadAhead(items, max_rows=1) as ahead:
        assert list(ahead) == items


def test_the_reader_stays_within_max_rows_of_what_was_taken() -> None:
    source = Source(pages=100, size=2)
    with ReadAhead(iter(source), max_rows=6) as ahead:
        taken = [next(ahead) for _ in range(5)]
        assert source.wait_for(5 + 3)
        time.sleep(0.2)  # room to run past the bound, if it did not hold
        # Three pages (six rows) wait in the buffer, a fourth is in the reader's hand.
        assert source.read <= 5 + 4
        assert len(taken) == 5


def test_a_page_larger_than_max_rows_still_passes() -> None:
    with ReadAhead(iter(Source(pages=3, size=50)), max_rows=10) as ahead:
        assert [len(page) for page in ahead] == [50, 50, 50]


def test_a_source_error_arrives_after_the_items_before_it() -> None:
    source = Source(pages=10, fail_at=4)
    got = []
    with ReadAhead(iter(source), max_rows=100) as ahead:
        got.extend(next(ahead)[0]["page"] for _ in range(4))
        with pytest.raises(RuntimeError, match="page 4 failed"):
            next(ahead)
    assert got == [0, 1, 2, 3]
    assert source.closed_in == "headwater-read-source"


def test_leaving_early_stops_the_reader_and_closes_the_source_in_its_thread() -> None:
    source = Source(pages=1_000)
    ahead = ReadAhead(iter(source), max_rows=5)
    with ahead:
        next(ahead)
    ahead._thread.join(WAIT)  # type: ignore[union-attr]
    assert not ahead._thread.is_alive()  # type: ignore[union-attr]
    assert source.closed_in == "headwater-read-source"
    assert source.read < 10


def test_a_failing_close_is_reported() -> None:
    def items() -> Iterator[Any]:
        try:
            yield [{"a": 1}]
        finally:
            raise OSError("could not close the connection")

    with ReadAhead(items(), max_rows=5) as ahead, pytest.raises(OSError, match="could not"):
        list(ahead)


def test_max_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ReadAhead([], max_rows=0)


def test_a_sync_reads_the_next_batch_while_the_last_one_is_written(tmp_path, monkeypatch) -> None:
    """The first commit waits until the source has read past the batch it holds: without
    reading ahead, the source would wait for that commit, and the wait would time out."""
    items = MemorySchema(name="items", page_size=1)
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 11)]
    read = threading.Semaphore(0)
    items.after_page = lambda number: read.release()
    overlapped = []
    original = TableWriter.merge

    def merge(self, batch, **kwargs):
        if not overlapped:
            # Batch one holds pages 1-2; the source reading page 4 means it ran ahead.
            for _ in range(4):
                overlapped.append(read.acquire(timeout=WAIT))
        return original(self, batch, **kwargs)

    monkeypatch.setattr(TableWriter, "merge", merge)
    warehouse = str(tmp_path / "warehouse")
    result = sync_schema(
        MemorySource(items), config(), "items", warehouse, runtime(), limits=BatchLimits(max_rows=2)
    )

    assert overlapped == [True] * 4
    assert result.rows_written == 10
    assert DeltaTable(f"{warehouse}/mem/items").to_pyarrow_table().num_rows == 10
