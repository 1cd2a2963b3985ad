"""The source contract: what a connector implements and the types it exchanges with the host.

Everything here belongs to contract major :data:`CONTRACT_MAJOR`. Importing this package is
cheap: each name is imported from its module on first use (listing connectors needs only
:class:`SourceSpec`).

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice. Connectors import its public names from ``headwater``.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from headwater._lazy import lazy_exports

if TYPE_CHECKING:
    from headwater.sources.base import Source
    from headwater.sources.fields import (
        Field,
        FileUploadField,
        NumberField,
        OAuthField,
        SecretField,
        SelectField,
        SelectOption,
        SwitchGroupField,
        TextField,
        TextKind,
        field_job,
        field_jobs,
        is_secret,
        walk_fields,
    )
    from headwater.sources.metadata import SourceConfig
    from headwater.sources.pipeline import (
        PartitionFormat,
        PartitionMode,
        ResumePoint,
        SortMode,
        SourceInputs,
        SourceResponse,
    )
    from headwater.sources.schema import (
        IncrementalField,
        IncrementalFieldType,
        SourceSchema,
        SyncMode,
    )
    from headwater.sources.spec import CONTRACT_MAJOR, ReleaseStatus, SourceSpec

__all__ = [
    "CONTRACT_MAJOR",
    "Field",
    "FileUploadField",
    "IncrementalField",
    "IncrementalFieldType",
    "NumberField",
    "OAuthField",
    "PartitionFormat",
    "PartitionMode",
    "ReleaseStatus",
    "ResumePoint",
    "SecretField",
    "SelectField",
    "SelectOption",
    "SortMode",
    "Source",
    "SourceConfig",
    "SourceInputs",
    "SourceResponse",
    "SourceSchema",
    "SourceSpec",
    "SwitchGroupField",
    "SyncMode",
    "TextField",
    "TextKind",
    "field_job",
    "field_jobs",
    "is_secret",
    "walk_fields",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "headwater.sources.base": ("Source",),
        "headwater.sources.fields": (
            "Field",
            "FileUploadField",
            "NumberField",
            "OAuthField",
            "SecretField",
            "SelectField",
            "SelectOption",
            "SwitchGroupField",
            "TextField",
            "TextKind",
            "field_job",
            "field_jobs",
            "is_secret",
            "walk_fields",
        ),
        "headwater.sources.metadata": ("SourceConfig",),
        "headwater.sources.pipeline": (
            "PartitionFormat",
            "PartitionMode",
            "ResumePoint",
            "SortMode",
            "SourceInputs",
            "SourceResponse",
        ),
        "headwater.sources.schema": (
            "IncrementalField",
            "IncrementalFieldType",
            "SourceSchema",
            "SyncMode",
        ),
        "headwater.sources.spec": ("CONTRACT_MAJOR", "ReleaseStatus", "SourceSpec"),
    },
)
