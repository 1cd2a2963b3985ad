"""Watermarks: when they move, what append drops, and how values compare."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from headwater import IncrementalFieldType as T
from headwater.sync import Advance, Position, Watermarks, comparable, decode_value, encode_value

UTC = dt.UTC


def keys(*names):
    return frozenset(names)


def key_of(names):
    return lambda index: names[index]


@pytest.mark.parametrize(
    ("value", "field_type", "expected"),
    [
        ("2026-01-01T10:00:00Z", T.DATETIME, dt.datetime(2026, 1, 1, 10, tzinfo=UTC)),
        (dt.datetime(2026, 1, 1), T.TIMESTAMP, dt.datetime(2026, 1, 1, tzinfo=UTC)),
        (1767225600, T.DATETIME, dt.datetime(2026, 1, 1, tzinfo=UTC)),
        (1767225600000, T.DATETIME, dt.datetime(2026, 1, 1, tzinfo=UTC)),
        ("yesterday", T.DATETIME, None),
        ("2026-01-02", T.DATE, dt.date(2026, 1, 2)),
        (dt.datetime(2026, 1, 2, 5), T.DATE, dt.date(2026, 1, 2)),
        ("42", T.INTEGER, 42),
        (42.0, T.INTEGER, 42),
        (42.5, T.INTEGER, None),
        (Decimal("1.5"), T.NUMERIC, 1.5),
        ("nan", T.NUMERIC, None),
        ("65a1f0c2e4b0", T.OBJECTID, "65a1f0c2e4b0"),
        (None, T.INTEGER, None),
        (True, T.INTEGER, None),
    ],
)
def test_values_compare_as_their_incremental_field_type_says(value, field_type, expected):
    assert comparable(value, field_type) == expected


@pytest.mark.parametrize(
    ("value", "field_type"),
    [
        (dt.datetime(2026, 1, 1, 10, tzinfo=UTC), T.DATETIME),
        (dt.date(2026, 1, 1), T.DATE),
        (7, T.INTEGER),
        (1.25, T.NUMERIC),
        ("abc", T.OBJECTID),
    ],
)
def test_watermarks_survive_their_json_form(value, field_type):
    assert decode_value(encode_value(value, field_type), field_type) == value


def test_asc_moves_the_watermark_with_every_batch_and_remembers_keys_at_it():
    marks = Watermarks(start=Position(), advance=Advance.PER_BATCH, filter_written=False)

    first = marks.after([1, 2, 2], key_of(["a", "b", "c"]))
    marks.accept(first)
    second = marks.after([2, None], key_of(["d", "e"]))

    assert (first.watermark, first.watermark_keys) == (2, keys("b", "c"))
    assert (second.watermark, second.watermark_keys) == (2, keys("b", "c", "d"))


def test_desc_records_earliest_and_pending_and_moves_only_at_completion():
    marks = Watermarks(
        start=Position(watermark=1, watermark_keys=keys("z")),
        advance=Advance.AT_COMPLETION,
        filter_written=False,
    )

    first = marks.after([9, 8], key_of(["i", "h"]))
    marks.accept(first)
    second = marks.after([7, 5], key_of(["g", "e"]))
    marks.accept(second)
    done = marks.complete()

    assert (first.watermark, first.pending, first.earliest) == (1, 9, 8)
    assert (second.watermark, second.pending, second.earliest) == (1, 9, 5)
    assert done == Position(watermark=9, watermark_keys=keys("i"))


def test_a_resumed_desc_read_restarts_earliest_with_its_first_batch():
    start = Position(earliest=5, earliest_keys=keys("e"), pending=9, pending_keys=keys("i"))
    marks = Watermarks(start=start, advance=Advance.AT_COMPLETION, filter_written=False)

    # A source that reads from the top again: this run has only written down to 10 so far.
    again = marks.after([12, 10], key_of(["l", "j"]))

    assert (again.earliest, again.pending) == (10, 12)


@pytest.mark.parametrize(
    ("start", "values", "names", "kept"),
    [
        (Position(watermark=5, watermark_keys=keys("b")), [4, 5, 5, 6], "abcd", [0, 0, 1, 1]),
        (Position(), [4, 5], "ab", [1, 1]),
        (Position(watermark=5), [None, 3], "ab", [1, 0]),
        (Position(watermark=5, watermark_keys=keys("b")), [6, None, 9], "abc", [1, 1, 1]),
        (Position(watermark=5), [None, None], "ab", [1, 1]),
        (
            Position(watermark=2, earliest=6, earliest_keys=keys("c"), pending=9),
            [9, 7, 6, 6, 5, 2],
            "abcdef",
            [0, 0, 0, 1, 1, 1],
        ),
    ],
    ids=[
        "at and below the watermark",
        "first sync",
        "null values",
        "all above the watermark",
        "only null values",
        "resumed desc read",
    ],
)
def test_append_drops_exactly_the_rows_already_written(start, values, names, kept):
    marks = Watermarks(start=start, advance=Advance.PER_BATCH, filter_written=True)

    assert marks.admit(values, key_of(list(names))) == [bool(k) for k in kept]


def test_merge_modes_admit_every_row():
    marks = Watermarks(
        start=Position(watermark=5, watermark_keys=keys("a")),
        advance=Advance.PER_BATCH,
        filter_written=False,
    )

    assert marks.admit([1, 5], key_of(["x", "a"])) == [True, True]


def test_reads_that_interleave_keep_no_earliest_value_to_resume_from():
    marks = Watermarks(
        start=Position(),
        advance=Advance.AT_COMPLETION,
        filter_written=False,
        track_earliest=False,
    )

    batch = marks.after([3, 9, 1], key_of(["c", "i", "a"]))
    marks.accept(batch)

    assert (batch.earliest, batch.pending) == (None, 9)
    assert marks.complete().watermark == 9


def _arrays():
    import pyarrow as pa

    moments = [
        dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        None,
        dt.datetime(2026, 3, 1, tzinfo=UTC),
        dt.datetime(2025, 12, 31, 23, tzinfo=UTC),
        dt.datetime(2026, 3, 1, tzinfo=UTC),  # a tie at the top
    ]
    naive = [m.replace(tzinfo=None) if m else None for m in moments]
    return {
        "timestamp[us, UTC]": (pa.array(moments, pa.timestamp("us", tz="UTC")), T.DATETIME),
        "timestamp[ms, +02:00]": (pa.array(moments, pa.timestamp("ms", tz="+02:00")), T.DATETIME),
        "timestamp[ns] naive": (pa.array(naive, pa.timestamp("ns")), T.DATETIME),
        "timestamp as TIMESTAMP": (pa.array(moments, pa.timestamp("s", tz="UTC")), T.TIMESTAMP),
        "date32": (
            pa.array([m.date() if m else None for m in moments], pa.date32()),
            T.DATE,
        ),
        "int64": (pa.array([5, None, 9, 1, 9], pa.int64()), T.INTEGER),
        "all null": (pa.array([None, None], pa.timestamp("us", tz="UTC")), T.DATETIME),
    }


@pytest.mark.parametrize("advance", list(Advance))
@pytest.mark.parametrize("name", list(_arrays()))
def test_column_wise_values_move_watermarks_as_the_row_by_row_values_do(name, advance):
    from headwater.sync import ColumnValues, column_values

    array, field_type = _arrays()[name]
    rows = [comparable(value, field_type) for value in array.to_pylist()]
    fast = column_values(array, field_type)
    names = key_of([f"k{i}" for i in range(len(array))])

    assert isinstance(fast, ColumnValues)
    assert list(fast) == rows
    assert [fast[i] for i in range(len(rows))] == rows
    start = Position(watermark=rows[0], watermark_keys=keys("k0")) if rows[0] else Position()
    by_rows = Watermarks(start=start, advance=advance, filter_written=True)
    by_column = Watermarks(start=start, advance=advance, filter_written=True)
    assert by_column.admit(fast, names) == by_rows.admit(rows, names)
    assert by_column.after(fast, names) == by_rows.after(rows, names)


@pytest.mark.parametrize(
    ("array", "field_type"),
    [
        ("strings", T.DATETIME),  # ISO text: parsed row by row, as comparable() reads it
        ("ints", T.TIMESTAMP),  # epoch seconds or milliseconds, decided per value
        ("timestamps", T.DATE),
        ("floats", T.NUMERIC),
    ],
)
def test_other_columns_take_the_row_by_row_path(array, field_type):
    import pyarrow as pa

    from headwater.sync import column_values

    arrays = {
        "strings": pa.array(["2026-01-01T00:00:00Z"]),
        "ints": pa.array([1_767_225_600]),
        "timestamps": pa.array([dt.datetime(2026, 1, 1, tzinfo=UTC)]),
        "floats": pa.array([1.5]),
    }
    assert column_values(arrays[array], field_type) is None
