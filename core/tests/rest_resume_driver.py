"""The process a SIGKILL test runs: one append sync of a list kind from ``test_rest_resume``.

Run as ``python rest_resume_driver.py KIND WAREHOUSE KILL_AFTER LOG``: the emulator serves in
process, every request it answers is appended to LOG (one line each, flushed), and when
KILL_AFTER > 0 the process SIGKILLs itself as the first HTTP page arrives after its
KILL_AFTER-th commit: mid-read, with a known number of pages committed.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from test_rest_resume import ROWS, Groups, sync

from headwater import SyncMode
from headwater.runtime import ProgressKind


class KillAfterCommits:
    def __init__(self, n: int) -> None:
        self.n, self.commits = n, 0

    def emit(self, event: Any) -> None:
        if event.kind is ProgressKind.MESSAGE and event.detail.startswith("committed version"):
            self.commits += 1
        elif event.kind is ProgressKind.PAGE and event.detail == "http" and self.commits >= self.n:
            os.kill(os.getpid(), signal.SIGKILL)


def main(kind: str, warehouse: str, kill_after: str, log: str) -> None:
    api = Groups(ROWS)
    with open(log, "a", encoding="utf-8") as out:

        def logged(request: Any) -> Any:
            out.write(f"{request.url.path}?{request.url.query.decode()}\n")
            out.flush()
            return api(request)

        progress = KillAfterCommits(int(kill_after)) if int(kill_after) else None
        sync(kind, api, warehouse, progress, mode=SyncMode.APPEND, handler=logged)


if __name__ == "__main__":
    main(*sys.argv[1:])
