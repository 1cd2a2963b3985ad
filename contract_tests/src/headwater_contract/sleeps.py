"""Catching a connector that waits on its own: blocking sleeps outside ``runtime.sleep``.

A connector must wait (for a backoff, a rate limit, a pacing interval) through the runtime's
``sleep``, on the runtime's clock: the host and the tests then control time, a sync can be
stopped mid-wait, and the contract suite measures waits exactly instead of spending them. A
``time.sleep`` (or an ``asyncio.sleep`` run to completion) blocks a worker for real and hides
the wait from all of that; it usually comes with a retry loop of the connector's own.

:func:`watch_sleeps` replaces ``time.sleep`` and ``asyncio.sleep`` while a check reads, in
their modules and wherever the connector's own modules imported them by name (``from time
import sleep``), with stand-ins that record the call and return at once: the read goes on as
if the time had passed, and costs none. Calls of zero seconds are not recorded (a retry
library may "sleep" ``0`` between attempts that the runtime already waited for).

.. versionadded:: 0.1
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType, ModuleType

__all__ = ["Sleep", "SleepWatch", "watch_sleeps"]


@attrs.frozen(kw_only=True)
class Sleep:
    """One blocking sleep: which function, how long, and the line that called it.

    .. versionadded:: 0.1
    """

    function: str
    seconds: float
    where: str

    def describe(self) -> str:
        """``time.sleep(2.0) at connector_x/client.py:41``, for failure messages."""
        return f"{self.function}({self.seconds:g}) at {self.where}"


class SleepWatch:
    """The blocking sleeps made while :func:`watch_sleeps` was active, in order.

    .. versionadded:: 0.1
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sleeps: list[Sleep] = []

    @property
    def sleeps(self) -> list[Sleep]:
        with self._lock:
            return list(self._sleeps)

    def clear(self) -> None:
        """Forget what was recorded (before the next read)."""
        with self._lock:
            self._sleeps = []

    def record(self, function: str, seconds: Any, frame: FrameType | None) -> None:
        try:
            wait = float(seconds)
        except (TypeError, ValueError):
            wait = float("nan")  # recorded: the call itself is the problem
        if wait == 0:
            return
        with self._lock:
            self._sleeps.append(Sleep(function=function, seconds=wait, where=_where(frame)))


def _where(frame: FrameType | None) -> str:
    if frame is None:
        return "an unknown place"
    parts = os.path.normpath(frame.f_code.co_filename).split(os.sep)
    return f"{'/'.join(parts[-2:])}:{frame.f_lineno}"


@contextlib.contextmanager
def watch_sleeps(packages: Sequence[str] = ()) -> Iterator[SleepWatch]:
    """Record blocking sleeps until the block ends; ``packages`` are the connector's own.

    ``time.sleep`` and ``asyncio.sleep`` are replaced in their modules and under any other
    name a module of ``packages`` bound them to; everything is put back on exit.

    .. versionadded:: 0.1
    """
    watch = SleepWatch()
    real_time_sleep = time.sleep
    real_asyncio_sleep = asyncio.sleep

    def time_sleep(seconds: float) -> None:
        watch.record("time.sleep", seconds, sys._getframe(1))

    async def asyncio_sleep(delay: float, result: Any = None) -> Any:
        watch.record("asyncio.sleep", delay, sys._getframe(1))
        return result

    # (where, name, the real function, its stand-in)
    patched: list[tuple[Any, str, Any, Any]] = [
        (time, "sleep", real_time_sleep, time_sleep),
        (asyncio, "sleep", real_asyncio_sleep, asyncio_sleep),
    ]
    for module in _modules(packages):
        for name, value in list(vars(module).items()):
            if value is real_time_sleep:
                patched.append((module, name, value, time_sleep))
            elif value is real_asyncio_sleep:
                patched.append((module, name, value, asyncio_sleep))
    try:
        for owner, name, _, stand_in in patched:
            setattr(owner, name, stand_in)
        yield watch
    finally:
        for owner, name, real, _ in reversed(patched):
            setattr(owner, name, real)


def _modules(packages: Sequence[str]) -> list[ModuleType]:
    found = []
    for name, module in list(sys.modules.items()):
        if module is None:
            continue
        if any(name == package or name.startswith(package + ".") for package in packages):
            found.append(module)
    return found
