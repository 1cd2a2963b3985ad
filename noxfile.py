"""Every task of the workspace: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s demo`.

Each session builds its own virtualenv from the project's files, so what passes here passes on
a fresh machine with only Python.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
CORE = ROOT / "core"
PLUGINS = sorted(
    p for p in (ROOT / "plugins").glob("connector-*") if (p / "pyproject.toml").exists()
)

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

TEST_DEPS = ["pytest>=8", "ruff>=0.6"]
LINT_DEPS = ["ruff>=0.6"]
TYPECHECK_DEPS = ["mypy>=1.11"]

PYTEST_NO_TESTS = 5


def _pytest(session: nox.Session, *args: str) -> None:
    """Run pytest; "no tests collected" (exit 5) is a failure with its own message."""
    code = session.run("pytest", *args, success_codes=[0, PYTEST_NO_TESTS])
    if code == PYTEST_NO_TESTS:
        session.error("pytest collected no tests: a test run that tests nothing does not pass")


@nox.session
def tests(session: nox.Session) -> None:
    """The core test suite (host, config, emulator toolkit, CLI)."""
    session.install("-e", str(CORE), *TEST_DEPS)
    _pytest(session, "core/tests", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install(*LINT_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy, strict on core."""
    session.install("-e", str(CORE), *TYPECHECK_DEPS)
    session.run("mypy", "core/src/headwater")


@nox.session
def demo(session: nox.Session) -> None:
    """Install the host and every connector in plugins/, then show what is installed."""
    session.install("-e", str(CORE), *(f"-e{plugin}" for plugin in PLUGINS))
    session.run("headwater", "connectors")
    for plugin in PLUGINS:
        name = plugin.name.removeprefix("connector-").replace("-", "_")
        session.run("headwater", "info", name)
