"""Reading one table: a single ordered query streamed into Arrow batches, with resume points.

The query is built from catalog facts only (server-quoted identifiers, the server's spelling
of types). Values (the watermark, a resume position) reach it through session settings set
by a parameterized ``set_config`` call, and the query reads them with ``current_setting``:
the query itself then takes no parameters, which keeps the driver on its binary COPY path.

Order and resumption: an incremental read is ordered by (incremental column, primary key)
and a full read by the primary key, so the last row of a batch is a keyset position: a
resumed read asks for rows after it (``(column, key) > (value, key)``), inclusive lower bound
unchanged. Rows whose incremental column is NULL come last in a first read (PostgreSQL sorts
NULLs last) and are never read again by later incremental reads, whose ``>=`` excludes them.
A table without a primary key is read in one go: it yields no resume points.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from connector_postgres.types import finish_batch, select_expression
from headwater import ResumePoint

if TYPE_CHECKING:
    import pyarrow as pa

    from connector_postgres.catalog import Column, Table

__all__ = ["BATCH_BYTES", "Read", "as_text", "read_batches"]

BATCH_BYTES = 16 * 1024 * 1024
"""About how many bytes of rows the driver puts in one Arrow batch (and so between two resume
points); ``HEADWATER_POSTGRES_BATCH_BYTES`` overrides it (the tests make batches small)."""


def as_text(value: Any) -> str:
    """A value from a batch or a watermark as text PostgreSQL casts back to the same value."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return "\\x" + value.hex()
    if isinstance(value, decimal.Decimal | int | float | str):
        return str(value)
    raise TypeError(f"cannot use a {type(value).__name__} as a position in a PostgreSQL read")


@attrs.frozen(kw_only=True)
class Read:
    """One read of ``table``: its incremental column and inclusive lower bound, if any, and
    where an interrupted read stopped (``resume``, as this module's resume points state it)."""

    table: Table
    incremental: Column | None = None
    lower: Any = None
    resume: Mapping[str, Any] | None = None

    @property
    def keys(self) -> tuple[Column, ...]:
        return tuple(self.table.column(name) for name in self.table.primary_key)

    @property
    def resumable(self) -> bool:
        return bool(self.table.primary_key)

    def query(self) -> tuple[str, list[str]]:
        """The SQL and the text values it reads with ``current_setting('headwater.pN')``."""
        values: list[str] = []

        def bound(text: str, column: Column) -> str:
            values.append(text)
            # The setting's name is ours, the type the server's own spelling: no config text.
            return f"current_setting('headwater.p{len(values)}')::{column.sql_type}"

        keys = self.keys
        conditions = []
        inc = self.incremental
        if inc is not None and self.lower is not None:
            conditions.append(f"{inc.quoted} >= {bound(as_text(self.lower), inc)}")
        if self.resume is not None and self.resume.get("key") is not None and keys:
            key_values = [str(v) for v in self.resume["key"]]
            key_list = ", ".join(k.quoted for k in keys)
            after = ", ".join(bound(v, k) for v, k in zip(key_values, keys, strict=True))
            if inc is None:
                conditions.append(f"({key_list}) > ({after})")
            elif self.resume.get("value") is None:
                # The read had reached the rows whose column is NULL (they come last).
                conditions.append(f"{inc.quoted} is null and ({key_list}) > ({after})")
            else:
                value = bound(str(self.resume["value"]), inc)
                conditions.append(
                    f"(({inc.quoted}, {key_list}) > ({value}, {after}) or {inc.quoted} is null)"
                )
        order = [c.quoted for c in ((inc,) if inc is not None else ()) + keys]
        sql = (
            f"select {', '.join(select_expression(c) for c in self.table.columns)}"
            f" from {self.table.quoted}"
        )
        if conditions:
            sql += " where " + " and ".join(conditions)
        if order:
            sql += " order by " + ", ".join(order)
        return sql, values

    def position(self, batch: pa.RecordBatch) -> dict[str, Any]:
        """The resume state after the last row of ``batch``."""
        last = batch.num_rows - 1
        key = [as_text(batch.column(k.name)[last].as_py()) for k in self.keys]
        state: dict[str, Any] = {"key": key}
        if self.incremental is not None:
            value = batch.column(self.incremental.name)[last].as_py()
            state["value"] = None if value is None else as_text(value)
        return state


def read_batches(connection: Any, read: Read) -> Iterator[pa.RecordBatch | ResumePoint]:
    """Run ``read`` on ``connection``; each Arrow batch, then a resume point after it."""
    from adbc_driver_postgresql import StatementOptions

    sql, values = read.query()
    size = int(os.environ.get("HEADWATER_POSTGRES_BATCH_BYTES") or BATCH_BYTES)
    with connection.cursor() as cursor:
        for number, text in enumerate(values, start=1):
            cursor.execute("select set_config($1, $2, false)", (f"headwater.p{number}", text))
            cursor.fetchall()
        cursor.adbc_statement.set_options(
            **{StatementOptions.BATCH_SIZE_HINT_BYTES.value: str(size)}
        )
        cursor.execute(sql)
        reader = cursor.fetch_record_batch()
        if read.resumable:
            # A point before the first batch: every batch then ends at a point, the first too,
            # so each commit carries a position ("key": None is the start of the read).
            yield ResumePoint(read.resume or {"key": None})
        for raw in reader:
            if raw.num_rows == 0:
                continue
            batch = finish_batch(raw, read.table.columns)
            yield batch
            if read.resumable:
                yield ResumePoint(read.position(batch))
