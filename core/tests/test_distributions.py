"""Every distribution in the repository: the names users type, its links, one version."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).parents[2]
PYPROJECTS = sorted(
    [
        ROOT / "core" / "pyproject.toml",
        ROOT / "contract_tests" / "pyproject.toml",
        *(ROOT / "plugins").glob("connector-*/pyproject.toml"),
    ]
)
IDS = [str(path.parent.relative_to(ROOT)) for path in PYPROJECTS]
REQUIRED_URLS = ("Repository", "Documentation", "Changelog")
# Hosts that serve packages, not the project: a registry page is not the project's home.
REGISTRY_HOSTS = ("pypi.org", "test.pypi.org", "files.pythonhosted.org")
VERSION_ASSIGNMENT = re.compile(r"^__version__\s*[:=]", re.MULTILINE)


def _project(path: Path) -> dict[str, object]:
    with path.open("rb") as file:
        project: dict[str, object] = tomllib.load(file)["project"]
    return project


def _hatch_version_path(path: Path) -> Path | None:
    with path.open("rb") as file:
        tool = tomllib.load(file).get("tool", {})
    relative = tool.get("hatch", {}).get("version", {}).get("path")
    return None if relative is None else path.parent / relative


def _assigned_version(module: Path) -> str | None:
    """The string literal assigned to ``__version__`` at the top of ``module``, if any."""
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["__version__"]
            and isinstance(node.value, ast.Constant)
        ):
            return str(node.value.value)
    return None


def test_every_distribution_is_found():
    names = {str(_project(path)["name"]) for path in PYPROJECTS}

    assert {"headwater", "headwater-contract", "connector-github"} <= names
    assert len(names) == len(PYPROJECTS)


@pytest.mark.parametrize("path", PYPROJECTS, ids=IDS)
def test_links_lead_to_the_project(path):
    urls = _project(path).get("urls")

    assert isinstance(urls, dict), f"{path} has no [project.urls]"
    assert [key for key in REQUIRED_URLS if key not in urls] == []
    for key, url in urls.items():
        parts = urlsplit(url)
        assert parts.scheme == "https", f"{key} = {url!r} is not an https URL"
        assert parts.netloc, f"{key} = {url!r} is not absolute"
        assert parts.netloc not in REGISTRY_HOSTS, f"{key} = {url!r} is a registry page"


@pytest.mark.parametrize("path", PYPROJECTS, ids=IDS)
def test_classifiers_are_declared_and_match_the_python_versions(path):
    project = _project(path)
    classifiers = project.get("classifiers")

    assert isinstance(classifiers, list)
    assert classifiers, f"{path} declares no classifiers"
    assert classifiers == list(dict.fromkeys(classifiers)), "a classifier is repeated"
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    # The lowest Python the distribution allows is one it says it supports.
    lowest = str(project["requires-python"]).removeprefix(">=")
    assert f"Programming Language :: Python :: {lowest}" in classifiers


@pytest.mark.parametrize("path", PYPROJECTS, ids=IDS)
def test_classifiers_are_known_to_the_registry(path):
    trove = pytest.importorskip("trove_classifiers", reason="comes with hatchling")

    unknown = [c for c in _project(path)["classifiers"] if c not in trove.classifiers]

    assert unknown == []


@pytest.mark.parametrize("path", PYPROJECTS, ids=IDS)
def test_the_version_is_written_once(path):
    project = _project(path)
    sources = sorted((path.parent / "src").rglob("*.py"))
    assignments = [s for s in sources if VERSION_ASSIGNMENT.search(s.read_text(encoding="utf-8"))]
    version_file = _hatch_version_path(path)

    if "version" in project.get("dynamic", []):
        # Read from the package at build time; the pyproject holds none.
        assert "version" not in project
        assert version_file is not None, "a dynamic version needs [tool.hatch.version] path"
        assert assignments == [version_file]
        assert _assigned_version(version_file) is not None
    else:
        # Written in the pyproject; the package reads it from its metadata if it needs it.
        assert isinstance(project.get("version"), str)
        assert version_file is None
        assert assignments == []


def test_the_installed_version_is_the_package_version():
    # headwater-contract's own is checked by its tests (contract_tests/tests/test_public_face.py):
    # it is not installed where these run.
    import headwater

    assert importlib.metadata.version("headwater") == headwater.__version__


CONNECTORS = [path for path in PYPROJECTS if path.parent.parent.name == "plugins"]


@pytest.mark.parametrize("path", CONNECTORS, ids=[path.parent.name for path in CONNECTORS])
def test_a_connector_distribution_is_named_after_its_source_type(path):
    project = _project(path)
    entry_points = project["entry-points"]["headwater"]

    (source_type,) = entry_points
    assert project["name"] == path.parent.name == "connector-" + source_type.replace("_", "-")
    assert entry_points[source_type] == "connector_" + source_type
