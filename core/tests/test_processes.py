"""headwater.processes: the start/wait/stop helpers shared by local server launchers."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from headwater.processes import HOST, free_port, stop_process, wait_until_ready


def test_a_free_port_can_be_bound_on_localhost():
    port = free_port()
    with socket.socket() as server:
        server.bind((HOST, port))


def test_a_process_that_exits_while_awaited_fails_with_its_log():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(RuntimeError, match=r"the toy server exited \(3\): it said why"):
        wait_until_ready(
            process, lambda: False, what="the toy server", timeout=30, log=lambda: "it said why"
        )


def test_a_server_that_never_answers_fails_after_the_timeout():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(RuntimeError, match=r"did not answer within 0\.3 s: silent"):
            wait_until_ready(process, lambda: False, what="x", timeout=0.3, log=lambda: "silent")
    finally:
        process.kill()
        process.wait()


def test_stop_escalates_to_sigkill_when_the_signal_is_ignored():
    ignoring = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN);"
        " print(1, flush=True); time.sleep(30)"
    )
    process = subprocess.Popen([sys.executable, "-c", ignoring], stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()  # the handler is installed
    stop_process(process, grace=0.3, stop_signal=signal.SIGINT)
    assert process.returncode == -signal.SIGKILL
    process.stdout.close()
