"""What the server's catalog says about a schema: its readable tables and views, their columns
and primary keys.

Identifiers are quoted by the server itself (``quote_ident``) in the same query that finds
them, so no name from the config or the catalog is ever pasted into SQL by this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

__all__ = ["Column", "Table", "read_catalog"]

# Relation kinds read: r table, p partitioned table, v view, m materialized view, f foreign
# table. Partitions of a partitioned table are read through their parent, not one by one.
_RELATIONS = """
select c.oid::int8, c.relname, c.relkind::text, quote_ident(n.nspname), quote_ident(c.relname)
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1
  and c.relkind in ('r', 'p', 'v', 'm', 'f')
  and not c.relispartition
  and has_table_privilege(c.oid, 'SELECT')
order by c.relname
"""

_COLUMNS = """
select a.attrelid::int8, a.attname, quote_ident(a.attname), t.typname, t.typtype::text,
       coalesce(e.typname, ''), coalesce(e.typtype::text, ''), a.attnotnull,
       format_type(a.atttypid, null), a.atttypmod,
       a.attidentity <> '' or coalesce(pg_get_expr(d.adbin, d.adrelid) like 'nextval(%', false)
from pg_catalog.pg_attribute a
join pg_catalog.pg_class c on c.oid = a.attrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
join pg_catalog.pg_type t on t.oid = a.atttypid
left join pg_catalog.pg_type e on e.oid = t.typelem and t.typcategory = 'A'
left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where n.nspname = $1 and a.attnum > 0 and not a.attisdropped
order by a.attrelid, a.attnum
"""

_PRIMARY_KEYS = """
select i.indrelid::int8, a.attname
from pg_catalog.pg_index i
join pg_catalog.pg_class c on c.oid = i.indrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
where n.nspname = $1 and i.indisprimary
order by i.indrelid, k.position
"""

_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}


@attrs.frozen(kw_only=True)
class Column:
    """One column: its name, the server-quoted name, and its type as the catalog has it.

    ``type_name`` is ``pg_type.typname`` (``int4``, ``timestamptz``, ``_int4`` for arrays);
    ``type_kind`` is ``typtype`` (``b`` base, ``e`` enum, ``d`` domain...); ``element`` is the
    element type's name for arrays. ``sql_type`` is the server's own spelling of the type,
    used to cast a bound value to it. ``typmod`` carries numeric precision and scale.
    """

    name: str
    quoted: str
    type_name: str
    type_kind: str
    element: str
    element_kind: str
    not_null: bool
    sql_type: str
    typmod: int
    sequence: bool = False
    """Filled by a sequence: an identity column, or a ``serial`` (``nextval`` default)."""


@attrs.frozen(kw_only=True)
class Table:
    """A readable table or view of the schema, its columns in order and its primary key."""

    name: str
    kind: str
    quoted: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise LookupError(f"table {self.name!r} has no column {name!r}")


def _rows(connection: Any, query: str, schema: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query, (schema,))
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def read_catalog(connection: Any, schema: str, allowed: Sequence[str] | None = None) -> list[Table]:
    """The tables and views of ``schema`` this session may read (only ``allowed``, if given)."""
    relations = _rows(connection, _RELATIONS, schema)
    columns: dict[int, list[Column]] = {}
    for row in _rows(connection, _COLUMNS, schema):
        oid, name, quoted, type_name, kind, element, element_kind, not_null, sql, typmod = row[:10]
        columns.setdefault(oid, []).append(
            Column(
                name=name,
                quoted=quoted,
                type_name=type_name,
                type_kind=kind,
                element=element,
                element_kind=element_kind,
                not_null=bool(not_null),
                sql_type=sql,
                typmod=int(typmod),
                sequence=bool(row[10]),
            )
        )
    keys: dict[int, list[str]] = {}
    for oid, name in _rows(connection, _PRIMARY_KEYS, schema):
        keys.setdefault(oid, []).append(name)
    wanted = set(allowed) if allowed else None
    tables = []
    for oid, name, relkind, quoted_schema, quoted_name in relations:
        if wanted is not None and name not in wanted:
            continue
        tables.append(
            Table(
                name=name,
                kind=_KINDS.get(relkind, relkind),
                quoted=f"{quoted_schema}.{quoted_name}",
                columns=tuple(columns.get(oid, ())),
                primary_key=tuple(keys.get(oid, ())),
            )
        )
    return tables
