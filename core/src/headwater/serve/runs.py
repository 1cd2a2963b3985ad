"""Syncs started from the page: each in a background thread, watched through a tally.

A run calls :func:`headwater.sync.sync_schema` once per enabled schema, as ``headwater sync``
does, with the runtime's progress going to a
:class:`~headwater.display.ProgressTally` that the page samples for its live table. A
failure of one schema is shown in the connector's own words
(:func:`~headwater.errors.user_message` with its non-retryable rules), through a
:class:`~headwater.display.Redactor` holding the config's secrets, and the run goes on with
the next schema, as the CLI does.

Runs are listed newest first. Each finished run is appended to a history file (one JSON object
per line: what the page shows of it, never a secret), so the list survives a restart; the
newest :data:`KEPT_RUNS` are read back.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from headwater.config import UserConfig
    from headwater.discovery import Connector
    from headwater.display import ProgressTally
    from headwater.runtime import Runtime
    from headwater.sources import Source, SourceSchema

__all__ = ["KEPT_RUNS", "Run", "RunBoard", "SchemaResult"]

KEPT_RUNS = 200
"""How many finished runs are read back from the history file at start-up."""

_log = logging.getLogger("headwater.serve")


@attrs.define(kw_only=True)
class SchemaResult:
    """How one schema of a run ended."""

    schema: str
    ok: bool
    rows_written: int = 0
    mode: str = ""
    duration: float = 0.0
    watermark: str = ""
    error: str = ""


@attrs.define(kw_only=True)
class Run:
    """One sync of one connection, running or done."""

    id: int
    source_type: str
    connection: str
    schemas: tuple[str, ...]
    started: dt.datetime
    tally: ProgressTally
    finished: dt.datetime | None = None
    results: list[SchemaResult] = attrs.field(factory=list)
    error: str = ""
    """Why the run could not start syncing at all (a rejected config, the API unreachable)."""
    final: dict[str, Any] | None = None
    """The last snapshot, kept once the run is over (and read back from the history)."""

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def status(self) -> str:
        if not self.done:
            return "running"
        if self.error:
            return "failed"
        failed = sum(not result.ok for result in self.results)
        if not failed:
            return "succeeded"
        return "failed" if failed == len(self.results) else "partly failed"

    def snapshot(self) -> dict[str, Any]:
        """What the page's live table shows, as JSON-ready data."""
        if self.final is not None:
            return self.final
        return {
            "id": self.id,
            "status": self.status,
            "done": self.done,
            "error": self.error,
            "schemas": [
                {
                    "schema": tally.schema,
                    "status": tally.status,
                    "pages": tally.pages,
                    "rows_read": tally.rows_read,
                    "rows_written": tally.rows_written,
                    "retries": tally.retries,
                    "elapsed": round(tally.elapsed, 1),
                }
                for tally in self.tally.snapshot()
            ],
            "results": [attrs.asdict(result) for result in self.results],
        }


@attrs.frozen(kw_only=True)
class SyncJob:
    """Everything a run needs, prepared (and checked) before its thread starts."""

    connector: Connector
    source: Source[Any]
    config: UserConfig
    schemas: tuple[SourceSchema, ...]
    warehouse: str
    runtime: Runtime


class RunBoard:
    """Starts runs in threads and remembers them, in ``history`` too when given."""

    def __init__(self, history: Path | None = None) -> None:
        self._runs: dict[int, Run] = {}
        self._lock = threading.Lock()
        self._history = history
        for run in _read_history(history)[-KEPT_RUNS:]:
            self._runs[run.id] = run
        self._ids = itertools.count(max(self._runs, default=0) + 1)

    def _finished(self, run: Run) -> None:
        if self._history is None:
            return
        record = {
            "id": run.id,
            "source_type": run.source_type,
            "connection": run.connection,
            "schemas": list(run.schemas),
            "started": run.started.isoformat(),
            "finished": run.finished.isoformat() if run.finished else None,
            "error": run.error,
            "results": [attrs.asdict(result) for result in run.results],
            "final": run.final,
        }
        try:
            with self._lock:
                self._history.parent.mkdir(parents=True, exist_ok=True)
                with self._history.open("a", encoding="utf-8") as file:
                    file.write(json.dumps(record) + "\n")
        except OSError as error:
            _log.warning("could not record run %d in %s: %s", run.id, self._history, error)

    def get(self, run_id: int) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def history(self, source_type: str | None = None, connection: str | None = None) -> list[Run]:
        with self._lock:
            runs = sorted(self._runs.values(), key=lambda run: run.id, reverse=True)
        return [
            run
            for run in runs
            if (source_type is None or run.source_type == source_type)
            and (connection is None or run.connection == connection)
        ]

    def running(self, source_type: str, connection: str) -> Run | None:
        return next((run for run in self.history(source_type, connection) if not run.done), None)

    def start(self, job: SyncJob, *, connection: str, wait: bool = False) -> Run:
        """Start syncing ``job``'s schemas in a thread; the run (``wait`` joins it, for tests)."""
        from headwater.display import ProgressTally

        names = tuple(schema.name for schema in job.schemas)
        tally = ProgressTally(names, monotonic=job.runtime.clock.monotonic)
        with self._lock:
            run = Run(
                id=next(self._ids),
                source_type=job.connector.source_type,
                connection=connection,
                schemas=names,
                started=dt.datetime.now(dt.UTC),
                tally=tally,
            )
            self._runs[run.id] = run
        runtime = attrs.evolve(job.runtime, progress=tally)
        thread = threading.Thread(
            target=_execute,
            args=(run, job, runtime, self._finished),
            name=f"headwater-run-{run.id}",
            daemon=True,
        )
        thread.start()
        if wait:
            thread.join()
        return run


def _execute(run: Run, job: SyncJob, runtime: Runtime, finished: Callable[[Run], None]) -> None:
    from headwater.display import Redactor
    from headwater.errors import HeadwaterError, user_message
    from headwater.sync import sync_schema

    redact = Redactor.of(job.config.source)
    try:
        rules = list(job.source.get_non_retryable_errors())
        for schema in job.schemas:
            run.tally.start(schema.name)
            try:
                result = sync_schema(
                    job.connector,
                    job.config,
                    schema.name,
                    job.warehouse,
                    runtime,
                    source_schema=schema,
                )
            except HeadwaterError as error:
                run.tally.finish(schema.name, "failed")
                message = redact(user_message(error, rules))
                run.results.append(SchemaResult(schema=schema.name, ok=False, error=message))
                _log.warning("run %d: %s failed: %s", run.id, schema.name, message)
                continue
            run.tally.finish(schema.name, "done")
            watermark = result.watermark
            run.results.append(
                SchemaResult(
                    schema=schema.name,
                    ok=True,
                    rows_written=result.rows_written,
                    mode=result.sync_mode.value,
                    duration=round(result.duration, 2),
                    watermark="" if watermark is None else str(watermark),
                )
            )
    except Exception as error:  # the run must end, whatever broke; the message is redacted
        run.error = redact(f"{type(error).__name__}: {error}")
        _log.error("run %d failed: %s", run.id, run.error)
    finally:
        run.finished = dt.datetime.now(dt.UTC)
        run.final = run.snapshot()
        finished(run)


def _read_history(path: Path | None) -> list[Run]:
    """The runs recorded in ``path``, oldest first; lines that do not read are skipped."""
    from headwater.display import ProgressTally

    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    runs = []
    for line in lines:
        try:
            data = json.loads(line)
            schemas = tuple(str(name) for name in data["schemas"])
            runs.append(
                Run(
                    id=int(data["id"]),
                    source_type=str(data["source_type"]),
                    connection=str(data["connection"]),
                    schemas=schemas,
                    started=dt.datetime.fromisoformat(data["started"]),
                    finished=dt.datetime.fromisoformat(data["finished"]),
                    tally=ProgressTally(schemas, monotonic=time.monotonic),
                    results=[SchemaResult(**result) for result in data["results"]],
                    error=str(data["error"]),
                    final=data["final"],
                )
            )
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash, or from another version
    return sorted(runs, key=lambda run: run.id)


def schemas_to_sync(
    config: UserConfig, offered: Sequence[SourceSchema]
) -> tuple[SourceSchema, ...]:
    """The schemas ``headwater sync`` would sync without ``--schema``: every enabled one."""
    return tuple(
        schema
        for schema in offered
        if schema.name not in config.schemas or config.schemas[schema.name].enabled
    )


RuntimeFactory = Callable[["Connector"], "Runtime"]
