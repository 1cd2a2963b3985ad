"""Writing a Delta table: MERGE, append, replace, and commits that carry only state.

Every method commits data together with a state document (see
:mod:`headwater.warehouse.state_log`) and refuses to commit unless the document's sequence
directly follows the table's, so a second writer can never slip a commit in between.

- :meth:`TableWriter.merge` upserts a batch on its primary keys (``incremental`` schemas). A
  partitioned table also matches on the partition column, which lets Delta skip the files of
  other buckets; that is sound because a row's partition key never changes. Files whose key
  statistics cannot match the batch are skipped too, so memory stays bounded by the batch.
- :meth:`TableWriter.append` adds a batch (``append`` schemas).
- :meth:`TableWriter.replace` swaps the whole table for a stream of batches in one commit
  (full refresh), possibly with a new schema or partitioning.
- :meth:`TableWriter.rewrite` widens column types (``int64`` to ``float64``) by rewriting the
  table in one commit, streamed; Delta cannot change a column's type in place.
- :meth:`TableWriter.commit_state` commits state alone and mirrors it in the table
  properties, at the end of every sync.

New columns are added by Delta's schema merge as batches bring them.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from headwater.errors import TableLockedError
from headwater.warehouse.conform import conform
from headwater.warehouse.location import storage_failures, unreadable_table
from headwater.warehouse.partitioning import PARTITION_COLUMN
from headwater.warehouse.state_log import (
    STATE_KEY,
    check_sequence,
    commit_properties,
    read_state_document,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

    from headwater.warehouse.location import TableLocation

__all__ = ["TableWriter", "merge_predicate"]

# The table properties a table Headwater creates starts with. A sync commits once per batch,
# so its tables gather commits quickly (200 for 2,000,000 rows). A checkpoint every 10 commits
# (Spark's default; delta-rs writes one every 100) keeps the log that readers and writers
# replay short, and with it the memory a writer holds between commits: at 200 commits, about
# 20 MB less. Tables created before keep theirs.
_CREATED_WITH: Mapping[str, str] = types.MappingProxyType({"delta.checkpointInterval": "10"})


_REOPEN_EVERY = 10  # commits; the checkpoint interval of the tables Headwater creates


def _quote(name: str) -> str:
    # Delta's SQL parser folds unquoted names to lower case; quoting keeps ``createdAt``.
    return '"' + name.replace('"', '""') + '"'


def merge_predicate(keys: Sequence[str], *, partitioned: bool) -> str:
    """The MERGE condition: every key equal, and the partition bucket when there is one.

    .. versionadded:: 0.1
    """
    columns = [*keys, PARTITION_COLUMN] if partitioned else list(keys)
    return " AND ".join(f"target.{_quote(c)} = source.{_quote(c)}" for c in columns)


@contextlib.contextmanager
def _fenced(uri: str) -> Iterator[None]:
    """Every write: Delta's refusal of a conflicting commit becomes the error a second writer
    gets, and a storage failure (a read-only or full disk, a path that is a file, an object
    store that is unreachable or refuses the credentials) a
    :class:`~headwater.errors.WarehouseError`, not Delta's own text."""
    from deltalake.exceptions import CommitFailedError

    try:
        with storage_failures(uri, "write"):
            yield
    except CommitFailedError as error:
        raise TableLockedError(
            f"another writer committed to {uri} while this sync ran ({error}); nothing was"
            " committed by this step: run the sync again"
        ) from error


class TableWriter:
    """The writer of one table; opened once per sync, holding the table's latest snapshot.

    .. versionadded:: 0.1
    """

    def __init__(self, location: TableLocation) -> None:
        from deltalake import DeltaTable
        from deltalake.exceptions import DeltaError

        self.location = location
        self._table: DeltaTable | None = None
        try:
            if DeltaTable.is_deltatable(location.uri, location.options()):
                self._table = DeltaTable(location.uri, storage_options=location.options())
        except (DeltaError, OSError) as error:
            # A damaged Delta log, an unreachable store. Not chained: the store client's
            # text may quote a signed URL.
            raise unreadable_table(error, "the table", location.uri) from None

    # --- reading -----------------------------------------------------------------------------

    @property
    def table(self) -> DeltaTable | None:
        """The table as of the last commit, ``None`` until it exists."""
        return self._table

    @property
    def version(self) -> int | None:
        return None if self._table is None else self._table.version()

    def arrow_schema(self) -> pa.Schema | None:
        """The table's schema as Arrow types (with Headwater's field metadata)."""
        import pyarrow as pa

        if self._table is None:
            return None
        return pa.schema(self._table.schema().to_arrow())

    def partition_columns(self) -> list[str]:
        return [] if self._table is None else list(self._table.metadata().partition_columns)

    def row_count(self) -> int:
        return 0 if self._table is None else int(self._table.count())

    def read_state(self) -> dict[str, Any] | None:
        """The table's latest state document (see :func:`read_state_document`)."""
        return None if self._table is None else read_state_document(self._table)

    # --- writing -----------------------------------------------------------------------------

    def append(
        self, batch: pa.RecordBatch, *, partitioned: bool, document: Mapping[str, Any]
    ) -> int:
        """Append ``batch``; create the table on the first write."""
        from deltalake import write_deltalake

        check_sequence(self._table, document)
        if self._table is None:
            self._create(batch, partitioned=partitioned, document=document)
            return self._committed()
        with _fenced(self.location.uri):
            write_deltalake(
                self._table,
                batch,
                mode="append",
                schema_mode="merge",
                commit_properties=commit_properties(document),
            )
        return self._committed()

    def merge(
        self,
        batch: pa.RecordBatch,
        *,
        keys: Sequence[str],
        partitioned: bool,
        document: Mapping[str, Any],
    ) -> int:
        """Upsert ``batch`` (already deduplicated on ``keys``); create the table if needed."""
        check_sequence(self._table, document)
        if self._table is None:
            self._create(batch, partitioned=partitioned, document=document)
            return self._committed()
        with _fenced(self.location.uri):
            (
                self._table.merge(
                    batch,
                    predicate=merge_predicate(keys, partitioned=partitioned),
                    source_alias="source",
                    target_alias="target",
                    merge_schema=True,
                    # The batch is small and in memory. Executed whole, MERGE derives a
                    # pruning predicate from the source's key ranges and reads only target
                    # files that may hold them; streamed (delta-rs's default) it cannot, and
                    # scans the whole table each batch, its memory growing with the table.
                    streamed_exec=False,
                    commit_properties=commit_properties(document),
                )
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
        return self._committed()

    def replace(
        self, reader: pa.RecordBatchReader, *, partitioned: bool, document: Mapping[str, Any]
    ) -> int:
        """Replace the table's rows, schema and partitioning with ``reader`` in one commit."""
        from deltalake import write_deltalake

        check_sequence(self._table, document)
        with _fenced(self.location.uri):
            write_deltalake(
                self._table if self._table is not None else self.location.uri,
                reader,
                mode="overwrite",
                schema_mode="overwrite",
                # An empty list, not None: None keeps the table's partition columns, and a
                # table that stops being partitioned would fail to be replaced.
                partition_by=[PARTITION_COLUMN] if partitioned else [],
                storage_options=self.location.options() if self._table is None else None,
                configuration=dict(_CREATED_WITH) if self._table is None else None,
                commit_properties=commit_properties(document),
            )
        return self._committed()

    def rewrite(self, schema: pa.Schema, *, document: Mapping[str, Any]) -> int:
        """Rewrite every row to ``schema`` (wider types, new columns) in one commit."""
        import pyarrow as pa

        assert self._table is not None, "only an existing table is rewritten"
        dataset = self._table.to_pyarrow_dataset()
        batches = (conform(batch, schema) for batch in dataset.to_batches())
        reader = pa.RecordBatchReader.from_batches(schema, batches)
        return self.replace(
            reader, partitioned=PARTITION_COLUMN in self.partition_columns(), document=document
        )

    def commit_state(self, document: Mapping[str, Any]) -> int:
        """Commit ``document`` without data, and mirror it in the table properties."""
        check_sequence(self._table, document)
        assert self._table is not None, "state is committed to an existing table"
        with _fenced(self.location.uri):
            self._table.alter.set_table_properties(
                {STATE_KEY: orjson.dumps(document).decode()},
                raise_if_not_exists=False,
                commit_properties=commit_properties(document),
            )
        return self._committed()

    def _create(
        self, batch: pa.RecordBatch, *, partitioned: bool, document: Mapping[str, Any]
    ) -> None:
        from deltalake import write_deltalake

        with _fenced(self.location.uri):
            write_deltalake(
                self.location.uri,
                batch,
                mode="append",
                partition_by=[PARTITION_COLUMN] if partitioned else None,
                storage_options=self.location.options(),
                configuration=dict(_CREATED_WITH),
                commit_properties=commit_properties(document),
            )

    def _committed(self) -> int:
        from deltalake import DeltaTable

        # Load the log up to its latest commit rather than trust in-place updates: the next
        # commit's fence must see this one. Incrementally (the new entries alone: 1-2 ms),
        # except after every tenth commit, where the table is opened again from its new
        # checkpoint: that replays the whole log (60 ms at 2,000 files), but an incrementally
        # updated snapshot keeps growing with every commit (7 MiB more at 1,000,000 rows).
        if self._table is None:
            self._table = DeltaTable(self.location.uri, storage_options=self.location.options())
        else:
            self._table.update_incremental()
            if self._table.version() % _REOPEN_EVERY == 0:
                self._table = DeltaTable(self.location.uri, storage_options=self.location.options())
        return self._table.version()
