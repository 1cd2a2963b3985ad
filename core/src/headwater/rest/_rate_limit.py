"""One rate-limit pause per API, shared by every thread that talks to it.

When fan-out workers read children of many parents at once and the API answers one of them
429 "retry after 30 s", the others would each run into their own 429 if they kept going:
concurrency would multiply the rate-limit hits. So a rate-limit wait is not private to the
request that got it; it holds a :class:`RateLimitGate` that every request to the same origin
passes before it takes its slot from the run's :class:`~headwater.RequestBudget`.

Gates are found through the budget: requests that share a Runtime's budget (all workers, all
clients of one run) and an origin share a gate; another run, or another API, does not wait.
The budget object itself lives in :mod:`headwater.runtime`; the gates hang off it here (in a
weak mapping) so the Runtime stays unaware of HTTP.

.. versionadded:: 0.1
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headwater.rest._origin import Origin
    from headwater.runtime import Clock, RequestBudget

__all__ = ["RateLimitGate", "shared_gate"]


class RateLimitGate:
    """Blocks requests until a rate-limit pause ends. Thread-safe.

    .. versionadded:: 0.1
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = -math.inf

    def hold(self, seconds: float, clock: Clock) -> None:
        """Pause every request for ``seconds`` from now (an earlier pause is never shortened)."""
        until = clock.monotonic() + seconds
        with self._lock:
            self._until = max(self._until, until)

    def remaining(self, clock: Clock) -> float:
        """Seconds until the pause ends; 0 when there is none."""
        # A plain read: a float attribute is replaced atomically, and a pause that starts
        # just after this read is the same race as one that starts just after the request.
        until = self._until
        return max(until - clock.monotonic(), 0.0) if until != -math.inf else 0.0

    def wait(self, clock: Clock, sleep: Callable[[float], None]) -> float:
        """Sleep (through ``sleep``) until no pause holds; return the seconds slept."""
        slept = 0.0
        # A loop: another thread may extend the pause while this one sleeps.
        while (remaining := self.remaining(clock)) > 0:
            sleep(remaining)
            slept += remaining
        return slept


_GATES: weakref.WeakKeyDictionary[RequestBudget, dict[Origin, RateLimitGate]] = (
    weakref.WeakKeyDictionary()
)
_GATES_LOCK = threading.Lock()


def shared_gate(budget: RequestBudget, origin: Origin) -> RateLimitGate:
    """The gate of ``origin`` among the requests that share ``budget``.

    .. versionadded:: 0.1
    """
    with _GATES_LOCK:
        gates = _GATES.setdefault(budget, {})
        gate = gates.get(origin)
        if gate is None:
            gate = gates[origin] = RateLimitGate()
        return gate
