"""What ``headwater sync`` prints while and after it runs, in each of its three manners.

- text (the default): on a terminal, a live table of every schema's progress on stderr and a
  summary table on stdout at the end; piped, no live table and one ``schema: ...`` line per
  schema on stdout, stable for scripts;
- ``--quiet``: nothing but errors;
- ``--json``: one JSON event per line on stdout (see
  :mod:`headwater.display.json_log`), for schedulers.

Every printed text goes through a :class:`~headwater.display.Redactor` holding the config's
secret values. rich is imported only in the text manner.

**When stdout's reader goes away** (``headwater sync ... --json | head -1``), the
sync does not stop: a closed pipe says nothing about the data, and a scheduler's log
collector dying should not cut a sync short. Output to stdout stops (it is pointed at
``os.devnull``, as Python's documentation advises; see :mod:`headwater.display.lines`), every
schema still syncs and commits its data with its state, and when the ``with`` block ends the
broken pipe is raised again, so the command exits as click exits on a broken pipe: quietly,
with code 1. If schemas failed, that is left to the caller to report instead (exit code 3 or 1,
on stderr, which still has a reader).

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import errno
import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import attrs
import click

from headwater.display import (
    JsonLog,
    LineWriter,
    ProgressTally,
    Redactor,
    SchemaOutcome,
    silence,
    summary_lines,
    summary_table,
)
from headwater.runtime import ProgressKind

if TYPE_CHECKING:
    from rich.console import Console

    from headwater.config import UserConfig
    from headwater.runtime import ProgressEvent, ProgressSink, Runtime
    from headwater.sync import SyncResult

__all__ = ["SyncOutput"]


def _result_fields(result: SyncResult) -> dict[str, Any]:
    return {
        "mode": result.sync_mode.value,
        "rewrote": result.rewrote,
        "rows_read": result.rows_read,
        "rows_written": result.rows_written,
        "commits": list(result.commits),
        "duration": round(result.duration, 3),
        "watermark": result.watermark,
        "table": result.table_uri,
    }


class SyncOutput:
    """Receives a sync's progress and outcomes, and prints them in the chosen manner.

    Use :meth:`open`, then :attr:`runtime` for the sync (its progress sink feeds this
    output) and :meth:`started`, :meth:`finished`, :meth:`failed` around each schema, inside
    a ``with`` block. :attr:`failures` lists ``(schema, redacted message)`` afterwards.

    Leaving the block raises :class:`BrokenPipeError` if stdout's reader went away during
    the sync and no schema failed (see above); the sync itself ran to its end.

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        *,
        name: str,
        schemas: tuple[str, ...],
        runtime: Runtime,
        redact: Redactor,
        quiet: bool,
        json_log: JsonLog | None,
        tally: ProgressTally,
        stderr: Console | None,
        stdout: Console | None,
        summary: bool = True,
    ) -> None:
        self.name = name
        self.schemas = schemas
        self.runtime = runtime
        self.failures: list[tuple[str, str]] = []
        self._redact = redact
        self._quiet = quiet
        self._json = json_log
        self._tally = tally
        self._stderr = stderr
        self._stdout = stdout
        # Piped text: a line per schema, on a stdout whose reader may go away.
        self._lines = LineWriter(sys.stdout) if stdout is not None else None
        self._summary = summary
        self._summary_lost = False
        self._outcomes: list[SchemaOutcome] = []
        self._stack = contextlib.ExitStack()

    @property
    def reader_gone(self) -> bool:
        """Whether stdout's reader went away (a closed pipe); nothing is printed there since.

        .. versionadded:: 0.1
        """
        return (
            self._summary_lost
            or (self._json is not None and self._json.reader_gone)
            or (self._lines is not None and self._lines.reader_gone)
        )

    @classmethod
    def open(
        cls,
        *,
        name: str,
        schemas: tuple[str, ...],
        runtime: Runtime,
        config: UserConfig,
        quiet: bool,
        log_format: str,
        summary: bool = True,
    ) -> SyncOutput:
        """The output for ``--quiet`` / ``--json``; ``runtime`` gains its progress sink.

        ``summary=False`` leaves out the summary table on a terminal (the live table stays on
        screen): for a caller that prints its own summary, as ``headwater demo`` does.
        """
        redact = Redactor.of(config.source)
        json_log: JsonLog | None = None
        if log_format == "json" and not quiet:
            json_log = JsonLog(sys.stdout, now=runtime.clock.now, redact=redact)
        stderr = stdout = None
        forward: ProgressSink | None = json_log
        if not quiet and json_log is None:
            from rich.console import Console

            stderr = Console(file=sys.stderr)
            stdout = Console(file=sys.stdout)
            # Piped or logged, a line stays one line: a script or a log search would find a
            # URL or a message cut at 80 columns in two.
            if not stderr.is_terminal:
                stderr = Console(file=sys.stderr, soft_wrap=True)
            forward = _Notices(stderr, redact)
        tally = ProgressTally(schemas, monotonic=runtime.clock.monotonic, forward=forward)
        return cls(
            name=name,
            schemas=schemas,
            runtime=attrs.evolve(runtime, progress=tally),
            redact=redact,
            quiet=quiet,
            json_log=json_log,
            tally=tally,
            stderr=stderr,
            stdout=stdout,
            summary=summary,
        )

    def __enter__(self) -> Self:
        if self._json is not None:
            self._json.write("sync_started", connector=self.name, schemas=list(self.schemas))
        if self._stderr is not None and self._stderr.is_terminal:
            from headwater.display.live import LiveProgress

            self._stack.enter_context(LiveProgress(self._tally, self._stderr))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.__exit__(exc_type, exc, traceback)
        if exc_type is not None:
            return
        if self._json is not None:
            self._json.write(
                "sync_finished",
                connector=self.name,
                schemas=len(self.schemas),
                failed=[schema for schema, _ in self.failures],
            )
        elif (
            self._summary
            and self._stdout is not None
            and self._stdout.is_terminal
            and not self.reader_gone
        ):
            try:
                self._stdout.print(summary_table(self._outcomes))
            except BrokenPipeError:
                self._summary_lost = True
                silence(self._stdout.file)
        if self.reader_gone and not self.failures:
            raise BrokenPipeError(
                errno.EPIPE, "stdout was closed by its reader; the sync itself completed"
            )

    def started(self, schema: str) -> None:
        self._tally.start(schema)
        if self._json is not None:
            self._json.write("schema_started", schema=schema)

    def finished(self, schema: str, result: SyncResult) -> None:
        self._tally.finish(schema, "done")
        self._outcomes.append(
            SchemaOutcome(schema=schema, tally=self._tally.of(schema), result=result)
        )
        if self._json is not None:
            self._json.write("schema_finished", schema=schema, **_result_fields(result))
        elif self._lines is not None and self._stdout is not None and not self._stdout.is_terminal:
            # Piped: a line as each schema ends, so a long run's log shows progress.
            (line,) = summary_lines(self._outcomes[-1:])
            self._lines.write(self._redact(line))

    def failed(self, schema: str, message: str) -> None:
        message = self._redact(message)
        self._tally.finish(schema, "failed")
        self.failures.append((schema, message))
        self._outcomes.append(
            SchemaOutcome(schema=schema, tally=self._tally.of(schema), error=message)
        )
        if self._json is not None:
            self._json.write("schema_failed", schema=schema, error=message)
        # One line per failure, always naming the schema, whatever the number of schemas.
        if self._stderr is not None:
            self._stderr.print(f"{schema}: failed: {message}", markup=False, highlight=False)
        else:
            click.echo(f"{schema}: failed: {message}", err=True)


class _Notices:
    """Prints each notice (:attr:`~headwater.ProgressKind.NOTICE`) on stderr as
    ``schema: note: ...``, above the live table on a terminal; other events are the tally's."""

    def __init__(self, stderr: Console, redact: Redactor) -> None:
        self._stderr = stderr
        self._redact = redact

    def emit(self, event: ProgressEvent) -> None:
        if event.kind is not ProgressKind.NOTICE:
            return
        where = f"{event.schema}: " if event.schema else ""
        self._stderr.print(
            self._redact(f"{where}note: {event.detail}"), markup=False, highlight=False
        )
