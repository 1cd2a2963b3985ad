"""What goes into Temporal's history: workflow and activity inputs, results and the memo.

Everything here is a frozen dataclass, because Temporal's default data converter types
dataclasses from their annotations (attrs classes would need a converter of our own on every
client and worker). None of these ever holds a resolved secret: a config travels as its TOML
text with its ``env:``/``file:`` references unresolved, and workers resolve them when an
activity starts.

.. versionadded:: 0.2
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = [
    "ConnectionPlan",
    "ConnectionSyncInput",
    "RetrySettings",
    "SchemaSummary",
    "SchemaSyncInput",
    "SyncSummary",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RetrySettings:
    """How a schema's activity is timed and retried (seconds).

    ``heartbeat_timeout`` is how long a silent activity (a killed worker) keeps its schema
    before Temporal retries it elsewhere; the activity heartbeats several times within it.
    Retries wait ``retry_interval``, doubling up to ``max_retry_interval``, at most
    ``max_attempts`` tries in all; a rate limit's ``Retry-After`` replaces the next wait.

    .. versionadded:: 0.2
    """

    heartbeat_timeout: float = 60.0
    retry_interval: float = 10.0
    max_retry_interval: float = 600.0
    max_attempts: int = 5
    sync_timeout: float = 12 * 3600.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConnectionSyncInput:
    """The input of one connection sync (:class:`~headwater.temporal.workflows.ConnectionSync`).

    ``config_text`` is the config file's TOML with references unresolved; ``config_name``
    names it in messages (the file it came from). ``connection`` is the folder of the
    connection's tables, decided when the sync was submitted. ``schemas`` picks schemas
    (empty: every enabled one). ``warehouse`` ``None`` means the worker's own ``--warehouse``.
    ``base_url`` sends the connector's requests elsewhere (an emulator, a proxy), as
    ``Runtime(base_url=...)`` does. ``parallelism`` bounds the schemas synced at once.

    .. versionadded:: 0.2
    """

    connector: str
    connection: str
    config_name: str
    config_text: str
    schemas: tuple[str, ...] = ()
    warehouse: str | None = None
    base_url: str | None = None
    full_refresh: bool = False
    parallelism: int = 4
    retry: RetrySettings = dataclasses.field(default_factory=RetrySettings)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SchemaSyncInput:
    """The input of one schema's sync: the connection's input and the schema's name.

    .. versionadded:: 0.2
    """

    sync: ConnectionSyncInput
    schema: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConnectionPlan:
    """What the validating activity found: the connection and the schemas to sync.

    .. versionadded:: 0.2
    """

    connection: str
    schemas: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SchemaSummary:
    """The outcome of one schema in a connection sync.

    ``ok`` is false when the schema failed; ``error`` is then the user's message and
    ``permanent`` tells whether retrying could help. ``attempts`` counts the activity's tries.
    ``commits`` counts the Delta commits the last attempt made; ``last_version`` is the
    table's version after it. ``watermark`` is shown as text.

    .. versionadded:: 0.2
    """

    schema: str
    ok: bool
    rows_read: int = 0
    rows_written: int = 0
    pages: int = 0
    commits: int = 0
    last_version: int | None = None
    sync_mode: str | None = None
    watermark: str | None = None
    duration: float = 0.0
    attempts: int = 1
    error: str | None = None
    permanent: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class SyncSummary:
    """The outcome of a connection sync: the workflow's result and its memo ``summary``.

    ``error`` is set when the sync as a whole failed (its config, or at least one schema).

    .. versionadded:: 0.2
    """

    connector: str
    connection: str
    schemas: tuple[SchemaSummary, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def rows_written(self) -> int:
        return sum(schema.rows_written for schema in self.schemas)

    def to_memo(self) -> dict[str, Any]:
        """The summary as plain JSON data, for the workflow's memo."""
        return dataclasses.asdict(self)

    @classmethod
    def from_memo(cls, data: dict[str, Any]) -> SyncSummary:
        """The summary a memo holds (see :meth:`to_memo`)."""
        fields = {field.name for field in dataclasses.fields(SchemaSummary)}
        schemas = tuple(
            SchemaSummary(**{k: v for k, v in item.items() if k in fields})
            for item in data.get("schemas", ())
        )
        return cls(
            connector=str(data.get("connector", "")),
            connection=str(data.get("connection", "")),
            schemas=schemas,
            error=data.get("error"),
        )
