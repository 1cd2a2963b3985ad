"""One writer per table: an OS lock for local tables, a lease in object stores."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import attrs
import pytest
from object_store import moto_server

from headwater import ManualClock
from headwater.errors import TableLockedError
from headwater.warehouse import LOCK_PATH, Holder, LeaseLock, lock_table, table_location
from headwater.warehouse.lock import _ObjectStore

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


@pytest.fixture
def local(tmp_path):
    return table_location(str(tmp_path), "c", "t")


def test_a_second_local_lock_fails_fast_naming_the_holder(local):
    with (
        lock_table(local, clock=ManualClock(T0), purpose="headwater sync x t"),
        pytest.raises(TableLockedError) as raised,
        lock_table(local, clock=ManualClock(T0)),
    ):
        pass

    message = str(raised.value)
    assert f"process {os.getpid()} on" in message
    assert "(headwater sync x t), since 2026-01-01T00:00:00+00:00" in message
    assert "one writer per table" in message
    with lock_table(local, clock=ManualClock(T0)):
        pass  # released


HOLD = """
import sys
from headwater import ManualClock
from headwater.warehouse import lock_table, table_location
with lock_table(table_location(sys.argv[1], "c", "t"), clock=ManualClock()):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_a_local_lock_dies_with_its_holder_even_on_sigkill(local, tmp_path):
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(TableLockedError), lock_table(local, clock=ManualClock(T0)):
            pass

        holder.kill()  # SIGKILL: no cleanup code runs in the holder
        holder.wait()

    with lock_table(local, clock=ManualClock(T0)):
        pass


def lease_location(s3):
    return table_location(s3.new_warehouse(), "c", "t", storage_options=s3.options())


def plant(location, **fields):
    """Write the lease of another sync (on another host, unless told otherwise)."""
    holder = Holder(
        token="other",
        host="elsewhere",
        pid=1,
        since=T0.isoformat(),
        expires=(T0 + dt.timedelta(minutes=15)).isoformat(),
        purpose="another sync",
    )
    _ObjectStore(location).write(LOCK_PATH, attrs.evolve(holder, **fields).to_bytes())


def test_a_live_lease_makes_a_second_sync_fail_fast(s3):
    location = lease_location(s3)
    plant(location)

    with pytest.raises(TableLockedError, match="written by process 1 on elsewhere"):
        LeaseLock(location, clock=ManualClock(T0))


def test_an_expired_lease_is_taken_over(s3):
    location = lease_location(s3)
    plant(location)
    clock = ManualClock(T0)
    clock.advance(16 * 60)

    lock = LeaseLock(location, clock=clock)
    lock.confirm()
    lock.release()

    assert _ObjectStore(location).read(LOCK_PATH) is None


def test_the_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(s3):
    import socket

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    location = lease_location(s3)
    plant(location, host=socket.gethostname(), pid=int(finished.stdout))

    LeaseLock(location, clock=ManualClock(T0)).release()


def test_a_lease_taken_over_while_syncing_stops_the_next_commit(s3):
    location = lease_location(s3)
    lock = LeaseLock(location, clock=ManualClock(T0))

    plant(location, expires=(T0 + dt.timedelta(hours=1)).isoformat())

    with pytest.raises(TableLockedError, match="lost its lease"):
        lock.confirm()


def test_lock_table_uses_a_lease_for_object_stores(s3):
    location = lease_location(s3)

    with lock_table(location, clock=ManualClock(T0), purpose="p"):
        holder = Holder.from_bytes(_ObjectStore(location).read(LOCK_PATH))
        with pytest.raises(TableLockedError), lock_table(location, clock=ManualClock(T0)):
            pass

    assert holder.pid == os.getpid()
    assert holder.expires == "2026-01-01T00:15:00+00:00"
    assert _ObjectStore(location).read(LOCK_PATH) is None
