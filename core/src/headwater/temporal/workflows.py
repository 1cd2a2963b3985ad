"""The workflows: a connection sync, and one child workflow per schema (per table).

:class:`ConnectionSync` validates the config in an activity, then starts a
:class:`SchemaSync` child workflow for each enabled schema, at most ``parallelism`` at once.
Each child's ID is its table's (``headwater-sync/CONNECTION/SCHEMA``): a table already being
synced by another run, scheduled or not, makes that schema fail with a message saying so
instead of a second writer starting. A schema that fails does not stop the others.

The result is a :class:`~headwater.temporal.inputs.SyncSummary` (rows, pages, commits,
watermark, error per schema), also upserted into the workflow's memo under ``summary``. When
the config or any schema failed, the workflow fails with one message naming the schemas and
their errors (identical messages once), and the summary rides along in the error's details.

Workflow code is deterministic: no I/O, no clock, only Temporal's APIs.

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio
import datetime as dt

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from headwater.temporal.inputs import (
        ConnectionPlan,
        ConnectionSyncInput,
        RetrySettings,
        SchemaSummary,
        SchemaSyncInput,
        SyncSummary,
    )
    from headwater.temporal.names import (
        CONNECTION_WORKFLOW,
        PLAN_ACTIVITY,
        SCHEMA_WORKFLOW,
        SYNC_ACTIVITY,
        schema_workflow_id,
    )

__all__ = ["ConnectionSync", "SchemaSync", "failure_message"]

MEMO_SUMMARY = "summary"
"""The memo key holding a finished sync's summary."""

_PLAN_TIMEOUT = dt.timedelta(minutes=5)


def _retry_policy(settings: RetrySettings) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=dt.timedelta(seconds=settings.retry_interval),
        backoff_coefficient=2.0,
        maximum_interval=dt.timedelta(seconds=settings.max_retry_interval),
        maximum_attempts=settings.max_attempts,
    )


def _failure(error: BaseException) -> tuple[str, bool, int]:
    """The user's message, whether it is permanent, and the attempt it came from."""
    cause: BaseException | None = error
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        details = cause.details
        attempt = details[0] if details and isinstance(details[0], int) else 1
        permanent = bool(details[1]) if len(details) > 1 else cause.non_retryable
        return cause.message, permanent, attempt
    if cause is not None and cause is not error and str(cause):
        return str(cause), False, 1
    return str(error) or type(error).__name__, False, 1


def failure_message(summary: SyncSummary) -> str:
    """One message for a failed sync: which schemas failed and why, each reason once.

    .. versionadded:: 0.2
    """
    failed = [schema for schema in summary.schemas if not schema.ok]
    reasons: dict[str, list[str]] = {}
    for schema in failed:
        reasons.setdefault(schema.error or "failed", []).append(schema.schema)
    parts = [f"{', '.join(names)}: {reason}" for reason, names in reasons.items()]
    head = f"{len(failed)} of {len(summary.schemas)} schemas of {summary.connection} failed"
    return f"{head}; " + "; ".join(parts)


@workflow.defn(name=SCHEMA_WORKFLOW)
class SchemaSync:
    """One table: the sync activity, retried as the input's retry settings say.

    .. versionadded:: 0.2
    """

    @workflow.run
    async def run(self, input: SchemaSyncInput) -> SchemaSummary:
        settings = input.sync.retry
        try:
            summary: SchemaSummary = await workflow.execute_activity(
                SYNC_ACTIVITY,
                input,
                result_type=SchemaSummary,
                start_to_close_timeout=dt.timedelta(seconds=settings.sync_timeout),
                heartbeat_timeout=dt.timedelta(seconds=settings.heartbeat_timeout),
                retry_policy=_retry_policy(settings),
                activity_id=input.schema,
            )
            return summary
        except ActivityError as error:
            message, permanent, attempt = _failure(error)
            return SchemaSummary(
                schema=input.schema,
                ok=False,
                error=message,
                permanent=permanent,
                attempts=attempt,
            )


@workflow.defn(name=CONNECTION_WORKFLOW)
class ConnectionSync:
    """A connection: the config checked, then every chosen schema's child workflow.

    .. versionadded:: 0.2
    """

    @workflow.run
    async def run(self, input: ConnectionSyncInput) -> SyncSummary:
        try:
            plan = await workflow.execute_activity(
                PLAN_ACTIVITY,
                input,
                result_type=ConnectionPlan,
                start_to_close_timeout=_PLAN_TIMEOUT,
                retry_policy=_retry_policy(input.retry),
            )
        except ActivityError as error:
            message = _failure(error)[0]
            summary = SyncSummary(
                connector=input.connector, connection=input.connection, error=message
            )
            self._finish(summary)
            raise ApplicationError(message, summary, non_retryable=True) from None

        gate = asyncio.Semaphore(max(1, input.parallelism))

        async def one(schema: str) -> SchemaSummary:
            async with gate:
                return await self._schema(input, plan, schema)

        results = await asyncio.gather(*(one(schema) for schema in plan.schemas))
        summary = SyncSummary(
            connector=input.connector, connection=plan.connection, schemas=tuple(results)
        )
        if any(not schema.ok for schema in summary.schemas):
            summary = SyncSummary(
                connector=summary.connector,
                connection=summary.connection,
                schemas=summary.schemas,
                error=failure_message(summary),
            )
        self._finish(summary)
        if summary.error is not None:
            raise ApplicationError(summary.error, summary, non_retryable=True)
        return summary

    async def _schema(
        self, input: ConnectionSyncInput, plan: ConnectionPlan, schema: str
    ) -> SchemaSummary:
        child_id = schema_workflow_id(plan.connection, schema)
        try:
            summary: SchemaSummary = await workflow.execute_child_workflow(
                SCHEMA_WORKFLOW,
                SchemaSyncInput(sync=input, schema=schema),
                result_type=SchemaSummary,
                id=child_id,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                memo={"connection": plan.connection, "schema": schema},
            )
            return summary
        except WorkflowAlreadyStartedError:
            return SchemaSummary(
                schema=schema,
                ok=False,
                error=f"table {plan.connection}.{schema} is being synced by another run"
                f" (workflow {child_id}); this run skipped it",
            )
        except ChildWorkflowError as error:
            message, permanent, attempt = _failure(error)
            return SchemaSummary(
                schema=schema, ok=False, error=message, permanent=permanent, attempts=attempt
            )

    def _finish(self, summary: SyncSummary) -> None:
        workflow.upsert_memo({MEMO_SUMMARY: summary.to_memo()})
