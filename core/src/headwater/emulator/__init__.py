"""The emulator toolkit: fake a SaaS API from its docs and test a connector against it.

A connector's ``testing.py`` subclasses :class:`Emulator` (or writes a plain :data:`Handler`)
and exposes a :class:`ContractKit`. The same emulator then runs in process through
:func:`emulator_transport`, or over real sockets on 127.0.0.1 through :class:`EmulatorServer`.
Tests add rows between reads (:class:`RowStore`) and inject failures: a status with headers
(:class:`StatusFailure`), a timeout, a reset, or a truncated body.

Importing this package imports httpx; importing :mod:`headwater` alone does not.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.emulator.base import Emulator
from headwater.emulator.failures import (
    EmulatedFailure,
    EmulatedReset,
    EmulatedTimeout,
    EmulatedTruncation,
    Failure,
    ResetFailure,
    StatusFailure,
    TimeoutFailure,
    TruncatedBodyFailure,
)
from headwater.emulator.handler import Handler, json_response
from headwater.emulator.kit import ContractKit, InvalidConfig, ParentLink, SchemaKit
from headwater.emulator.server import EmulatorServer
from headwater.emulator.store import RowStore
from headwater.emulator.transport import emulator_transport

__all__ = [
    "ContractKit",
    "EmulatedFailure",
    "EmulatedReset",
    "EmulatedTimeout",
    "EmulatedTruncation",
    "Emulator",
    "EmulatorServer",
    "Failure",
    "Handler",
    "InvalidConfig",
    "ParentLink",
    "ResetFailure",
    "RowStore",
    "SchemaKit",
    "StatusFailure",
    "TimeoutFailure",
    "TruncatedBodyFailure",
    "emulator_transport",
    "json_response",
]
