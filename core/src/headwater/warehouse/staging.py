"""Where a replacing sync keeps its batches until the single commit that replaces the table.

A full refresh must replace the table in one commit, streamed, so readers never see it empty
or half written, and memory stays bounded by one batch. But a stream needs its schema before
its first batch, and a source's columns are only known once every row was read. So the
batches go to Parquet files in a local temporary folder first; the replace commit then streams
them back, each fitted to the final schema. The cost is local disk the size of the table
(compressed), in the system's temporary folder (``TMPDIR``).

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from headwater.warehouse.conform import conform

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Staging"]


class Staging:
    """Batches written to ``directory`` one Parquet file each, read back as one stream.

    .. versionadded:: 0.1
    """

    def __init__(self, directory: str | Path) -> None:
        self._directory = Path(directory)
        self._files: list[Path] = []
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        """Keep ``batch`` on disk."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self._directory / f"batch-{len(self._files):06d}.parquet"
        pq.write_table(pa.Table.from_batches([batch]), path, compression="zstd")
        self._files.append(path)
        self.rows += batch.num_rows

    def reader(self, schema: pa.Schema) -> pa.RecordBatchReader:
        """Every kept batch, in order, fitted to ``schema``; files are read one at a time."""
        import pyarrow as pa

        return pa.RecordBatchReader.from_batches(schema, self._batches(schema))

    def _batches(self, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        for path in self._files:
            for batch in pq.ParquetFile(path).iter_batches():
                yield conform(batch, schema)
