"""Panic reports that native threads (Delta Lake's Rust runtime) print are kept off the
terminal; the failure is one line, other native output still shows, and HEADWATER_DEBUG=1
shows the panics."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from headwater.cli.native_stderr import split_panics

from conftest import CONNECTOR_INIT, run_cli, write_dist

EXAMPLE = Path(__file__).parents[2] / "examples" / "example.toml"

PANIC = (
    "\n"
    "thread 'tokio-rt-worker' (8928) panicked at /cargo/object_store/src/buffered.rs:369:41:\n"
    "Already shut down\n"
    "stack backtrace:\n"
    "note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.\n"
)
SHORT_PANIC = (
    "thread '<unnamed>' panicked at src/lib.rs:1:2:\n"
    "index out of bounds\n"
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
)


@pytest.mark.parametrize(
    ("text", "kept", "panics"),
    [
        ("", "", ""),
        ("a C library's warning\n", "a C library's warning\n", ""),
        (PANIC, "", PANIC),
        (PANIC + PANIC, "", PANIC + PANIC),
        ("before\n" + SHORT_PANIC + "after\n", "before\nafter\n", SHORT_PANIC),
        # A report cut short (the process was busy dying): the rest is the panic's.
        (
            "ok\n" + SHORT_PANIC.splitlines(keepends=True)[0],
            "ok\n",
            SHORT_PANIC.split("\n")[0] + "\n",
        ),
        # A line that only mentions a panic is not a report.
        ("the thread 'x' panicked at noon\n", "the thread 'x' panicked at noon\n", ""),
    ],
    ids=["empty", "other", "panic", "two", "between", "cut", "mention"],
)
def test_panic_reports_are_told_apart_from_other_native_output(text, kept, panics):
    assert split_panics(text) == (kept, panics)


NOISY_SOURCE = """
    import os

    from headwater import Source, SourceConfig, SourceResponse, SourceSchema
    from headwater.errors import SourceError

    PANIC = {panic!r}

    class NoisySource(Source):
        source_type = "noisy"

        def get_source_config(self):
            return SourceConfig(label="Noisy", release_status="beta", fields=[])

        def validate_credentials(self, config, runtime):
            return True, None

        def get_schemas(self, config, runtime):
            return [SourceSchema(name="ticks"), SourceSchema(name="tocks")]

        def source_for_pipeline(self, config, inputs, runtime):
            def items():
                # What a native library writes past Python, straight to file descriptor 2.
                os.write(2, b"a native library's notice\\n")
                if inputs.schema_name == "ticks":
                    os.write(2, PANIC.encode())
                    raise SourceError("the store went away")
                yield [{{"id": 1}}]

            return SourceResponse(name=inputs.schema_name, items=items, primary_keys=["id"])
"""


@pytest.fixture
def noisy(site, tmp_path):
    values = {
        "name": "noisy",
        "package": "connector_noisy",
        "cls": "NoisySource",
        "label": "Noisy",
        "contract": "CONTRACT_MAJOR",
    }
    write_dist(
        site,
        "connector-noisy",
        "0.1.0",
        entry_points={"noisy": "connector_noisy"},
        files={
            "connector_noisy/__init__.py": CONNECTOR_INIT.format(**values),
            "connector_noisy/source.py": NOISY_SOURCE.format(panic=PANIC),
        },
    )
    assert run_cli("generate", "noisy").returncode == 0
    config_file = tmp_path / "noisy.toml"
    config_file.write_text("[source]\n")
    return config_file


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_a_panic_report_stays_off_the_terminal_and_other_native_output_shows(
    noisy, tmp_path, debug
):
    env = {"HEADWATER_DEBUG": "1"} if debug else {"HEADWATER_DEBUG": ""}
    result = run_cli("sync", "noisy", "--config", str(noisy), "-w", str(tmp_path / "wh"), env=env)

    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert "ticks: failed: the store went away" in lines
    assert lines.count("a native library's notice") == 2
    assert lines[-1] == "Error: 1 of 2 schemas failed: ticks (see above)"
    assert ("panicked at" in result.stderr) is debug
    assert result.stdout.startswith("tocks: 1 row written")


@pytest.fixture
def full_disk(tmp_path):
    """A 100 KiB tmpfs: a warehouse whose disk fills during the first sync."""
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip(
            "mounting a small tmpfs needs root and mount(8); the test above covers the filter"
        )
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=100k", f"hw-{uuid.uuid4().hex[:8]}", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"this machine refuses a tmpfs mount ({made.stderr.strip()})")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_under_delta_is_one_line_per_schema_without_panic_text(full_disk):
    result = run_cli("sync", "example", "--config", str(EXAMPLE), "-w", str(full_disk / "wh"))

    assert result.returncode in (1, 3), result.stderr
    failed = [line for line in result.stderr.splitlines() if ": failed: " in line]
    assert failed
    assert all("No space left on device" in line for line in failed)
    assert "panicked" not in result.stderr
    assert "RUST_BACKTRACE" not in result.stderr
    assert "\n\n" not in result.stderr
