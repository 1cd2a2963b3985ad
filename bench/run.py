"""``nox -s bench``: start the benchmark API once, run every runner, print their figures.

``python bench/run.py`` runs them all; ``python bench/run.py rest_bench`` runs the named ones.
To add a runner, write ``bench/<name>.py`` with ``run(api: ApiServer) -> list[Figure]`` and
list it in :data:`RUNNERS`.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ApiServer, print_figures

__all__ = ["RUNNERS", "main"]

RUNNERS = [
    "rest_bench",
    "sync_bench",
    "floor_bench",
    "resume_bench",
    "temporal_bench",
    "postgres_bench",
]


def main(argv: list[str]) -> int:
    # Every contender runs as an installed program does: with its modules' bytecode cached.
    # With PYTHONDONTWRITEBYTECODE set (some shells and CI images set it), each process
    # would compile the modules it imports from source, which costs headwater (many small
    # modules) far more than a bare loop: a start-up figure no user sees.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    chosen = argv or RUNNERS
    unknown = sorted(set(chosen) - set(RUNNERS))
    if unknown:
        print(f"unknown runner(s) {unknown}; known: {RUNNERS}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with ApiServer() as api:
        print(f"benchmark API at {api.base_url} (a separate process)")
        for name in chosen:
            module = importlib.import_module(name)
            print_figures(name, module.run(api))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
