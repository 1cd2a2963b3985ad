"""Every command that opens a Temporal client leaves through ``os._exit``, whichever way it ends.

Temporal's client keeps native threads that can outlive the event loop; a process that then
runs CPython's finalization crashes now and then (``schedule create`` exited with SIGSEGV in
CI after printing its line). These tests run each command with the client's work replaced and
check that the command ends in ``_exit`` with the exit code the docs give.
"""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from headwater.cli import temporal_commands

if TYPE_CHECKING:
    import click


class Left(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "example.toml"
    path.write_text('connection = "shop"\n[source]\nseed = 3\n', encoding="utf-8")
    return path


def _leaving(monkeypatch: pytest.MonkeyPatch, answer: Any) -> None:
    def fake_run(coroutine: Coroutine[Any, Any, Any]) -> Any:
        coroutine.close()  # the client's work is not what these tests are about
        return answer

    def fake_exit(code: int) -> None:
        raise Left(int(code))

    monkeypatch.setattr(temporal_commands, "_run", fake_run)
    monkeypatch.setattr(temporal_commands, "_exit", fake_exit)


def _invoke(command: click.Command, args: list[str]) -> Left:
    result = CliRunner().invoke(command, args, catch_exceptions=True)
    assert isinstance(result.exception, Left), (result.output, result.exception)
    return result.exception


@pytest.mark.parametrize(
    ("command", "args", "answer"),
    [
        (temporal_commands.schedule_group, ["create", "example", "--every", "1h"], "sid"),
        (temporal_commands.schedule_group, ["list"], []),
        (temporal_commands.schedule_group, ["list", "--json"], []),
        (temporal_commands.schedule_group, ["trigger", "shop"], None),
        (temporal_commands.schedule_group, ["pause", "shop"], None),
        (temporal_commands.schedule_group, ["unpause", "shop"], None),
        (temporal_commands.schedule_group, ["delete", "shop"], None),
        (temporal_commands.runs_command, [], []),
        (temporal_commands.runs_command, ["--json"], []),
        (temporal_commands.submit_command, ["example", "--no-wait"], None),
        (temporal_commands.worker_command, [], None),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_command_that_used_a_client_ends_in_exit_0(
    monkeypatch: pytest.MonkeyPatch,
    config: Path,
    command: click.Command,
    args: list[str],
    answer: Any,
) -> None:
    _leaving(monkeypatch, answer)
    needs_config = args[:1] == ["create"] or command is temporal_commands.submit_command
    assert _invoke(command, args + (["--config", str(config)] if needs_config else [])).code == 0


def test_every_client_command_is_marked_to_leave_directly() -> None:
    """A command added later without the decorator would fall back to finalization."""
    commands: list[click.Command] = [
        temporal_commands.worker_command,
        temporal_commands.submit_command,
        temporal_commands.runs_command,
        *temporal_commands.schedule_group.commands.values(),
    ]
    unmarked = [c.name for c in commands if not getattr(c.callback, "leaves_directly", False)]
    assert unmarked == []
