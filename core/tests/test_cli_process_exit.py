"""The program's exit: the interpreter's last garbage collection is spared, nothing else."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from headwater.cli import main

PROGRAM = """
import atexit, gc, sys
# Registered before main's handler, so it runs after it (exit handlers run last in, first out).
atexit.register(lambda: print(f"frozen at exit: {gc.get_freeze_count() > 0}"))
atexit.register(lambda: print("an exit handler of the program still runs"))
from headwater.cli import main
main(["--version"])
"""


def test_the_process_freezes_the_heap_at_exit_and_runs_every_exit_handler() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "an exit handler of the program still runs",
        "frozen at exit: True",
    ]


def test_an_in_process_call_does_not_freeze_the_callers_heap() -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert gc.get_freeze_count() == 0
