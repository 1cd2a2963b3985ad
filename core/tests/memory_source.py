"""An in-memory source for sync tests: rows held in a dict, read the way an API would.

``MemoryApi`` holds each schema's rows; tests add and change rows between syncs. Reads honour
the inclusive lower bound (``db_incremental_field_last_value``) and, for ``desc`` schemas, the
earliest value of an unfinished read, return rows sorted by the incremental field (ties by
key), and come in pages (lists of dicts) unless ``arrow`` pages are asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from headwater import (
    IncrementalField,
    ManualClock,
    ResumePoint,
    Runtime,
    Source,
    SourceConfig,
    SourceResponse,
    SourceSchema,
    SyncMode,
)
from headwater.config import SchemaChoice, UserConfig
from headwater.errors import ResumeExpiredError

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    """A moment ``minutes`` after T0."""
    return T0 + dt.timedelta(minutes=minutes)


@attrs.define(kw_only=True)
class MemorySchema:
    name: str
    rows: list[dict[str, Any]] = attrs.field(factory=list)
    primary_keys: tuple[str, ...] | None = ("id",)
    incremental_field: str | None = "updated_at"
    field_type: str = "datetime"
    sort_mode: str = "asc"
    supports_incremental: bool = True
    supports_append: bool = True
    default_sync_mode: SyncMode | None = None
    page_size: int = 3
    partition: dict[str, Any] = attrs.field(factory=dict)
    honours_bounds: bool = True
    arrow_pages: bool = False
    after_page: Callable[[int], None] | None = None
    resumable: bool = False  # a ResumePoint after each page: a keyset cursor, as APIs give
    expired: bool = False  # refuse every resume state, as an API whose cursors expired
    pages_read: list[int] = attrs.field(factory=list)  # every page served, by number

    def put(self, **row: Any) -> None:
        """Insert a row, or replace the row with the same primary key."""
        if self.primary_keys:
            key = tuple(row.get(k) for k in self.primary_keys)
            self.rows = [r for r in self.rows if tuple(r.get(k) for k in self.primary_keys) != key]
        self.rows.append(row)


class MemorySource(Source[Any]):
    source_type = "memory"

    def __init__(self, *schemas: MemorySchema) -> None:
        self.schemas = {schema.name: schema for schema in schemas}
        self.inputs: list[Any] = []

    def get_source_config(self) -> SourceConfig:
        return SourceConfig(label="Memory")

    def validate_credentials(self, config: Any, runtime: Runtime) -> tuple[bool, str | None]:
        return True, None

    def get_schemas(self, config: Any, runtime: Runtime) -> Sequence[SourceSchema]:
        return [
            SourceSchema(
                name=s.name,
                supports_incremental=s.supports_incremental and bool(s.incremental_field),
                supports_append=s.supports_append and bool(s.incremental_field),
                incremental_fields=[
                    IncrementalField(field=s.incremental_field, label="x", type=s.field_type)
                ]
                if s.incremental_field
                else [],
                default_sync_mode=s.default_sync_mode,
            )
            for s in self.schemas.values()
        ]

    def source_for_pipeline(self, config: Any, inputs: Any, runtime: Runtime) -> SourceResponse:
        self.inputs.append(inputs)
        schema = self.schemas[inputs.schema_name]
        rows = list(schema.rows)
        field = schema.incremental_field
        if field and inputs.should_use_incremental_field and schema.honours_bounds:
            low = inputs.db_incremental_field_last_value
            high = inputs.db_incremental_field_earliest_value
            if low is not None:
                rows = [r for r in rows if r.get(field) is None or r[field] >= low]
            if high is not None:
                rows = [r for r in rows if r.get(field) is None or r[field] <= high]
        keys = schema.primary_keys or ()
        desc = schema.sort_mode == "desc"

        def order(row: dict[str, Any]) -> list[Any]:
            value = row.get(field) if field else None
            return [value is None, "" if value is None else str(value)] + [
                repr(row.get(k)) for k in keys
            ]

        if field:
            rows.sort(key=order, reverse=desc)
        resume = inputs.resume_state

        def items() -> Iterator[Any]:
            remaining = rows
            if resume is not None:
                if schema.expired:
                    raise ResumeExpiredError("the cursor expired", status=410)
                after = resume["after"]
                remaining = [r for r in rows if (order(r) < after if desc else order(r) > after)]
            starts = range(0, len(remaining), schema.page_size)
            for number, start in enumerate(starts):
                schema.pages_read.append(number)
                page = [dict(r) for r in remaining[start : start + schema.page_size]]
                if schema.arrow_pages:
                    import pyarrow as pa

                    yield pa.Table.from_pylist(page)
                else:
                    yield page
                if schema.resumable and number + 1 < len(starts):
                    yield ResumePoint({"after": order(page[-1])})
                if schema.after_page is not None:
                    schema.after_page(number)

        return SourceResponse(
            name=schema.name,
            items=items,
            primary_keys=schema.primary_keys,
            sort_mode=schema.sort_mode,
            **schema.partition,
        )


def config(connection: str = "mem", **choices: SchemaChoice) -> UserConfig:
    return UserConfig(connection=connection, source=object(), schemas=choices)


def runtime(clock: ManualClock | None = None, progress: Any = None) -> Runtime:
    clock = clock or ManualClock(T0)
    kwargs: dict[str, Any] = {"clock": clock, "sleep": clock.sleep}
    if progress is not None:
        kwargs["progress"] = progress
    return Runtime(**kwargs)


def read_rows(uri: str, *, sort_by: str = "id", storage_options: Any = None) -> list[dict]:
    """Every row of the table at ``uri``, without the partition column, sorted."""
    from deltalake import DeltaTable

    table = DeltaTable(uri, storage_options=storage_options).to_pyarrow_table()
    rows = table.to_pylist()
    for row in rows:
        row.pop("_headwater_partition", None)
    return sorted(rows, key=lambda r: r[sort_by])


class Events:
    """A progress sink that keeps every event."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def emit(self, event: Any) -> None:
        self.events.append(event)
