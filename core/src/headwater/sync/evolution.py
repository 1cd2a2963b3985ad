"""How a table's schema evolves as batches arrive: the rules, in one place.

A table's columns and their types are remembered across batches and runs (they are read
back from the Delta table). Each new batch is fitted to them:

1. **New columns are added** (nullable), in the order they first appear. A column that has
   only ever held nulls has no type yet and is added when its first value arrives.
2. **Compatible types widen**: ``int64`` with ``float64`` becomes ``float64``, ``int64`` with
   ``decimal`` becomes ``decimal``, ``date`` with ``timestamp`` becomes ``timestamp``. A
   column already in the table is widened by rewriting the table once, in one commit.
   (``int64`` to ``float64`` is exact up to 2^53.)
3. **A conflicting type goes to a variant column.** A value whose type neither matches nor
   widens the column's (a string in an ``int64`` column, an object in a ``string`` column)
   is written to the column ``<name>__<type>`` (``price__string``, ``address__json``) and the
   original column is null in that row. Nothing is dropped, nothing is coerced by guessing,
   and the sync does not fail; ``COALESCE(CAST(price AS VARCHAR), price__string)`` reads both.
4. **Columns are never dropped or narrowed**: a column the source stops sending stays, null
   in new rows.

Within one batch, a new column takes the type of its first value; later values of the batch
widen it or go to variants by the same rules, so the outcome depends only on row order.

.. versionadded:: 0.1
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from headwater.sync.columns import ColumnType, arrow_field, column_type_of

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Resolution", "TableShape", "variant_name", "widen"]

_WIDENINGS: Mapping[frozenset[ColumnType], ColumnType] = types.MappingProxyType(
    {
        frozenset({ColumnType.INT, ColumnType.FLOAT}): ColumnType.FLOAT,
        frozenset({ColumnType.INT, ColumnType.DECIMAL}): ColumnType.DECIMAL,
        frozenset({ColumnType.DATE, ColumnType.TIMESTAMP}): ColumnType.TIMESTAMP,
    }
)


def widen(current: ColumnType, other: ColumnType) -> ColumnType | None:
    """The type holding values of both ``current`` and ``other``, or ``None`` if they conflict.

    .. versionadded:: 0.1
    """
    if current is other:
        return current
    return _WIDENINGS.get(frozenset({current, other}))


def variant_name(column: str, column_type: ColumnType) -> str:
    """The column that holds ``column``'s values of a conflicting ``column_type``.

    .. versionadded:: 0.1
    """
    return f"{column}__{column_type.value}"


@attrs.frozen(kw_only=True)
class Resolution:
    """Where one column's values of each type go.

    ``target`` is the column's (possibly widened) type; ``variants`` maps each conflicting
    type to its variant column.

    .. versionadded:: 0.1
    """

    column: str
    target: ColumnType
    variants: dict[ColumnType, str] = attrs.field(factory=dict)


class TableShape:
    """The columns of a table and their types, in order; grows as batches arrive.

    .. versionadded:: 0.1
    """

    def __init__(self, columns: Iterable[tuple[str, ColumnType]] = ()) -> None:
        self._columns: dict[str, ColumnType] = dict(columns)

    @classmethod
    def from_arrow(cls, schema: pa.Schema | None, *, skip: Sequence[str] = ()) -> TableShape:
        """The shape of an existing table (columns in ``skip``, like the partition, left out)."""
        if schema is None:
            return cls()
        columns = []
        for field in schema:
            column_type = column_type_of(field)
            if field.name not in skip and column_type is not None:
                columns.append((field.name, column_type))
        return cls(columns)

    @property
    def columns(self) -> dict[str, ColumnType]:
        return dict(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def resolve(self, column: str, types: Sequence[ColumnType]) -> Resolution | None:
        """Fit values of ``types`` (in order of first appearance) into ``column``.

        Updates the shape (a new column, a widened type, new variant columns) and says where
        each type's values go. ``None`` when there are no typed values and no such column.
        """
        target = self._columns.get(column)
        variants: dict[ColumnType, str] = {}
        for column_type in types:
            if target is None:
                target = column_type
                continue
            wider = widen(target, column_type)
            if wider is None:
                variants[column_type] = variant_name(column, column_type)
            else:
                target = wider
        if target is None:
            return None
        self._columns[column] = target
        for column_type, name in list(variants.items()):
            # A variant column follows the same rules (it could already exist with a type).
            nested = self.resolve(name, [column_type])
            assert nested is not None
            if nested.target is not column_type:
                variants[column_type] = nested.variants.get(column_type, name)
        return Resolution(column=column, target=target, variants=variants)

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the table's data columns."""
        import pyarrow as pa

        return pa.schema([arrow_field(name, kind) for name, kind in self._columns.items()])
