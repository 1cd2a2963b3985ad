"""Rows to Arrow: batching by rows and bytes, stable schemas, nested data, conflicting types."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pyarrow as pa
import pytest

from headwater import NullProgress
from headwater.errors import RowError
from headwater.sync import BatchLimits, ColumnType, RowBatcher, TableShape, classify

UTC = dt.UTC


def batches(items, *, shape=None, max_rows=1000, max_bytes=10**9):
    batcher = RowBatcher(
        schema_name="s",
        shape=shape if shape is not None else TableShape(),
        limits=BatchLimits(max_rows=max_rows, max_bytes=max_bytes),
        progress=NullProgress(),
    )
    return list(batcher.batches(items)), batcher.shape


def rows_of(result):
    return [row for batch in result for row in batch.to_pylist()]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, ColumnType.BOOL),
        (7, ColumnType.INT),
        (2**70, ColumnType.STRING),
        (1.5, ColumnType.FLOAT),
        ("x", ColumnType.STRING),
        (uuid.UUID(int=1), ColumnType.STRING),
        (Decimal("1.25"), ColumnType.DECIMAL),
        (Decimal("1.0000000001"), ColumnType.STRING),
        (dt.datetime(2026, 1, 1), ColumnType.TIMESTAMP),
        (dt.date(2026, 1, 1), ColumnType.DATE),
        (b"\x00", ColumnType.BINARY),
        ({"a": 1}, ColumnType.JSON),
        ([1, 2], ColumnType.JSON),
    ],
)
def test_each_python_value_has_one_column_type(value, expected):
    assert classify(value) is expected


def test_a_value_of_an_unknown_type_is_an_error_naming_the_column():
    with pytest.raises(RowError, match=r"schema 's': column 'when' holds a builtins\.object"):
        batches([{"when": object()}])


@pytest.mark.parametrize(
    "item", ["a string", 5, [{"ok": 1}, "not a row"]], ids=["str", "int", "list of str"]
)
def test_items_must_be_dicts_lists_of_dicts_or_arrow(item):
    with pytest.raises(RowError, match="expected a dict"):
        batches([item])


def test_dicts_pages_and_arrow_tables_mix_in_order():
    items = [
        {"id": 1},
        [{"id": 2}, {"id": 3}],
        pa.table({"id": pa.array([4, 5], pa.int32())}),
        pa.record_batch({"id": [6]}),
    ]

    result, _ = batches(items)

    assert [r["id"] for r in rows_of(result)] == [1, 2, 3, 4, 5, 6]
    assert {str(batch.schema.field("id").type) for batch in result} == {"int64"}


@pytest.mark.parametrize(
    ("limits", "sizes"),
    [
        ({"max_rows": 4}, [4, 4, 2]),
        ({"max_bytes": 3 * 1000}, [3, 3, 3, 1]),  # each row is about 1 kB of text
    ],
)
def test_batches_are_bounded_by_rows_and_by_bytes(limits, sizes):
    items = [{"id": n, "text": "x" * 1000} for n in range(10)]

    result, _ = batches(items, **limits)

    assert [batch.num_rows for batch in result] == sizes


def test_large_arrow_tables_are_cut_to_the_limits():
    result, _ = batches([pa.table({"id": list(range(10))})], max_rows=4)

    assert [batch.num_rows for batch in result] == [4, 4, 2]


def test_new_columns_are_added_and_every_batch_carries_every_known_column():
    result, shape = batches([{"id": 1}, {"id": 2, "name": "b"}, {"id": 3}], max_rows=1)

    assert [batch.schema.names for batch in result] == [["id"], ["id", "name"], ["id", "name"]]
    assert shape.columns == {"id": ColumnType.INT, "name": ColumnType.STRING}
    assert rows_of(result)[2] == {"id": 3, "name": None}


def test_a_column_that_only_held_nulls_waits_for_its_first_value():
    result, shape = batches([{"id": 1, "later": None}, {"id": 2, "later": 5}], max_rows=1)

    assert result[0].schema.names == ["id"]
    assert shape.columns["later"] is ColumnType.INT


@pytest.mark.parametrize(
    ("values", "column", "variants"),
    [
        ([1, 2.5], ("double", [1.0, 2.5]), {}),
        ([1, Decimal("2.5")], ("decimal128(38, 9)", [Decimal(1), Decimal("2.5")]), {}),
        (
            [dt.date(2026, 1, 1), dt.datetime(2026, 1, 2, 3, tzinfo=UTC)],
            (
                "timestamp[us, tz=UTC]",
                [dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 1, 2, 3, tzinfo=UTC)],
            ),
            {},
        ),
        ([1, "n/a"], ("int64", [1, None]), {"v__string": [None, "n/a"]}),
        (["a", {"b": 1}], ("string", ["a", None]), {"v__json": [None, '{"b":1}']}),
        ([True, 1], ("bool", [True, None]), {"v__int64": [None, 1]}),
    ],
    ids=["int+float", "int+decimal", "date+timestamp", "int+str", "str+object", "bool+int"],
)
def test_compatible_types_widen_and_conflicting_ones_go_to_a_variant_column(
    values, column, variants
):
    result, _ = batches([{"v": value} for value in values])

    (batch,) = result
    assert (str(batch.schema.field("v").type), batch.column("v").to_pylist()) == column
    assert {n: batch.column(n).to_pylist() for n in batch.schema.names if n != "v"} == variants


def test_a_conflict_with_an_existing_column_keeps_its_type():
    shape = TableShape([("v", ColumnType.INT)])

    result, _ = batches([{"v": "text"}], shape=shape)

    assert result[0].to_pylist() == [{"v": None, "v__string": "text"}]


def test_nested_objects_and_lists_become_json_text_marked_in_the_field_metadata():
    items = [
        {"id": 1, "address": {"city": "Ghent", "zip": Decimal("9000")}, "tags": ["a", "b"]},
        pa.table({"id": [2], "address": [{"city": "Tartu", "zip": "51"}], "tags": [["c"]]}),
    ]

    result, shape = batches(items)

    values = [(r["address"], r["tags"]) for r in rows_of(result)]
    assert values == [
        ('{"city":"Ghent","zip":"9000"}', '["a","b"]'),
        ('{"city":"Tartu","zip":"51"}', '["c"]'),
    ]
    field = result[0].schema.field("address")
    assert field.metadata == {b"headwater.type": b"json"}
    assert shape.columns["tags"] is ColumnType.JSON


@pytest.mark.parametrize("rows", [0, 1, 1024, 2500])
def test_nested_arrow_columns_give_the_json_text_of_their_dicts(rows):
    values = [
        {"doc": None if i % 5 == 0 else {"n": i, "tags": ["x"] * (i % 3)}, "ids": [i, None]}
        for i in range(rows)
    ]
    table = pa.Table.from_pylist(values) if rows else pa.table({"doc": pa.array([])})

    from_arrow, _ = batches([table], max_rows=10_000)
    from_dicts, _ = batches([values], max_rows=10_000)

    assert [r.get("doc") for r in rows_of(from_arrow)] == [
        r.get("doc") for r in rows_of(from_dicts)
    ]
    assert [r["ids"] for r in rows_of(from_arrow)] == [r["ids"] for r in rows_of(from_dicts)]


@pytest.mark.parametrize(
    ("arrow_type", "values", "expected_type", "expected"),
    [
        (pa.uint8(), [1, 2], "int64", [1, 2]),
        (pa.float32(), [1.5], "double", [1.5]),
        (pa.large_string(), ["a"], "string", ["a"]),
        (pa.dictionary(pa.int8(), pa.string()), ["a", "a"], "string", ["a", "a"]),
        (
            pa.timestamp("ns"),
            [dt.datetime(2026, 1, 1, 0, 0, 0, 1)],
            "timestamp[us, tz=UTC]",
            [dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)],
        ),
        (pa.time64("us"), [dt.time(10, 30)], "string", ["10:30:00.000000"]),
    ],
    ids=["uint8", "float32", "large_string", "dictionary", "ns timestamp", "time"],
)
def test_arrow_columns_are_normalised_to_the_warehouse_types(
    arrow_type, values, expected_type, expected
):
    table = pa.table({"v": pa.array(values, type=arrow_type)})

    result, _ = batches([table])

    assert str(result[0].schema.field("v").type) == expected_type
    assert result[0].column("v").to_pylist() == expected


def test_column_names_keep_their_spelling_except_characters_delta_forbids():
    result, _ = batches([{"createdAt": 1, "first name": "a", "a,b=c": 2}])

    assert result[0].schema.names == ["createdAt", "first_name", "a_b_c"]
