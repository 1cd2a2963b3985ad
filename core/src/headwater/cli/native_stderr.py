"""Keeping the panic text of native threads off the terminal.

Delta Lake writes through a Rust runtime. When storage fails under it (a full disk, say), one of
its worker threads may panic, and Rust prints ``thread 'tokio-rt-worker' panicked at ...`` and a
backtrace straight to file descriptor 2, while the Python call gets an ordinary error that the
host reports in one line (a :class:`~headwater.errors.WarehouseError`). Nothing in Python can
stop the runtime printing, so the commands that use Delta run under
:func:`native_stderr_filtered`: file descriptor 2 goes to a temporary file while Python's own
``sys.stderr`` (progress, errors) keeps writing to the terminal through a duplicate of it. When
the command ends, panic blocks are dropped (shown with ``HEADWATER_DEBUG=1``) and any other
native output is passed on, so nothing else is lost.

.. versionadded:: 0.2
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["native_stderr_filtered", "split_panics", "with_native_stderr_filtered"]

F = TypeVar("F", bound=Callable[..., Any])

_PANIC = re.compile(r"^thread '[^']*'(?: \(\d+\))? panicked at ")
_DEBUG_ENV = "HEADWATER_DEBUG"  # headwater.cli.app.DEBUG_ENV; that module imports this one


def split_panics(text: str) -> tuple[str, str]:
    """``text`` written by native code, split into what is not a Rust panic report and the
    panic reports: each from its ``thread '...' panicked at`` line (and the blank lines before
    it) through the ``note:`` line naming ``RUST_BACKTRACE`` (or to the end, when the note is
    missing).

    .. versionadded:: 0.2
    """
    kept: list[str] = []
    panics: list[str] = []
    in_panic = False
    for line in text.splitlines(keepends=True):
        if _PANIC.match(line):
            in_panic = True
            while kept and not kept[-1].strip():  # the blank line Rust prints first
                panics.append(kept.pop())
        (panics if in_panic else kept).append(line)
        if in_panic and line.startswith("note: ") and "RUST_BACKTRACE" in line:
            in_panic = False
    return "".join(kept), "".join(panics)


def _real_stderr_fd() -> bool:
    # Only when sys.stderr is the process's file descriptor 2: an in-process caller (a test's
    # CliRunner, an embedding program) that replaced sys.stderr manages its own streams.
    try:
        return sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Run the block with native writes to file descriptor 2 held back and filtered (see the
    module's description). Does nothing when ``sys.stderr`` is not file descriptor 2.

    .. versionadded:: 0.2
    """
    if not _real_stderr_fd():
        yield
        return
    python_stderr = sys.stderr
    python_stderr.flush()
    terminal = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        sys.stderr = open(  # noqa: SIM115 - closed below, after the block
            terminal,
            "w",
            encoding=python_stderr.encoding,
            errors=python_stderr.errors,
            buffering=1,
            closefd=False,
        )
        try:
            yield
        finally:
            replaced, sys.stderr = sys.stderr, python_stderr
            replaced.flush()
            replaced.close()
            os.dup2(terminal, 2)
            os.close(terminal)
            held.seek(0)
            text = held.read().decode("utf-8", errors="replace")
            kept, panics = split_panics(text)
            shown = kept + (panics if os.environ.get(_DEBUG_ENV) else "")
            if shown:
                python_stderr.write(shown)
                python_stderr.flush()


def with_native_stderr_filtered(command: F) -> F:
    """Decorate a command's function to run under :func:`native_stderr_filtered`.

    .. versionadded:: 0.2
    """

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with native_stderr_filtered():
            return command(*args, **kwargs)

    return run  # type: ignore[return-value]
