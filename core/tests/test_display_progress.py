"""The progress tally, the live table and the redactor, given events and configs."""

from __future__ import annotations

import io

import attrs
import pytest
from rich.console import Console

from headwater import ManualClock, ProgressEvent, ProgressKind
from headwater.display import ProgressTally, Redactor, progress_table
from headwater.secret import Secret


def event(kind: ProgressKind, schema: str = "orders", **fields) -> ProgressEvent:
    return ProgressEvent(kind=kind, schema=schema, **fields)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([event(ProgressKind.PAGE, count=100)] * 3, {"pages": 3}),
        (
            [event(ProgressKind.ROWS, count=100, detail="read")] * 2,
            {"rows_read": 200, "pages": 0},
        ),
        ([event(ProgressKind.ROWS, count=70, detail="written")], {"rows_written": 70}),
        ([event(ProgressKind.RETRY, count=2), event(ProgressKind.RETRY, count=3)], {"retries": 2}),
        (
            [event(ProgressKind.WAIT, seconds=1.5), event(ProgressKind.WAIT, seconds=0.5)],
            {"waits": 2, "waited": 2.0},
        ),
        ([event(ProgressKind.PAGE, schema="events")], {"pages": 0}),
        ([event(ProgressKind.MESSAGE, detail="committed version 3")], {"pages": 0, "rows_read": 0}),
    ],
)
def test_the_tally_counts_each_kind_of_event(events, expected):
    tally = ProgressTally(("orders",), monotonic=ManualClock().monotonic)

    for item in events:
        tally.emit(item)

    counts = attrs.asdict(tally.of("orders"))
    assert {key: counts[key] for key in expected} == expected


def test_rows_per_second_is_rows_read_over_the_schema_elapsed_time():
    clock = ManualClock()
    tally = ProgressTally(("orders", "events"), monotonic=clock.monotonic)
    tally.start("orders")
    tally.emit(event(ProgressKind.ROWS, count=500, detail="read"))
    clock.advance(2)
    tally.finish("orders", "done")
    clock.advance(10)

    orders, events = tally.snapshot()

    assert (orders.status, orders.elapsed, orders.rows_per_second) == ("done", 2.0, 250.0)
    assert (events.status, events.elapsed, events.rows_per_second) == ("waiting", 0.0, 0.0)


def test_events_of_an_unlisted_schema_get_their_own_row():
    tally = ProgressTally(("parents",), monotonic=ManualClock().monotonic)

    tally.emit(event(ProgressKind.PAGE, schema="children"))

    assert [t.schema for t in tally.snapshot()] == ["parents", "children"]


def test_events_are_forwarded():
    seen: list[ProgressEvent] = []

    class Sink:
        def emit(self, item: ProgressEvent) -> None:
            seen.append(item)

    tally = ProgressTally(("orders",), monotonic=ManualClock().monotonic, forward=Sink())
    tally.emit(event(ProgressKind.PAGE))

    assert seen == [event(ProgressKind.PAGE)]


def test_the_live_table_shows_every_figure():
    clock = ManualClock()
    tally = ProgressTally(("orders",), monotonic=clock.monotonic)
    tally.start("orders")
    for item in [
        event(ProgressKind.PAGE),
        event(ProgressKind.ROWS, count=1200, detail="read"),
        event(ProgressKind.ROWS, count=1000, detail="written"),
        event(ProgressKind.RETRY, count=2),
        event(ProgressKind.WAIT, seconds=3),
    ]:
        tally.emit(item)
    clock.advance(4)
    out = io.StringIO()

    Console(file=out, width=200, no_color=True).print(progress_table(tally.snapshot()))

    row = out.getvalue().splitlines()[1].split()
    assert row == ["orders", "running", "1", "1,200", "1,000", "300", "1", "1", "(3.0s)"]


@attrs.frozen
class Nested:
    token: Secret


@attrs.frozen
class Config:
    repository: str
    token: Secret
    nested: Nested
    keys: list[Secret]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("failed with token s3cret-token", "failed with token ***"),
        ("url?key=other-s3cret&x=1", "url?key=***&x=1"),
        ("s3cret-token-long and s3cret-token", "*** and ***"),
        ("acme/widgets is fine", "acme/widgets is fine"),
        ("abc stays: too short to be scrubbed", "abc stays: too short to be scrubbed"),
    ],
)
def test_the_redactor_scrubs_every_secret_of_a_config(text, expected):
    config = Config(
        repository="acme/widgets",
        token=Secret("s3cret-token"),
        nested=Nested(token=Secret("s3cret-token-long")),
        keys=[Secret("other-s3cret"), Secret("abc")],
    )

    assert Redactor.of(config)(text) == expected
