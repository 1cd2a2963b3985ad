"""Reading a schema the way the host does, and keeping everything a check may look at.

The host calls ``source_for_pipeline`` and then ``items()`` once, and accepts dicts, lists of
dicts and Arrow tables from it, and resume points between them. :func:`read` does the same
and returns a :class:`Read`: the rows in the order they came, the batches they came in, the
exchanges with the emulator, and the error that ended the read, if any. A read never raises:
an error is a result the checks judge, and a read that would not stop is cut off
(:class:`~headwater_contract.observe.ObservedApi`) and marked ``exceeded``.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from headwater.sources import ResumePoint, SourceInputs, SourceResponse
from headwater_contract.observe import Exchange, ObservedApi, RequestLimitReached

if TYPE_CHECKING:
    from headwater.runtime import Runtime
    from headwater.sources import Source

__all__ = ["Read", "read"]

Row = dict[str, Any]


@attrs.frozen(kw_only=True)
class Read:
    """The outcome of one read of one schema.

    .. versionadded:: 0.1
    """

    schema: str
    response: SourceResponse | None
    rows: tuple[Row, ...]
    batches: tuple[tuple[Row, ...], ...]
    exchanges: tuple[Exchange, ...]
    error: BaseException | None
    exceeded: bool
    resume_points: tuple[tuple[int, dict[str, Any]], ...] = ()
    """Each :class:`~headwater.ResumePoint` the read yielded: the rows before it, its state.

    .. versionadded:: 0.1
    """

    @property
    def ok(self) -> bool:
        """The read ended on its own, without an error."""
        return self.error is None and not self.exceeded


def read(
    source: Source[Any],
    config: Any,
    inputs: SourceInputs,
    api: ObservedApi,
    runtime: Runtime,
    *,
    max_batches: int | None = None,
) -> Read:
    """Read ``inputs.schema_name`` through ``api``; stop after ``max_batches`` if given.

    Stopping early closes the iterator, as the host does when a sync is interrupted.

    .. versionadded:: 0.1
    """
    api.forget()
    rows: list[Row] = []
    batches: list[tuple[Row, ...]] = []
    response: SourceResponse | None = None
    error: BaseException | None = None
    iterator: Iterator[Any] | None = None
    resume_points: list[tuple[int, dict[str, Any]]] = []
    try:
        response = source.source_for_pipeline(config, inputs, runtime)
        if not isinstance(response, SourceResponse):
            raise TypeError(
                f"source_for_pipeline returned a {type(response).__name__},"
                " not a headwater.SourceResponse"
            )
        iterator = iter(response.items())
        for item in iterator:
            if isinstance(item, ResumePoint):
                resume_points.append((len(rows), dict(item.state)))
                continue
            batch = _batch(item)
            batches.append(batch)
            rows.extend(batch)
            if max_batches is not None and len(batches) >= max_batches:
                break
    except RequestLimitReached as limit:
        error = limit
    except Exception as failure:
        error = failure
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            try:
                close()
            except Exception as failure:  # a generator that fails while closing
                error = error or failure
    exceeded = api.exceeded
    if isinstance(error, RequestLimitReached):
        error = None  # reported as `exceeded`, which says more
    return Read(
        schema=inputs.schema_name,
        response=response,
        rows=tuple(rows),
        batches=tuple(batches),
        exchanges=tuple(api.exchanges),
        error=error,
        exceeded=exceeded,
        resume_points=tuple(resume_points),
    )


def _batch(item: Any) -> tuple[Row, ...]:
    if isinstance(item, Mapping):
        return (dict(item),)
    if isinstance(item, list):
        for index, row in enumerate(item):
            if not isinstance(row, Mapping):
                raise TypeError(
                    f"items() yielded a list whose element {index} is a {type(row).__name__};"
                    " a list must hold row dicts"
                )
        return tuple(dict(row) for row in item)
    to_pylist = getattr(item, "to_pylist", None)
    if callable(to_pylist):  # an Arrow table or record batch
        return tuple(dict(row) for row in to_pylist())
    raise TypeError(
        f"items() yielded a {type(item).__name__}; yield row dicts, lists of row dicts"
        " or Arrow tables"
    )
