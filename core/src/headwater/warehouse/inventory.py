"""What a warehouse holds: each table's connection, schema, rows, size and sync state.

Tables live at ``<warehouse>/<connection>/<schema>``; a folder is a table when it has a
``_delta_log``. Row counts and sizes come from the live files' statistics in the Delta log,
so listing a warehouse reads no data.

An object-store warehouse is listed through Delta Lake's own object-store client (the one the
writer uses, with the same storage options or environment), one level at a time: the
connections under the warehouse, the schemas under each, then whether each has a
``_delta_log``. That is ``2 + connections`` listing calls (plus one existence check per
candidate folder), never a walk over every data file.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from headwater.warehouse.location import (
    TableLocation,
    describe_store_error,
    is_object_store,
    table_location,
    unreadable_table,
    warehouse_root,
)

if TYPE_CHECKING:
    from deltalake import DeltaTable

_log = logging.getLogger("headwater.warehouse")

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
    staged_rows: int | None = None
    """Rows an unfinished full refresh has staged (``None``: none is unfinished).

    .. versionadded:: 0.2
    """

    @property
    def resumes_mid_read(self) -> bool:
        """Whether the next sync continues an interrupted read from its saved position.

        .. versionadded:: 0.2
        """
        return self.staged_rows is not None or bool(
            self.state is not None and not self.state.get("complete") and self.state.get("resume")
        )

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


def find_tables(
    warehouse: str, *, storage_options: Mapping[str, str] | None = None
) -> list[tuple[str, str, TableLocation]]:
    """``(connection, schema, location)`` of every table in ``warehouse``, sorted.

    ``warehouse`` is a local folder or an object-store URI; ``storage_options`` reach the
    object-store client (credentials otherwise come from the environment) and are kept in
    each location. A folder whose name Headwater could not have written (see
    :func:`~headwater.warehouse.location.table_location`) is not one of its tables and is
    left out; so is one that leads outside the warehouse through a symbolic link, with a
    warning.

    :raises ValueError: for a warehouse URI with an unknown scheme.
    :raises OSError: when the object store cannot be listed (a missing bucket, no
        credentials, no network); the message is one line, without credentials.

    .. versionadded:: 0.1
    """
    root = warehouse_root(warehouse)
    if is_object_store(root):
        folders = _stored_tables(root, storage_options or {})
    else:
        folders = _local_tables(Path(root))
    found = []
    for connection, schema in folders:
        try:
            location = table_location(
                warehouse, connection, schema, storage_options=storage_options
            )
        except ValueError as error:
            if "leads outside the warehouse" in str(error):
                _log.warning("skipped %s.%s: %s", connection, schema, error)
            continue
        found.append((connection, schema, location))
    return found


def _local_tables(root: Path) -> list[tuple[str, str]]:
    if not root.is_dir():
        return []
    return [
        (log.parent.parent.name, log.parent.name) for log in sorted(root.glob(f"*/*/{_DELTA_LOG}"))
    ]


def _stored_tables(root: str, options: Mapping[str, str]) -> list[tuple[str, str]]:
    import pyarrow.fs as pa_fs
    from deltalake.fs import DeltaStorageHandler

    def folders(path: str) -> list[str]:
        listed = store.get_file_info(pa_fs.FileSelector(path, allow_not_found=True))
        return sorted(info.base_name for info in listed if info.type is pa_fs.FileType.Directory)

    try:
        # Reading only: the pyarrow wrapper's write path is what the lock has to avoid.
        store = pa_fs.PyFileSystem(DeltaStorageHandler(root, dict(options)))
        candidates = [
            (connection, schema) for connection in folders("") for schema in folders(connection)
        ]
        logs = store.get_file_info([f"{c}/{s}/{_DELTA_LOG}" for c, s in candidates])
    except OSError as error:
        # Not chained: the client's own text may quote a signed URL.
        raise OSError(f"cannot list the tables of {root}: {describe_store_error(error)}") from None
    return [
        folder
        for folder, log in zip(candidates, logs, strict=True)
        if log.type is pa_fs.FileType.Directory
    ]


def summarize_table(connection: str, schema: str, location: TableLocation) -> TableSummary:
    """Rows, files, size and state of one table, from its Delta log alone.

    :raises WarehouseError: when the table cannot be read: a damaged Delta log, an object
        store that is unreachable or refuses the credentials (one line, no credentials).

    .. versionadded:: 0.1
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError

    from headwater.warehouse.staging import StagedTable
    from headwater.warehouse.state_log import read_state_document

    try:
        table: DeltaTable = DeltaTable(location.uri, storage_options=location.options() or None)
        actions = pa.table(table.get_add_actions(flatten=False))
        state = read_state_document(table)
    except (DeltaError, OSError) as error:
        # Not chained: the store client's text may quote a signed URL.
        raise unreadable_table(error, f"{connection}.{schema}", location.uri) from None
    staged = StagedTable(location)
    rows = pc.sum(actions["num_records"]).as_py() if actions.num_rows else 0
    size = pc.sum(actions["size_bytes"]).as_py() if actions.num_rows else 0
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
        staged_rows=staged.rows if staged.exists else None,
    )
