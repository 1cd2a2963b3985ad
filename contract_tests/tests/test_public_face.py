"""Every check is documented; every module says why, exports what exists, sorted; and the
package's public names are exactly the documented ones."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import itertools
import pkgutil
from pathlib import Path

import pytest

import headwater_contract
import headwater_contract.checks
from headwater_contract import STANDARD_CHECKS

DOCS = Path(__file__).parents[2] / "docs" / "contract.md"
# What a connector's own tests may import (rendered by docs/reference/contract.md). Changing
# this list is changing the kit's promise to connector authors: do it on purpose, in review.
SURFACE = ["ContractSuite", "STANDARD_CHECKS", "__version__"]
MODULES = sorted(
    ["headwater_contract", "headwater_contract.checks"]
    + [f"headwater_contract.{m.name}" for m in pkgutil.iter_modules(headwater_contract.__path__)]
    + [
        f"headwater_contract.checks.{m.name}"
        for m in pkgutil.iter_modules(headwater_contract.checks.__path__)
    ]
)


@pytest.mark.parametrize("check", sorted(STANDARD_CHECKS))
def test_every_check_is_documented_in_docs_contract_md(check):
    assert f"`{check}`" in DOCS.read_text(encoding="utf-8"), f"document {check} in {DOCS}"


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_why_and_exports_sorted_existing_names(name):
    module = importlib.import_module(name)

    assert "versionadded:: 0.1" in (module.__doc__ or ""), name
    exported = module.__all__
    assert exported == sorted(exported)
    assert [n for n in exported if not hasattr(module, n)] == []


def test_the_package_is_its_own_pytest_plugin():
    # `-p headwater_contract` and the pytest11 entry point both register the package.
    assert callable(headwater_contract.pytest_addoption)
    assert callable(headwater_contract.pytest_configure)


def test_the_public_names_are_exactly_the_documented_ones():
    assert headwater_contract.__all__ == SURFACE


def attribute_docstring(source: str, name: str) -> str:
    body = ast.parse(source).body
    for node, after in itertools.pairwise(body):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        named = any(isinstance(t, ast.Name) and t.id == name for t in targets)
        if named and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            return str(after.value.value)
    return ""


@pytest.mark.parametrize("name", SURFACE)
def test_every_public_name_says_when_it_appeared(name):
    item = getattr(headwater_contract, name)
    if inspect.isclass(item):
        doc = item.__doc__ or ""
    else:
        # Constants carry their docstring under the assignment, where griffe reads it.
        home = headwater_contract if name == "__version__" else headwater_contract.suite
        doc = attribute_docstring(inspect.getsource(home), name)
    assert ".. versionadded:: 0." in doc, name


def test_the_installed_version_is_the_package_version():
    # The wheel's version is read from __version__ (one version source, [tool.hatch.version]).
    assert importlib.metadata.version("headwater-contract") == headwater_contract.__version__
