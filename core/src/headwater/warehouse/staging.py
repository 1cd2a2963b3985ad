"""Where a replacing sync keeps its batches until the single commit that replaces the table.

A full refresh must replace the table in one commit, so readers never see it empty or half
written, and memory must stay bounded by one batch. The batches therefore go to a *staged
table* first: a Delta table of its own at ``<table>/_headwater/staging``, one commit per
batch, each commit carrying the staged read's state (where the source continues, the
watermark so far). When the read completes, the replace commit streams the staged rows into
the table, and the staged table is deleted.

Because the staged table survives the process, a full refresh killed mid-read continues
where its last staged commit ends instead of starting over; readers of the table see the old
rows all along. ``_headwater/`` starts with an underscore, so Delta readers and ``VACUUM``
of the table leave the staged table alone, and ``headwater tables`` does not list it.

.. versionadded:: 0.1
.. versionchanged:: 0.2 a Delta table next to the table (was: local Parquet files), so an
   interrupted full refresh resumes.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headwater.warehouse.conform import conform
from headwater.warehouse.location import TableLocation
from headwater.warehouse.writer import TableWriter

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["STAGING_PATH", "StagedTable"]

STAGING_PATH = "_headwater/staging"
"""The staged table of a replacing sync, relative to the table folder."""


class StagedTable:
    """The staged rows of one table's replacing read.

    .. versionadded:: 0.2
    """

    def __init__(self, table: TableLocation) -> None:
        self.location = TableLocation(
            uri=table.child(STAGING_PATH), storage_options=table.storage_options
        )
        self.writer = TableWriter(self.location)

    @property
    def exists(self) -> bool:
        return self.writer.table is not None

    @property
    def rows(self) -> int:
        return self.writer.row_count()

    def read_state(self) -> dict[str, Any] | None:
        """The state document of the last staged commit, ``None`` when nothing is staged."""
        return self.writer.read_state()

    def add(self, batch: pa.RecordBatch, *, document: Mapping[str, Any]) -> int:
        """Stage ``batch`` with the staged read's state after it."""
        return self.writer.append(batch, partitioned=False, document=document)

    def upsert(
        self, batch: pa.RecordBatch, *, keys: tuple[str, ...], document: Mapping[str, Any]
    ) -> int:
        """Stage ``batch``, replacing staged rows with the same keys (a row read twice)."""
        return self.writer.merge(batch, keys=keys, partitioned=False, document=document)

    def reader(self, schema: pa.Schema) -> pa.RecordBatchReader:
        """Every staged row, fitted to ``schema``, a file at a time."""
        import pyarrow as pa

        table = self.writer.table
        # The dataset is opened here, not in the stream: the writer consuming the stream runs
        # deltalake's runtime, which must not be entered again.
        dataset = table.to_pyarrow_dataset() if table is not None else None
        return pa.RecordBatchReader.from_batches(schema, self._batches(dataset, schema))

    def _batches(self, dataset: Any, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        if dataset is None:
            return
        for batch in dataset.to_batches():
            yield conform(batch, schema)

    def discard(self) -> None:
        """Delete the staged table (nothing, if there is none)."""
        if self.location.is_local:
            shutil.rmtree(Path(self.location.uri), ignore_errors=True)
        else:
            from deltalake.fs import DeltaStorageHandler

            with contextlib.suppress(FileNotFoundError):
                DeltaStorageHandler(self.location.uri, self.location.options()).delete_dir("")
        self.writer = TableWriter(self.location)
