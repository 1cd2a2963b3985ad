"""Keeping tables small in file count: compact, vacuum, checkpoint.

Every batch of a sync is its own commit (so a crash loses at most one batch), which leaves
many small files and a long log. Maintenance rewrites the small files into large ones
(OPTIMIZE compact), deletes files no version within the retention still needs (VACUUM),
writes a checkpoint so readers skip replaying the log, and drops log entries older than the
retention.

The sync state survives: it is mirrored in the table's properties, which every commit
carries forward, and OPTIMIZE and VACUUM commits carry no state of their own
(:mod:`~headwater.warehouse.state_log`). Maintenance holds the table's writer lock, so it
never interleaves with a sync.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from headwater.warehouse.location import storage_failures
from headwater.warehouse.lock import lock_table

if TYPE_CHECKING:
    from headwater.runtime import Clock
    from headwater.warehouse.location import TableLocation

__all__ = ["DEFAULT_RETENTION", "MaintenanceResult", "maintain_table"]

DEFAULT_RETENTION = dt.timedelta(days=7)
"""Delta's own default: a reader of a week-old version still finds its files."""


@attrs.frozen(kw_only=True)
class MaintenanceResult:
    """What maintaining one table did.

    .. versionadded:: 0.1
    """

    uri: str
    files_before: int
    files_after: int
    files_compacted: int
    files_vacuumed: int
    version: int


def maintain_table(
    location: TableLocation,
    *,
    clock: Clock,
    retention: dt.timedelta = DEFAULT_RETENTION,
) -> MaintenanceResult:
    """Compact, vacuum and checkpoint one table, holding its writer lock.

    ``retention`` below Delta's 7-day default is allowed (a warehouse with no long readers
    may want it), so old versions become unreadable sooner.

    The table may be in an object store: every step goes through Delta Lake's object-store
    client with ``location``'s storage options (or the environment), and the lock is the
    store's lease object, as for a sync.

    :raises TableLockedError: when a sync holds the table.
    :raises WarehouseError: when the table's storage cannot be read or written (a read-only
        or full disk, an unreachable object store; one line, no credentials); whatever step
        it stopped at left a consistent table.

    .. versionadded:: 0.1
    """
    with storage_failures(location.uri, "maintain", again="run `headwater maintain` again"):
        return _maintain(location, clock=clock, retention=retention)


def _maintain(
    location: TableLocation, *, clock: Clock, retention: dt.timedelta
) -> MaintenanceResult:
    from deltalake import DeltaTable

    options = location.options() or None
    with lock_table(location, clock=clock, purpose="maintain"):
        table = DeltaTable(location.uri, storage_options=options)
        before = len(table.file_uris())
        compacted = table.optimize.compact()
        table = DeltaTable(location.uri, storage_options=options)
        vacuumed = table.vacuum(
            retention_hours=int(retention.total_seconds() // 3600),
            dry_run=False,
            enforce_retention_duration=False,
        )
        table = DeltaTable(location.uri, storage_options=options)
        table.create_checkpoint()
        table.cleanup_metadata()
        return MaintenanceResult(
            uri=location.uri,
            files_before=before,
            files_after=len(table.file_uris()),
            files_compacted=int(compacted.get("numFilesRemoved", 0)),
            files_vacuumed=len(vacuumed),
            version=table.version(),
        )
