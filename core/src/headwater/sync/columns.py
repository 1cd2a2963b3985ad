"""The column types a table can hold, and how a Python or Arrow value maps to one.

Sources emit whatever their API returns: ints, floats, strings, ISO strings, nested objects,
Arrow tables of any width of integer. The warehouse stores a small, fixed set of types so a
table's schema stays stable across batches, runs and connectors:

============  =======================  ==================================================
type          Arrow / Delta            from
============  =======================  ==================================================
``bool``      ``bool`` / boolean       ``bool``
``int64``     ``int64`` / long         ``int`` (in the int64 range), any Arrow integer
``float64``   ``float64`` / double     ``float``, Arrow floats
``decimal``   ``decimal128(38, 9)``    ``Decimal`` with at most 9 fractional and 29
                                       integer digits, Arrow decimals that fit
``string``    ``string``               ``str``, ``UUID``, ints beyond int64, decimals that
                                       do not fit, Arrow time/duration values (as text)
``binary``    ``binary``               ``bytes``
``date``      ``date32`` / date        ``datetime.date``
``timestamp`` ``timestamp[us, UTC]``   ``datetime.datetime`` (naive ones are taken as UTC)
``json``      ``string`` + metadata    ``dict``, ``list``, ``tuple``, Arrow struct, list, map
============  =======================  ==================================================

**Nested data** (objects and arrays, at any depth) is stored as JSON text in a string column
whose field metadata says ``headwater.type = json``. JSON text is queryable everywhere
(DuckDB ``col->>'$.a'``, Spark ``get_json_object``) and, unlike Arrow structs, never forces
a schema change when an API adds a field deep inside an object. Strings are not parsed:
``"2024-01-01"`` stays a string (guessing would make a column's type depend on its values).

Column names are kept as the source spells them, except the characters Delta forbids without
column mapping (space, ``,;{}()=``, newline, tab), which become ``_``.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from headwater.errors import RowError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ColumnType",
    "JSON_METADATA",
    "JsonText",
    "arrow_field",
    "arrow_type",
    "classify",
    "column_type_of",
    "convert",
    "dump_json",
    "dump_json_texts",
    "sanitize_name",
]

JSON_METADATA: Mapping[bytes, bytes] = types.MappingProxyType({b"headwater.type": b"json"})
"""The field metadata that marks a string column as holding JSON documents."""

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_DECIMAL_SCALE, _DECIMAL_PRECISION = 9, 38
_FORBIDDEN = re.compile(r"[ ,;{}()\n\t=]")
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


class ColumnType(enum.StrEnum):
    """The types a warehouse column can have; the value names variant columns (``x__json``).

    .. versionadded:: 0.1
    """

    BOOL = "bool"
    INT = "int64"
    FLOAT = "float64"
    DECIMAL = "decimal"
    STRING = "string"
    BINARY = "binary"
    DATE = "date"
    TIMESTAMP = "timestamp"
    JSON = "json"


class JsonText(str):
    """A value already encoded as JSON text (so it is not mistaken for a plain string).

    .. versionadded:: 0.1
    """

    __slots__ = ()


def sanitize_name(name: str) -> str:
    """``name`` with the characters Delta forbids in column names replaced by ``_``.

    .. versionadded:: 0.1
    """
    return _FORBIDDEN.sub("_", name) or "_"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return str(value)


def dump_json(value: Any) -> JsonText:
    """Encode a nested value as compact JSON text (decimals and odd types as strings).

    .. versionadded:: 0.1
    """
    return JsonText(orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS).decode())


def dump_json_texts(values: Iterable[Any]) -> list[str | None]:
    """:func:`dump_json` of each value but ``None``, as plain ``str`` rather than
    :class:`JsonText`.

    For a whole column of nested values at once: making a ``str`` subclass instance costs
    more than encoding a small object, so a caller that knows the column is JSON keeps that
    fact beside the column instead of in every value.

    .. versionadded:: 0.1
    """
    dumps, default, option = orjson.dumps, _json_default, _JSON_OPTIONS
    return [
        None if value is None else dumps(value, default=default, option=option).decode()
        for value in values
    ]


def _decimal_fits(value: Decimal) -> bool:
    if not value.is_finite():
        return False
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    fraction = max(-exponent, 0)
    whole = max(len(digits) + exponent, 0)
    return fraction <= _DECIMAL_SCALE and whole <= _DECIMAL_PRECISION - _DECIMAL_SCALE


def classify(value: Any, *, schema: str = "", column: str = "") -> ColumnType | None:
    """The column type of one Python value; ``None`` for ``None``.

    :raises RowError: for a value of a type Headwater cannot store, naming the column.

    .. versionadded:: 0.1
    """
    if value is None:
        return None
    if isinstance(value, JsonText):
        return ColumnType.JSON
    if isinstance(value, bool):
        return ColumnType.BOOL
    if isinstance(value, int):
        return ColumnType.INT if _INT64_MIN <= value <= _INT64_MAX else ColumnType.STRING
    if isinstance(value, float):
        return ColumnType.FLOAT
    if isinstance(value, str | uuid.UUID):
        return ColumnType.STRING
    if isinstance(value, Decimal):
        return ColumnType.DECIMAL if _decimal_fits(value) else ColumnType.STRING
    if isinstance(value, dt.datetime):
        return ColumnType.TIMESTAMP
    if isinstance(value, dt.date):
        return ColumnType.DATE
    if isinstance(value, bytes | bytearray | memoryview):
        return ColumnType.BINARY
    if isinstance(value, dict | list | tuple):
        return ColumnType.JSON
    where = f"schema {schema!r}: " if schema else ""
    raise RowError(
        f"{where}column {column!r} holds a {type(value).__module__}.{type(value).__qualname__},"
        " which cannot be stored; convert it to a str, number, bool, date, datetime, bytes,"
        " dict or list in the connector"
    )


def convert(value: Any, source: ColumnType, target: ColumnType) -> Any:
    """``value`` (of type ``source``) as a Python value Arrow builds into ``target``.

    ``target`` is ``source`` or a widening of it (see :mod:`headwater.sync.evolution`).

    .. versionadded:: 0.1
    """
    if value is None:
        return None
    if source is ColumnType.JSON and not isinstance(value, JsonText):
        return dump_json(value)
    if source is ColumnType.STRING and not isinstance(value, str):
        return str(value)
    if source is target:
        return bytes(value) if source is ColumnType.BINARY else value
    if target is ColumnType.FLOAT:
        return float(value)
    if target is ColumnType.DECIMAL:
        return Decimal(value)
    if target is ColumnType.TIMESTAMP:  # from a date
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    raise AssertionError(f"no conversion from {source} to {target}")


def arrow_type(column_type: ColumnType) -> pa.DataType:
    """The Arrow type a column of ``column_type`` is stored as.

    .. versionadded:: 0.1
    """
    import pyarrow as pa

    return {
        ColumnType.BOOL: pa.bool_(),
        ColumnType.INT: pa.int64(),
        ColumnType.FLOAT: pa.float64(),
        ColumnType.DECIMAL: pa.decimal128(_DECIMAL_PRECISION, _DECIMAL_SCALE),
        ColumnType.STRING: pa.string(),
        ColumnType.BINARY: pa.binary(),
        ColumnType.DATE: pa.date32(),
        ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
        ColumnType.JSON: pa.string(),
    }[column_type]


def arrow_field(name: str, column_type: ColumnType) -> pa.Field:
    """The nullable Arrow field of a column (JSON columns carry :data:`JSON_METADATA`).

    .. versionadded:: 0.1
    """
    import pyarrow as pa

    metadata = dict(JSON_METADATA) if column_type is ColumnType.JSON else None
    return pa.field(name, arrow_type(column_type), nullable=True, metadata=metadata)


def column_type_of(field: pa.Field) -> ColumnType | None:
    """The column type an Arrow field maps to; ``None`` for the null type (no values yet).

    .. versionadded:: 0.1
    """
    import pyarrow as pa
    import pyarrow.types as t

    kind = field.type
    if t.is_dictionary(kind):
        kind = kind.value_type
    if field.metadata and field.metadata.get(b"headwater.type") == b"json":
        return ColumnType.JSON
    if t.is_null(kind):
        return None
    if t.is_boolean(kind):
        return ColumnType.BOOL
    if t.is_integer(kind):
        return ColumnType.INT
    if t.is_floating(kind):
        return ColumnType.FLOAT
    if t.is_decimal(kind):
        fits = kind.scale <= _DECIMAL_SCALE and (kind.precision - kind.scale) <= (
            _DECIMAL_PRECISION - _DECIMAL_SCALE
        )
        return ColumnType.DECIMAL if fits else ColumnType.STRING
    if t.is_string(kind) or t.is_large_string(kind) or kind == pa.string_view():
        return ColumnType.STRING
    if t.is_binary(kind) or t.is_large_binary(kind) or t.is_fixed_size_binary(kind):
        return ColumnType.BINARY
    if kind == pa.binary_view():
        return ColumnType.BINARY
    if t.is_date(kind):
        return ColumnType.DATE
    if t.is_timestamp(kind):
        return ColumnType.TIMESTAMP
    if t.is_nested(kind):
        return ColumnType.JSON
    # time of day, durations, intervals: stored as their text.
    return ColumnType.STRING
