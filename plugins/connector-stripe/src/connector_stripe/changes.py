"""The change feed: Stripe's Events API as the incremental read of objects that change.

A list filtered on ``created`` never sees a change to an old object, nor its deletion. The
Events API does (api_inventory.md, "Change feed"): every change is an event whose
``data.object`` is the object as it was right after the change. A schema synced incrementally
on ``changed`` reads:

- **no watermark yet**: the whole list (a snapshot), each row's ``changed`` the time the read
  began, so the next read starts there;
- **a watermark within the events' retention**: the events of the table's objects created since
  it (inclusive), newest first; each object's newest event gives its row, ``changed`` being the
  event's ``created``; the host's MERGE on ``id`` then replaces the stored row;
- **a watermark older than the retention**: events are gone, so a snapshot again, announced
  as a progress message and a log warning (an object deleted in the gap is not marked).

A deletion event marks its object's row: ``_headwater_deleted_at`` is the event's time (ISO,
UTC); other rows carry ``None`` there. Deleted rows stay in the table, marked; the host has no
way for a source to remove a row by key.

An interrupted read is read again from the watermark, whole (the earliest value the host saves
for a newest-first read is not used): an event older than one already merged must never
replace it, and only a read of the whole window keeps the newest event of each object.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from headwater import ProgressEvent, ProgressKind
from headwater.rest import PageReader, RestClient, response_for

if TYPE_CHECKING:
    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig, Endpoint

__all__ = [
    "CHANGED_FIELD",
    "DELETED_COLUMN",
    "RETENTION",
    "ChangeFeed",
    "changes_response",
    "read_changes",
    "stamped",
]

CHANGED_FIELD = "changed"
"""The incremental field of the change feed: Unix seconds of the change a row reflects."""
DELETED_COLUMN = "_headwater_deleted_at"
"""Set (ISO-8601, UTC) on the row of an object whose deletion the feed read."""
RETENTION = dt.timedelta(days=30)
"""How far back the Events API lists events."""
# A watermark this close to the retention's edge counts as beyond it: the request and the
# API's own clock must not race the oldest events out of the window.
_MARGIN = dt.timedelta(hours=1)


@attrs.frozen(kw_only=True)
class ChangeFeed:
    """The events of one table's objects.

    ``event_type`` is the ``type`` filter sent (``product.*``); ``object_name`` is the
    ``object`` of the events' objects kept (a ``customer.*`` filter also returns the events
    of a customer's subscriptions and sources); ``deletions`` are the event types that mean
    the object is gone (``customer.subscription.deleted`` is not one: the subscription is
    canceled, and still listed).
    """

    event_type: str
    object_name: str
    deletions: frozenset[str] = frozenset()

    def keeps(self, event_type: str) -> bool:
        """Whether an event of ``event_type`` is this feed's (the filter, applied again)."""
        return fnmatch.fnmatchcase(event_type, self.event_type)


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_changes(
    client: RestClient,
    listing: Endpoint,
    events: Endpoint,
    feed: ChangeFeed,
    inputs: SourceInputs,
    *,
    normalize: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> Iterator[list[dict[str, Any]]]:
    """Pages of rows of ``listing``'s table as the feed reads them (see the module)."""
    runtime = client.runtime
    now = runtime.clock.now()
    started = int(now.timestamp())
    last = _seconds(inputs.db_incremental_field_last_value)
    if last is not None and now - dt.datetime.fromtimestamp(last, tz=dt.UTC) > (
        RETENTION - _MARGIN
    ):
        message = (
            f"the last change read was at {_iso(last)}, longer ago than the {RETENTION.days}"
            " days Stripe keeps events: reading every object again (a full refresh merged into"
            " the table); objects deleted since then are not marked: run `headwater sync"
            " --full-refresh` to rebuild the table without them"
        )
        runtime.logger.warning("%s: %s", inputs.schema_name, message)
        runtime.progress.emit(
            ProgressEvent(kind=ProgressKind.NOTICE, schema=inputs.schema_name, detail=message)
        )
        last = None
    if last is None:
        snapshot = listing.evolve(incremental=None, incremental_fields=())
        for page in PageReader(client, snapshot, schema=inputs.schema_name):
            snapshot_rows = [
                normalize({**row, CHANGED_FIELD: started, DELETED_COLUMN: None}) for row in page
            ]
            yield [row for row in snapshot_rows if row is not None]
        return
    # The whole window from the watermark: never the earliest value of an interrupted read.
    window = attrs.evolve(inputs, db_incremental_field_earliest_value=None, resume_state=None)
    reader = PageReader(
        client,
        events.evolve(params={**events.params, "type": feed.event_type}),
        inputs=window,
        schema=inputs.schema_name,
    )
    seen: set[str] = set()
    for page in reader:
        rows: list[dict[str, Any]] = []
        for event in page:
            row = _row(event, feed, seen)
            if row is not None:
                kept = normalize(row)
                if kept is not None:
                    rows.append(kept)
        if rows:
            yield rows


def _seconds(value: Any) -> int | None:
    # The host hands a `timestamp` watermark back as an aware datetime (or as it was stored).
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return int(moment.timestamp())
    return int(value)


def _row(event: Mapping[str, Any], feed: ChangeFeed, seen: set[str]) -> dict[str, Any] | None:
    """The row an event gives, or ``None``: another object's, an older event of an object
    already read (events come newest first), or one without an object id."""
    kind = event.get("type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(kind, str) or not feed.keeps(kind) or not isinstance(obj, Mapping):
        return None
    ident = obj.get("id")
    if obj.get("object") != feed.object_name or not isinstance(ident, str) or ident in seen:
        return None
    seen.add(ident)
    created = event.get("created")
    moment = int(created) if isinstance(created, int | float) else None
    deleted = _iso(moment) if kind in feed.deletions and moment is not None else None
    return {**obj, CHANGED_FIELD: moment, DELETED_COLUMN: deleted}


def changes_response(
    config: ClientConfig,
    listing: Endpoint,
    events: Endpoint,
    feed: ChangeFeed,
    inputs: SourceInputs,
    runtime: Runtime,
) -> SourceResponse:
    """The response of a table read through its change feed; stored as ``listing`` declares
    (MERGE on ``id``), newest first."""

    def items() -> Iterator[list[dict[str, Any]]]:
        with RestClient(config, runtime) as client:
            yield from read_changes(
                client, listing, events, feed, inputs, normalize=listing.normalize or _same
            )

    return response_for(listing, inputs, items)


def _same(row: dict[str, Any]) -> dict[str, Any]:
    return row


def stamped(
    normalize: Callable[[dict[str, Any]], dict[str, Any] | None] | None, runtime: Runtime
) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """``normalize``, then ``changed`` set to now (the read's start) on rows without one: a
    list read gives each object's state as of at least that time."""
    started = int(runtime.clock.now().timestamp())
    first = normalize or _same

    def stamp(row: dict[str, Any]) -> dict[str, Any] | None:
        kept = first(row)
        if kept is None or kept.get(CHANGED_FIELD) is not None:
            return kept
        return {**kept, CHANGED_FIELD: started}

    return stamp
