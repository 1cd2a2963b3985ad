"""The emulator toolkit: fake a SaaS API from its docs and test a connector against it.

A connector's ``testing.py`` subclasses :class:`Emulator` (or writes a plain :data:`Handler`)
and exposes a :class:`ContractKit`. The same emulator then runs in process through
:func:`emulator_transport`, or over real sockets on 127.0.0.1 through :class:`EmulatorServer`.
Tests add rows between reads (:class:`RowStore`) and inject failures: a status with headers
(:class:`StatusFailure`), a timeout, a reset, or a truncated body. An emulator declares the
parameter rules the API documents (:class:`EndpointRules`: :class:`Together`,
:class:`Required`, :class:`Exclusive`, :class:`Choice`, :class:`Matches`,
:class:`IntegerRange`, :class:`KnownParams`) and answers a request that breaks one with the
API's own error, before its handler runs (new in 0.2).

Importing this package imports httpx; importing :mod:`headwater` alone does not.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.emulator._base import Emulator
from headwater.emulator._failures import (
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
from headwater.emulator._handler import Handler, json_response
from headwater.emulator._kit import ContractKit, InvalidConfig, ParentLink, SchemaKit
from headwater.emulator._params import (
    Choice,
    EndpointRules,
    Exclusive,
    IntegerRange,
    KnownParams,
    Matches,
    ParamProblem,
    ParamRule,
    Required,
    Together,
    check_params,
)
from headwater.emulator._server import EmulatorServer
from headwater.emulator._store import RowStore
from headwater.emulator._transport import emulator_transport

__all__ = [
    "Choice",
    "ContractKit",
    "EmulatedFailure",
    "EmulatedReset",
    "EmulatedTimeout",
    "EmulatedTruncation",
    "Emulator",
    "EmulatorServer",
    "EndpointRules",
    "Exclusive",
    "Failure",
    "Handler",
    "IntegerRange",
    "InvalidConfig",
    "KnownParams",
    "Matches",
    "ParamProblem",
    "ParamRule",
    "ParentLink",
    "Required",
    "ResetFailure",
    "RowStore",
    "SchemaKit",
    "StatusFailure",
    "TimeoutFailure",
    "Together",
    "TruncatedBodyFailure",
    "check_params",
    "emulator_transport",
    "json_response",
]
