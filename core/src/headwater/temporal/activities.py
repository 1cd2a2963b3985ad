"""The activities: validate a connection's config, and sync one schema with ``sync_schema``.

Both resolve the config's secret references when they start, on the worker, so no secret
ever enters Temporal's history. :meth:`SyncActivities.sync_schema` calls
:func:`headwater.sync.sync_schema` unchanged, in a thread of its own, and heartbeats the
progress counted from the runtime's progress sink (rows read and written, pages, commits, the
last committed version) every few seconds until it returns. A worker that dies stops
heartbeating; once the heartbeat timeout passes, Temporal retries the activity on another
worker, whose ``sync_schema`` continues from the state committed in the table.

.. versionadded:: 0.2
"""

from __future__ import annotations

import difflib
import logging
import threading
import traceback
from typing import TYPE_CHECKING, Any

import attrs
from temporalio import activity

from headwater.errors import ConfigError, ConfigProblem
from headwater.temporal.configs import load_config_text
from headwater.temporal.failures import to_application_error
from headwater.temporal.inputs import (
    ConnectionPlan,
    ConnectionSyncInput,
    SchemaSummary,
    SchemaSyncInput,
)
from headwater.temporal.names import PLAN_ACTIVITY, SYNC_ACTIVITY
from headwater.temporal.progress import ProgressCounter

if TYPE_CHECKING:
    from headwater.config import UserConfig
    from headwater.discovery import Connector
    from headwater.sync import SyncResult

__all__ = ["SyncActivities"]

_log = logging.getLogger("headwater.temporal")

MIN_HEARTBEAT_INTERVAL = 0.5
MAX_HEARTBEAT_INTERVAL = 5.0


def _heartbeat_interval() -> float:
    timeout = activity.info().heartbeat_timeout
    if timeout is None:
        return MAX_HEARTBEAT_INTERVAL
    return max(MIN_HEARTBEAT_INTERVAL, min(MAX_HEARTBEAT_INTERVAL, timeout.total_seconds() / 4))


def _open(input: ConnectionSyncInput) -> tuple[Connector, UserConfig]:
    from headwater.discovery import get_registry

    # The registry is safe to use from the activities' threads.
    connector = get_registry().connector(input.connector)
    config = load_config_text(connector, input.config_name, input.config_text)
    return connector, attrs.evolve(config, connection=input.connection)


class _SyncThread(threading.Thread):
    """Runs one ``sync_schema`` call; keeps its result or its exception."""

    def __init__(self, call: Any) -> None:
        # A daemon: a worker that exits mid-sync leaves the table at its last commit, as a
        # SIGKILL would, and the retry continues from there.
        super().__init__(name="headwater-sync", daemon=True)
        self._call = call
        self.result: SyncResult | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._call()
        except BaseException as error:  # handed to the activity's thread
            self.error = error


@attrs.frozen(kw_only=True)
class SyncActivities:
    """The activities of a worker. ``warehouse`` serves inputs that name none;
    ``batch_rows`` sets the rows per commit (the engine's default when ``None``).

    .. versionadded:: 0.2
    """

    warehouse: str
    batch_rows: int | None = None

    @activity.defn(name=PLAN_ACTIVITY)
    def plan_connection(self, input: ConnectionSyncInput) -> ConnectionPlan:
        """Load and check the config (secrets resolved here) and list the schemas to sync."""
        attempt = activity.info().attempt
        rules: list[Any] = []
        try:
            connector, config = _open(input)
            source = connector.load_source()
            rules = list(source.get_non_retryable_errors())
            return ConnectionPlan(
                connection=input.connection, schemas=_chosen(input, source, config)
            )
        except Exception as error:
            _log_failure(f"checking {input.config_name}", error)
            raise to_application_error(error, rules, attempt=attempt) from None

    @activity.defn(name=SYNC_ACTIVITY)
    def sync_schema(self, input: SchemaSyncInput) -> SchemaSummary:
        """``headwater.sync.sync_schema`` for one schema, heartbeating its progress."""
        from headwater.runtime import Runtime
        from headwater.sync import BatchLimits, sync_schema

        limits = BatchLimits(max_rows=self.batch_rows) if self.batch_rows else None

        info = activity.info()
        where = f"{input.sync.connection}.{input.schema}"
        rules: list[Any] = []
        counter = ProgressCounter()
        try:
            connector, config = _open(input.sync)
            rules = list(connector.load_source().get_non_retryable_errors())
            runtime = Runtime(base_url=input.sync.base_url, progress=counter)
            warehouse = input.sync.warehouse or self.warehouse
            _log.info("%s: sync started (attempt %d)", where, info.attempt)
            if info.attempt > 1 and info.heartbeat_details:
                _log.info("%s: %s", where, _continuing(info.heartbeat_details[-1]))
            thread = _SyncThread(
                lambda: sync_schema(
                    connector,
                    config,
                    input.schema,
                    warehouse,
                    runtime,
                    full_refresh=input.sync.full_refresh,
                    limits=limits,
                )
            )
            thread.start()
            interval = _heartbeat_interval()
            activity.heartbeat(counter.snapshot())
            while True:
                thread.join(interval)
                if not thread.is_alive():
                    break
                activity.heartbeat(counter.snapshot())
            if thread.error is not None:
                raise thread.error
            result = thread.result
            assert result is not None
        except Exception as error:
            _log_failure(where, error)
            raise to_application_error(error, rules, attempt=info.attempt) from None
        summary = SchemaSummary(
            schema=input.schema,
            ok=True,
            rows_read=result.rows_read,
            rows_written=result.rows_written,
            pages=counter.pages,
            commits=len(result.commits),
            last_version=result.commits[-1] if result.commits else counter.last_version,
            sync_mode=result.sync_mode.value,
            watermark=None if result.watermark is None else _show(result.watermark),
            duration=result.duration,
            attempts=info.attempt,
        )
        _log.info("%s", f"{input.sync.connection}.{result.summary()}")
        return summary


def _continuing(last: Any) -> str:
    """What a retried attempt continues from, by the previous attempt's last heartbeat."""
    if not isinstance(last, dict):
        return "the previous attempt left no progress"
    written = last.get("rows_written", 0) + last.get("staged_rows", 0)
    how = (
        "continues mid-read from its last commit"
        if last.get("resume_saved")
        else "continues from the last committed watermark"
    )
    commits = last.get("commits", 0)
    return f"the previous attempt wrote {written} row(s) in {commits} commit(s); this one {how}"


def _show(value: Any) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _log_failure(where: str, error: BaseException) -> None:
    from headwater.errors import HeadwaterError

    if isinstance(error, HeadwaterError):
        _log.warning("%s: failed: %s", where, error)
        return
    # Not one of ours: its message could hold anything, so only where it happened is logged.
    frames = "".join(traceback.format_tb(error.__traceback__))
    _log.error("%s: unexpected %s\n%s", where, type(error).__name__, frames)


def _chosen(input: ConnectionSyncInput, source: Any, config: UserConfig) -> tuple[str, ...]:
    from headwater.config import check_schema_choices
    from headwater.runtime import Runtime
    from headwater.warehouse import table_location

    if input.warehouse is not None:
        try:
            table_location(input.warehouse, input.connection, "schema")
        except ValueError as error:
            raise ConfigError([ConfigProblem(path="$", message=str(error))]) from None
    offered = list(source.get_schemas(config.source, Runtime(base_url=input.base_url)))
    problems = check_schema_choices(config.schemas, offered)
    if problems:
        raise ConfigError(problems, context=input.config_name)
    names = [schema.name for schema in offered]
    for wanted in input.schemas:
        if wanted not in names:
            close = difflib.get_close_matches(wanted, sorted(names), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                [
                    ConfigProblem(
                        path="$",
                        message=f"{input.connector} has no schema {wanted!r}{hint};"
                        f" it offers: {', '.join(names)}",
                    )
                ],
                context=input.config_name,
            )
    if input.schemas:
        return tuple(dict.fromkeys(input.schemas))
    return tuple(
        name for name in names if name not in config.schemas or config.schemas[name].enabled
    )
