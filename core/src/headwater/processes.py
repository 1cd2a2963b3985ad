"""Local server processes for tests, demos and benchmarks: a free port, a wait, a stop by PID.

The Temporal dev server (:mod:`headwater.temporal.devserver`) and the PostgreSQL server of
``connector-postgres`` start the same way: a binary from a registry package, bound to
127.0.0.1 on a port nothing uses, asked until it answers, and stopped by its PID at the end.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.2
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from typing import Any

__all__ = ["HOST", "free_port", "stop_process", "wait_until_ready"]

HOST = "127.0.0.1"
"""Where local servers listen: never an address another machine can reach."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    .. versionadded:: 0.2
    """
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_until_ready(
    process: subprocess.Popen[Any],
    ready: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    log: Callable[[], str],
    interval: float = 0.1,
) -> None:
    """Ask ``ready()`` until it says yes, while ``process`` runs.

    :raises RuntimeError: when ``process`` exits first or ``timeout`` seconds pass, naming
        ``what`` and ending with ``log()`` (the server's own words on why).

    .. versionadded:: 0.2
    """
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}): {log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {timeout:g} s: {log()}")
        time.sleep(interval)  # waiting for a server to start, not for time to pass


def stop_process(
    process: subprocess.Popen[Any], *, grace: float, stop_signal: int = signal.SIGTERM
) -> None:
    """Send ``stop_signal`` (SIGTERM) to ``process``; SIGKILL it if it is still there after
    ``grace`` seconds.

    .. versionadded:: 0.2
    """
    if process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
