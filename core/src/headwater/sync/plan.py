"""Deciding how one schema is synced: its mode, its incremental field, and how it is written.

The mode is the one the config file chooses (``[schemas.NAME] sync_mode``); without a choice
it is the schema's default: the connector's declared default if it has one, else
``incremental`` when the schema supports it, else ``append``, else ``full_refresh``. The
incremental field is the configured one, else the schema's first.

How the rows are written follows from the mode: ``incremental`` MERGEs each batch on the
primary keys, ``append`` appends it, ``full_refresh`` replaces the table in one commit. A
*rewrite* (``--full-refresh``, or the first sync after ``headwater reset``) replaces the table
in one commit whatever the mode, ignoring the previous state, and starts a new one.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from headwater.errors import ConfigError, ConfigProblem
from headwater.sources.schema import IncrementalField, SyncMode

if TYPE_CHECKING:
    from headwater.config.user import SchemaChoice
    from headwater.sources.schema import SourceSchema

__all__ = ["SyncPlan", "WriteStrategy", "plan_sync"]


class WriteStrategy(enum.StrEnum):
    """How batches reach the table.

    .. versionadded:: 0.1
    """

    MERGE = "merge"
    APPEND = "append"
    REPLACE = "replace"


@attrs.frozen(kw_only=True)
class SyncPlan:
    """What was decided for one schema sync.

    .. versionadded:: 0.1
    """

    schema: str
    sync_mode: SyncMode
    incremental_field: IncrementalField | None = None
    rewrite: bool = False

    @property
    def tracks_watermark(self) -> bool:
        """Whether the sync reads incrementally and keeps a watermark."""
        return self.incremental_field is not None

    @property
    def strategy(self) -> WriteStrategy:
        if self.rewrite or self.sync_mode is SyncMode.FULL_REFRESH:
            return WriteStrategy.REPLACE
        if self.sync_mode is SyncMode.INCREMENTAL:
            return WriteStrategy.MERGE
        return WriteStrategy.APPEND


def plan_sync(
    schema: SourceSchema, choice: SchemaChoice | None, *, rewrite: bool = False
) -> SyncPlan:
    """Decide the mode and incremental field of ``schema`` for this sync.

    :raises ConfigError: when the config chooses a mode or incremental field the schema does
        not offer.

    .. versionadded:: 0.1
    """
    path = f"$.schemas.{schema.name}"
    mode = schema.effective_default_sync_mode
    if choice is not None and choice.sync_mode is not None:
        chosen = SyncMode(choice.sync_mode)
        if chosen not in schema.sync_modes:
            supported = ", ".join(m.value for m in schema.sync_modes)
            raise ConfigError(
                [
                    ConfigProblem(
                        path=f"{path}.sync_mode",
                        message=f"schema '{schema.name}' does not support sync mode"
                        f" '{chosen.value}'; expected one of {supported}",
                    )
                ]
            )
        mode = chosen
    field: IncrementalField | None = None
    if mode is not SyncMode.FULL_REFRESH:
        wanted = choice.incremental_field if choice is not None else None
        offered = {f.field: f for f in schema.incremental_fields}
        if wanted is not None and wanted not in offered:
            raise ConfigError(
                [
                    ConfigProblem(
                        path=f"{path}.incremental_field",
                        message=f"schema '{schema.name}' does not offer incremental field"
                        f" '{wanted}'; expected one of {', '.join(offered)}",
                    )
                ]
            )
        field = offered[wanted] if wanted is not None else schema.incremental_fields[0]
    return SyncPlan(schema=schema.name, sync_mode=mode, incremental_field=field, rewrite=rewrite)
