"""The names Headwater uses in Temporal: workflow types, activity types, IDs, defaults.

Workflow IDs derive from the target: ``headwater-sync/CONNECTION`` for a connection sync and
``headwater-sync/CONNECTION/SCHEMA`` for each schema's child workflow (one table). Temporal
runs at most one open workflow per ID, so two syncs of one table never run at once, whoever
started them (a schedule, ``headwater submit``, another machine).

.. versionadded:: 0.2
"""

from __future__ import annotations

__all__ = [
    "ADDRESS_ENV",
    "CONNECTION_WORKFLOW",
    "DEFAULT_ADDRESS",
    "DEFAULT_NAMESPACE",
    "DEFAULT_TASK_QUEUE",
    "NAMESPACE_ENV",
    "PLAN_ACTIVITY",
    "SCHEMA_WORKFLOW",
    "SYNC_ACTIVITY",
    "TASK_QUEUE_ENV",
    "connection_workflow_id",
    "schedule_id",
    "schema_workflow_id",
]

ADDRESS_ENV = "HEADWATER_TEMPORAL_ADDRESS"
NAMESPACE_ENV = "HEADWATER_TEMPORAL_NAMESPACE"
TASK_QUEUE_ENV = "HEADWATER_TEMPORAL_TASK_QUEUE"
DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "headwater"

CONNECTION_WORKFLOW = "headwater.ConnectionSync"
SCHEMA_WORKFLOW = "headwater.SchemaSync"
PLAN_ACTIVITY = "headwater.plan_connection"
SYNC_ACTIVITY = "headwater.sync_schema"

_PREFIX = "headwater-sync/"


def connection_workflow_id(connection: str) -> str:
    """The workflow ID of a connection's sync (and the prefix of its scheduled runs' IDs).

    .. versionadded:: 0.2
    """
    return _PREFIX + connection


def schema_workflow_id(connection: str, schema: str) -> str:
    """The workflow ID of one table's sync: ``headwater-sync/CONNECTION/SCHEMA``.

    .. versionadded:: 0.2
    """
    return f"{_PREFIX}{connection}/{schema}"


def schedule_id(connection: str) -> str:
    """The ID of a connection's schedule (schedules have IDs of their own).

    .. versionadded:: 0.2
    """
    return _PREFIX + connection
