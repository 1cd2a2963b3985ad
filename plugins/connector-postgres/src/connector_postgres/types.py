"""PostgreSQL types to Arrow: what the select list asks for, and how each batch is finished.

The ADBC driver decodes the binary COPY stream of the base types below straight into Arrow
columns. Every other type is cast to ``text`` by the server in the select list (its own
canonical text, vectorized on the server), never converted value by value in Python. The
whole table, with references, is in ``api_inventory.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from connector_postgres.catalog import Column

__all__ = ["finish_batch", "numeric_type", "select_expression"]

# Types the driver decodes natively, as the Arrow types the docs in api_inventory.md list.
NATIVE = frozenset(
    {
        "bool",
        "int2",
        "int4",
        "int8",
        "float4",
        "float8",
        "text",
        "varchar",
        "bpchar",
        "name",
        "bytea",
        "date",
        "timestamp",
        "timestamptz",
        "numeric",
    }
)
# Array elements the driver decodes into Arrow lists; other arrays become text[].
NATIVE_ELEMENTS = NATIVE - {"numeric", "bytea", "name", "bpchar"}
JSON_TYPES = frozenset({"json", "jsonb"})

_JSON_METADATA = {b"headwater.type": b"json"}
# How a NaN numeric arrives as text (the driver writes it lower case; the server "NaN").
_NAN_TEXTS: Any = None

# numeric(p, s) fits Arrow's decimal128 up to 38 digits. An unconstrained numeric has no
# fixed scale (each value has its own), so it is kept as its exact text.
_MAX_DECIMAL_PRECISION = 38


def numeric_type(column: Column) -> tuple[int, int] | None:
    """``(precision, scale)`` of a ``numeric(p, s)`` column that fits decimal128, else ``None``."""
    if column.type_name != "numeric" or column.typmod < 4:
        return None
    # atttypmod of numeric is ((precision << 16) | scale) + VARHDRSZ (4).
    modifier = column.typmod - 4
    precision, scale = (modifier >> 16) & 0xFFFF, modifier & 0x7FF
    if precision > _MAX_DECIMAL_PRECISION or scale > precision:
        return None
    return precision, scale


def select_expression(column: Column) -> str:
    """The select-list entry of ``column``: its quoted name, cast to text where needed."""
    name = column.quoted
    if column.type_kind == "b" and column.type_name in NATIVE:
        return name
    if column.element and column.element_kind == "b" and column.element in NATIVE_ELEMENTS:
        return name
    if column.element:
        return f"{name}::text[] as {name}"
    return f"{name}::text as {name}"


def finish_batch(batch: pa.RecordBatch, columns: tuple[Column, ...]) -> pa.RecordBatch:
    """``batch`` as the warehouse should see it: numerics as decimals, JSON marked as JSON,
    the driver's extension types unwrapped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    global _NAN_TEXTS
    if _NAN_TEXTS is None:
        _NAN_TEXTS = pa.array(["nan", "NaN"])
    arrays: list[Any] = []
    fields = []
    for column, array in zip(columns, batch.columns, strict=True):
        if isinstance(array, pa.ExtensionArray):
            array = array.storage
        metadata = None
        if column.type_name == "numeric" and not column.element:
            decimal = numeric_type(column)
            if decimal is not None:
                # numeric(p, s) accepts NaN, which no decimal holds: it becomes null.
                nan = pc.is_in(array, value_set=_NAN_TEXTS)
                text = pc.if_else(nan, pa.scalar(None, pa.string()), array)
                array = text.cast(pa.decimal128(*decimal))
        elif column.type_name in JSON_TYPES:
            metadata = _JSON_METADATA
        arrays.append(array)
        fields.append(pa.field(column.name, array.type, nullable=True, metadata=metadata))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
