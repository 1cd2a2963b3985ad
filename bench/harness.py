"""What every benchmark runner shares: the API server process, timing, and printing figures.

A runner is a module in ``bench/`` with a ``run(api: ApiServer) -> list[Figure]`` function,
listed in ``bench/run.py``. The API server runs in its own process (so the client under test
and the server never share a GIL) and is started once for all runners.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["ApiServer", "Figure", "paired", "print_figures", "timed"]

BENCH = Path(__file__).resolve().parent


class ApiServer:
    """``bench/api_server.py`` in a child process; :attr:`base_url` once started."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> Self:
        self._process = subprocess.Popen(
            [sys.executable, str(BENCH / "api_server.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://127.0.0.1:"):
            self._process.kill()
            raise RuntimeError(f"the benchmark API server did not start (said {line!r})")
        self.base_url = line
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()  # the server's signal to stop
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Figure:
    """One printed result: a name, a value with its unit, and how it compares to a target."""

    name: str
    value: str
    verdict: str = ""


def paired(
    first: Callable[[], object], second: Callable[[], object], runs: int
) -> tuple[list[float], list[float]]:
    """Wall times of ``runs`` runs of ``first`` and ``second``, alternating.

    Alternating gives both contenders the same machine (caches, other processes, CPU
    frequency); compare them pair by pair, by the median of the ratios.
    """
    a, b = [], []
    for _ in range(runs):
        a.append(timed(first))
        b.append(timed(second))
    return a, b


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def print_figures(title: str, figures: list[Figure]) -> None:
    print(f"\n{title}")
    width = max(len(figure.name) for figure in figures)
    for figure in figures:
        verdict = f"   {figure.verdict}" if figure.verdict else ""
        print(f"  {figure.name:<{width}}  {figure.value}{verdict}")
