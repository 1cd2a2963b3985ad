"""Dropping a schema's sync state (``headwater reset``), without touching its rows.

A reset commits a state marked ``reset``: the table keeps its rows, queryable as before, and
the next sync of the schema rewrites it in one commit from a fresh read, whatever its mode
(as ``--full-refresh`` does). Dropping only the watermark would be wrong for ``append``
schemas (the fresh read would append every row again), so a reset always means a rewrite.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from headwater.errors import StateError
from headwater.sources.schema import SyncMode
from headwater.sync.engine import open_source
from headwater.sync.state import Layout, SchemaState
from headwater.warehouse.location import table_location
from headwater.warehouse.lock import lock_table
from headwater.warehouse.state_log import state_sequence
from headwater.warehouse.writer import TableWriter

if TYPE_CHECKING:
    from headwater.config.user import UserConfig
    from headwater.discovery import Connector
    from headwater.runtime import Runtime
    from headwater.sources.base import Source

__all__ = ["reset_schema"]


def reset_schema(
    connector: Connector | Source[Any],
    config: UserConfig,
    schema: str,
    warehouse_uri: str,
    runtime: Runtime,
    *,
    storage_options: Mapping[str, str] | None = None,
) -> bool:
    """Drop the state of ``schema``'s table; ``False`` when there is no table.

    Works on a table whose state is lost or damaged too: that is when a reset is needed.

    :raises TableLockedError: when a sync is writing the table.

    .. versionadded:: 0.1
    """
    source, written_by = open_source(connector)
    location = table_location(
        warehouse_uri,
        config.connection or source.source_type,
        schema,
        storage_options=storage_options,
    )
    purpose = f"headwater reset {source.source_type} {schema}"
    with lock_table(location, clock=runtime.clock, purpose=purpose):
        writer = TableWriter(location)
        if writer.table is None:
            return False
        previous: SchemaState | None = None
        with contextlib.suppress(StateError):
            document = writer.read_state()
            previous = SchemaState.from_document(document) if document else None
        state = SchemaState(
            sequence=state_sequence(writer.table) + 1,
            schema=schema,
            sync_mode=previous.sync_mode if previous else SyncMode.FULL_REFRESH,
            layout=previous.layout if previous else Layout(),
            complete=True,
            reset=True,
            run=uuid.uuid4().hex,
            written_by=written_by,
            written_at=runtime.clock.now().isoformat(timespec="seconds"),
        )
        writer.commit_state(state.to_document())
        return True
