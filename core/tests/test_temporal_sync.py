"""Connection syncs on a real Temporal dev server, run by `headwater worker` subprocesses.

The connector is the contract suite's reference connector, Forge (REST: page numbers, a
cursor, Link headers, a fan-out), installed into a throwaway site; its emulator is served on
127.0.0.1 by this process, so tests slow it down, break it and count its requests. Each test
has its own task queue and connection, so tests never share work on the session's server.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from temporal_server import DevServer, Worker

from headwater.emulator import EmulatorServer, StatusFailure

from conftest import write_dist

FIXTURES = Path(__file__).parents[2] / "contract_tests" / "tests" / "fixtures"
sys.path.insert(0, str(FIXTURES))

from connector_forge.testing import TOKEN, ForgeApi  # noqa: E402

if TYPE_CHECKING:
    import httpx

SCHEMAS = ("projects", "issues", "events", "comments", "members")


class SlowForgeApi(ForgeApi):
    """Forge answering each request after ``delay`` seconds, and only once ``gate`` is open."""

    delay = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.gate.wait(60)
        if self.delay:
            time.sleep(self.delay)
        return super().handle(request)


class Setup:
    """One test's world: emulator, config, warehouse, task queue, workers, CLI."""

    def __init__(self, server: DevServer, folder: Path, site: Path) -> None:
        self.server = server
        self.folder = folder
        self.api = SlowForgeApi()
        self.emulator = EmulatorServer(self.api).start()
        self.connection = "forge_" + uuid.uuid4().hex[:8]
        self.task_queue = "tq-" + uuid.uuid4().hex[:8]
        self.warehouse = str(folder / "warehouse")
        self.config = folder / "forge.toml"
        self.config.write_text(
            f'connection = "{self.connection}"\n'
            '[source]\norganization = "acme"\napi_token = "env:FORGE_TOKEN"\n',
            encoding="utf-8",
        )
        write_dist(
            site, "connector-forge", "0.3.0", entry_points={"forge": "connector_forge"}, files={}
        )
        self.env = {
            "PYTHONPATH": os.pathsep.join([str(site), str(FIXTURES)]),
            "HEADWATER_LOAD_CONNECTORS": "forge",
            "HEADWATER_TEMPORAL_ADDRESS": server.address,
            "HEADWATER_TEMPORAL_TASK_QUEUE": self.task_queue,
        }
        self.site = site
        self.workers: list[Worker] = []

    def worker(self, token: str = TOKEN, **kwargs: Any) -> Worker:
        index = len(self.workers)
        worker = Worker(
            self.server.address,
            self.task_queue,
            warehouse=self.warehouse,
            env={**self.env, "FORGE_TOKEN": token},
            log=self.folder / f"worker-{index}.log",
            **kwargs,
        )
        self.workers.append(worker)
        return worker

    def submit_args(self, *extra: str) -> list[str]:
        return [
            "submit",
            "forge",
            "--config",
            str(self.config),
            "--base-url",
            self.emulator.base_url,
            "--heartbeat-timeout",
            "3s",
            "--retry-interval",
            "0.2s",
            *extra,
        ]

    def cli(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        # The submitting machine holds no secret: FORGE_TOKEN is not in its environment.
        env = {k: v for k, v in os.environ.items() if k != "FORGE_TOKEN"}
        return subprocess.run(
            [sys.executable, "-c", "from headwater.cli import main; main()", *args],
            capture_output=True,
            text=True,
            env={**env, **self.env},
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", "from headwater.cli import main; main()", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **self.env},
        )

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.emulator.stop()


@pytest.fixture
def setup(temporal_server: DevServer, tmp_path: Path, site: Path) -> Iterator[Setup]:
    world = Setup(temporal_server, tmp_path, site)
    try:
        yield world
    finally:
        world.close()


def table_rows(
    warehouse: str, connection: str, schema: str, options: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    from deltalake import DeltaTable

    table = DeltaTable(f"{warehouse}/{connection}/{schema}", storage_options=options)
    rows = table.to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def reference_rows(setup: Setup, tmp: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table as `headwater sync` writes it from the same emulator, in this process."""
    import importlib.metadata

    from headwater.config import (
        BUILTIN_RESOLVERS,
        UserConfig,
        load_config_class,
        structure_source_config,
    )
    from headwater.discovery import Registry
    from headwater.runtime import Runtime
    from headwater.sync import sync_schema

    # This test's own distributions: the process's entry points were read (and cached) by
    # whichever test came first.
    entry_points = [
        ep
        for dist in importlib.metadata.distributions(path=[str(setup.site)])
        for ep in dist.entry_points
        if ep.group == "headwater"
    ]
    registry = Registry(entry_points, environ={})
    connector = registry.connector("forge")
    source = connector.load_source()
    config = UserConfig(
        connection=setup.connection,
        source=structure_source_config(
            load_config_class(connector.spec),
            source.get_source_config(),
            {"organization": "acme", "api_token": TOKEN},
            resolvers=BUILTIN_RESOLVERS,
        ),
    )
    warehouse = str(tmp / "reference")
    delay, setup.api.delay = setup.api.delay, 0.0
    try:
        for schema in SCHEMAS:
            runtime = Runtime(base_url=setup.emulator.base_url)
            sync_schema(connector, config, schema, warehouse, runtime)
    finally:
        setup.api.delay = delay
    return {schema: table_rows(warehouse, setup.connection, schema) for schema in SCHEMAS}


def _decoded(node: Any, out: list[str]) -> None:
    """Every payload's data (base64 in Temporal's JSON), decoded, appended to ``out``."""
    if isinstance(node, dict):
        if isinstance(node.get("data"), str) and "metadata" in node:
            out.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
        for value in node.values():
            _decoded(value, out)
    elif isinstance(node, list):
        for value in node:
            _decoded(value, out)


def history_json(address: str, workflow_ids: list[str]) -> str:
    """The whole history of each workflow as Temporal's JSON, every payload also decoded."""
    from temporalio.client import Client

    async def fetch() -> str:
        client = await Client.connect(address)
        parts = []
        for workflow_id in workflow_ids:
            handle = client.get_workflow_handle(workflow_id)
            history = await handle.fetch_history()
            raw = history.to_json()
            parts.append(raw)
            _decoded(json.loads(raw), parts)
            description = await handle.describe()
            parts.append(json.dumps(await description.memo(), default=str))
        return "\n".join(parts)

    return asyncio.run(fetch())


def sync_started_attempts(address: str, workflow_id: str) -> list[int]:
    """The attempt number of each sync activity start recorded in a schema's history."""
    from temporalio.client import Client

    async def fetch() -> list[int]:
        client = await Client.connect(address)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        return [
            event.activity_task_started_event_attributes.attempt
            for event in history.events
            if event.HasField("activity_task_started_event_attributes")
        ]

    return asyncio.run(fetch())


def summary_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(result.stdout)


# --- the tests -----------------------------------------------------------------------------------


def test_a_connection_sync_writes_every_schema_with_its_summary_in_result_and_memo(
    setup: Setup, tmp_path: Path
) -> None:
    setup.worker()

    result = setup.cli(*setup.submit_args("--json"))

    assert result.returncode == 0, result.stderr
    summary = summary_of(result)
    assert summary["connection"] == setup.connection
    assert summary["error"] is None
    by_schema = {schema["schema"]: schema for schema in summary["schemas"]}
    assert set(by_schema) == set(SCHEMAS)
    expected = reference_rows(setup, tmp_path)
    for schema in SCHEMAS:
        rows = table_rows(setup.warehouse, setup.connection, schema)
        assert rows == expected[schema], schema
        assert by_schema[schema]["ok"] is True
        assert by_schema[schema]["rows_written"] == len(rows)
        assert by_schema[schema]["commits"] >= 1
        assert by_schema[schema]["pages"] >= 1
        assert by_schema[schema]["attempts"] == 1
    assert by_schema["issues"]["watermark"] is not None
    # The memo holds the same summary, for `headwater runs` and Temporal's UI.
    runs = setup.cli("runs", "--connection", setup.connection, "--json")
    assert runs.returncode == 0, runs.stderr
    [run] = json.loads(runs.stdout)
    assert run["status"] == "completed"
    assert run["summary"] == summary
    table = setup.cli("runs", "--connection", setup.connection)
    total = sum(schema["rows_written"] for schema in summary["schemas"])
    assert setup.connection in table.stdout
    assert "completed" in table.stdout
    assert f"{total:,}" in table.stdout


def test_a_killed_worker_s_schemas_are_retried_on_another_worker_with_exact_rows(
    setup: Setup, tmp_path: Path
) -> None:
    setup.api.delay = 0.4
    first = setup.worker()
    submit = setup.popen(*setup.submit_args("--json"))
    deadline = time.monotonic() + 30
    while len(setup.api.requests) < 3:  # every schema is mid-read
        assert time.monotonic() < deadline, first.text()
        time.sleep(0.05)

    first.kill()
    setup.api.delay = 0.0
    second = setup.worker()
    out, err = submit.communicate(timeout=90)

    assert submit.returncode == 0, err
    summary = json.loads(out)
    expected = reference_rows(setup, tmp_path)
    for schema in SCHEMAS:
        rows = table_rows(setup.warehouse, setup.connection, schema)
        assert rows == expected[schema], schema  # keys and content; no duplicates
    retried = [s["schema"] for s in summary["schemas"] if s["attempts"] > 1]
    assert retried, summary
    assert "attempt 2" in second.text()


def test_bad_credentials_fail_once_with_the_user_s_message_and_no_retry(
    setup: Setup,
) -> None:
    worker = setup.worker(token="not-the-token")

    result = setup.cli(*setup.submit_args("--schema", "issues", "--max-attempts", "5"))

    assert result.returncode == 1
    message = "Forge rejected the API token: create a new one under Settings > Tokens"
    assert result.stderr.count(message) == 2  # the schema's line and the final error
    assert f"1 of 1 schemas of {setup.connection} failed" in result.stderr
    child = f"headwater-sync/{setup.connection}/issues"
    assert sync_started_attempts(setup.server.address, child) == [1]
    issue_requests = [r for r in setup.api.requests if r.url.path.endswith("/issues")]
    assert len(issue_requests) == 1  # a 401 is not retried, in the sync or by Temporal
    assert "not-the-token" not in worker.text()


def test_a_persistent_5xx_is_retried_by_temporal_after_the_sync_s_own_retries(
    setup: Setup, tmp_path: Path
) -> None:
    setup.worker()
    # Two in-sync attempts (test workers), both 503: the first activity attempt fails.
    setup.api.inject(StatusFailure(status=503), times=2, path="/orgs/acme/issues")

    result = setup.cli(*setup.submit_args("--schema", "issues", "--json"))

    assert result.returncode == 0, result.stderr
    [issues] = summary_of(result)["schemas"]
    assert issues["ok"] is True
    assert issues["attempts"] == 2
    child = f"headwater-sync/{setup.connection}/issues"
    assert sync_started_attempts(setup.server.address, child) == [2]
    expected = reference_rows(setup, tmp_path)
    assert table_rows(setup.warehouse, setup.connection, "issues") == expected["issues"]


def test_no_secret_reaches_history_memo_output_or_worker_logs(setup: Setup) -> None:
    worker = setup.worker()
    ok = setup.cli(*setup.submit_args())
    assert ok.returncode == 0, ok.stderr
    # A failing run too: errors are where secrets usually leak.
    setup.api.inject(StatusFailure(status=401, json={"message": "Bad credentials"}), times=1)
    failed = setup.cli(*setup.submit_args("--schema", "projects"))
    assert failed.returncode == 1

    ids = [f"headwater-sync/{setup.connection}"] + [
        f"headwater-sync/{setup.connection}/{schema}" for schema in SCHEMAS
    ]
    history = history_json(setup.server.address, ids)

    assert "env:FORGE_TOKEN" in history  # the reference travels, resolved only on workers
    assert "issues" in history
    assert setup.connection in history
    for text in (history, worker.text(), ok.stdout, ok.stderr, failed.stdout, failed.stderr):
        assert TOKEN not in text


def test_a_literal_secret_in_the_config_is_refused_before_it_reaches_temporal(
    setup: Setup,
) -> None:
    setup.config.write_text(
        '[source]\norganization = "acme"\napi_token = "plain-secret-value"\n', encoding="utf-8"
    )

    result = setup.cli(*setup.submit_args())

    assert result.returncode == 2
    assert "a secret must be a reference (env:NAME or file:PATH)" in result.stderr
    assert "$.source.api_token" in result.stderr
    assert "plain-secret-value" not in result.stderr


def test_a_second_sync_of_a_running_connection_is_refused_or_joins_it(setup: Setup) -> None:
    setup.api.gate.clear()  # the first sync's requests wait until both others are in
    setup.worker()
    first = setup.popen(*setup.submit_args("--json"))
    deadline = time.monotonic() + 30
    while not setup.api.requests:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    refused = setup.cli(*setup.submit_args())
    joining = setup.popen(*setup.submit_args("--join", "--json"))
    time.sleep(2)  # time for the join to reach Temporal; nothing can finish meanwhile
    setup.api.gate.set()
    out, err = first.communicate(timeout=60)
    joined_out, joined_err = joining.communicate(timeout=60)

    assert refused.returncode == 2
    assert f"a sync of connection {setup.connection} is already running" in refused.stderr
    assert joining.returncode == 0, joined_err
    assert first.returncode == 0, err
    assert json.loads(joined_out) == json.loads(out)  # the same run's summary
    runs = {line.split("(run ")[1] for line in (err, joined_err)}
    assert len(runs) == 1, runs


def test_a_missing_extra_is_one_line_with_the_install_command() -> None:
    code = (
        "import sys; sys.modules['temporalio'] = None;"
        " from headwater.cli import main; main(['runs'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: Temporal support is not installed: pip install 'headwater[temporal]'"
        " (the temporalio SDK)"
    ]


def test_listing_connectors_never_imports_temporal() -> None:
    code = (
        "import sys; from headwater.cli import main\n"
        "try:\n    main(['connectors'])\nexcept SystemExit:\n    pass\n"
        "loaded = ('temporalio', 'headwater.temporal')\n"
        "print(sorted(m for m in sys.modules if m.startswith(loaded)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_two_workers_racing_for_one_object_store_table_leave_it_exact(
    setup: Setup, tmp_path: Path
) -> None:
    """Two namespaces (think: two clusters) sync one table of one S3 warehouse at once."""
    from object_store import moto_server

    with moto_server() as s3:
        warehouse = s3.new_warehouse()
        env = s3.options()
        setup.env.update(env)
        setup.warehouse = warehouse
        setup.api.gate.clear()
        setup.worker()
        setup.worker(namespace="headwater-b")
        args = setup.submit_args("--schema", "issues", "--max-attempts", "30", "--json")
        racers = [setup.popen(*args), setup.popen(*args, "--namespace", "headwater-b")]
        deadline = time.monotonic() + 30
        while not setup.api.requests:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1)  # both have reached the table: one holds it, the other is refused
        setup.api.gate.set()
        outcomes = [racer.communicate(timeout=90) for racer in racers]

        for racer, (_out, err) in zip(racers, outcomes, strict=True):
            assert racer.returncode == 0, err
        attempts = sorted(json.loads(out)["schemas"][0]["attempts"] for out, _ in outcomes)
        assert attempts[0] == 1
        assert attempts[1] > 1  # the loser met the lock (TableLockedError) and was retried
        rows = table_rows(warehouse, setup.connection, "issues", env)
        assert rows == reference_rows(setup, tmp_path)["issues"]
        assert len({row["id"] for row in rows}) == len(rows)
