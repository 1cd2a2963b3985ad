"""Row identity in a batch: primary-key checks, de-duplication, row fingerprints."""

from __future__ import annotations

import pyarrow as pa
import pytest

from headwater.errors import PrimaryKeyError
from headwater.sync import check_primary_keys, deduplicate, row_keys


def test_deduplicate_keeps_the_last_row_of_each_key_in_order():
    batch = pa.RecordBatch.from_pylist(
        [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 1, "v": "c"}, {"id": 3, "v": "d"}]
    )

    assert deduplicate(batch, ["id"]).to_pylist() == [
        {"id": 2, "v": "b"},
        {"id": 1, "v": "c"},
        {"id": 3, "v": "d"},
    ]


def test_deduplicate_returns_a_batch_without_repeats_as_it_is():
    batch = pa.RecordBatch.from_pylist([{"id": 1}, {"id": 2}])

    assert deduplicate(batch, ["id"]) is batch


def test_float_keys_compare_as_arrow_groups_them():
    nan = float("nan")
    batch = pa.RecordBatch.from_pylist(
        [{"k": nan, "n": 0}, {"k": 0.0, "n": 1}, {"k": -0.0, "n": 2}, {"k": nan, "n": 3}]
    )

    assert deduplicate(batch, ["k"]).column("n").to_pylist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"id": 1, "x": 1}, {"id": None, "x": 2}], "1 row(s) have a null primary key 'id'"),
        ([{"x": 1}], "1 row(s) lack the primary key 'id', missing or null"),
    ],
)
def test_check_primary_keys_names_the_schema_and_the_key(rows, message):
    batch = pa.RecordBatch.from_pylist(rows)

    with pytest.raises(PrimaryKeyError) as raised:
        check_primary_keys(batch, ["id"], schema="items")

    assert str(raised.value).startswith(f"schema 'items': {message}")


def test_row_keys_are_the_primary_key_values_as_json():
    batch = pa.RecordBatch.from_pylist([{"id": 7, "region": "eu", "v": 1}])

    assert row_keys(batch, ("id", "region"))(0) == '[7,"eu"]'


def test_a_row_fingerprint_ignores_null_columns_added_later():
    before = pa.RecordBatch.from_pylist([{"a": 1, "b": "x"}])
    after = pa.RecordBatch.from_pylist([{"a": 1, "b": "x", "c": None}, {"a": 1, "b": "y", "c": 2}])

    old, same, other = row_keys(before, None)(0), row_keys(after, None)(0), row_keys(after, None)(1)

    assert old.startswith("row:")
    assert old == same
    assert other != old
