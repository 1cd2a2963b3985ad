"""One writer per table: a second sync of the same table fails fast instead of interleaving.

Two sync processes writing one table would each read the same state and both append the
same rows. The lock makes the second one stop at once with a message naming the holder.

- **Local tables** take an OS file lock (``flock``) on ``<table>/_headwater/writer.lock``. The
  operating system drops it when the holder exits, even on ``SIGKILL``, so a crashed sync never
  leaves a stale lock behind.
- **Object stores** have no such lock, so the holder writes a *lease* object at the same path,
  naming itself and an expiry, and renews it before every commit. A lease that expired, or
  whose holder is a dead process on this host, is taken over. Two syncs starting within the
  same instant could both believe they hold the lease; the commit fence catches that (every
  Headwater commit names the state sequence it follows, and Delta refuses the second of two
  commits claiming the same one, see :mod:`headwater.warehouse.writer`).

``_headwater/`` starts with an underscore, so Delta readers and ``VACUUM`` leave it alone.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import orjson

from headwater.errors import TableLockedError, WarehouseError
from headwater.warehouse.location import warehouse_error

if TYPE_CHECKING:
    from headwater.runtime import Clock
    from headwater.warehouse.location import TableLocation

__all__ = [
    "DEFAULT_LEASE",
    "Holder",
    "LOCK_PATH",
    "LeaseLock",
    "LocalLock",
    "TableLock",
    "lock_table",
]

LOCK_PATH = "_headwater/writer.lock"
"""The lock file (or lease object), relative to the table folder."""

DEFAULT_LEASE = dt.timedelta(minutes=15)
"""How long an object-store lease lasts without renewal (it is renewed before every commit)."""


@attrs.frozen(kw_only=True)
class Holder:
    """Who holds a table's lock, as recorded in the lock file or lease.

    .. versionadded:: 0.1
    """

    token: str
    host: str
    pid: int
    since: str
    expires: str | None = None
    purpose: str = ""

    def describe(self) -> str:
        what = f" ({self.purpose})" if self.purpose else ""
        return f"process {self.pid} on {self.host}{what}, since {self.since}"

    def to_bytes(self) -> bytes:
        return orjson.dumps(attrs.asdict(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> Holder | None:
        try:
            raw = orjson.loads(data)
            return cls(**{field.name: raw[field.name] for field in attrs.fields(cls)})
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None


class TableLock(Protocol):
    """A held lock on one table.

    .. versionadded:: 0.1
    """

    def confirm(self) -> None:
        """Check the lock is still held (and renew a lease); raise ``TableLockedError`` if not."""

    def release(self) -> None:
        """Give the lock up. Safe to call twice."""


def _locked_message(uri: str, holder: Holder | None) -> str:
    who = holder.describe() if holder else "another process"
    return (
        f"table {uri} is being written by {who}; wait for that sync to finish"
        " (one writer per table)"
    )


def _new_holder(clock: Clock, purpose: str, lease: dt.timedelta | None) -> Holder:
    now = clock.now()
    return Holder(
        token=uuid.uuid4().hex,
        host=socket.gethostname(),
        pid=os.getpid(),
        since=now.isoformat(timespec="seconds"),
        expires=(now + lease).isoformat(timespec="seconds") if lease else None,
        purpose=purpose,
    )


class LocalLock:
    """An OS file lock on a local table, released by the OS when the holder dies.

    .. versionadded:: 0.1
    """

    def __init__(self, location: TableLocation, *, clock: Clock, purpose: str = "") -> None:
        self._uri = location.uri
        path = Path(location.uri) / LOCK_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _try_lock(self._fd)
        except OSError:
            holder = Holder.from_bytes(_read_all(self._fd))
            os.close(self._fd)
            self._fd = None
            raise TableLockedError(_locked_message(self._uri, holder)) from None
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, _new_holder(clock, purpose, None).to_bytes())

    def confirm(self) -> None:
        if self._fd is None:
            raise TableLockedError(f"the lock on {self._uri} was released before the commit")

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor drops the lock


def _read_all(fd: int) -> bytes:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 4096)
    except OSError:
        return b""


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class _ObjectStore:
    """Small objects next to a table, through deltalake's own object-store client.

    The same client, configuration and credentials as the table's (``storage_options`` or the
    environment). deltalake's pyarrow wrapper of it (``DeltaStorageHandler``) cannot write with
    current pyarrow (it hands the native writer a ``Buffer``), so the native handler it wraps
    is used directly, behind these three methods.
    """

    def __init__(self, location: TableLocation) -> None:
        from deltalake.fs import DeltaStorageHandler

        self._handler: Any = DeltaStorageHandler(location.uri, location.options())._handler

    def read(self, path: str) -> bytes | None:
        try:
            return bytes(self._handler.open_input_file(path).read())
        except FileNotFoundError:
            return None

    def write(self, path: str, data: bytes) -> None:
        stream = self._handler.open_output_stream(path, None)
        try:
            stream.write(data)
        finally:
            stream.close()

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._handler.delete_file(path)


class LeaseLock:
    """A lease object in an object store, renewed before every commit.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        location: TableLocation,
        *,
        clock: Clock,
        purpose: str = "",
        lease: dt.timedelta = DEFAULT_LEASE,
    ) -> None:
        self._uri = location.uri
        self._clock = clock
        self._lease = lease
        self._store = _ObjectStore(location)
        current = self._read()
        if current is not None and not self._takeable(current):
            raise TableLockedError(_locked_message(self._uri, current))
        self._holder: Holder | None = _new_holder(clock, purpose, lease)
        self._store.write(LOCK_PATH, self._holder.to_bytes())
        back = self._read()
        if back is None or back.token != self._holder.token:
            self._holder = None
            raise TableLockedError(_locked_message(self._uri, back))

    def _takeable(self, holder: Holder) -> bool:
        if holder.expires is None or dt.datetime.fromisoformat(holder.expires) <= self._clock.now():
            return True
        # A dead process on this host cannot renew its lease: no need to wait for the expiry.
        return holder.host == socket.gethostname() and not _alive(holder.pid)

    def _read(self) -> Holder | None:
        data = self._store.read(LOCK_PATH)
        return None if data is None else Holder.from_bytes(data)

    def confirm(self) -> None:
        current = self._read()
        if self._holder is None or current is None or current.token != self._holder.token:
            taken = f"; it is now held by {current.describe()}" if current else ""
            raise TableLockedError(
                f"this sync lost its lease on {self._uri} (it expired while the sync ran{taken});"
                " nothing more was committed: run the sync again"
            )
        expires = self._clock.now() + self._lease
        self._holder = attrs.evolve(self._holder, expires=expires.isoformat(timespec="seconds"))
        self._store.write(LOCK_PATH, self._holder.to_bytes())

    def release(self) -> None:
        if self._holder is None:
            return
        token, self._holder = self._holder.token, None
        current = self._read()
        if current is not None and current.token == token:
            self._store.delete(LOCK_PATH)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    return True


@contextlib.contextmanager
def lock_table(
    location: TableLocation,
    *,
    clock: Clock,
    purpose: str = "",
    lease: dt.timedelta = DEFAULT_LEASE,
) -> Iterator[TableLock]:
    """Hold the table's writer lock for the ``with`` block; fail fast if another sync holds it.

    :raises TableLockedError: naming the holder (process, host, since when).
    :raises WarehouseError: when the lock cannot be written (the warehouse is not writable).

    .. versionadded:: 0.1
    """
    lock: TableLock
    try:
        if location.is_local:
            lock = LocalLock(location, clock=clock, purpose=purpose)
        else:
            lock = LeaseLock(location, clock=clock, purpose=purpose, lease=lease)
    except OSError as error:
        if isinstance(error, WarehouseError):
            raise
        # The first write of a sync: a warehouse that cannot be written fails here, typed.
        raise warehouse_error(error, location.uri, "lock") from None
    try:
        yield lock
    finally:
        lock.release()
