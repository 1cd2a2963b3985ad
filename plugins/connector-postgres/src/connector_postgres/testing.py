"""The connector's test database and contract kit.

The "emulator" of a database source is a real PostgreSQL server holding a seeded shop:
``customers``, ``orders`` (an enum status, numeric totals), ``events`` (JSON payloads, a
UUID key), ``page_views`` (no primary key) and the view ``paid_orders``. One server per
process is started on first use (:mod:`connector_postgres.server`) and stopped by its PID at
exit; each :class:`ShopDatabase` is a fresh copy of the seeded database ``shop``, made from a
template, so kits never share rows.

It answers no HTTP: its :meth:`ShopDatabase.handle` says so. The contract suite reaches the
rows through :attr:`ShopDatabase.store`, which reads the database.

.. versionadded:: 0.1
"""

from __future__ import annotations

import atexit
import contextlib
import json
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from connector_postgres.reader import as_text
from connector_postgres.server import LocalServer, local_server
from headwater.emulator import ContractKit, Emulator, InvalidConfig, RowStore

if TYPE_CHECKING:
    from headwater import Runtime
    from headwater.emulator import Handler

__all__ = [
    "DatabaseKit",
    "READER",
    "READER_PASSWORD",
    "SEED_SQL",
    "ShopDatabase",
    "kit",
    "shared_server",
    "superuser_uri",
]

READER = "shop_reader"
READER_PASSWORD = "pg-reader-Secret-9f3c1a"
"""A distinctive password, so the contract suite can look for it in logs and errors."""

DATABASE = "shop"
_TEMPLATE = "shop_seed"

SEED_SQL = (
    "create type order_status as enum ('placed', 'paid', 'shipped', 'delivered', 'cancelled')",
    """create table customers (
        id serial primary key, name text not null, email text, tags text[],
        created_at timestamptz not null, updated_at timestamptz not null)""",
    """insert into customers (name, email, tags, created_at, updated_at)
       select 'Customer ' || g, 'customer' || g || '@example.com',
              array['tier' || (g % 3), 'region' || (g % 5)],
              timestamptz '2024-01-01 00:00Z' + g * interval '1 hour',
              timestamptz '2024-01-01 00:00Z' + g * interval '1 hour' + (g % 7) * interval '1 day'
       from generate_series(1, 300) g""",
    """create table orders (
        id bigint primary key, customer_id int not null references customers (id),
        status order_status not null, total numeric(12, 2), currency char(3),
        placed_on date not null, created_at timestamptz not null,
        updated_at timestamptz not null)""",
    """insert into orders
       select g, 1 + g % 300,
              (array['placed', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + g % 5]
                ::order_status,
              round((g * 7.31) % 500 + 5, 2), 'EUR',
              date '2024-01-01' + g / 24,
              timestamptz '2024-01-01 00:00Z' + g * interval '1 hour',
              timestamptz '2024-01-01 00:00Z' + g * interval '1 hour' + (g % 4) * interval '6 hours'
       from generate_series(1, 2000) g""",
    """create table events (
        id uuid primary key, order_id bigint not null, kind text not null, payload jsonb,
        occurred_at timestamptz not null)""",
    """insert into events
       select md5('event' || g)::uuid, 1 + g % 2000,
              (array['viewed', 'paid', 'shipped'])[1 + g % 3],
              jsonb_build_object(
                'attempt', g % 4, 'source', 'web', 'items', jsonb_build_array(g % 9)),
              timestamptz '2024-01-01 00:00Z' + g * interval '20 minutes'
       from generate_series(1, 3000) g""",
    """create table page_views (
        path text not null, session_id uuid, viewed_at timestamptz not null, duration interval)""",
    """insert into page_views
       select '/products/' || (g % 40), md5('session' || (g % 90))::uuid,
              timestamptz '2024-01-01 00:00Z' + g * interval '7 minutes',
              (g % 300) * interval '1 second'
       from generate_series(1, 1000) g""",
    """create view paid_orders as
       select id, customer_id, total, updated_at from orders where status <> 'cancelled'""",
)

_ADD_ROWS = {
    "customers": [
        """insert into customers (name, email, tags, created_at, updated_at)
           select 'Newcomer ' || g, 'new' || g || '@example.com', array['tier0'],
                  m + g * interval '1 minute', m + g * interval '1 minute'
           from generate_series(1, 5) g, (select max(updated_at) m from customers) x""",
    ],
    "orders": [
        """insert into orders
           select x.i + g, 1, 'placed', 10.5 * g, 'EUR', current_date,
                  x.m + g * interval '1 minute', x.m + g * interval '1 minute'
           from generate_series(1, 5) g,
                (select max(id) i, max(updated_at) m from orders) x""",
        # An existing order changes too: paid later than everything else.
        """update orders set status = 'paid',
               updated_at = (select max(updated_at) from orders) + interval '1 hour'
           where id = 1""",
    ],
    "events": [
        """insert into events
           select gen_random_uuid(), 1, 'refunded', '{"late": true}',
                  x.m + g * interval '1 minute'
           from generate_series(1, 5) g, (select max(occurred_at) m from events) x""",
    ],
    "page_views": [
        """insert into page_views
           select '/checkout', gen_random_uuid(), x.m + g * interval '1 minute', interval '5 s'
           from generate_series(1, 5) g, (select max(viewed_at) m from page_views) x""",
    ],
    "paid_orders": [
        """insert into orders
           select x.i + g, 2, 'paid', 20, 'EUR', current_date,
                  x.m + g * interval '1 minute', x.m + g * interval '1 minute'
           from generate_series(1, 5) g,
                (select max(id) i, max(updated_at) m from orders) x""",
    ],
}

# A new row of each table, like the last one but with a new key (what add_row_at copies).
_NEW_KEY = {
    "customers": ("id", "(select max(id) + 1 from customers)"),
    "orders": ("id", "(select max(id) + 1 from orders)"),
    "events": ("id", "gen_random_uuid()"),
    "page_views": (None, None),
}
_LAST_ROW = {
    "customers": "order by id desc limit 1",
    "orders": "order by id desc limit 1",
    "events": "order by occurred_at desc limit 1",
    "page_views": "order by viewed_at desc limit 1",
}


def superuser_uri(server: LocalServer, database: str = "postgres") -> str:
    """The superuser's libpq URI for ``database`` (holds a password: never log it)."""
    return f"postgresql://{server.user}:{server.password}@{server.host}:{server.port}/{database}"


def execute(uri: str, statements: Iterator[str] | tuple[str, ...] | list[str]) -> None:
    """Run ``statements`` in autocommit mode (DDL, seeding: test set-up, not the connector)."""
    import adbc_driver_postgresql.dbapi as dbapi

    with dbapi.connect(uri, autocommit=True) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


_lock = threading.Lock()
_server: LocalServer | None = None
_copies = 0


def shared_server() -> LocalServer:
    """This process's server, started (and the template database seeded) on first use."""
    global _server
    with _lock:
        if _server is None:
            stack = contextlib.ExitStack()
            server = stack.enter_context(local_server())
            atexit.register(stack.close)
            execute(
                superuser_uri(server),
                [
                    f"create role {READER} login password '{READER_PASSWORD}'",
                    f"create database {_TEMPLATE}",
                ],
            )
            execute(
                superuser_uri(server, _TEMPLATE),
                [
                    *SEED_SQL,
                    f"grant usage on schema public to {READER}",
                    f"grant select on all tables in schema public to {READER}",
                    f"alter default privileges in schema public grant select on tables to {READER}",
                ],
            )
            _server = server
            dict.update(_VALID_CONFIG, _base_config(server))
        return _server


class _DatabaseRows(RowStore):
    """The rows of a table as the contract suite compares them: JSON values by column name."""

    def __init__(self, database: ShopDatabase) -> None:
        super().__init__()
        self._database = database

    def rows(self, table: str) -> list[dict[str, Any]]:
        import adbc_driver_postgresql.dbapi as dbapi

        uri = superuser_uri(self._database.server, self._database.name)
        with dbapi.connect(uri) as connection, connection.cursor() as cursor:
            cursor.execute(
                "select to_jsonb(t)::text from (select * from "
                + ".".join(f'"{part}"' for part in ("public", table))
                + ") t"
            )
            return [json.loads(text) for (text,) in cursor.fetchall()]


class ShopDatabase(Emulator):
    """A fresh copy of the seeded shop database on the shared server.

    The first copy of a process is ``shop``, the database the kit's config names (the demo
    reads it); later copies are ``shop_2``, ``shop_3``... and a runtime from the kit reaches
    each through :attr:`url` (``Runtime.base_url``), so copies never share rows.
    """

    def __init__(self) -> None:
        super().__init__()
        global _copies
        self.server = shared_server()
        with _lock:
            _copies += 1
            number = _copies
        self.name = DATABASE if number == 1 else f"{DATABASE}_{number}"
        execute(
            superuser_uri(self.server),
            [
                f"drop database if exists {self.name} with (force)",
                f"create database {self.name} template {_TEMPLATE}",
            ],
        )
        self.store = _DatabaseRows(self)

    @property
    def url(self) -> str:
        """``postgresql://host:port/name``: where a runtime sends the connector (no password)."""
        return f"postgresql://{self.server.host}:{self.server.port}/{self.name}"

    def handle(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            404, json={"error": "a PostgreSQL database answers no HTTP; the connector uses libpq"}
        )

    def run(self, *statements: str) -> None:
        """Run SQL as the superuser in this database (test set-up)."""
        execute(superuser_uri(self.server, self.name), list(statements))

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A ``[source]`` config that reads this database as the read-only role."""
        return {**_base_config(self.server), "database": self.name, **overrides}


def _base_config(server: LocalServer) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "database": DATABASE,
        "user": READER,
        "password": READER_PASSWORD,
        "schema": "public",
        "ssl_mode": "disable",
    }


class _ServerConfig(dict[str, Any]):
    """The kit's valid config: it names the shared server's port, known once the server runs.

    A dict (tools copy it with ``json.dumps``) that starts the server on first read; the
    server fills it as it starts.
    """

    def _ready(self) -> None:
        if not dict.__len__(self):
            shared_server()

    def __getitem__(self, key: str) -> Any:
        self._ready()
        return dict.__getitem__(self, key)

    def __iter__(self) -> Iterator[str]:
        self._ready()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._ready()
        return dict.__len__(self)

    def __contains__(self, key: object) -> bool:
        self._ready()
        return dict.__contains__(self, key)

    def keys(self) -> Any:
        self._ready()
        return dict.keys(self)

    def items(self) -> Any:
        self._ready()
        return dict.items(self)

    def values(self) -> Any:
        self._ready()
        return dict.values(self)

    def get(self, key: str, default: Any = None) -> Any:
        self._ready()
        return dict.get(self, key, default)

    def copy(self) -> dict[str, Any]:
        self._ready()
        return dict(dict.items(self))


_VALID_CONFIG = _ServerConfig()


def add_rows(database: ShopDatabase, schema: str) -> None:
    """New rows arrive in ``schema``, later than every existing one (and an order changes)."""
    database.run(*_ADD_ROWS[schema])


def add_row_at(database: ShopDatabase, schema: str, field: str, value: Any) -> None:
    """One row of ``schema`` whose ``field`` is exactly ``value``: a new row copied from the
    last one, or, when ``field`` is the primary key (a sequence), the row holding that key
    changed (a new row cannot reuse its key)."""
    table = "orders" if schema == "paid_orders" else schema
    key, new_key = _NEW_KEY[table]
    text = as_text(value)
    if field == key:
        database.run(f'update "{table}" set "{key}" = "{key}" where "{key}" = \'{text}\'')
        return
    columns = list(database.store.rows(table)[0])
    listed = ", ".join(f'"{c}"' for c in columns)
    chosen = []
    for column in columns:
        if column == field:
            chosen.append(f"'{text}'")
        elif column == key and new_key is not None:
            chosen.append(new_key)
        else:
            chosen.append(f'"{column}"')
    database.run(
        f'insert into "{table}" ({listed}) select {", ".join(chosen)} from "{table}"'
        f" {_LAST_ROW[table]}"
    )


@attrs.frozen(kw_only=True)
class DatabaseKit(ContractKit[ShopDatabase]):
    """The kit, whose runtimes reach the database copy they are given (``base_url``)."""

    def runtime(self, emulator: Handler, **overrides: Any) -> Runtime:
        # The suite wraps the emulator to observe it; the database is inside.
        database = getattr(emulator, "emulator", emulator)
        if isinstance(database, ShopDatabase):
            overrides.setdefault("base_url", database.url)
        return super().runtime(emulator, **overrides)


kit = DatabaseKit(
    emulator=ShopDatabase,
    valid_config=_VALID_CONFIG,
    invalid_configs=[
        InvalidConfig(
            config={"host": "localhost", "user": "reader", "password": "x"},
            path="$.database",
            description="no database",
        ),
        InvalidConfig(
            config={
                "host": "localhost",
                "database": "shop",
                "user": "reader",
                "password": "x",
                "ssl_mode": "sometimes",
            },
            path="$.ssl_mode",
            description="an ssl mode that is not offered",
        ),
        InvalidConfig(
            config={
                "host": "localhost",
                "database": "shop",
                "user": "reader",
                "password": "x",
                "port": 70000,
            },
            path="$.port",
            description="a port above 65535",
        ),
    ],
    add_rows=add_rows,
    add_row_at=add_row_at,
)
