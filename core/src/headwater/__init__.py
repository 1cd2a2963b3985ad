"""Headwater: a thin host for data connectors shipped as separately versioned packages.

The public face of the host. Importing it stays light (attrs, pluggy): no httpx, no pyarrow,
so listing connectors is fast. The emulator toolkit lives in :mod:`headwater.emulator`.
"""

from __future__ import annotations

from headwater.errors import ErrorKind, ErrorRule
from headwater.hookspecs import hookimpl
from headwater.runtime import (
    ManualClock,
    NullProgress,
    ProgressEvent,
    ProgressKind,
    RequestBudget,
    Runtime,
    SystemClock,
)
from headwater.secret import Secret
from headwater.sources import (
    CONTRACT_MAJOR,
    Field,
    FileUploadField,
    IncrementalField,
    IncrementalFieldType,
    NumberField,
    OAuthField,
    PartitionFormat,
    PartitionMode,
    ReleaseStatus,
    ResumePoint,
    SecretField,
    SelectField,
    SelectOption,
    SortMode,
    Source,
    SourceConfig,
    SourceInputs,
    SourceResponse,
    SourceSchema,
    SourceSpec,
    SwitchGroupField,
    SyncMode,
    TextField,
    TextKind,
)

__version__ = "0.1.0"
"""The version of the ``headwater`` distribution.

.. versionadded:: 0.1
"""

__all__ = [
    "CONTRACT_MAJOR",
    "ErrorKind",
    "ErrorRule",
    "Field",
    "FileUploadField",
    "IncrementalField",
    "IncrementalFieldType",
    "ManualClock",
    "NullProgress",
    "NumberField",
    "OAuthField",
    "PartitionFormat",
    "PartitionMode",
    "ProgressEvent",
    "ProgressKind",
    "ReleaseStatus",
    "RequestBudget",
    "ResumePoint",
    "Runtime",
    "Secret",
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
    "SystemClock",
    "TextField",
    "TextKind",
    "__version__",
    "hookimpl",
]
