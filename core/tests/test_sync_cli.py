"""`headwater sync` and `headwater reset` as a user runs them, with the built-in example."""

from __future__ import annotations

from pathlib import Path

import pytest
from object_store import moto_server

from headwater import ManualClock
from headwater.warehouse import lock_table, table_location

from conftest import run_cli

EXAMPLE = Path(__file__).parents[2] / "examples" / "example.toml"


@pytest.fixture
def warehouse(tmp_path):
    return str(tmp_path / "warehouse")


def sync(*args, env=None):
    return run_cli("sync", "example", "--config", str(EXAMPLE), *args, env=env)


def test_the_example_syncs_twice_from_the_command_line(warehouse):
    first = sync("--warehouse", warehouse)
    second = sync("--warehouse", warehouse)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    lines = first.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["orders", "events", "customers"]
    assert "rows written (incremental)" in lines[0]
    assert "; watermark updated_at = " in lines[0]
    assert "rows written (append)" in lines[1]
    assert lines[2].startswith("customers: 25 rows written (full_refresh)")
    written = [int(line.split()[1].replace(",", "")) for line in lines]
    again = [int(line.split()[1].replace(",", "")) for line in second.stdout.splitlines()]
    # Only what changed in the second between the runs (and, for MERGE, the rows at the
    # watermark) is written again; the shop's clock is the real one.
    assert again[0] < 10 < written[0]
    assert again[1] < 10 < written[1]
    assert again[2] == 25
    assert (Path(warehouse) / "example" / "orders" / "_delta_log").is_dir()


def test_schemas_can_be_chosen_and_unknown_ones_are_named(warehouse):
    only = sync("--warehouse", warehouse, "--schema", "customers")
    unknown = sync("--warehouse", warehouse, "--schema", "ordrs")

    assert only.stdout.startswith("customers: 25 rows written")
    assert len(only.stdout.splitlines()) == 1
    assert unknown.returncode == 2
    assert "example has no schema 'ordrs' (did you mean 'orders'?)" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_reset_and_full_refresh_rewrite_the_tables(warehouse):
    sync("--warehouse", warehouse, "-s", "events")

    reset = run_cli(
        "reset",
        "example",
        "--config",
        str(EXAMPLE),
        "-w",
        warehouse,
        "-s",
        "events",
        "-s",
        "orders",
    )
    after_reset = sync("--warehouse", warehouse, "-s", "events")
    full = sync("--warehouse", warehouse, "-s", "events", "--full-refresh")

    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.splitlines() == [
        "events: state dropped; the next sync rewrites the table",
        "orders: no table yet; nothing to reset",
    ]
    assert "(append, table rewritten)" in after_reset.stdout
    assert "(append, table rewritten)" in full.stdout


def test_a_table_another_sync_is_writing_is_a_one_line_error(warehouse):
    location = table_location(warehouse, "example", "customers")

    with lock_table(location, clock=ManualClock(), purpose="a test"):
        result = sync("--warehouse", warehouse, "--schema", "customers")

    assert result.returncode == 1  # the only schema asked for failed
    assert "is being written by process" in result.stderr
    assert "(a test)" in result.stderr
    assert "Traceback" not in result.stderr


def test_one_failing_schema_does_not_stop_the_others(warehouse):
    location = table_location(warehouse, "example", "orders")

    with lock_table(location, clock=ManualClock(), purpose="a test"):
        result = sync("--warehouse", warehouse)

    assert result.returncode == 3  # partial: the others synced
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["events", "customers"]
    assert "orders: failed: table" in result.stderr
    assert "1 of 3 schemas failed: orders" in result.stderr


def test_the_warehouse_can_be_an_object_store_named_in_the_environment():
    with moto_server() as s3:
        env = {**s3.options(), "HEADWATER_WAREHOUSE": s3.new_warehouse()}

        first = sync("--schema", "events", env=env)
        second = sync("--schema", "events", env=env)

    assert first.returncode == 0, first.stderr
    assert "rows written (append)" in first.stdout
    assert "(append)" in second.stdout
    assert int(second.stdout.split()[1]) < 10


def test_the_example_is_listed_as_a_built_in_connector():
    listing = run_cli("connectors")
    info = run_cli("info", "example")
    check = run_cli("generate", "--check", "example")

    assert any(line.split()[:2] == ["example", "(built"] for line in listing.stdout.splitlines())
    assert "orders" in info.stdout
    assert "updated_at (datetime)" in info.stdout
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--connection", "../elsewhere"],
            "connection name '../elsewhere' cannot be a table folder",
        ),
        (["--warehouse", "ftp://host/wh"], "has the scheme 'ftp'"),
    ],
)
def test_a_bad_warehouse_or_connection_is_a_one_line_error(tmp_path, args, message):
    result = sync("--warehouse", str(tmp_path), *args)

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


REJECTING_SOURCE = """
    from headwater import ErrorKind, Source, SourceConfig, SourceResponse, SourceSchema
    from headwater.errors import AuthenticationError, ErrorRule

    class RejectingSource(Source):
        source_type = "rejecting"

        def get_source_config(self):
            return SourceConfig(label="Rejecting")

        def validate_credentials(self, config, runtime):
            return True, None

        def get_schemas(self, config, runtime):
            return [SourceSchema(name="items")]

        def get_non_retryable_errors(self):
            return [
                ErrorRule(
                    kind=ErrorKind.AUTHENTICATION,
                    message="The Rejecting token was revoked: create a new one in Settings",
                )
            ]

        def source_for_pipeline(self, config, inputs, runtime):
            def items():
                url = "https://api.rejecting.test/items"
                raise AuthenticationError(f"HTTP 401 for {url}", status=401)
                yield

            return SourceResponse(name=inputs.schema_name, items=items)
"""

CONFIG_CLASS = """
    import attrs

    @attrs.frozen(kw_only=True)
    class RejectingConfig:
        pass
"""

REJECTING_INIT = """
    from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl

    @hookimpl
    def register_sources():
        return [SourceSpec(
            source_type="rejecting",
            contract_major=CONTRACT_MAJOR,
            label="Rejecting",
            load="connector_rejecting.source:RejectingSource",
            release_status="beta",
        )]
"""


def test_a_failing_schema_shows_the_connector_s_message_then_the_api_s(site, tmp_path):
    from conftest import write_dist

    write_dist(
        site,
        "connector-rejecting",
        "1.0.0",
        entry_points={"rejecting": "connector_rejecting"},
        files={
            "connector_rejecting/__init__.py": REJECTING_INIT,
            "connector_rejecting/source.py": REJECTING_SOURCE,
            "connector_rejecting/_config.py": CONFIG_CLASS,
        },
    )
    config = tmp_path / "rejecting.toml"
    config.write_text("[source]\n")

    result = run_cli(
        "sync", "rejecting", "--config", str(config), "--warehouse", str(tmp_path / "w")
    )

    assert result.returncode != 0
    # One line, naming the schema, not wrapped for a terminal that is not there.
    assert (
        "items: failed: The Rejecting token was revoked: create a new one in Settings"
        " (HTTP 401 for https://api.rejecting.test/items)"
    ) in result.stderr.splitlines()


def test_a_table_that_cannot_be_written_fails_typed_and_the_others_still_sync(tmp_path):
    warehouse = tmp_path / "warehouse"
    (warehouse / "example").mkdir(parents=True)
    (warehouse / "example" / "orders").write_text("not a folder")

    result = sync("--warehouse", str(warehouse))

    assert result.returncode == 3
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["events", "customers"]
    [line] = [line for line in result.stderr.splitlines() if line.startswith("orders:")]
    assert line.startswith(f"orders: failed: cannot lock the table {warehouse}/example/orders:")
    assert "Not a directory" in line
    assert "check that the warehouse folder exists as a folder, is writable" in line
    assert "unexpected" not in result.stderr
