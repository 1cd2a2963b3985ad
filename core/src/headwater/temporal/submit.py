"""Starting a connection sync: the input built from a config file, the workflow started.

The workflow's ID is the connection's (``headwater-sync/CONNECTION``). Starting a second
sync of a connection while one runs is refused (``WorkflowIDConflictPolicy.FAIL``), or joins
the running one when asked (``USE_EXISTING``): one connection never has two syncs at once.

.. versionadded:: 0.2
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError

from headwater.temporal.configs import read_config_for_submit
from headwater.temporal.inputs import ConnectionSyncInput, RetrySettings, SyncSummary
from headwater.temporal.names import CONNECTION_WORKFLOW, connection_workflow_id

__all__ = ["build_input", "run_memo", "start_sync", "sync_outcome"]


def _warehouse(warehouse: str | None) -> str | None:
    from headwater.warehouse import is_object_store

    if warehouse is None or is_object_store(warehouse):
        return warehouse
    return os.path.abspath(warehouse)


def build_input(
    name: str,
    config_path: Path,
    *,
    connection: str | None = None,
    schemas: Sequence[str] = (),
    warehouse: str | None = None,
    base_url: str | None = None,
    full_refresh: bool = False,
    parallelism: int = 4,
    retry: RetrySettings | None = None,
) -> ConnectionSyncInput:
    """The workflow input for syncing connector ``name`` with the config at ``config_path``.

    Nothing is resolved: the config travels as text with its references. A local warehouse
    folder is made absolute (workers on this machine find it wherever they run).

    :raises ConfigError: for an unreadable file or a secret written as a literal value.
    :raises ValueError: for a connection name or warehouse that cannot hold tables.

    .. versionadded:: 0.2
    """
    from headwater.discovery import get_registry
    from headwater.warehouse import table_location

    registry = get_registry()
    connector = registry.connector(name)
    submitted = read_config_for_submit(config_path, connector, registry.secret_resolvers())
    chosen = connection or submitted.connection or connector.source_type
    table_location(warehouse or "warehouse", chosen, "schema")
    return ConnectionSyncInput(
        connector=connector.source_type,
        connection=chosen,
        config_name=submitted.name,
        config_text=submitted.text,
        schemas=tuple(dict.fromkeys(schemas)),
        warehouse=_warehouse(warehouse),
        base_url=base_url,
        full_refresh=full_refresh,
        parallelism=parallelism,
        retry=retry or RetrySettings(),
    )


def run_memo(input: ConnectionSyncInput) -> dict[str, Any]:
    """The memo a run starts with: what it syncs (the summary is added when it ends).

    .. versionadded:: 0.2
    """
    return {"connector": input.connector, "connection": input.connection}


async def start_sync(
    client: Client, input: ConnectionSyncInput, task_queue: str, *, join: bool = False
) -> WorkflowHandle[Any, SyncSummary]:
    """Start a connection sync (or, with ``join``, attach to the one running).

    :raises temporalio.exceptions.WorkflowAlreadyStartedError: when one is running and
        ``join`` is false.

    .. versionadded:: 0.2
    """
    return await client.start_workflow(
        CONNECTION_WORKFLOW,
        input,
        id=connection_workflow_id(input.connection),
        task_queue=task_queue,
        result_type=SyncSummary,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy=(
            WorkflowIDConflictPolicy.USE_EXISTING if join else WorkflowIDConflictPolicy.FAIL
        ),
        memo=run_memo(input),
    )


async def sync_outcome(handle: WorkflowHandle[Any, SyncSummary]) -> SyncSummary:
    """Wait for a connection sync; its summary, whether it completed or failed.

    .. versionadded:: 0.2
    """
    try:
        return await handle.result()
    except WorkflowFailureError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.details:
            data = cause.details[0]
            if isinstance(data, dict):
                return SyncSummary.from_memo(data)
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        return SyncSummary(connector="", connection="", error=message or "the sync failed")
