"""Checking a connector folder as its users will get it: in a virtualenv of its own.

``headwater contract PATH`` runs :func:`check_in_venv`: a fresh virtualenv, the host and the
contract suite installed as they are installed here (editable from a checkout, or the same
releases), the connector at ``PATH`` built as a wheel and installed from it, then the contract
suite for it and the connector's own tests. Only what the connector declares is there, so an
undeclared dependency or a file missing from the wheel fails the run, wherever the folder is.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.2
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
import venv
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import attrs

__all__ = [
    "CheckOutcome",
    "ConnectorFolder",
    "NO_TESTS_COLLECTED",
    "check_in_venv",
    "install_arguments",
    "read_connector_folder",
]

HOST = "headwater"
SUITE = "headwater-contract"
NO_TESTS_COLLECTED = 5
"""pytest's exit code when it collected nothing: a run that tests nothing does not pass."""
# The extra in which a connector declares what its own tests need (the scaffold writes one).
TEST_EXTRA = "test"


@attrs.frozen(kw_only=True)
class ConnectorFolder:
    """A connector's source folder, as its ``pyproject.toml`` describes it.

    .. versionadded:: 0.2
    """

    path: Path
    distribution: str
    """``connector-github``: what users ``pip install``."""
    name: str
    """``github``: the entry-point name, which is the ``source_type``."""
    extras: tuple[str, ...]
    """Extras installed with it: ``("test",)`` when it declares one, for its own tests."""


@attrs.frozen(kw_only=True)
class CheckOutcome:
    """How a check ended: pytest's exit code (or 1 when the setup failed), and why if not 0.

    .. versionadded:: 0.2
    """

    code: int
    message: str | None = None
    pytest_ran: bool = False
    """False when the check stopped before pytest (building or installing failed)."""


def read_connector_folder(path: Path) -> ConnectorFolder:
    """Read the connector package at ``path``.

    :raises ValueError: when ``path`` holds no ``pyproject.toml``, or it does not declare
        exactly one entry point in the ``headwater`` group.

    .. versionadded:: 0.2
    """
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        raise ValueError(f"{path} holds no pyproject.toml: give the folder of a connector package")
    try:
        with pyproject.open("rb") as file:
            project = tomllib.load(file).get("project", {})
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{pyproject} is not valid TOML: {error}") from None
    distribution = project.get("name")
    if not isinstance(distribution, str):
        raise ValueError(f"{pyproject} names no distribution ([project] name)")
    names = sorted(project.get("entry-points", {}).get("headwater", {}))
    if len(names) != 1:
        found = ", ".join(names) or "none"
        raise ValueError(
            f"{pyproject} must declare one entry point in [project.entry-points.headwater]"
            f" (the connector's source_type); found {found}"
        )
    declared = project.get("optional-dependencies", {})
    extras = (TEST_EXTRA,) if TEST_EXTRA in declared else ()
    return ConnectorFolder(
        path=path.resolve(), distribution=distribution, name=names[0], extras=extras
    )


def install_arguments(distribution: str) -> list[str] | None:
    """pip arguments installing ``distribution`` as it is installed here, or None if it is not.

    Installed editable from a checkout: ``-e`` that folder (so a run checks the checkout's
    code); from a local folder or file: that path; otherwise the same release, by version.

    .. versionadded:: 0.2
    """
    try:
        installed = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    # PEP 610: pip records where a distribution came from unless it came from an index.
    direct_url = installed.read_text("direct_url.json")
    if direct_url:
        origin = json.loads(direct_url)
        url = urlsplit(origin.get("url", ""))
        if url.scheme == "file":
            path = url2pathname(url.path)  # unquoted, and a drive letter on Windows
            if origin.get("dir_info", {}).get("editable"):
                return ["-e", path]
            if Path(path).exists():
                return [path]
    return [f"{distribution}=={installed.version}"]


def check_in_venv(
    folder: ConnectorFolder,
    *,
    venv_dir: Path | None = None,
    pip_options: Sequence[str] = (),
    pytest_args: Sequence[str] = (),
    report: Callable[[str], None] = print,
) -> CheckOutcome:
    """Check ``folder`` in a virtualenv holding only the host, the suite and the connector.

    The virtualenv is made in ``venv_dir`` (kept, and reused when it is one already) or in a
    temporary folder removed afterwards. ``pip_options`` reach every pip call (``--no-index``,
    ``--find-links DIR``); ``pytest_args`` reach the contract run. Each step is announced
    through ``report``; pytest writes to this process's output.

    .. versionadded:: 0.2
    """
    with tempfile.TemporaryDirectory(prefix=f"headwater-contract-{folder.name}-") as temporary:
        scratch = Path(temporary)
        venv_dir = venv_dir or scratch / "venv"
        return _check(folder, venv_dir, scratch / "wheel", pip_options, pytest_args, report)


def _check(
    folder: ConnectorFolder,
    venv_dir: Path,
    wheels: Path,
    pip_options: Sequence[str],
    pytest_args: Sequence[str],
    report: Callable[[str], None],
) -> CheckOutcome:
    python = _python(venv_dir)
    reused = python.exists()
    if reused:
        report(f"reusing the virtualenv {venv_dir}")
    else:
        report(f"creating a virtualenv in {venv_dir}")
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    environment = _environment(venv_dir)

    def pip(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "pip", *arguments, "--quiet", *pip_options],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )

    report(f"building the wheel of {folder.distribution} from {folder.path}")
    built = pip("wheel", "--no-deps", "--wheel-dir", str(wheels), str(folder.path))
    if built.returncode != 0:
        return _failed(f"building the wheel of {folder.distribution} failed", built)
    (wheel,) = wheels.glob("*.whl")
    requirement = f"{wheel}[{','.join(folder.extras)}]" if folder.extras else str(wheel)

    host = install_arguments(HOST) or [HOST]
    # Without the suite here, pip picks the newest release that accepts this host.
    suite = install_arguments(SUITE) or [SUITE]
    report(f"installing {' '.join(host)}, {' '.join(suite)} and {wheel.name}")
    # One resolution for all three: a connector that does not accept this host fails here
    # instead of pip replacing the host under it.
    installed = pip("install", *host, *suite, requirement)
    if installed.returncode != 0:
        return _failed("installing into the virtualenv failed", installed)
    if reused:
        # It may hold an earlier build of the same version, which pip keeps: replace it.
        replaced = pip("install", "--force-reinstall", "--no-deps", str(wheel))
        if replaced.returncode != 0:
            return _failed(f"installing {wheel.name} failed", replaced)

    pytest = str(_script(venv_dir, "pytest"))
    report(f"the contract suite for {folder.name}")
    contract = [pytest, "-p", "headwater_contract", "--connector", folder.name, *pytest_args]
    code = subprocess.run(contract, cwd=folder.path, env=environment, check=False).returncode
    if code != 0:
        return _pytest_failed(code, f"the contract suite for {folder.name}")
    tests = folder.path / "tests"
    if not tests.is_dir():
        report(f"{folder.path} has no tests/ folder: only the contract suite ran")
        return CheckOutcome(code=0, pytest_ran=True)
    report(f"{folder.distribution}'s own tests")
    code = subprocess.run(
        [pytest, str(tests)], cwd=folder.path, env=environment, check=False
    ).returncode
    if code != 0:
        return _pytest_failed(code, f"{folder.distribution}'s own tests ({tests})")
    return CheckOutcome(code=0, pytest_ran=True)


def _python(venv_dir: Path) -> Path:
    return _script(venv_dir, "python")


def _script(venv_dir: Path, name: str) -> Path:
    if sys.platform == "win32":
        return venv_dir / "Scripts" / f"{name}.exe"
    return venv_dir / "bin" / name


def _environment(venv_dir: Path) -> dict[str, str]:
    """This process's environment, pointed at ``venv_dir`` and nothing else."""
    environment = {
        key: value
        for key, value in os.environ.items()
        # Paths that would let the running environment's packages in.
        if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE")
    }
    scripts = _script(venv_dir, "python").parent
    environment["VIRTUAL_ENV"] = str(venv_dir)
    environment["PATH"] = os.pathsep.join([str(scripts), environment.get("PATH", "")])
    environment["PYTHONNOUSERSITE"] = "1"
    return environment


def _failed(what: str, process: subprocess.CompletedProcess[str]) -> CheckOutcome:
    output = (process.stdout + process.stderr).strip()
    return CheckOutcome(code=1, message=f"{what}:\n{output}" if output else what)


def _pytest_failed(code: int, what: str) -> CheckOutcome:
    if code == NO_TESTS_COLLECTED:
        return CheckOutcome(
            code=code,
            message=f"{what}: pytest collected no tests; a run that tests nothing does not pass",
            pytest_ran=True,
        )
    return CheckOutcome(
        code=code, message=f"{what} failed (pytest exit code {code})", pytest_ran=True
    )
