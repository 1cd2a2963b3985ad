"""The tables a source offers and how each can be synced.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

__all__ = ["IncrementalField", "IncrementalFieldType", "SourceSchema", "SyncMode"]


class IncrementalFieldType(enum.StrEnum):
    """The type of an incremental field's values, which decides how watermarks compare.

    .. versionadded:: 0.1
    """

    INTEGER = "integer"
    NUMERIC = "numeric"
    DATETIME = "datetime"
    DATE = "date"
    TIMESTAMP = "timestamp"
    OBJECTID = "objectid"


class SyncMode(enum.StrEnum):
    """How a schema is written: MERGE on keys, plain append, or one replacing commit.

    .. versionadded:: 0.1
    """

    INCREMENTAL = "incremental"
    APPEND = "append"
    FULL_REFRESH = "full_refresh"


@attrs.frozen(kw_only=True)
class IncrementalField:
    """A field the API can filter on, so a sync can ask only for rows past the watermark.

    ``field`` is the column in emitted rows; ``label`` is what a form shows.

    .. versionadded:: 0.1
    """

    field: str
    label: str
    type: IncrementalFieldType = attrs.field(converter=IncrementalFieldType)


def _incremental_fields(value: Iterable[IncrementalField]) -> tuple[IncrementalField, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class SourceSchema:
    """One table a source offers.

    .. versionadded:: 0.1
    """

    name: str
    supports_incremental: bool = False
    supports_append: bool = False
    incremental_fields: tuple[IncrementalField, ...] = attrs.field(
        default=(), converter=_incremental_fields
    )
    description: str = ""
    default_sync_mode: SyncMode | None = attrs.field(
        default=None, converter=attrs.converters.optional(SyncMode)
    )

    def __attrs_post_init__(self) -> None:
        if (self.supports_incremental or self.supports_append) and not self.incremental_fields:
            raise ValueError(
                f"schema {self.name!r} supports incremental or append syncs"
                " but declares no incremental field"
            )
        if self.default_sync_mode is not None and self.default_sync_mode not in self.sync_modes:
            raise ValueError(
                f"schema {self.name!r}: default sync mode {self.default_sync_mode} is not supported"
            )

    @property
    def sync_modes(self) -> tuple[SyncMode, ...]:
        """The modes this schema can use, most economical first."""
        modes = []
        if self.supports_incremental:
            modes.append(SyncMode.INCREMENTAL)
        if self.supports_append:
            modes.append(SyncMode.APPEND)
        modes.append(SyncMode.FULL_REFRESH)
        return tuple(modes)

    @property
    def effective_default_sync_mode(self) -> SyncMode:
        """The declared default, else incremental, else append, else full refresh."""
        return self.default_sync_mode or self.sync_modes[0]
