"""The column-wise fast path for pages of dicts gives exactly what the per-value path gives.

The reference is the per-value path alone (:func:`per_value`): every row through
``RowBatcher._add``, every batch through ``classify`` and ``convert``.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import OrderedDict
from decimal import Decimal

import pyarrow as pa
import pytest

from headwater import NullProgress
from headwater.errors import RowError
from headwater.sync import BatchLimits, ColumnType, RowBatcher, TableShape, batching
from headwater.sync.columns import JsonText

UTC = dt.UTC
CET = dt.timezone(dt.timedelta(hours=1))


def run(items, *, shape=None, max_rows=1000, max_bytes=10**9, slow=False, monkeypatch=None):
    batcher = RowBatcher(
        schema_name="s",
        shape=shape if shape is not None else TableShape(),
        limits=BatchLimits(max_rows=max_rows, max_bytes=max_bytes),
        progress=NullProgress(),
    )
    if slow:
        per_value(batcher)
    return list(batcher.batches(items)), batcher.shape


def seal(monkeypatch, *, rows, size):
    """Convert pending column-wise rows to Arrow every ``rows`` rows or ``size`` bytes."""
    monkeypatch.setattr(batching, "_SEAL_ROWS", rows)
    monkeypatch.setattr(batching, "_SEAL_BYTES", size)


def per_value(batcher):
    """Make ``batcher`` use only the per-value path: no page column-wise, no batch built
    column by column."""
    batcher._columns = lambda page: None  # type: ignore[method-assign]
    batcher._fast = lambda segments, count: None  # type: ignore[method-assign]


def both(items, **kwargs):
    """The batches and final shape from the fast path and from the per-value path."""
    shape = kwargs.pop("shape", None)
    copy = (lambda: TableShape(shape.columns.items())) if shape is not None else TableShape
    fast = run(items, shape=copy(), **kwargs)
    slow = run(items, shape=copy(), slow=True, **kwargs)
    return fast, slow


def assert_same(fast, slow):
    (fast_batches, fast_shape), (slow_batches, slow_shape) = fast, slow
    assert [b.num_rows for b in fast_batches] == [b.num_rows for b in slow_batches]
    for got, want in zip(fast_batches, slow_batches, strict=True):
        assert got.schema.equals(want.schema, check_metadata=True)
        assert got.equals(want)
    assert list(fast_shape.columns.items()) == list(slow_shape.columns.items())


@pytest.fixture
def used(monkeypatch):
    """The fast builder's outcome for each batch of dict pages: True if it built it."""
    outcomes: list[bool] = []
    original = RowBatcher._fast

    def spy(self, segments, count):
        batch = original(self, segments, count)
        outcomes.append(batch is not None)
        return batch

    monkeypatch.setattr(RowBatcher, "_fast", spy)
    return outcomes


@pytest.fixture
def paged(monkeypatch):
    """For each page of dicts: True if it was kept column-wise, False if added row by row."""
    outcomes: list[bool] = []
    original = RowBatcher._columns

    def spy(self, page):
        columns = original(self, page)
        outcomes.append(columns is not None)
        return columns

    monkeypatch.setattr(RowBatcher, "_columns", spy)
    return outcomes


# --- the property: both paths agree on tricky tables --------------------------------------

_VALUES = {
    "int": lambda r: r.choice([0, -1, 7, 2**63 - 1, -(2**63), r.randrange(10**6)]),
    "float": lambda r: r.choice([0.0, -1.5, 1e300, float("inf"), r.random()]),
    "str": lambda r: r.choice(["", "x", "ünïcödé", "2024-01-01T00:00:00Z", "y" * r.randrange(50)]),
    "bool": lambda r: r.random() < 0.5,
    "date": lambda r: dt.date(2026, 1, r.randrange(1, 28)),
    "datetime": lambda r: r.choice(
        [
            dt.datetime(2026, 1, 2, 3, 4, 5, 6),
            dt.datetime(2026, 1, 2, 3, tzinfo=UTC),
            dt.datetime(2026, 1, 2, 3, tzinfo=CET),
        ]
    ),
    "bytes": lambda r: r.choice([b"", b"\x00\xff", b"abc"]),
    "json": lambda r: r.choice(
        [{"a": 1, "b": [1, 2]}, [], [1, "x"], (1, 2), {}, {"d": Decimal("1.5"), "n": None}]
    ),
}
_ODD = [
    2**63,  # an int beyond int64
    -(2**64),
    True,
    1,
    1.0,
    "text",
    Decimal("1.25"),
    Decimal("1.0000000001"),
    uuid.UUID(int=5),
    JsonText('{"pre":"encoded"}'),
    OrderedDict(a=1),
    bytearray(b"ba"),
    dt.date(2026, 2, 1),
    dt.datetime(2026, 2, 1),
    {"x": {"y": [1]}},
    None,
]


def _table(r: random.Random) -> list[object]:
    kinds = {f"c{n}": r.choice(list(_VALUES)) for n in range(r.randrange(1, 8))}
    odd = r.choice([0.0, 0.002, 0.05])
    nulls = r.choice([0.0, 0.2, 0.9])
    items: list[object] = []
    for _ in range(r.randrange(1, 25)):
        regular = r.random() < 0.8
        keys = list(kinds)
        if not regular:
            r.shuffle(keys)
            if r.random() < 0.5:
                keys.append(f"new{r.randrange(3)}")

        def row(keys=keys, regular=regular):
            out = {}
            for key in keys if regular else r.sample(keys, r.randrange(len(keys) + 1)):
                if r.random() < nulls:
                    out[key] = None
                elif r.random() < odd or key not in kinds:
                    out[key] = r.choice(_ODD)
                else:
                    out[key] = _VALUES[kinds[key]](r)
            return out

        if r.random() < 0.1:
            items.append(row())  # a single row between pages
        else:
            items.append([row() for _ in range(r.randrange(0, 60))])
    return items


@pytest.mark.parametrize("seed", [*range(300), 2179])  # 2179: rows with shuffled keys
def test_fast_and_per_value_paths_give_identical_batches(seed, monkeypatch):
    r = random.Random(seed)
    items = _table(r)
    limits = {"max_rows": r.choice([1, 7, 50, 1000]), "max_bytes": r.choice([64, 900, 10**9])}
    seal(monkeypatch, rows=r.choice([1, 3, 20, 10**9]), size=r.choice([100, 10**9]))

    assert_same(*both(items, **limits))


def test_the_property_exercises_the_fast_path(used):
    for seed in range(50):
        r = random.Random(seed)
        run(_table(r), max_rows=r.choice([7, 50, 1000]))

    assert any(used)
    assert not all(used)


# Values that sit at the edges of what the fast path takes: ints in float columns (exact up
# to 2**53, not beyond), bools among numbers, nested values beside text and JSON text.
_NUMBERS = [0, 1, -7, 2**53, -(2**53), 2**53 + 1, 2**63, 0.0, -0.5, 1e300, float("inf"), True]
_EDGE = {
    "number": lambda r: r.choice(_NUMBERS) if r.random() < 0.3 else r.choice([r.random(), 3]),
    "float": lambda r: r.random() if r.random() < 0.97 else r.choice(_NUMBERS),
    "int": lambda r: r.randrange(-50, 50) if r.random() < 0.97 else r.choice(_NUMBERS),
    "nested": lambda r: r.choice([{"a": [1]}, [], ["x", {"y": None}], (1,), {}]),
    "nested or text": lambda r: r.choice(
        [{"a": 1}, [2], "text", JsonText('{"j":1}'), OrderedDict(o=1)]
    ),
    "text": lambda r: r.choice(["", "é" * r.randrange(9), "t" * r.randrange(90)]),
    "bytes": lambda r: r.choice([b"", b"\x01" * r.randrange(9), bytearray(b"ba")]),
}


def _edge_table(r: random.Random) -> tuple[list[object], TableShape]:
    """Pages whose rows often lack keys, runs of single rows, and a table that may exist."""
    names = [f"k{n}" for n in range(r.randrange(1, 7))]
    kinds = {name: r.choice(list(_EDGE)) for name in names}
    known = {
        "number": ColumnType.FLOAT,
        "float": ColumnType.FLOAT,
        "int": ColumnType.INT,
        "nested": ColumnType.JSON,
        "nested or text": ColumnType.JSON,
        "text": ColumnType.STRING,
        "bytes": ColumnType.BINARY,
    }
    shape = TableShape(
        [(name, known[kinds[name]]) for name in names if r.random() < 0.5],
    )
    present, nulls = r.choice([1.0, 0.9, 0.5]), r.choice([0.0, 0.3])

    def row() -> dict[str, object]:
        keys = names if r.random() < 0.7 else r.sample(names, len(names))
        return {
            key: None if r.random() < nulls else _EDGE[kinds[key]](r)
            for key in keys
            if r.random() < present
        }

    items: list[object] = []
    for _ in range(r.randrange(1, 20)):
        if r.random() < 0.2:
            items.extend(row() for _ in range(r.randrange(1, 6)))  # single rows
        else:
            items.append([row() for _ in range(r.randrange(1, 40))])
    return items, shape


@pytest.mark.parametrize("seed", range(200))
def test_fast_and_per_value_paths_agree_on_sparse_numeric_and_single_rows(seed, monkeypatch):
    r = random.Random(seed)
    items, shape = _edge_table(r)
    limits = {"max_rows": r.choice([1, 5, 30, 1000]), "max_bytes": r.choice([40, 500, 10**9])}
    seal(monkeypatch, rows=r.choice([1, 4, 25, 10**9]), size=r.choice([60, 10**9]))

    assert_same(*both(items, shape=shape, **limits))


def test_the_edge_property_exercises_both_paths(used, paged):
    for seed in range(50):
        r = random.Random(seed)
        items, shape = _edge_table(r)
        run(items, shape=shape, max_rows=r.choice([5, 30, 1000]))

    assert any(used)
    assert not all(used)
    assert any(paged)


# --- when the fast path is taken ----------------------------------------------------------


def page(n, **columns):
    return [{name: make(i) for name, make in columns.items()} for i in range(n)]


TYPED = {
    "id": lambda i: i,
    "name": lambda i: f"n{i}",
    "at": lambda i: dt.datetime(2026, 1, 1, i % 24, tzinfo=UTC),
    "day": lambda i: dt.date(2026, 1, 1 + i % 28),
    "price": lambda i: i / 7,
    "on": lambda i: i % 2 == 0,
    "raw": lambda i: bytes([i % 256]),
    "address": lambda i: {"city": f"c{i}"},
    "tags": lambda i: ["a"][: i % 2],
    "maybe": lambda i: None if i % 3 else i,
}


def test_pages_fitting_the_established_columns_are_built_column_wise(used):
    items = [page(50, **TYPED), page(50, **TYPED), page(50, **TYPED)]

    fast, slow = both(items, max_rows=50)

    assert_same(fast, slow)
    assert used[:3] == [True, True, True]  # the first batch too: each new column has one type
    assert list(fast[1].columns) == list(TYPED)
    assert fast[1].columns["address"] is ColumnType.JSON
    assert fast[0][1].column("address")[0].as_py() == '{"city":"c0"}'


def test_a_column_of_only_nulls_does_not_stop_the_fast_path(used):
    shape = TableShape([("id", ColumnType.INT)])

    fast, slow = both([page(5, id=lambda i: i, never=lambda i: None)], shape=shape)

    assert_same(fast, slow)
    assert used == [True]
    assert fast[0][0].schema.names == ["id"]


def test_a_known_column_missing_from_the_page_is_null(used):
    shape = TableShape([("id", ColumnType.INT), ("gone", ColumnType.STRING)])

    fast, slow = both([page(3, id=lambda i: i)], shape=shape)

    assert_same(fast, slow)
    assert used == [True]
    assert fast[0][0].column("gone").to_pylist() == [None] * 3


@pytest.mark.parametrize(
    ("column", "value"),
    [
        (ColumnType.INT, "n/a"),  # a conflict: a variant column
        (ColumnType.INT, True),  # bool is an int subclass but its own type
        (ColumnType.INT, 2**63),  # beyond int64: a string variant
        (ColumnType.INT, 1.5),  # widens to float64
        (ColumnType.INT, Decimal("1.5")),  # widens to decimal
        (ColumnType.DECIMAL, Decimal("1.5")),  # decimals need a per-value fit check
        (ColumnType.FLOAT, 2**53 + 1),  # not exactly a double: pa.array refuses it
        (ColumnType.FLOAT, True),  # pa.array would make it 1.0; it goes to a variant
        (ColumnType.STRING, JsonText("{}")),
        (ColumnType.STRING, uuid.UUID(int=1)),
        (ColumnType.STRING, {"a": 1}),
        (ColumnType.JSON, "plain text"),
        (ColumnType.DATE, dt.datetime(2026, 1, 1)),  # widens to timestamp
        (ColumnType.TIMESTAMP, dt.date(2026, 1, 1)),
        (ColumnType.BINARY, bytearray(b"x")),
        (ColumnType.BOOL, 1),
    ],
)
def test_a_value_not_of_its_columns_exact_type_falls_back(used, column, value):
    shape = TableShape([("id", ColumnType.INT), ("v", column)])
    fitting = {
        ColumnType.INT: 1,
        ColumnType.DECIMAL: Decimal(1),
        ColumnType.FLOAT: 1.0,
        ColumnType.STRING: "s",
        ColumnType.JSON: [1],
        ColumnType.DATE: dt.date(2026, 1, 2),
        ColumnType.TIMESTAMP: dt.datetime(2026, 1, 2, tzinfo=UTC),
        ColumnType.BINARY: b"b",
        ColumnType.BOOL: False,
    }[column]
    items = [[{"id": 1, "v": fitting}, {"id": 2, "v": value}, {"id": 3, "v": None}]]

    fast, slow = both(items, shape=shape)

    assert_same(fast, slow)
    assert used == [False]


def test_a_new_column_of_one_type_is_added_by_the_fast_path(used):
    shape = TableShape([("id", ColumnType.INT)])
    items = [page(4, extra=lambda i: f"e{i}", id=lambda i: i, none=lambda i: None)]

    fast, slow = both(items, shape=shape)

    assert_same(fast, slow)
    assert used == [True]
    assert list(fast[1].columns) == ["id", "extra"]


@pytest.mark.parametrize(
    "values",
    [
        [1, "n/a"],  # a conflict: a variant column
        [1, 2**63],  # an int beyond int64 is a string
        [2**64, 2**65],  # only such ints: a string column
        [Decimal(1), Decimal(2)],
        [1.5, 2**53 + 1],  # widens, but the int is not exactly a double
    ],
    ids=["conflict", "int and huge int", "huge ints", "decimals", "inexact int in floats"],
)
def test_a_new_column_needing_resolution_falls_back_leaving_the_shape_alone(used, values):
    items = [[{"id": n, "v": value} for n, value in enumerate(values)], page(2, id=lambda i: i)]

    fast, slow = both(items, max_rows=len(values))

    assert_same(fast, slow)
    assert used == [False, True]


@pytest.mark.parametrize("value", [3, -(2**53), 2**53, 0])
def test_ints_in_a_float_column_are_built_column_wise(used, value):
    shape = TableShape([("id", ColumnType.INT), ("v", ColumnType.FLOAT)])
    items = [[{"id": 1, "v": 1.5}, {"id": 2, "v": value}, {"id": 3, "v": None}]]

    fast, slow = both(items, shape=shape)

    assert_same(fast, slow)
    assert used == [True]
    assert fast[0][0].column("v").to_pylist() == [1.5, float(value), None]


@pytest.mark.parametrize("values", [[1, 2.5], [2.5, 1], [1, 2, 0.5]])
def test_a_new_column_of_ints_and_floats_is_float64_built_column_wise(used, values):
    items = [[{"id": n, "v": value} for n, value in enumerate(values)]]

    fast, slow = both(items)

    assert_same(fast, slow)
    assert used == [True]
    assert fast[1].columns["v"] is ColumnType.FLOAT


@pytest.mark.parametrize(
    "rows",
    [
        [{"id": 1, "a": 1}, {"id": 2}],  # a key missing
        [{"id": 1}, {"id": 2, "a": "x"}, {"a": "y"}],  # keys appear later
        [{"id": 1, "a": 1}, {"a": 2, "id": 2}],  # the same keys in another order
        [{"id": 1, "a": None}, {"id": 2}],  # None and missing alike
    ],
    ids=["key missing", "keys appear later", "key order differs", "null and missing"],
)
def test_pages_whose_rows_differ_in_their_keys_are_kept_column_wise(used, paged, rows):
    shape = TableShape([("id", ColumnType.INT)])

    fast, slow = both([rows], shape=shape)

    assert_same(fast, slow)
    assert paged == [True]
    assert used == [True]


@pytest.mark.parametrize("max_bytes", [1, 40, 64, 100, 10**9])
@pytest.mark.parametrize("max_rows", [1, 2, 3, 1000])
def test_rows_lacking_keys_are_cut_and_ordered_like_the_per_value_path(max_rows, max_bytes):
    # A slice of the page holds only its own rows' columns, in their order: "b" first
    # appears before "a" in the rows from index 1, and the bytes count only present keys.
    rows = [
        {"id": 0, "a": "xx"},
        {"id": 1, "b": 2.5},
        {"a": None, "id": 2, "c": [1, 2]},
        {"id": 3},
        {"id": 4, "b": 1, "a": "yyyyyyyy", "c": {"k": "v"}},
    ]

    fast, slow = both([rows, rows[1:]], max_rows=max_rows, max_bytes=max_bytes)

    assert_same(fast, slow)


@pytest.mark.parametrize(
    "rows",
    [
        [{"id": 1, "first name": "x"}],  # a name Delta forbids
        [{"id": 1, 5: "x"}],  # a key that is not a str
        [{"id": 1}, OrderedDict(id=2)],  # not a plain dict
    ],
    ids=["unclean name", "non-str key", "dict subclass"],
)
def test_other_pages_are_added_row_by_row_and_still_built_column_wise(used, paged, rows):
    shape = TableShape([("id", ColumnType.INT)])

    fast, slow = both([rows], shape=shape)

    assert_same(fast, slow)
    assert paged == [False]
    assert used == [True]


def test_single_rows_are_built_column_wise_with_the_pages_around_them(used, paged):
    shape = TableShape([("id", ColumnType.INT)])
    items = [{"id": 0, "tags": ["a"]}, page(3, id=lambda i: i + 1), {"id": 9, "tags": None}]

    fast, slow = both(items, shape=shape)

    assert_same(fast, slow)
    assert paged == [True]
    assert used == [True]
    assert fast[0][0].column("tags").to_pylist() == ['["a"]', None, None, None, None]


def test_a_batch_whose_single_rows_widen_a_column_takes_the_per_value_path(used):
    shape = TableShape([("id", ColumnType.INT)])
    items = [{"id": 0}, page(3, id=lambda i: i + 1), {"id": 2.5}, page(2, id=lambda i: i)]

    fast, slow = both(items, shape=shape)

    assert_same(fast, slow)
    assert used == [False]
    assert fast[0][0].schema.field("id").type == pa.float64()


@pytest.mark.parametrize(
    ("other", "column_wise"),
    [
        ("plain text", False),  # a variant column: value by value
        (7, False),
        (JsonText('{"pre":"encoded"}'), True),  # JSON text already: the same column
        (OrderedDict(a=1), True),  # encoded value by value, then JSON text like the rest
    ],
    ids=["str", "int", "JsonText", "dict subclass"],
)
def test_a_nested_column_beside_other_values_in_a_batch_gives_the_same_text(
    used, other, column_wise
):
    # The first page's column is only dicts and lists (encoded a column at a time); the
    # second's mixes in another type.
    items = [
        page(3, id=lambda i: i, doc=lambda i: {"n": i} if i % 2 else [i, None]),
        [{"id": 3, "doc": other}, {"id": 4, "doc": {"n": 4}}],
    ]

    fast, slow = both(items)

    assert_same(fast, slow)
    assert used == [column_wise]


def test_a_page_widened_by_an_earlier_batch_is_rechecked_at_its_own_flush(used):
    # The page fits int64 when it arrives, but the batch it starts in widens the column.
    shape = TableShape([("id", ColumnType.INT)])
    items = [{"id": 0.5}, page(5, id=lambda i: i)]

    fast, slow = both(items, shape=shape, max_rows=3)

    assert_same(fast, slow)
    assert fast[0][1].schema.field("id").type == pa.float64()
    assert fast[0][1].column("id").to_pylist() == [2.0, 3.0, 4.0]


# --- pending rows held as Arrow -------------------------------------------------------------


def test_pending_rows_are_held_as_arrow_once_sealed(monkeypatch):
    seal(monkeypatch, rows=10, size=10**9)
    batcher = RowBatcher(
        schema_name="s",
        shape=TableShape(),
        limits=BatchLimits(max_rows=1000),
        progress=NullProgress(),
    )
    pending = []

    def items():
        yield from (page(6, **TYPED) for _ in range(4))
        pending.extend(batcher._segments)  # before the last batch is built

    result = list(batcher.batches(items()))

    assert [segment.count for segment in pending] == [12, 12]
    assert all(isinstance(v, pa.Array) for s in pending for v in s.values.values())
    assert_same((result, batcher.shape), run([page(6, **TYPED)] * 4, slow=True))


@pytest.mark.parametrize(
    ("shape", "first", "later", "column_wise"),
    [
        # sealed int64 arrays for a float64 column: their ints, converted like any others
        ([("v", ColumnType.FLOAT)], lambda i: i, 2.5, True),
        # sealed JSON text, then a plain string: a variant column, value by value
        ([], lambda i: {"n": i}, "text", False),
        # sealed ints, then one beyond int64: a string variant, value by value
        ([("v", ColumnType.INT)], lambda i: i, 2**64, False),
    ],
    ids=["ints for floats", "json then text", "huge int"],
)
def test_sealed_rows_give_the_same_batch_when_later_rows_change_the_column(
    monkeypatch, used, shape, first, later, column_wise
):
    seal(monkeypatch, rows=3, size=10**9)
    items = [page(2, v=first), page(2, v=first), [{"v": later}]]

    fast, slow = both(items, shape=TableShape(shape))

    assert_same(fast, slow)
    assert used == [column_wise]


# --- batch boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize("max_bytes", [1, 100, 333, 1000, 5000, 10**9])
@pytest.mark.parametrize("max_rows", [1, 3, 64, 10_000])
def test_pages_are_cut_at_the_same_rows_by_rows_and_by_bytes(max_rows, max_bytes):
    items = [
        page(40, id=lambda i: i, text=lambda i: "x" * (i * 7 % 50), blob=lambda i: b"b" * i),
        {"id": 1, "text": "single"},
        page(25, id=lambda i: i, text=lambda i: None, tags=lambda i: list(range(i % 4))),
        [],
        page(60, id=lambda i: i, text=lambda i: "é" * (i % 9)),
    ]

    fast, slow = both(items, max_rows=max_rows, max_bytes=max_bytes)

    assert_same(fast, slow)


def test_memory_is_bounded_by_the_batch_not_the_page():
    result, _ = run([page(1000, id=lambda i: i)], max_rows=100)

    assert [batch.num_rows for batch in result] == [100] * 10


# --- errors -------------------------------------------------------------------------------


def test_an_unstorable_value_fails_after_the_same_batches_as_the_per_value_path():
    bad = page(10, id=lambda i: i)
    bad[7]["id"] = object()

    for slow in (False, True):
        batcher = RowBatcher(
            schema_name="s",
            shape=TableShape([("id", ColumnType.INT)]),
            limits=BatchLimits(max_rows=3),
            progress=NullProgress(),
        )
        if slow:
            per_value(batcher)
        got = []
        batches = batcher.batches([bad])
        got.append(next(batches).num_rows)
        got.append(next(batches).num_rows)
        with pytest.raises(RowError, match=r"column 'id' holds a builtins\.object"):
            next(batches)
        assert got == [3, 3]


def test_nested_values_json_cannot_encode_fail_the_same_way():
    rows = [{"id": 1, "doc": {"big": 2**70}}]

    for slow in (False, True):
        with pytest.raises(TypeError):
            run([rows], slow=slow)


def test_a_new_column_only_null_in_a_slice_of_its_page_waits(used):
    # The page's types say "str", but the batch cut from its first rows holds only nulls.
    items = [page(4, id=lambda i: i, late=lambda i: None if i < 2 else "x")]

    fast, slow = both(items, max_rows=2)

    assert_same(fast, slow)
    assert used == [True, True]
    assert fast[0][0].schema.names == ["id"]
    assert fast[0][1].schema.names == ["id", "late"]
