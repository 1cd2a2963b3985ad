"""A sync whose stdout reader goes away (`headwater sync ... | head -1`) still syncs everything,
then exits quietly with code 1, as click does on a broken pipe.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from memory_source import MemorySchema, MemorySource, at, config, read_rows, runtime

from headwater import ProgressEvent, ProgressKind
from headwater.cli.sync_output import SyncOutput
from headwater.display import JsonLog, ProgressTally
from headwater.display.lines import LineWriter
from headwater.sync import sync_schema

from conftest import CONNECTOR_INIT, run_cli, write_dist

EXAMPLE = Path(__file__).parents[2] / "examples" / "example.toml"
SCHEMAS = ["customers", "events", "orders"]
T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


# --- the line writer -------------------------------------------------------------------------


def test_a_closed_pipe_points_the_stream_at_devnull_and_drops_later_lines():
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    stream = open(write, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        lines = LineWriter(stream)

        lines.write("first")
        lines.write("second")

        assert lines.reader_gone
        assert os.path.samestat(os.fstat(write), os.stat(os.devnull))
    finally:
        stream.close()  # flushing into devnull: no second error


class Closing(io.StringIO):
    """A stream without a file descriptor whose reader goes away after ``keep`` lines."""

    def __init__(self, keep: int) -> None:
        super().__init__()
        self.keep = keep

    def write(self, text: str) -> int:
        if self.getvalue().count("\n") >= self.keep:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_lines_stop_once_the_reader_is_gone():
    stream = Closing(keep=2)
    lines = LineWriter(stream)

    for n in range(5):
        lines.write(f"line {n}")

    assert lines.reader_gone
    assert stream.getvalue() == "line 0\nline 1\n"


def test_events_from_many_threads_never_raise_into_the_sync():
    stream = Closing(keep=3)
    log = JsonLog(stream, now=lambda: T)
    tally = ProgressTally(("orders",), monotonic=lambda: 0.0, forward=log)
    errors: list[BaseException] = []

    def emit() -> None:
        try:
            for _ in range(200):
                tally.emit(ProgressEvent(kind=ProgressKind.PAGE, schema="orders", count=1))
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=emit) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert log.reader_gone
    assert len(stream.getvalue().splitlines()) == 3
    assert tally.of("orders").pages == 800


# --- the sync output, in process -------------------------------------------------------------


def sync_items(tmp_path, monkeypatch, *, log_format: str, keep: int, fail: bool = False):
    monkeypatch.setattr(sys, "stdout", Closing(keep=keep))
    items = MemorySchema(name="items", page_size=2)
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(10)]
    source = MemorySource(items)
    warehouse = str(tmp_path / "wh")
    output = SyncOutput.open(
        name="mem",
        schemas=("items", "broken"),
        runtime=runtime(),
        config=config(),
        quiet=False,
        log_format=log_format,
    )
    with output:
        output.started("items")
        result = sync_schema(source, config(), "items", warehouse, output.runtime)
        output.finished("items", result)
        output.started("broken")
        if fail:
            output.failed("broken", "the API said no")
        else:
            output.finished(
                "broken", sync_schema(source, config(), "items", warehouse, output.runtime)
            )
    return output, result


@pytest.mark.parametrize(("log_format", "keep"), [("json", 1), ("json", 0), ("text", 0)])
def test_the_sync_runs_to_its_end_then_the_broken_pipe_is_raised(
    tmp_path, monkeypatch, log_format, keep
):
    with pytest.raises(BrokenPipeError):
        sync_items(tmp_path, monkeypatch, log_format=log_format, keep=keep)

    rows = read_rows(str(tmp_path / "wh" / "mem" / "items"))
    assert [row["id"] for row in rows] == list(range(10))


def test_failures_outrank_the_broken_pipe(tmp_path, monkeypatch):
    output, result = sync_items(tmp_path, monkeypatch, log_format="json", keep=1, fail=True)

    assert output.reader_gone
    assert output.failures == [("broken", "the API said no")]
    assert result.rows_written == 10


# --- the command, with a real pipe -----------------------------------------------------------


def headwater(*args: str, stdout: int, env: dict[str, str] | None = None):
    """Run ``headwater`` with ``stdout`` as its standard output; stderr is captured."""
    return subprocess.Popen(
        [sys.executable, "-c", "from headwater.cli import main; main()", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def tables(warehouse: Path) -> dict[str, dict]:
    result = run_cli("tables", "-w", str(warehouse), "--json")
    assert result.returncode == 0, result.stderr
    return {t["schema"]: t for t in json.loads(result.stdout)}


@pytest.mark.parametrize("args", [("--json",), ()], ids=["json", "text"])
def test_a_sync_whose_reader_is_gone_syncs_everything_and_exits_quietly(tmp_path, args):
    warehouse = tmp_path / "wh"
    read, write = os.pipe()
    os.close(read)  # no reader at all: the first line written meets a closed pipe

    with headwater(
        "sync", "example", "--config", str(EXAMPLE), "-w", str(warehouse), *args, stdout=write
    ) as process:
        os.close(write)
        _, stderr = process.communicate(timeout=120)

    assert process.returncode == 1
    assert stderr == ""
    synced = tables(warehouse)
    assert sorted(synced) == SCHEMAS
    assert synced["customers"]["rows"] == 25
    for schema in SCHEMAS:
        assert synced[schema]["rows"] > 0
        assert synced[schema]["complete"] is True
    assert synced["orders"]["watermark"]
    assert synced["events"]["watermark"]
    # State and data agree: the next sync reads only what changed since.
    again = run_cli("sync", "example", "--config", str(EXAMPLE), "-w", str(warehouse))
    assert again.returncode == 0, again.stderr
    orders = int(again.stdout.splitlines()[0].split()[1].replace(",", ""))
    assert orders < 10


CHATTY_SOURCE = """
    from headwater import Source, SourceConfig, SourceResponse, SourceSchema

    class ChattySource(Source):
        source_type = "chatty"

        def get_source_config(self):
            return SourceConfig(label="Chatty", release_status="beta", fields=[])

        def validate_credentials(self, config, runtime):
            return True, None

        def get_schemas(self, config, runtime):
            return [SourceSchema(name="ticks")]

        def source_for_pipeline(self, config, inputs, runtime):
            def items():
                for n in range({pages}):
                    yield [{{"id": n}}]

            return SourceResponse(name=inputs.schema_name, items=items, primary_keys=["id"])
"""
# A page event is about 90 bytes: far more than a pipe holds (64 KiB on Linux) is written
# after the reader has gone, whatever the timing.
PAGES = 5000


def test_a_reader_that_stops_after_the_first_line_does_not_stop_the_sync(site, tmp_path):
    values = {
        "name": "chatty",
        "package": "connector_chatty",
        "cls": "ChattySource",
        "label": "Chatty",
        "contract": "CONTRACT_MAJOR",
    }
    write_dist(
        site,
        "connector-chatty",
        "0.1.0",
        entry_points={"chatty": "connector_chatty"},
        files={
            "connector_chatty/__init__.py": CONNECTOR_INIT.format(**values),
            "connector_chatty/source.py": CHATTY_SOURCE.format(pages=PAGES),
        },
    )
    assert run_cli("generate", "chatty").returncode == 0
    config_file = tmp_path / "chatty.toml"
    config_file.write_text("[source]\n")
    warehouse = tmp_path / "wh"

    with headwater(
        "sync", "chatty", "--config", str(config_file), "-w", str(warehouse),
        "--json", stdout=subprocess.PIPE,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stderr is not None
        first = json.loads(process.stdout.readline())
        process.stdout.close()
        stderr = process.stderr.read()
        process.wait(timeout=120)

    assert first["event"] == "sync_started"
    assert process.returncode == 1
    assert stderr == ""
    synced = tables(warehouse)
    assert synced["ticks"]["rows"] == PAGES
    assert synced["ticks"]["sync_mode"] == "full_refresh"
