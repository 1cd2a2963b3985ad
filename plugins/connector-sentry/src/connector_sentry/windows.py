"""Sentry's time windows: the ``issues`` and ``project_events`` reads, and an issue's row.

Real code because Sentry takes a time window only as a pair, ``start`` with ``end`` (one
alone is a 400; api_inventory.md, "Parameter rules"), which the shared incremental
parameters do not always send, and because a resumed issues read must drop issues seen
again above its earliest value.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs

from headwater.rest import Iso8601

if TYPE_CHECKING:
    from collections.abc import Callable

    from headwater import Runtime, SourceInputs
    from headwater.rest import Endpoint

__all__ = ["EPOCH", "issue_row", "issues_read", "window"]


def issues_read(
    chosen: Endpoint, inputs: SourceInputs, runtime: Runtime
) -> tuple[Endpoint, SourceInputs]:
    """The ``issues`` endpoint and inputs of one read: rows as :func:`issue_row` stores
    them, the window sent as a pair, every issue on a full refresh."""
    keep: Callable[[dict[str, Any]], dict[str, Any] | None] = issue_row
    if _resumed(inputs):
        # The window returns issues with events in it, so an issue seen again after the
        # earlier read's earliest value comes too; it is the next read's, not this one's.
        keep = _then(_at_most(inputs.db_incremental_field_earliest_value), issue_row)
    chosen = chosen.evolve(normalize=keep)
    if inputs.should_use_incremental_field:
        return chosen, _paired(inputs)
    # A full refresh reads every issue: the start date bounds incremental reads only.
    return window(chosen, EPOCH, runtime), inputs


def issue_row(row: dict[str, Any]) -> dict[str, Any]:
    """An issue as stored: ``count`` an integer, the project's id and slug as columns.

    Sentry sends an issue's event ``count`` as a decimal string (``"count": "150"``) and its
    project as a nested object (api_inventory.md, ``issues``). The string becomes an
    integer; a value that is not one stays as it came (the host then keeps it in a
    ``count__string`` column instead of dropping it). ``project_id`` and ``project_slug``
    are the columns the ``projects`` table joins on (``projects.id``, ``projects.slug``);
    the ``project`` object is kept too.
    """
    project = row.get("project")
    project = project if isinstance(project, dict) else {}
    return {
        **row,
        "count": _integer(row.get("count")),
        "project_id": project.get("id"),
        "project_slug": project.get("slug"),
    }


def _integer(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _then(
    first: Callable[[dict[str, Any]], dict[str, Any] | None],
    second: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    def both(row: dict[str, Any]) -> dict[str, Any] | None:
        kept = first(row)
        return None if kept is None else second(kept)

    return both


# Sentry takes a time window only as a pair, `start` with `end` (or neither): one alone is a
# 400 (api_inventory.md, "Parameter rules"). The shared parameters send `end` alone when a
# read has no lower bound (no watermark, no start date), so such a read asks from the Unix
# epoch instead: bounded above only, as intended, and the API keeps nothing older.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ISO = Iso8601()


def window(chosen: Endpoint, start: dt.date, runtime: Runtime) -> Endpoint:
    """``chosen`` read whole over the window from ``start`` to now, sent as the pair.

    Said in the endpoint's own parameters rather than through the shared incremental
    parameters, whose lower bound of a read that is not incremental is the host's to decide
    (headwater 0.2 stops sending the start date there): Sentry needs both ends every time.
    """
    window = {"start": _ISO(start), "end": _ISO(runtime.clock.now())}
    return chosen.evolve(
        incremental=None, incremental_fields=(), params={**chosen.params, **window}
    )


def _paired(inputs: SourceInputs) -> SourceInputs:
    if inputs.start_date is not None:
        return inputs
    if inputs.should_use_incremental_field and inputs.db_incremental_field_last_value is not None:
        return inputs  # the watermark is the lower bound
    return attrs.evolve(inputs, start_date=EPOCH)


def _resumed(inputs: SourceInputs) -> bool:
    return bool(inputs.should_use_incremental_field and inputs.db_incremental_field_earliest_value)


def _at_most(bound: Any) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    upper = _instant(bound)

    def keep(row: dict[str, Any]) -> dict[str, Any] | None:
        seen = _instant(row.get("lastSeen"))
        return row if seen is None or upper is None or seen <= upper else None

    return keep


def _instant(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
