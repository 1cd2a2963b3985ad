"""Turning an endpoint declaration into the :class:`~headwater.SourceResponse` the host reads.

A connector's ``source_for_pipeline`` ends here: :func:`endpoint_response` for a top-level
endpoint, :func:`dependent_response` for a fan-out one. Both defer all I/O to ``items()``,
which opens the client, yields pages (lists of row dicts, which the host batches without
touching each row) and closes the client when the read ends or is abandoned.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from headwater.rest._client import ClientConfig, RestClient
from headwater.rest._fanout import DependentEndpoint, SkippedParent, read_dependent
from headwater.rest._reader import PageReader
from headwater.sources import PartitionMode, ResumePoint, SourceInputs, SourceResponse

if TYPE_CHECKING:
    from headwater.rest._endpoint import Endpoint
    from headwater.runtime import Runtime

__all__ = ["dependent_response", "endpoint_response", "response_for"]


def response_for(
    endpoint: Endpoint,
    inputs: SourceInputs,
    items: Callable[[], Iterator[Any]],
    *,
    interleaved: bool = False,
) -> SourceResponse:
    """A response for ``items`` stored as ``endpoint`` declares: keys, partitioning, order.

    For connectors with a custom iterator (two-level fan-out) that still want the endpoint's
    storage settings; ``interleaved`` when its rows come from several parents at once.

    .. versionadded:: 0.1
    """
    key = endpoint.partition_key
    partition_keys = (key,) if key is not None else None
    # The ignores: mypy's attrs plugin cannot solve the type variable of `converter=tuple`.
    return SourceResponse(
        name=inputs.schema_name,
        items=items,
        primary_keys=endpoint.primary_keys,
        partition_mode=PartitionMode.DATETIME if key is not None else None,
        partition_keys=partition_keys,
        partition_format=endpoint.partition_format if key is not None else None,
        sort_mode=endpoint.sort_mode,
        interleaved=interleaved,
    )


def endpoint_response(
    config: ClientConfig, endpoint: Endpoint, inputs: SourceInputs, runtime: Runtime
) -> SourceResponse:
    """The response of a top-level endpoint: every page, from ``inputs``' bounds on.

    After each page it yields a :class:`~headwater.ResumePoint` (the paginator's next URL,
    cursor or position), and a read resumes from ``inputs.resume_state`` when the host
    passes one.

    .. versionadded:: 0.1
    """

    def items() -> Iterator[list[Any] | ResumePoint]:
        with RestClient(config, runtime) as client:
            reader = PageReader(
                client,
                endpoint,
                inputs=inputs,
                resume=inputs.resume_state,
                schema=inputs.schema_name,
            )
            for page in reader:
                yield page
                state = reader.resume_state
                if state is not None:
                    yield ResumePoint(state)

    return response_for(endpoint, inputs, items)


def dependent_response(
    config: ClientConfig,
    parent: Endpoint,
    child: Endpoint,
    dependent: DependentEndpoint,
    inputs: SourceInputs,
    runtime: Runtime,
    *,
    on_skip: Callable[[SkippedParent], None] | None = None,
) -> SourceResponse:
    """The response of a fan-out endpoint: ``child`` read for every row of ``parent``.

    Stored as ``child`` declares (its primary keys usually include a parent column).

    .. versionadded:: 0.1
    """

    def items() -> Iterator[list[Any] | ResumePoint]:
        with RestClient(config, runtime) as client:
            yield from read_dependent(
                client, parent, child, dependent, inputs=inputs, on_skip=on_skip
            )

    # Each parent's children come in order, but not across parents: the watermark may move
    # only once every parent is read.
    return response_for(child, inputs, items, interleaved=True)
