"""A schema's sync state: the document every Headwater commit carries.

The state says where the next sync starts (the :class:`~headwater.sync.watermark.Position`)
and how the table was written (the :class:`Layout`: primary keys, incremental field,
partition scheme), so a later sync can tell that a connector upgrade changed them. It is
stored in the table itself (see :mod:`headwater.warehouse.state_log`); this module is its
model and its JSON form::

    {
      "format": 1,                       # the state-format version; newer ones are refused
      "sequence": 12,                    # one more with every Headwater commit
      "schema": "orders",
      "sync_mode": "incremental",
      "layout": {"primary_keys": ["id"], "incremental_field": "updated_at",
                 "incremental_field_type": "datetime",
                 "partition": {"mode": "datetime", "keys": ["created_at"], "format": "month",
                               "count": null, "size": null}},
      "position": {"watermark": "2026-01-01T10:00:00+00:00", "watermark_keys": ["[17]"],
                   "earliest": null, "earliest_keys": [], "pending": null, "pending_keys": []},
      "resume": null,                    # a source's resume token, handed back on the next run
      "complete": true,                  # false while a read that moves at completion runs
      "reset": false,                    # true after `headwater reset`: the next sync rewrites
      "run": "5f0c...",                  # the sync that wrote it
      "written_by": "headwater 0.1.0; example (built in)",
      "written_at": "2026-01-01T10:00:03+00:00"
    }

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from headwater.errors import StateError
from headwater.sources.schema import IncrementalFieldType, SyncMode
from headwater.sync.watermark import Position, decode_value, encode_value
from headwater.warehouse.partitioning import PartitionScheme

__all__ = ["Layout", "STATE_FORMAT", "SchemaState"]

STATE_FORMAT = 1
"""The version of the state document this Headwater writes and reads."""


def _optional_names(names: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if names is None else tuple(names)


def _names(value: tuple[str, ...] | None) -> str:
    return "none" if not value else "(" + ", ".join(value) + ")"


@attrs.frozen(kw_only=True)
class Layout:
    """How a table is written: what a connector upgrade must not change silently.

    .. versionadded:: 0.1
    """

    primary_keys: tuple[str, ...] | None = attrs.field(default=None, converter=_optional_names)
    incremental_field: str | None = None
    incremental_field_type: IncrementalFieldType | None = attrs.field(
        default=None, converter=attrs.converters.optional(IncrementalFieldType)
    )
    partition: PartitionScheme | None = None

    def changes_from(self, old: Layout, *, has_watermark: bool) -> list[str]:
        """What differs from ``old`` in a way that would mix two layouts in one table.

        Keys and incremental field matter only where the old ones were in use (keys were
        declared; a watermark was kept).
        """
        changes = []
        if old.primary_keys and self.primary_keys != old.primary_keys:
            changes.append(
                f"primary keys {_names(old.primary_keys)} -> {_names(self.primary_keys)}"
            )
        if has_watermark and (
            (self.incremental_field, self.incremental_field_type)
            != (old.incremental_field, old.incremental_field_type)
        ):
            changes.append(
                f"incremental field {old.incremental_field} ({old.incremental_field_type})"
                f" -> {self.incremental_field or 'none'}"
                + (f" ({self.incremental_field_type})" if self.incremental_field else "")
            )
        if self.partition != old.partition:
            before = old.partition.describe() if old.partition else "none"
            after = self.partition.describe() if self.partition else "none"
            changes.append(f"partitioning {before} -> {after}")
        return changes

    def to_json(self) -> dict[str, Any]:
        return {
            "primary_keys": list(self.primary_keys) if self.primary_keys else None,
            "incremental_field": self.incremental_field,
            "incremental_field_type": (
                self.incremental_field_type.value if self.incremental_field_type else None
            ),
            "partition": self.partition.to_json() if self.partition else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Layout:
        partition = data.get("partition")
        return cls(
            primary_keys=data.get("primary_keys"),
            incremental_field=data.get("incremental_field"),
            incremental_field_type=data.get("incremental_field_type"),
            partition=PartitionScheme.from_json(partition) if partition else None,
        )


@attrs.frozen(kw_only=True)
class SchemaState:
    """The state of one schema's table after a Headwater commit.

    .. versionadded:: 0.1
    """

    sequence: int
    schema: str
    sync_mode: SyncMode = attrs.field(converter=SyncMode)
    layout: Layout = attrs.field(factory=Layout)
    position: Position = attrs.field(factory=Position)
    resume: Mapping[str, Any] | None = None
    complete: bool = True
    reset: bool = False
    run: str = ""
    written_by: str = ""
    written_at: str = ""
    format: int = STATE_FORMAT

    @property
    def watermark(self) -> Any:
        """The inclusive lower bound of the next read (``None``: read everything)."""
        return self.position.watermark

    def to_document(self) -> dict[str, Any]:
        """The JSON document stored with the commit."""
        kind = self.layout.incremental_field_type
        position = self.position

        def value(raw: Any) -> Any:
            return encode_value(raw, kind) if kind else None

        return {
            "format": self.format,
            "sequence": self.sequence,
            "schema": self.schema,
            "sync_mode": self.sync_mode.value,
            "layout": self.layout.to_json(),
            "position": {
                "watermark": value(position.watermark),
                "watermark_keys": sorted(position.watermark_keys),
                "earliest": value(position.earliest),
                "earliest_keys": sorted(position.earliest_keys),
                "pending": value(position.pending),
                "pending_keys": sorted(position.pending_keys),
            },
            "resume": dict(self.resume) if self.resume is not None else None,
            "complete": self.complete,
            "reset": self.reset,
            "run": self.run,
            "written_by": self.written_by,
            "written_at": self.written_at,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any], *, where: str = "") -> SchemaState:
        """Read a stored document back.

        :raises StateError: for a document of a newer state format, or one that is damaged.
        """
        at = f" of {where}" if where else ""
        version = document.get("format")
        if not isinstance(version, int) or version > STATE_FORMAT:
            raise StateError(
                f"the sync state{at} has format {version!r}, newer than this Headwater reads"
                f" ({STATE_FORMAT}); upgrade headwater"
            )
        try:
            layout = Layout.from_json(document["layout"])
            kind = layout.incremental_field_type
            raw = document["position"]

            def value(name: str) -> Any:
                return decode_value(raw.get(name), kind) if kind else None

            position = Position(
                watermark=value("watermark"),
                watermark_keys=frozenset(raw.get("watermark_keys", ())),
                earliest=value("earliest"),
                earliest_keys=frozenset(raw.get("earliest_keys", ())),
                pending=value("pending"),
                pending_keys=frozenset(raw.get("pending_keys", ())),
            )
            return cls(
                sequence=document["sequence"],
                schema=document["schema"],
                sync_mode=document["sync_mode"],
                layout=layout,
                position=position,
                resume=document.get("resume"),
                complete=bool(document.get("complete", True)),
                reset=bool(document.get("reset", False)),
                run=str(document.get("run", "")),
                written_by=str(document.get("written_by", "")),
                written_at=str(document.get("written_at", "")),
                format=version,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise StateError(
                f"the sync state{at} is damaged ({type(error).__name__}: {error}); run the sync"
                " with --full-refresh to rewrite the table and start a new state"
            ) from None
