"""Running per-item work on bounded worker threads while the caller sees a plain iterator.

Fan-out reads the children of many parents; one at a time, a run over 200 repositories spends
most of its time waiting on the network. :func:`parallel_chain` runs ``work(item)`` for up to
``max_workers`` items at once and yields their results as they come, from an ordinary
generator: the host keeps iterating ``items`` as it would a sequential read, and stopping
early (``close()``, an exception) stops the workers.

Memory stays bounded: items are taken from the source only as workers free up, and results
pass through a small queue that blocks workers when the consumer is slower than they are.
Requests still go through one :class:`~headwater.rest.RestClient`, so they share its
connection pool, the Runtime's request budget and the API's rate-limit gate: more workers
never means more 429s, only less idle time.

.. versionadded:: 0.1
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["DEFAULT_MAX_WORKERS", "parallel_chain"]

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_MAX_WORKERS = 10
"""Concurrent child reads of one fan-out: enough to hide network latency, few enough that
no API we read from treats it as abuse (GitHub asks for no more than 100 concurrent requests).

.. versionadded:: 0.1
"""

# How often a worker blocked on a full queue checks whether the consumer has gone away.
_POLL_SECONDS = 0.05

_RESULT = 0
_DONE = 1
_FAILED = 2


def parallel_chain(
    items: Iterable[T], work: Callable[[T], Iterable[R]], *, max_workers: int
) -> Iterator[R]:
    """Yield everything ``work(item)`` yields, for every item, with ``max_workers`` threads.

    Results of one item keep their order; results of different items interleave. The first
    exception from ``work`` (or from ``items``) stops the rest and is raised to the caller.
    With ``max_workers=1`` everything runs in the caller's thread, in order.

    .. versionadded:: 0.1
    """
    if max_workers < 1:
        raise ValueError(f"max_workers must be at least 1, not {max_workers}")
    if max_workers == 1:
        return (result for item in items for result in work(item))
    return _parallel(items, work, max_workers)


def _parallel(
    items: Iterable[T], work: Callable[[T], Iterable[R]], max_workers: int
) -> Iterator[R]:
    out: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=max_workers * 2)
    stop = threading.Event()

    def put(message: tuple[int, Any]) -> bool:
        while not stop.is_set():
            try:
                out.put(message, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def run(item: T) -> None:
        results: Iterator[R] | None = None
        try:
            results = iter(work(item))
            for result in results:
                if not put((_RESULT, result)):
                    return
        except Exception as error:
            put((_FAILED, error))
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
            put((_DONE, None))

    executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="headwater-fanout")
    source = iter(items)
    running = 0
    exhausted = False
    try:
        while True:
            # Take items only as workers free up: a lazy parent read stays lazy.
            while not exhausted and running < max_workers:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                executor.submit(run, item)
                running += 1
            if running == 0:
                return
            kind, value = out.get()
            if kind == _RESULT:
                yield value
            elif kind == _DONE:
                running -= 1
            else:
                raise value
    finally:
        stop.set()
        # Workers blocked on the full queue notice `stop` within _POLL_SECONDS; one inside a
        # request finishes it (bounded by the client's timeouts) and then stops.
        executor.shutdown(wait=True, cancel_futures=True)
