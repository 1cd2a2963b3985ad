"""Reading a source ahead of the writes: its ``items()`` run in a thread of their own.

A sync alternates two kinds of work: reading (requests, waiting on the API, decoding JSON)
and writing (building Arrow arrays, Delta's commit, a MERGE). Done one after the other, the
reader idles while a batch is written and the writer idles while pages arrive. A
:class:`ReadAhead` runs the source's iterator in a thread and hands its items over in order,
holding at most about ``max_rows`` rows not yet taken (one batch): the next batch is read
while the last one is written. Delta's writer releases the GIL, so on two cores the two
overlap; what the source does and the order of its items are unchanged.

- **Errors** raised by the source reach the consumer after the items yielded before them,
  where the consumer would have seen them without a thread.
- **Stopping early**: when the consumer leaves (an error while writing, Ctrl-C), the reader
  is told to stop; it finishes the request in flight, then closes the source's iterator in
  its own thread (so a ``with`` block in the source closes its client there) and ends.
- The thread is a daemon: a process that exits does not wait for a request in flight.

.. versionadded:: 0.2
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, Self

__all__ = ["ReadAhead"]


def _rows_of(item: Any) -> int:
    """How many rows ``item`` holds: a page's length, an Arrow table's rows, else one."""
    if isinstance(item, list):
        return len(item)
    rows = getattr(item, "num_rows", None)
    if isinstance(rows, int):
        return rows
    return 1  # a dict row, or a resume point (it holds none, but it takes a place)


class ReadAhead(Iterator[Any]):
    """Iterate ``items`` in a thread of its own, up to about ``max_rows`` rows ahead.

    Use as a context manager: leaving the block stops the reader if the items were not all
    taken. The thread starts at the first ``next``.

    .. versionadded:: 0.2
    """

    def __init__(self, items: Iterable[Any], *, max_rows: int, name: str = "source") -> None:
        if max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, not {max_rows}")
        self._items = items
        self._max_rows = max_rows
        self._name = name
        self._changed = threading.Condition()
        self._buffer: collections.deque[tuple[Any, int]] = collections.deque()
        self._ahead = 0  # rows in the buffer
        self._ended = False  # the reader has put its last item (or its failure)
        self._failure: BaseException | None = None
        self._stopped = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __next__(self) -> Any:
        if self._thread is None:
            self._start()
        with self._changed:
            while not self._buffer and not self._ended:
                self._changed.wait()
            if self._buffer:
                item, rows = self._buffer.popleft()
                self._ahead -= rows
                self._changed.notify_all()
                return item
            failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        raise StopIteration

    def close(self) -> None:
        """Stop reading (if it has not ended) and let go of the items read ahead."""
        with self._changed:
            self._stopped = True
            self._buffer.clear()
            self._ahead = 0
            self._changed.notify_all()
        thread = self._thread
        if thread is not None and self._ended:
            thread.join()

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._read, name=f"headwater-read-{self._name}", daemon=True
        )
        self._thread.start()

    def _read(self) -> None:
        iterator = iter(self._items)
        try:
            for item in iterator:
                rows = _rows_of(item)
                with self._changed:
                    # At least one item is always let through, however large.
                    while self._buffer and self._ahead + rows > self._max_rows:
                        if self._stopped:
                            break
                        self._changed.wait()
                    if self._stopped:
                        break
                    self._buffer.append((item, rows))
                    self._ahead += rows
                    self._changed.notify_all()
        except BaseException as error:  # handed to the consumer, in order
            with self._changed:
                self._failure = error
        finally:
            close = getattr(iterator, "close", None)
            try:
                if close is not None:
                    close()  # in this thread: the source's clean-up runs where it read
            except BaseException as error:
                with self._changed:
                    if self._failure is None and not self._stopped:
                        self._failure = error
            with self._changed:
                self._ended = True
                self._changed.notify_all()
