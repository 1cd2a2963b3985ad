"""The sync callable: one schema of one connection, from the source into its Delta table.

:func:`sync_schema` is a plain function of its arguments with no process-global state, so
the CLI, the demo and (later) a Temporal activity call it unchanged. One call:

1. decides the mode (:mod:`headwater.sync.plan`) and takes the table's writer lock;
2. reads the previous state back from the table's commits and hands the source its
   ``SourceInputs`` (watermark, earliest value, start date);
3. checks that the primary keys, incremental field and partitioning are the ones the table
   was written with;
4. batches the rows (:mod:`headwater.sync.batching`), checks and de-duplicates their primary
   keys (:mod:`headwater.sync.keys`), and writes each batch with the state it leads to, in one
   commit (MERGE or append), or stages them for one replacing commit;
5. commits the final state, mirrored in the table properties, and returns a
   :class:`~headwater.sync.result.SyncResult`.

**Exactly once across a crash.** Data and state only ever change together, in one Delta
commit. A sync killed before a commit leaves the table at the previous commit (files written
for the lost commit are unreferenced, and ``VACUUM`` removes them); killed after it, the
table holds the batch and the state that covers it. The next sync reads that state and asks
the source for what follows; MERGE absorbs re-read rows and append drops them.

.. versionadded:: 0.1
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from headwater.errors import (
    LayoutChangedError,
    ResumeExpiredError,
    StateError,
    SyncError,
)
from headwater.runtime import ProgressEvent, ProgressKind
from headwater.sources.pipeline import SortMode, SourceInputs
from headwater.sources.schema import IncrementalField, SyncMode
from headwater.sync.batching import BatchLimits, RowBatcher
from headwater.sync.columns import column_type_of, sanitize_name
from headwater.sync.evolution import TableShape
from headwater.sync.keys import check_primary_keys, deduplicate, row_keys
from headwater.sync.plan import SyncPlan, WriteStrategy, plan_sync
from headwater.sync.readahead import ReadAhead
from headwater.sync.result import SyncResult
from headwater.sync.state import Layout, SchemaState
from headwater.sync.watermark import (
    Advance,
    ColumnValues,
    Position,
    Watermarks,
    column_values,
    comparable,
    decode_value,
    encode_value,
)
from headwater.warehouse.conform import conform
from headwater.warehouse.location import table_location
from headwater.warehouse.lock import lock_table
from headwater.warehouse.partitioning import PARTITION_COLUMN, PartitionScheme, partition_column
from headwater.warehouse.staging import StagedTable
from headwater.warehouse.state_log import mirrored_sequence
from headwater.warehouse.writer import TableWriter

if TYPE_CHECKING:
    import pyarrow as pa

    from headwater.config.user import UserConfig
    from headwater.discovery import Connector
    from headwater.runtime import Runtime
    from headwater.sources.base import Source
    from headwater.sources.pipeline import SourceResponse
    from headwater.sources.schema import SourceSchema
    from headwater.warehouse.location import TableLocation
    from headwater.warehouse.lock import TableLock

__all__ = ["RESUME_SAVED", "open_source", "sync_schema"]

RESUME_SAVED = " (resume point saved)"
"""Ends the progress message of a commit whose state lets an interrupted read continue.

.. versionadded:: 0.2
"""


class _StaleStaging(Exception):
    """The staged rows were written with another layout than the connector now declares."""


@attrs.frozen(kw_only=True)
class _Resume:
    """An unfinished read to continue: the source's resume token and the bounds it read with.

    The source gets the interrupted read's bounds back (not the watermark it has reached
    since), so a page number or offset means the same rows; ``position`` is where the
    watermark tracking continues from.
    """

    token: Mapping[str, Any]
    last_value: Any
    earliest_value: Any
    position: Position
    layout: Layout
    staged_sequence: int = 0
    staged_rows: int = 0
    done: bool = False

    @classmethod
    def of(cls, state: SchemaState, field: IncrementalField | None) -> _Resume | None:
        document = state.resume
        token = document.get("token") if document else None
        if not isinstance(token, Mapping) or document is None:
            return None
        kind = field.type if field else None
        try:
            last = decode_value(document.get("last_value"), kind) if kind else None
            earliest = decode_value(document.get("earliest_value"), kind) if kind else None
        except (TypeError, ValueError):
            return None
        return cls(
            token=dict(token),
            last_value=last,
            earliest_value=earliest,
            position=state.position,
            layout=state.layout,
            staged_sequence=state.sequence,
            done=bool(document.get("done")),
        )


def open_source(connector: Connector | Source[Any]) -> tuple[Source[Any], str]:
    """The source of ``connector`` and a label naming what wrote the state (with versions).

    .. versionadded:: 0.1
    """
    from headwater import __version__
    from headwater.discovery import Connector

    if isinstance(connector, Connector):
        source = connector.load_source()
        if connector.distribution is None:
            origin = f"{connector.source_type} (built in)"
        else:
            origin = f"{connector.source_type} ({connector.distribution} {connector.version})"
    else:
        source = connector
        origin = source.source_type
    return source, f"headwater {__version__}; {origin}"


def _find_schema(
    source: Source[Any], config: UserConfig, name: str, runtime: Runtime
) -> SourceSchema:
    schemas = list(source.get_schemas(config.source, runtime))
    for schema in schemas:
        if schema.name == name:
            return schema
    offered = ", ".join(s.name for s in schemas) or "none"
    raise SyncError(
        f"connector {source.source_type!r} has no schema {name!r} for this config"
        f" (it offers: {offered})"
    )


def sync_schema(
    connector: Connector | Source[Any],
    config: UserConfig,
    schema: str,
    warehouse_uri: str,
    runtime: Runtime,
    *,
    full_refresh: bool = False,
    source_schema: SourceSchema | None = None,
    limits: BatchLimits | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> SyncResult:
    """Sync one schema into ``<warehouse_uri>/<connection>/<schema>``.

    ``connector`` is a discovered connector (or a source instance); ``config`` the loaded
    config file, whose ``connection`` names the folder (default: the source type).
    ``full_refresh`` ignores the previous state and replaces the table in one commit.
    ``source_schema`` saves a ``get_schemas`` call when the caller has the schema already.
    ``storage_options`` reach the object-store client (credentials otherwise come from the
    environment).

    :raises SyncError: (and its subclasses) for rows that cannot be stored, a lost or newer
        state, a changed layout, or a table another sync is writing. The table then holds
        its last commit, with consistent data and state.
    :raises SourceError: when the source fails; committed batches stay.

    .. versionadded:: 0.1
    """
    started = runtime.clock.monotonic()
    source, written_by = open_source(connector)
    info = source_schema or _find_schema(source, config, schema, runtime)
    plan = plan_sync(info, config.schemas.get(schema), rewrite=full_refresh)
    try:
        location = table_location(
            warehouse_uri,
            config.connection or source.source_type,
            schema,
            storage_options=storage_options,
        )
    except ValueError as error:
        raise SyncError(str(error)) from None
    purpose = f"headwater sync {source.source_type} {schema}"
    with lock_table(location, clock=runtime.clock, purpose=purpose) as lock:
        run = _SchemaSync(
            source=source,
            written_by=written_by,
            config=config,
            plan=plan,
            location=location,
            runtime=runtime,
            lock=lock,
            limits=limits or BatchLimits(),
        )
        run.execute()
    return SyncResult(
        schema=schema,
        table_uri=location.uri,
        sync_mode=run.plan.sync_mode,
        rewrote=run.plan.rewrite,
        rows_read=run.rows_read,
        rows_written=run.rows_written,
        commits=tuple(run.commits),
        duration=runtime.clock.monotonic() - started,
        state=run.final_state,
    )


class _SchemaSync:
    """The working state of one :func:`sync_schema` call."""

    def __init__(
        self,
        *,
        source: Source[Any],
        written_by: str,
        config: UserConfig,
        plan: SyncPlan,
        location: TableLocation,
        runtime: Runtime,
        lock: TableLock,
        limits: BatchLimits,
    ) -> None:
        self.source = source
        self.written_by = written_by
        self.config = config
        self.plan = plan
        self.location = location
        self.runtime = runtime
        self.lock = lock
        self.limits = limits
        self.schema = plan.schema
        self.run_id = uuid.uuid4().hex
        self.writer = TableWriter(location)
        self.rows_read = 0
        self.rows_written = 0
        self.commits: list[int] = []
        self.final_state: SchemaState | None = None
        # The position of this run's last commit, and the bounds its source read with.
        self._position: Position | None = None
        self._bounds: dict[str, Any] = {}
        document = self.writer.read_state()
        self.previous = (
            SchemaState.from_document(document, where=f"table {location.uri}")
            if document is not None
            else None
        )
        self.sequence = self.previous.sequence if self.previous is not None else 0
        if self.previous is not None and self.previous.reset:
            self.plan = attrs.evolve(self.plan, rewrite=True)
        if self.previous is None and self.writer.table is not None:
            if self.writer.row_count() and self.plan.strategy is not WriteStrategy.REPLACE:
                raise StateError(
                    f"table {location.uri} holds rows but no Headwater sync state (another"
                    " tool wrote it, or its state was removed); run the sync with"
                    " --full-refresh to replace it"
                )
            # An empty table without state: its first commit replaces it, layout and all.
            self.plan = attrs.evolve(self.plan, rewrite=True)
        self.layout = Layout()

    # --- the steps ---------------------------------------------------------------------------

    def execute(self) -> None:
        base = None if self.plan.rewrite else self.previous
        start = base.position if base is not None and self.plan.tracks_watermark else Position()
        staged = StagedTable(self.location) if self.plan.strategy is WriteStrategy.REPLACE else None
        resume = self._resumable(base, staged)
        if staged is not None and resume is None and staged.exists:
            staged.discard()  # another read's rows, or one that cannot continue
        while True:
            try:
                self._run(base, resume.position if resume else start, resume, staged)
                return
            except ResumeExpiredError as error:
                if resume is None:
                    raise
                self._resume_refused(error)
            except _StaleStaging:
                assert resume is not None
            # Read again from the last committed position, as a sync without resume state.
            resume = None
            start = self._position if self._position is not None else start
            if staged is not None:
                staged.discard()
                start = (
                    base.position if base is not None and self.plan.tracks_watermark else Position()
                )

    def _resumable(self, base: SchemaState | None, staged: StagedTable | None) -> _Resume | None:
        """The unfinished read this sync continues, if any (see :class:`_Resume`)."""
        field = self.plan.incremental_field
        if staged is not None:
            document = staged.read_state() if staged.exists else None
            if document is None:
                return None
            try:
                state = SchemaState.from_document(document, where="the staged read")
            except StateError:
                return None
            resume = _Resume.of(state, field)
            if (
                resume is None
                or state.schema != self.schema
                or state.sync_mode is not self.plan.sync_mode
                or state.resume is None
                or state.resume.get("base") != self.sequence
            ):
                return None
            return attrs.evolve(resume, staged_rows=staged.rows)
        if base is None or base.complete or base.sync_mode is not self.plan.sync_mode:
            return None
        return _Resume.of(base, field)

    def _resume_refused(self, error: ResumeExpiredError) -> None:
        message = (
            f"the API refused the saved position of the interrupted read ({error}); reading"
            " again from the last committed watermark"
        )
        self.runtime.logger.warning("%s: %s", self.schema, message)
        self.runtime.progress.emit(
            ProgressEvent(kind=ProgressKind.NOTICE, schema=self.schema, detail=message)
        )

    def _run(
        self,
        base: SchemaState | None,
        start: Position,
        resume: _Resume | None,
        staged: StagedTable | None,
    ) -> None:
        field = self.plan.incremental_field
        last, earliest = (
            (resume.last_value, resume.earliest_value)
            if resume is not None
            else (start.watermark, start.earliest)
        )
        inputs = SourceInputs(
            schema_name=self.schema,
            should_use_incremental_field=field is not None,
            incremental_field=field.field if field else None,
            incremental_field_type=field.type if field else None,
            db_incremental_field_last_value=last,
            db_incremental_field_earliest_value=earliest,
            start_date=self.config.start_date,
            resume_state=resume.token if resume is not None else None,
        )
        kind = field.type if field else None
        self._bounds = {
            "last_value": encode_value(last, kind) if kind else None,
            "earliest_value": encode_value(earliest, kind) if kind else None,
        }
        response = self.source.source_for_pipeline(self.config.source, inputs, self.runtime)
        self.layout = self._layout(response)
        if base is not None and self.plan.strategy is not WriteStrategy.REPLACE:
            self._check_layout(base)
        if self.plan.strategy is WriteStrategy.MERGE and not self.layout.primary_keys:
            raise SyncError(
                f"schema {self.schema!r} syncs incrementally (MERGE on primary keys), but the"
                f' connector declares no primary keys for it; set sync_mode = "append" or'
                f' "full_refresh" under [schemas.{self.schema}] in the config'
            )
        if resume is not None and staged is not None and resume.layout != self.layout:
            raise _StaleStaging
        fresh = self.plan.rewrite
        if resume is not None and staged is not None:
            existing = staged.writer.arrow_schema()
        else:
            existing = None if fresh else self.writer.arrow_schema()
        shape = TableShape.from_arrow(existing, skip=[PARTITION_COLUMN])
        advance = (
            Advance.AT_COMPLETION
            if response.sort_mode is SortMode.DESC or response.interleaved
            else Advance.PER_BATCH
        )
        tracker = Watermarks(
            start=start,
            advance=advance,
            filter_written=self.plan.strategy is WriteStrategy.APPEND,
            track_earliest=response.sort_mode is SortMode.DESC,
        )
        batcher = RowBatcher(
            schema_name=self.schema,
            shape=shape,
            limits=self.limits,
            progress=self.runtime.progress,
            # A resumed read yields resume points: no batch of it may end between two, or
            # its commit would carry no position and the next run would start over.
            aligned=resume is not None,
        )
        if resume is not None:
            self._resumed(resume)
        # A read whose last batch was committed has nothing left: only its end is written.
        items = () if resume is not None and resume.done else response.items()
        # The source reads its next batch while this one is written (see ReadAhead).
        with ReadAhead(items, max_rows=self.limits.max_rows, name=self.schema) as ahead:
            batches = batcher.batches(ahead)
            if staged is not None:
                self._replace(batcher, batches, shape, tracker, staged, resume)
            else:
                self._write_batches(batcher, batches, tracker)
        self._finish(tracker.complete())

    def _resumed(self, resume: _Resume) -> None:
        staged = f", {resume.staged_rows} row(s) staged" if resume.staged_rows else ""
        if resume.done:
            staged += "; every row was committed, nothing is read again"
        self.runtime.progress.emit(
            ProgressEvent(
                kind=ProgressKind.NOTICE,
                schema=self.schema,
                detail=f"continuing an interrupted read from its last commit{staged}",
            )
        )

    def _resume_document(self, batcher: RowBatcher, **extra: Any) -> dict[str, Any] | None:
        """The resume state a batch's commit carries: the source's token and the read's bounds.

        A batch that ends the read says so (``done``): a sync that dies before the commit
        closing the read (the swap of a full refresh, the state marking it complete) then
        finishes it without reading anything again.
        """
        if batcher.finished:
            return {"token": {}, "done": True, **self._bounds, **extra}
        if batcher.resume is None:
            return None
        return {"token": batcher.resume, **self._bounds, **extra}

    def _layout(self, response: SourceResponse) -> Layout:
        field = self.plan.incremental_field
        keys = response.primary_keys
        partition = PartitionScheme.from_response(response)
        if partition is not None:
            partition = attrs.evolve(partition, keys=[sanitize_name(k) for k in partition.keys])
        return Layout(
            primary_keys=tuple(sanitize_name(k) for k in keys) if keys else None,
            incremental_field=sanitize_name(field.field) if field else None,
            incremental_field_type=field.type if field else None,
            partition=partition,
        )

    def _check_layout(self, base: SchemaState) -> None:
        has_watermark = base.position.watermark is not None or base.position.unfinished
        changes = self.layout.changes_from(base.layout, has_watermark=has_watermark)
        if not changes:
            return
        written = f" (by {base.written_by})" if base.written_by else ""
        raise LayoutChangedError(
            f"schema {self.schema!r}: the table {self.location.uri} was written{written} with"
            f" another layout than {self.source.source_type!r} now declares: "
            + "; ".join(changes)
            + ". Syncing on would mix both in one table. Rewrite it with a full refresh"
            f" (`headwater sync {self.source.source_type} --schema {self.schema}"
            " --full-refresh`), or go back to the connector version that wrote it"
        )

    # --- MERGE and append: a commit per batch ------------------------------------------------

    def _write_batches(
        self, batcher: RowBatcher, batches: Iterable[pa.RecordBatch], tracker: Watermarks
    ) -> None:
        import pyarrow as pa

        for batch in batches:
            self._read(batch)
            if self.plan.strategy is WriteStrategy.MERGE:
                batch = self._unique_keys(batch)
                values = self._values(batch)
            else:
                values = self._values(batch)
                keep = tracker.admit(values, row_keys(batch, self.layout.primary_keys))
                if not all(keep):
                    batch, values = self._filter(batch, values, keep)
            if batch.num_rows == 0:
                continue
            position = tracker.after(values, row_keys(batch, self.layout.primary_keys))
            batch = self._partitioned(batch)
            self.lock.confirm()
            resume = self._resume_document(batcher)
            self._widen_if_needed(self.writer, batch, self._state(tracker.position, resume=resume))
            document = self._state(position, resume=resume).to_document()
            if self.plan.strategy is WriteStrategy.MERGE:
                assert self.layout.primary_keys
                version = self.writer.merge(
                    batch,
                    keys=self.layout.primary_keys,
                    partitioned=self.layout.partition is not None,
                    document=document,
                )
            else:
                version = self.writer.append(
                    batch, partitioned=self.layout.partition is not None, document=document
                )
            tracker.accept(position)
            self._position = position
            self._committed(version, batch.num_rows, resumable=resume is not None)
            del batch, values
            # Arrow's allocator keeps freed pages for reuse; between commits they would only
            # add to the next batch's peak, so they go back to the system.
            pa.default_memory_pool().release_unused()

    def _widen_if_needed(
        self, writer: TableWriter, batch: pa.RecordBatch, state: SchemaState
    ) -> None:
        """Rewrite ``writer``'s table to the batch's wider column types first, with ``state``."""
        import pyarrow as pa

        table_schema = writer.arrow_schema()
        if table_schema is None:
            return
        names = set(batch.schema.names)
        fields, widened = [], False
        for field in table_schema:
            if field.name in names:
                new = batch.schema.field(field.name)
                old_type, new_type = column_type_of(field), column_type_of(new)
                if old_type is not None and new_type is not None and old_type is not new_type:
                    fields.append(new)
                    widened = True
                    continue
            fields.append(field)
        if widened:
            # Same rows, same state: only the column types change, in one commit.
            version = writer.rewrite(pa.schema(fields), document=state.to_document())
            if writer is self.writer:
                self._committed(version, 0)

    # --- full refresh: one replacing commit --------------------------------------------------

    def _replace(
        self,
        batcher: RowBatcher,
        batches: Iterable[pa.RecordBatch],
        shape: TableShape,
        tracker: Watermarks,
        staged: StagedTable,
        resume: _Resume | None,
    ) -> None:
        import pyarrow as pa

        dedupe = self.plan.sync_mode is SyncMode.INCREMENTAL and bool(self.layout.primary_keys)
        sequence = resume.staged_sequence if resume is not None else 0
        whole: pa.RecordBatch | None = None
        for batch in batches:
            self._read(batch)
            if dedupe:
                batch = self._unique_keys(batch)
            position = tracker.after(self._values(batch), row_keys(batch, self.layout.primary_keys))
            batch = self._partitioned(batch)
            if batcher.finished and resume is None and sequence == 0 and not staged.exists:
                # The first batch ends the read: there is nothing a crash could resume, so
                # it is not staged but goes straight into the replace commit (most tables
                # of a SaaS API are this small; staging them cost two commits).
                tracker.accept(position)
                whole = batch
                continue
            resume_document = self._resume_document(batcher, base=self.sequence)
            self.lock.confirm()
            state = self._state(tracker.position, resume=resume_document, sequence=sequence + 1)
            before = staged.writer.version
            self._widen_if_needed(staged.writer, batch, state)
            if staged.writer.version != before:
                sequence += 1
            document = self._state(
                position, resume=resume_document, sequence=sequence + 1
            ).to_document()
            if dedupe:
                assert self.layout.primary_keys
                staged.upsert(batch, keys=self.layout.primary_keys, document=document)
            else:
                staged.add(batch, document=document)
            sequence += 1
            tracker.accept(position)
            self.runtime.progress.emit(
                ProgressEvent(
                    kind=ProgressKind.MESSAGE,
                    schema=self.schema,
                    count=batch.num_rows,
                    detail=f"staged {batch.num_rows} row(s)"
                    + (RESUME_SAVED if resume_document is not None else ""),
                )
            )
        final = tracker.complete()
        rows = whole.num_rows if whole is not None else staged.rows
        if rows == 0 and self.writer.table is None:
            staged.discard()
            return  # nothing read and nothing to replace: no table yet
        schema = shape.arrow_schema()
        if len(shape) == 0 and self.writer.table is not None:
            schema = self.writer.arrow_schema()
            assert schema is not None
        elif self.layout.partition is not None:
            schema = schema.append(pa.field(PARTITION_COLUMN, pa.string()))
        document = self._state(final, complete=True).to_document()
        self.lock.confirm()
        reader = (
            staged.reader(schema)
            if whole is None
            else pa.RecordBatchReader.from_batches(schema, [conform(whole, schema)])
        )
        version = self.writer.replace(
            reader, partitioned=self.layout.partition is not None, document=document
        )
        self._committed(version, rows)
        self.rows_written = self.writer.row_count()
        # The swap is done; a crash before this leaves a staged table the next sync discards
        # (its base is no longer the table's state).
        staged.discard()

    # --- the end -----------------------------------------------------------------------------

    def _finish(self, position: Position) -> None:
        state = self._state(position, complete=True)
        table = self.writer.table
        if table is None:
            return  # nothing was ever written: there is no table to hold a state
        previous = self.previous
        unchanged = (
            not self.commits
            and previous is not None
            and previous.complete
            and not previous.reset
            and (previous.sync_mode, previous.layout, previous.position)
            == (state.sync_mode, state.layout, state.position)
            and mirrored_sequence(table) == previous.sequence
        )
        if unchanged:
            self.final_state = previous
            return
        self.lock.confirm()
        self._committed(self.writer.commit_state(state.to_document()), 0)
        self.final_state = state

    # --- helpers -----------------------------------------------------------------------------

    def _state(
        self,
        position: Position,
        *,
        complete: bool = False,
        resume: Mapping[str, Any] | None = None,
        sequence: int | None = None,
    ) -> SchemaState:
        return SchemaState(
            sequence=self.sequence + 1 if sequence is None else sequence,
            schema=self.schema,
            sync_mode=self.plan.sync_mode,
            layout=self.layout,
            position=position if self.plan.tracks_watermark else Position(),
            resume=None if complete else resume,
            complete=complete,
            run=self.run_id,
            written_by=self.written_by,
            written_at=self.runtime.clock.now().isoformat(timespec="seconds"),
        )

    def _committed(self, version: int, rows: int, *, resumable: bool = False) -> None:
        self.sequence += 1
        self.commits.append(version)
        self.rows_written += rows
        progress = self.runtime.progress
        if rows:
            progress.emit(
                ProgressEvent(
                    kind=ProgressKind.ROWS, schema=self.schema, count=rows, detail="written"
                )
            )
        progress.emit(
            ProgressEvent(
                kind=ProgressKind.MESSAGE,
                schema=self.schema,
                count=version,
                detail=f"committed version {version}" + (RESUME_SAVED if resumable else ""),
            )
        )

    def _read(self, batch: pa.RecordBatch) -> None:
        self.rows_read += batch.num_rows
        self.runtime.progress.emit(
            ProgressEvent(
                kind=ProgressKind.ROWS, schema=self.schema, count=batch.num_rows, detail="read"
            )
        )

    def _values(self, batch: pa.RecordBatch) -> Sequence[Any]:
        """The incremental field's comparable value in each row (variants included)."""
        field, kind = self.layout.incremental_field, self.layout.incremental_field_type
        if field is None or kind is None:
            return [None] * batch.num_rows
        names = [n for n in batch.schema.names if n == field or n.startswith(f"{field}__")]
        if names == [field]:
            # A timestamp, date or integer column: its extremes are found column-wise.
            fast = column_values(batch.column(field), kind)
            if fast is not None:
                return fast
        columns = [batch.column(name).to_pylist() for name in names]
        values = []
        for row in zip(*columns, strict=True) if columns else [()] * batch.num_rows:
            raw = next((value for value in row if value is not None), None)
            values.append(comparable(raw, kind))
        return values

    def _filter(
        self, batch: pa.RecordBatch, values: Sequence[Any], keep: list[bool]
    ) -> tuple[pa.RecordBatch, Sequence[Any]]:
        import pyarrow as pa

        mask = pa.array(keep, type=pa.bool_())
        if isinstance(values, ColumnValues):
            return batch.filter(mask), values.filter(mask)
        return batch.filter(mask), [v for v, k in zip(values, keep, strict=True) if k]

    def _unique_keys(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        keys = self.layout.primary_keys
        assert keys
        check_primary_keys(batch, keys, schema=self.schema)
        return deduplicate(batch, keys)

    def _partitioned(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        scheme = self.layout.partition
        if scheme is None:
            return batch
        return batch.append_column(PARTITION_COLUMN, partition_column(scheme, batch))
