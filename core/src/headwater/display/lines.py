"""Lines printed for a reader that may go away: ``headwater sync ... | head -1``.

When the reader of a pipe closes it, the next write raises :class:`BrokenPipeError`. A sync
must not die of that in the middle of its work (the page or commit in flight would be cut
short, and the rest of the schemas never synced) nor print a traceback about it, and Python
would report a second error when it flushes stdout at exit. So a :class:`LineWriter` does what
Python's documentation advises (the note on SIGPIPE in the :mod:`signal` module): on the
first ``BrokenPipeError`` it points the stream's file descriptor at :data:`os.devnull`, then
drops every later line. :attr:`LineWriter.reader_gone` tells the caller, which decides how to
end (``headwater sync`` finishes its work, then exits as click does on a broken pipe: quietly,
with code 1).

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from typing import IO, Any

__all__ = ["LineWriter", "silence"]


def silence(stream: IO[Any]) -> None:
    """Point ``stream``'s file descriptor at :data:`os.devnull`, so what is still buffered, and
    what is written later, goes nowhere instead of failing again.

    A stream without a file descriptor (a :class:`io.StringIO`) is left as it is.

    .. versionadded:: 0.1
    """
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class LineWriter:
    """Writes whole lines to ``stream``, flushing each, until its reader goes away.

    Thread-safe: lines from several threads never interleave.

    .. versionadded:: 0.1
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._gone = False

    @property
    def reader_gone(self) -> bool:
        """Whether the stream's reader closed it; nothing is written any more."""
        return self._gone

    def write(self, line: str) -> None:
        """Write ``line`` and a newline, and flush; nothing once the reader is gone."""
        with self._lock:
            if self._gone:
                return
            try:
                self._stream.write(line + "\n")
                self._stream.flush()
            except BrokenPipeError:
                self._gone = True
                silence(self._stream)
                # The line that failed may still sit in the stream's buffer; it now goes to
                # devnull (or, without a descriptor, is dropped with the buffer's next flush).
                with contextlib.suppress(OSError, ValueError):
                    self._stream.flush()
