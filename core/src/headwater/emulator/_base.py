"""The class a connector's API emulator subclasses.

.. versionadded:: 0.1
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence
from typing import Any, assert_never, final

import attrs
import httpx

from headwater.emulator._failures import (
    EmulatedReset,
    EmulatedTimeout,
    EmulatedTruncation,
    Failure,
    ResetFailure,
    StatusFailure,
    TimeoutFailure,
    TruncatedBodyFailure,
)
from headwater.emulator._handler import json_response
from headwater.emulator._params import EndpointRules, ParamProblem, check_params
from headwater.emulator._store import RowStore

__all__ = ["Emulator"]


class Emulator(abc.ABC):
    """An API emulator: a :data:`~headwater.emulator.Handler` with data and failure injection.

    Subclasses implement :meth:`handle` from the API's documentation, serving rows from
    :attr:`store`. Calling the emulator records the request, applies the next matching
    injected failure if any, then checks the documented parameter rules of
    :attr:`param_rules` (answering a broken one with :meth:`param_error`), and otherwise
    calls :meth:`handle`. A subclass that defines ``__init__`` must call
    ``super().__init__()``.

    Every method is thread-safe. :meth:`handle` runs outside the emulator's lock and may be
    called from several server threads at once; :attr:`store` is safe to share.

    .. versionadded:: 0.1
    """

    param_rules: Sequence[EndpointRules] = ()
    """The API's documented parameter rules, per path: see :mod:`headwater.emulator._params`.

    Checked before :meth:`handle`, so also before the emulator's own credential check: a
    request with a bad credential *and* a broken rule gets the rule's error. A subclass that
    declares rules must override :meth:`param_error`.

    .. versionadded:: 0.2
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.param_rules and cls.param_error is Emulator.param_error:
            raise TypeError(
                f"{cls.__name__} declares param_rules but not param_error: say how the API"
                " answers a request that breaks them (its status and error body)"
            )

    def __init__(self) -> None:
        self.store = RowStore()
        """The rows this emulator serves; tests add, update and delete rows between reads."""
        self._lock = threading.Lock()
        self._requests: list[httpx.Request] = []
        self._pending: list[_Pending] = []

    @abc.abstractmethod
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` as the real API would.

        Check what the API checks (credentials, required parameters) and answer its error
        responses for what it rejects, so a connector's mistakes show up in tests.
        """

    def param_error(self, request: httpx.Request, problem: ParamProblem) -> httpx.Response:
        """The API's answer to ``request``, which breaks a rule of :attr:`param_rules`.

        Build the API's own error status and body around ``problem.message`` (and
        ``problem.param`` where the API names the parameter), as it answers a bad request:
        ``json_response(400, {"detail": problem.message})`` for Sentry. ``request`` is there
        for APIs whose answer differs by endpoint.

        .. versionadded:: 0.2
        """
        raise NotImplementedError(
            f"{type(self).__name__} has param_rules but does not override param_error"
        )

    @property
    def requests(self) -> list[httpx.Request]:
        """Every request received so far, in order, including those answered by a failure."""
        with self._lock:
            return list(self._requests)

    def inject(self, failure: Failure, *, times: int = 1, path: str | None = None) -> None:
        """Apply ``failure`` to the next ``times`` requests whose path matches ``path``.

        ``path`` is a path prefix matched on whole segments: ``"/repos"`` matches ``/repos``
        and ``/repos/a/b`` but not ``/repositories``; ``None`` matches every request. Failures
        queue in the order injected; a request takes the first one that matches it.
        """
        if times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        if path is not None and not path.startswith("/"):
            raise ValueError(f"path must start with '/', like '/repos', not {path!r}")
        with self._lock:
            self._pending.append(_Pending(failure=failure, remaining=times, path=path))

    @final
    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self._requests.append(request)
            failure = self._take_failure(request.url.path)
        if failure is None:
            return self._answer(request)
        match failure:
            case StatusFailure():
                return _status_response(failure)
            case TimeoutFailure():
                raise EmulatedTimeout(failure.seconds)
            case ResetFailure():
                raise EmulatedReset()
            case TruncatedBodyFailure():
                raise EmulatedTruncation(self._answer(request), failure.keep_bytes)
            case _:
                assert_never(failure)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        problem = check_params(self.param_rules, request)
        if problem is not None:
            return self.param_error(request, problem)
        return self.handle(request)

    def _take_failure(self, path: str) -> Failure | None:
        # Called with the lock held.
        for index, pending in enumerate(self._pending):
            if _path_matches(pending.path, path):
                pending.remaining -= 1
                if pending.remaining == 0:
                    del self._pending[index]
                return pending.failure
        return None


@attrs.define(kw_only=True)
class _Pending:
    failure: Failure
    remaining: int
    path: str | None


def _path_matches(prefix: str | None, path: str) -> bool:
    if prefix is None:
        return True
    base = prefix.rstrip("/")
    return path == base or path.startswith(base + "/")


def _status_response(failure: StatusFailure) -> httpx.Response:
    if failure.json is not None:
        return json_response(failure.status, failure.json, failure.headers)
    return httpx.Response(failure.status, headers=failure.headers, content=failure.body)
