"""`headwater demo`: a connector synced twice against its emulator served on 127.0.0.1.

The connector is the contract suite's reference connector, Forge (an imaginary code forge
built on the REST machinery, with incremental, append-free full-refresh and fan-out schemas),
installed into a throwaway site for each test. `HEADWATER_LOAD_CONNECTORS` keeps connectors
installed in the environment running the tests out of the demo.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from headwater.demo import DEMO_SUFFIX, row_count_sql
from headwater.warehouse.query import quote_identifier

from conftest import CONNECTOR_INIT, CONNECTOR_SOURCE, run_cli, write_dist

FIXTURES = Path(__file__).parents[2] / "contract_tests" / "tests" / "fixtures"

# The Forge emulator, answering every request a little late: a sync still running when the
# test presses Ctrl-C.
SLOW_FORGE = """
    import time

    import attrs

    from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl
    from connector_forge.testing import ForgeApi, kit as forge_kit

    class SlowForgeApi(ForgeApi):
        def handle(self, request):
            time.sleep(0.05)
            return super().handle(request)

    kit = attrs.evolve(forge_kit, emulator=SlowForgeApi)

    @hookimpl
    def register_sources():
        return [SourceSpec(
            source_type="forge",
            contract_major=CONTRACT_MAJOR,
            label="Forge",
            load="connector_forge.source:ForgeSource",
            kit="slow_forge:kit",
            release_status="beta",
        )]
"""


@pytest.fixture
def forge(site: Path) -> dict[str, str]:
    """Install Forge; the environment a `headwater` subprocess needs to see it (and only it)."""
    write_dist(
        site, "connector-forge", "0.3.0", entry_points={"forge": "connector_forge"}, files={}
    )
    return {
        "PYTHONPATH": os.pathsep.join([str(site), str(FIXTURES)]),
        "HEADWATER_LOAD_CONNECTORS": "forge",
    }


@pytest.fixture
def slow_forge(site: Path) -> dict[str, str]:
    write_dist(
        site,
        "connector-forge",
        "0.3.0",
        entry_points={"forge": "slow_forge"},
        files={"slow_forge/__init__.py": SLOW_FORGE},
    )
    return {
        "PYTHONPATH": os.pathsep.join([str(site), str(FIXTURES)]),
        "HEADWATER_LOAD_CONNECTORS": "forge",
        "PYTHONUNBUFFERED": "1",
    }


def rows_per_table(stdout: str) -> dict[str, list[str]]:
    """The demo's final table, piped: a ``forge_demo`` row, then ``  issues | mode | ...``."""
    rows, connection = {}, None
    start = stdout.index("Rows per table")
    for line in stdout[start:].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if len(cells) != 5 or cells[0] in ("", "table"):
            continue
        if not any(cells[1:]):
            connection = cells[0]
        else:
            rows[f"{connection}.{cells[0]}"] = cells[1:]
    return rows


def query(warehouse: str, sql: str, env: dict[str, str]) -> list[dict[str, object]]:
    result = run_cli("query", "--warehouse", warehouse, "--json", sql, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_demo_syncs_twice_and_reads_the_tables_back(tmp_path, forge):
    warehouse = str(tmp_path / "warehouse")

    # Every warning shown, not only those Python shows by default (deprecations).
    result = run_cli("demo", "--warehouse", warehouse, env={**forge, "PYTHONWARNINGS": "default"})

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no traceback, no library warnings
    out = result.stdout
    assert "API emulators on 127.0.0.1; tables go to" in out
    assert "http://127.0.0.1:" in out
    first = out.index("First sync")
    meanwhile = out.index("Meanwhile, in the APIs")
    second = out.index("Second sync")
    assert first < meanwhile < second < out.index("What the warehouse holds now")
    assert "forge: issues, events" in out[meanwhile:second]
    table = rows_per_table(out)
    assert set(table) == {
        "forge_demo.projects",
        "forge_demo.issues",
        "forge_demo.events",
        "forge_demo.members",
        "forge_demo.comments",
    }
    # The counts shown are the warehouse's: the same SQL through `headwater query` agrees.
    counted = query(
        warehouse,
        row_count_sql([("forge_demo", name.split(".")[1]) for name in table]),
        forge,
    )
    assert {row["tbl"]: row["row_count"] for row in counted} == {
        name: int(cells[3].replace(",", "")) for name, cells in table.items()
    }
    # Incremental: the second sync writes the new rows, the updated one and the row at the
    # inclusive watermark, never the whole table again.
    mode, wrote_first, wrote_second, now = table["forge_demo.issues"]
    assert mode == "incremental"
    assert int(wrote_second) == 4
    assert int(now) == int(wrote_first) + 2
    # The example join: each project with its members, through the fan-out's parent columns.
    assert "members joined to projects (forge_demo):" in out
    assert "from forge_demo.projects p join forge_demo.members c" in out
    assert "c._projects_id = p.id and c._projects_slug = p.slug" in out
    assert (Path(warehouse) / f"forge{DEMO_SUFFIX}" / "issues" / "_delta_log").is_dir()


def test_a_second_demo_continues_on_the_same_warehouse(tmp_path, forge):
    warehouse = str(tmp_path / "warehouse")
    before = run_cli("demo", "--warehouse", warehouse, env=forge)
    again = run_cli("demo", "--warehouse", warehouse, env=forge)

    assert before.returncode == 0, before.stderr
    assert again.returncode == 0, again.stderr
    first_run, second_run = rows_per_table(before.stdout), rows_per_table(again.stdout)
    # The emulator starts from the same rows, and the same rows arrive: every row exactly
    # once, so the tables hold what they held after the first run.
    assert {name: cells[3] for name, cells in second_run.items()} == {
        name: cells[3] for name, cells in first_run.items()
    }
    # The rerun's first sync continues from the saved watermark: nothing newer is there.
    assert second_run["forge_demo.issues"][1] == "0"


def test_ctrl_c_stops_the_servers_and_keeps_the_warehouse_usable(tmp_path, slow_forge):
    warehouse = str(tmp_path / "warehouse")
    env = {**os.environ, **slow_forge}
    process = subprocess.Popen(
        [sys.executable, "-c", "from headwater.cli import main; main()", "demo", "-w", warehouse],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("forge from http://127.0.0.1:"):
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr
    assert "interrupted: the emulators are stopped" in stderr
    assert "Traceback" not in stderr
    assert "Second sync" not in stdout
    # What was committed is consistent: the next demo runs to the end on the same warehouse.
    again = run_cli("demo", "--warehouse", warehouse, env=slow_forge)
    assert again.returncode == 0, again.stderr
    assert set(rows_per_table(again.stdout)) == {
        "forge_demo.projects",
        "forge_demo.issues",
        "forge_demo.events",
        "forge_demo.members",
        "forge_demo.comments",
    }


def test_a_reader_that_goes_away_ends_the_demo_quietly(tmp_path, forge):
    env = {**os.environ, **forge, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from headwater.cli import main; main()",
            "demo",
            "-w",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as `headwater demo | head -1` does
    with process.stderr:
        stderr = process.stderr.read().decode()
    process.wait(timeout=60)

    assert process.returncode == 1
    assert stderr == ""


def test_without_a_connector_that_has_an_emulator_the_demo_says_what_to_install(tmp_path, site):
    result = run_cli(
        "demo", "--warehouse", str(tmp_path / "w"), env={"HEADWATER_LOAD_CONNECTORS": ""}
    )

    assert result.returncode == 2
    assert "no installed connector has an emulator" in result.stderr
    assert "pip install -e plugins/connector-github" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--connector", "example"], "example: no emulator"),
        (["--connector", "nosuch"], "nosuch"),
        (["--warehouse", "ftp://host/w"], "ftp"),
    ],
)
def test_bad_choices_are_one_line_errors(tmp_path, forge, args, says):
    env = {**forge, "HEADWATER_LOAD_CONNECTORS": "forge,example"}
    result = run_cli("demo", "--warehouse", str(tmp_path / "w"), *args, env=env)

    assert result.returncode == 2
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("issues", "issues"),
        ("forge_demo", "forge_demo"),
        ("my-shop", '"my-shop"'),
        ("Issues", '"Issues"'),
        ("order", '"order"'),  # a reserved word
        ("table", '"table"'),
        ('we"ird', '"we""ird"'),
        ("2fa", '"2fa"'),
    ],
)
def test_names_are_quoted_only_when_sql_needs_it(name, quoted):
    assert quote_identifier(name) == quoted


def test_row_count_sql_keeps_the_order_of_the_tables():
    sql = row_count_sql([("b", "x"), ("a", "order")])

    assert sql.index("'b.x'") < sql.index("'a.order'")
    assert 'from a."order"' in sql
    assert sql.endswith("order by position")
    with pytest.raises(ValueError, match="at least one table"):
        row_count_sql([])


VAULT_TESTING = """
    from collections.abc import Mapping

    from headwater.emulator import ContractKit
    from headwater.errors import EmulatorUnavailableError

    def no_server():
        raise EmulatorUnavailableError(
            "no Vault server can be started here: install vault-bin (pip) and try again"
        )

    class ServerConfig(Mapping):
        # A sample config that names the server's port: it starts the server when read.
        def __getitem__(self, key):
            no_server()

        def __iter__(self):
            no_server()

        def __len__(self):
            return 2

    CONFIGS = {{"emulator": {{"repository": "a/b", "token": "good"}}, "config": ServerConfig()}}
    kit = ContractKit(emulator=no_server, valid_config=CONFIGS[{fails!r}])
"""


@pytest.mark.parametrize("fails", ["emulator", "config"])
def test_a_connector_whose_emulator_cannot_start_is_left_out_and_the_others_run(
    tmp_path, forge, site, fails
):
    values = {"name": "vault", "package": "connector_vault", "cls": "VaultSource",
              "label": "Vault", "contract": "CONTRACT_MAJOR"}  # fmt: skip
    write_dist(
        site,
        "connector-vault",
        "0.1.0",
        entry_points={"vault": "connector_vault"},
        files={
            "connector_vault/__init__.py": CONNECTOR_INIT.format(**values),
            "connector_vault/source.py": CONNECTOR_SOURCE.format(**values),
            "connector_vault/testing.py": VAULT_TESTING.format(fails=fails),
        },
    )
    env = {**forge, "HEADWATER_LOAD_CONNECTORS": "forge,vault"}
    assert run_cli("generate", "vault", env=env).returncode == 0

    result = run_cli("demo", "--warehouse", str(tmp_path / "warehouse"), env=env)

    assert result.returncode == 0, result.stderr
    assert (
        "Not in the demo: vault (its emulator cannot start: no Vault server can be started"
        " here: install vault-bin (pip) and try again)"
    ) in " ".join(result.stdout.split())
    assert "forge_demo" in result.stdout
    assert "Traceback" not in result.stderr
