"""Connecting to a Temporal service, with a deadline and a one-line error.

.. versionadded:: 0.2
"""

from __future__ import annotations

import asyncio

import attrs
from temporalio.client import Client

from headwater.errors import HeadwaterError

__all__ = ["TemporalTarget", "TemporalUnreachable", "connect"]

CONNECT_TIMEOUT = 10.0


class TemporalUnreachable(HeadwaterError):
    """The Temporal service did not answer at the given address.

    .. versionadded:: 0.2
    """


@attrs.frozen(kw_only=True)
class TemporalTarget:
    """Where Temporal is: the frontend's ``HOST:PORT``, the namespace, the task queue.

    .. versionadded:: 0.2
    """

    address: str
    namespace: str
    task_queue: str


async def connect(target: TemporalTarget, *, timeout: float = CONNECT_TIMEOUT) -> Client:
    """A client of ``target``'s namespace.

    :raises TemporalUnreachable: when no connection is made within ``timeout`` seconds.

    .. versionadded:: 0.2
    """
    try:
        return await asyncio.wait_for(
            Client.connect(target.address, namespace=target.namespace), timeout
        )
    except (TimeoutError, RuntimeError, OSError) as error:
        detail = str(error).splitlines()[0] if str(error) else "no answer"
        raise TemporalUnreachable(
            f"cannot reach Temporal at {target.address} (namespace {target.namespace}):"
            f" {detail}; start it (`temporal server start-dev`) or set --address"
        ) from None
