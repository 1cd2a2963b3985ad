"""Every PostgreSQL type the issue lists, read from a real server: the Arrow type the
connector emits, a value, and NULL in each (the table in api_inventory.md)."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pyarrow as pa
import pytest

from connector_postgres._config import PostgresConfig
from connector_postgres.source import PostgresSource
from headwater import Secret
from headwater.runtime import Runtime
from headwater.sources import SourceInputs

UTC = dt.UTC

# column, declared type, SQL literal, expected Arrow type, expected Python value
TYPES = [
    ("small", "int2", "12", pa.int16(), 12),
    ("regular", "int4", "-7", pa.int32(), -7),
    ("big", "int8", "9007199254740993", pa.int64(), 9007199254740993),
    ("real_number", "float4", "1.5", pa.float32(), 1.5),
    ("double_number", "float8", "2.25", pa.float64(), 2.25),
    ("price", "numeric(12,2)", "1234567890.12", pa.decimal128(12, 2),
     decimal.Decimal("1234567890.12")),
    ("wide", "numeric(60,10)", "12345678901234567890123456789012345678901234567890.0123456789",
     pa.string(), "12345678901234567890123456789012345678901234567890.0123456789"),
    ("free", "numeric", "3.14159265358979323846264338327950288419716939937510",
     pa.string(), "3.14159265358979323846264338327950288419716939937510"),
    ("label", "text", "'héllo'", pa.string(), "héllo"),
    ("code", "varchar(8)", "'AB-1'", pa.string(), "AB-1"),
    ("fixed", "char(3)", "'EU'", pa.string(), "EU "),
    ("flag", "bool", "true", pa.bool_(), True),
    ("moment", "timestamptz", "'2024-02-29 23:59:59.123456+02'", pa.timestamp("us", tz="UTC"),
     dt.datetime(2024, 2, 29, 21, 59, 59, 123456, tzinfo=UTC)),
    ("wall_clock", "timestamp", "'2024-02-29 23:59:59.5'", pa.timestamp("us"),
     dt.datetime(2024, 2, 29, 23, 59, 59, 500000)),
    ("day", "date", "'2024-02-29'", pa.date32(), dt.date(2024, 2, 29)),
    ("clock", "time", "'13:45:01.25'", pa.string(), "13:45:01.25"),
    ("clock_tz", "timetz", "'13:45:01+02'", pa.string(), "13:45:01+02"),
    ("span", "interval", "'1 year 2 months 3 days 04:05:06'", pa.string(), "P1Y2M3DT4H5M6S"),
    ("ident", "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", pa.string(),
     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    ("doc", "json", """'{"b": 1, "a": [true, null]}'""", pa.string(),
     '{"b": 1, "a": [true, null]}'),
    ("docb", "jsonb", """'{"b": 1, "a": [true, null]}'""", pa.string(),
     '{"a": [true, null], "b": 1}'),
    ("numbers", "int4[]", "'{1,NULL,3}'", pa.list_(pa.int32()), [1, None, 3]),
    ("words", "text[]", """'{"a b",c}'""", pa.list_(pa.string()), ["a b", "c"]),
    ("ids", "uuid[]", "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", pa.list_(pa.string()),
     ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),
    ("mood", "feeling", "'happy'", pa.string(), "happy"),
    ("raw", "bytea", "'\\xdeadbeef'", pa.binary(), b"\xde\xad\xbe\xef"),
    ("address", "inet", "'192.168.0.1/24'", pa.string(), "192.168.0.1/24"),
]  # fmt: skip


@pytest.fixture(scope="module")
def read(request):
    from connector_postgres.testing import ShopDatabase

    database = ShopDatabase()
    columns = ", ".join(f"{name} {kind}" for name, kind, *_ in TYPES)
    values = ", ".join(literal for _, _, literal, *_ in TYPES)
    database.run(
        "create type feeling as enum ('sad', 'happy')",
        f"create table typed (id int primary key, {columns})",
        f"insert into typed values (1, {values})",
        "insert into typed (id) values (2)",  # every column NULL
    )
    config = database.config()
    source = PostgresSource()
    structured = PostgresConfig(**{**config, "password": Secret(config["password"])})
    response = source.source_for_pipeline(structured, SourceInputs(schema_name="typed"), Runtime())
    batches = [item for item in response.items() if isinstance(item, pa.RecordBatch)]
    return pa.Table.from_batches(batches).sort_by("id")


@pytest.mark.parametrize(
    ("column", "arrow_type", "value"),
    [pytest.param(name, arrow, value, id=f"{kind}") for name, kind, _, arrow, value in TYPES],
)
def test_each_type_arrives_as_its_arrow_type_with_its_value_and_null(
    read, column, arrow_type, value
):
    assert read.schema.field(column).type == arrow_type
    got, null = read.column(column).to_pylist()
    if column in ("doc", "docb"):
        assert json.loads(got) == json.loads(value)
    assert got == value
    assert null is None


def test_json_columns_are_marked_as_json_for_the_warehouse(read):
    for column in ("doc", "docb"):
        assert read.schema.field(column).metadata == {b"headwater.type": b"json"}
    assert not read.schema.field("label").metadata


def test_numeric_nan_becomes_null_in_a_decimal_column():
    from connector_postgres.testing import ShopDatabase

    database = ShopDatabase()
    database.run(
        "create table prices (id int primary key, amount numeric(8, 2))",
        "insert into prices values (1, 'NaN'), (2, 1.25)",
    )
    config = database.config()
    structured = PostgresConfig(**{**config, "password": Secret(config["password"])})
    response = PostgresSource().source_for_pipeline(
        structured, SourceInputs(schema_name="prices"), Runtime()
    )
    [batch] = [item for item in response.items() if isinstance(item, pa.RecordBatch)]
    assert batch.column("amount").to_pylist() == [None, decimal.Decimal("1.25")]
