"""The source contract: what a connector implements and the types it exchanges with the host.

Everything here belongs to contract major :data:`CONTRACT_MAJOR`. Importing this package is
cheap (attrs only): listing connectors uses it.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice. Connectors import its public names from ``headwater``.

.. versionadded:: 0.1
"""

from __future__ import annotations

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
from headwater.sources.schema import IncrementalField, IncrementalFieldType, SourceSchema, SyncMode
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
