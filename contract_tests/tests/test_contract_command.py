"""`headwater contract PATH`: a connector outside this repository, checked in its own venv.

Offline: every install comes from a wheelhouse packed from the distributions installed here
(`--no-index --find-links`), so the virtualenv holds only what the host, the suite and the
connector declare: a file the connector's wheel lacks fails the run, as it would for a user.
The three runs share one virtualenv (`--venv`, reused), which also shows that a reused one
gets each new build of the connector.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner
from wheelhouse import closure, write_wheelhouse

from headwater.cli import cli

# hatchling builds every distribution here; editables is what it asks for an editable build.
BUILD = ["hatchling", "editables"]
pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in BUILD),
    reason="hatchling and editables (the build backend) are not installed: nothing builds offline",
)

# Installed here editable from the checkout, so installed from it there: not in the wheelhouse.
EDITABLE = {"headwater", "headwater-contract"}


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """`headwater contract` options: no index, this wheelhouse, this (shared) virtualenv."""
    root = tmp_path_factory.mktemp("offline")
    needed = closure(["headwater", "headwater-contract", *BUILD])
    write_wheelhouse([d for d in needed if d.metadata["Name"] not in EDITABLE], root / "wheels")
    return ["--no-index", "--find-links", str(root / "wheels"), "--venv", str(root / "venv")]


@pytest.fixture
def connector(tmp_path):
    """`headwater new x -d TMP/connector-x`: a new connector, outside any repository."""
    target = tmp_path / "connector-x"
    result = CliRunner().invoke(cli, ["new", "x", "-d", str(target)])
    assert result.exit_code == 0, result.output
    return target


def contract(*arguments: str) -> subprocess.CompletedProcess[str]:
    # pip's configuration here (other indexes, find-links, constraints) stays out: the
    # wheelhouse alone must do.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run(
        [sys.executable, "-c", "from headwater.cli import main; main()", "contract", *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=900,
    )


def summary(output: str) -> list[str]:
    """pytest's summary lines (`== 34 passed, 3 skipped in 2.1s ==`), without the timing."""
    return [
        re.sub(r" in [\d.]+s.*", "", line.strip("= "))
        for line in output.splitlines()
        if re.match(r"^=+ .*\d+ (passed|failed|deselected|error)", line)
    ]


def test_a_new_connector_outside_the_repository_passes(connector, offline):
    run = contract(str(connector), *offline)

    assert run.returncode == 0, run.stdout + run.stderr
    # The contract suite, then the connector's own tests: both ran, in that order.
    assert summary(run.stdout) == ["34 passed, 3 skipped", "11 passed"]
    assert "headwater contract: connector-x passed" in run.stderr


def test_a_module_missing_from_the_wheel_fails(connector, offline):
    # The emulator and contract kit are left out of the wheel: from the folder (a developer's
    # editable install) everything imports; from the wheel, as users get it, the kit does not.
    pyproject = connector / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.hatch.build.targets.wheel]\n",
            '[tool.hatch.build.targets.wheel]\nexclude = ["src/connector_x/testing.py"]\n',
        )
    )

    run = contract(str(connector), *offline)

    assert run.returncode == 1, run.stdout + run.stderr
    assert "No module named 'connector_x.testing'" in run.stdout
    assert "Error: the contract suite for x failed (pytest exit code 1)" in run.stderr


def test_a_run_that_collects_nothing_fails(connector, offline):
    run = contract(str(connector), *offline, "--", "-k", "no_such_check")

    assert run.returncode == 5, run.stdout + run.stderr
    assert (
        "Error: the contract suite for x: pytest collected no tests; a run that tests nothing"
        " does not pass"
    ) in run.stderr
