"""Sources for the crash tests, and the driver a killed sync process runs.

Each scenario is a schema whose rows change between two generations (new rows, and for
incremental schemas changed rows), read in small pages and committed in small batches so a
sync makes many commits. Run as a script, this module syncs one scenario's generation and,
when asked, SIGKILLs itself at the n-th progress event of the engine.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from memory_source import T0, MemorySchema, MemorySource, at, config, runtime

from headwater import ManualClock, SyncMode
from headwater.sync import BatchLimits, sync_schema

SCENARIOS = (
    "asc_incremental",
    "desc_incremental",
    "append",
    # The same, from sources that yield resume points: a killed read continues mid-read.
    "asc_incremental_resumable",
    "desc_incremental_resumable",
    "append_resumable",
    "full_refresh_resumable",
)
RESUMABLE = "_resumable"
LIMITS = BatchLimits(max_rows=4)


def rows(scenario: str, generation: int) -> list[dict[str, Any]]:
    """The source's rows in ``generation``: two rows per timestamp, so ties cross batches."""
    scenario = scenario.removesuffix(RESUMABLE)
    table = {n: _row(n, n // 2, 0) for n in range(1, 25)}
    if generation >= 1:
        if scenario != "append":  # events never change; records do
            for n in range(5, 25, 5):
                table[n] = _row(n, 100 + n // 2, 1)
        for n in range(25, 37):
            table[n] = _row(n, 100 + n // 2, 1)
    return list(table.values())


def _row(n: int, minute: int, generation: int) -> dict[str, Any]:
    return {
        "id": n,
        "updated_at": at(minute),
        "created_at": at(24 * 60 * n),  # immutable: the partition key
        "value": f"g{generation}-{n}",
    }


def source(scenario: str, generation: int) -> MemorySource:
    schema = MemorySchema(name="items", page_size=5, rows=rows(scenario, generation))
    schema.resumable = scenario.endswith(RESUMABLE)
    scenario = scenario.removesuffix(RESUMABLE)
    if scenario == "asc_incremental":
        schema.partition = {
            "partition_mode": "datetime",
            "partition_keys": ["created_at"],
            "partition_format": "week",
        }
    elif scenario == "desc_incremental":
        schema.sort_mode = "desc"
    elif scenario == "full_refresh":
        schema.default_sync_mode = SyncMode.FULL_REFRESH
        schema.partition = {"partition_mode": "md5", "partition_keys": ["id"], "partition_count": 3}
    else:
        schema.default_sync_mode = SyncMode.APPEND
        schema.partition = {"partition_mode": "md5", "partition_keys": ["id"], "partition_count": 3}
    return MemorySource(schema)


def sync(scenario: str, generation: int, warehouse: str, progress: Any = None) -> Any:
    clock = ManualClock(T0)
    clock.advance(3600 * generation)
    return sync_schema(
        source(scenario, generation),
        config(),
        "items",
        warehouse,
        runtime(clock, progress),
        limits=LIMITS,
    )


class KillAt:
    """A progress sink that SIGKILLs this process at its n-th event."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    def emit(self, event: Any) -> None:
        self.seen += 1
        if self.seen == self.n:
            os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    scenario, generation, warehouse, kill_at = argv
    sys.stdin.readline()  # the test says go once it is ready to kill this process
    sink = KillAt(int(kill_at)) if int(kill_at) else None
    result = sync(scenario, int(generation), warehouse, sink)
    print(result.summary())


if __name__ == "__main__":
    main(sys.argv[1:])
