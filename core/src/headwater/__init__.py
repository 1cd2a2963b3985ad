"""Headwater: a thin host for data connectors shipped as separately versioned packages.

The public face of the host. Importing it stays light: each name is imported from its module
on first use (a plugin module that imports ``SourceSpec`` and ``hookimpl`` loads only those),
and nothing here imports httpx or pyarrow, so listing connectors is fast. The emulator
toolkit lives in :mod:`headwater.emulator`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from headwater._lazy import lazy_exports

if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "headwater.errors": ("ErrorKind", "ErrorRule"),
        "headwater.hookspecs": ("hookimpl",),
        "headwater.runtime": (
            "ManualClock",
            "NullProgress",
            "ProgressEvent",
            "ProgressKind",
            "RequestBudget",
            "Runtime",
            "SystemClock",
        ),
        "headwater.secret": ("Secret",),
        "headwater.sources": (
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
        ),
    },
)
