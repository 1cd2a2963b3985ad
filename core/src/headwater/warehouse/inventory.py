"""What a warehouse holds: each table's connection, schema, rows, size and sync state.

Tables live at ``<warehouse>/<connection>/<schema>``; a folder is a table when it has a
``_delta_log``. Row counts and sizes come from the live files' statistics in the Delta log,
so listing a warehouse reads no data.

Only local warehouses can be listed for now: finding the tables of an object store needs a
listing call per store, which :mod:`~headwater.warehouse.location` does not offer yet.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from headwater.warehouse.location import OBJECT_STORE_SCHEMES, TableLocation, table_location

if TYPE_CHECKING:
    from deltalake import DeltaTable

__all__ = ["TableSummary", "find_tables", "summarize_table"]

_DELTA_LOG = "_delta_log"


@attrs.frozen(kw_only=True)
class TableSummary:
    """One table of a warehouse.

    ``state`` is the latest sync state document (``None`` for a table Headwater never synced
    or whose state was reset); ``last_sync`` is when that state was written.

    .. versionadded:: 0.1
    """

    connection: str
    schema: str
    uri: str
    version: int
    rows: int
    files: int
    size_bytes: int
    last_sync: dt.datetime | None
    state: dict[str, Any] | None

    @property
    def watermark(self) -> Any:
        """The saved watermark, if the table keeps one."""
        if self.state is None:
            return None
        return (self.state.get("position") or {}).get("watermark")

    @property
    def sync_mode(self) -> str | None:
        return None if self.state is None else self.state.get("sync_mode")

    @property
    def complete(self) -> bool | None:
        """Whether the last sync read everything (``False``: the next one resumes)."""
        return None if self.state is None else bool(self.state.get("complete"))


def find_tables(warehouse: str) -> list[tuple[str, str, TableLocation]]:
    """``(connection, schema, location)`` of every table in a local ``warehouse``, sorted.

    :raises ValueError: for an object-store warehouse (not listable yet) or a bad path.

    .. versionadded:: 0.1
    """
    scheme = warehouse.split("://", 1)[0].lower() if "://" in warehouse else ""
    if scheme in OBJECT_STORE_SCHEMES:
        raise ValueError(
            f"listing the tables of {warehouse!r} is not supported yet; only local warehouses"
            " can be listed"
        )
    root = Path(table_location(warehouse, "c", "s").uri).parent.parent
    if not root.is_dir():
        return []
    found = []
    for log in sorted(root.glob(f"*/*/{_DELTA_LOG}")):
        table = log.parent
        connection, schema = table.parent.name, table.name
        found.append((connection, schema, table_location(warehouse, connection, schema)))
    return found


def summarize_table(connection: str, schema: str, location: TableLocation) -> TableSummary:
    """Rows, files, size and state of one table, from its Delta log alone.

    .. versionadded:: 0.1
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    from headwater.warehouse.state_log import read_state_document

    table: DeltaTable = DeltaTable(location.uri, storage_options=location.options() or None)
    actions = pa.table(table.get_add_actions(flatten=False))
    rows = pc.sum(actions["num_records"]).as_py() if actions.num_rows else 0
    size = pc.sum(actions["size_bytes"]).as_py() if actions.num_rows else 0
    state = read_state_document(table)
    written = state.get("written_at") if state else None
    return TableSummary(
        connection=connection,
        schema=schema,
        uri=location.uri,
        version=table.version(),
        rows=int(rows or 0),
        files=actions.num_rows,
        size_bytes=int(size or 0),
        last_sync=dt.datetime.fromisoformat(written) if written else None,
        state=state,
    )
