"""Every check is documented; every module says why, exports what exists, sorted."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import headwater_contract
import headwater_contract.checks
from headwater_contract import STANDARD_CHECKS

DOCS = Path(__file__).parents[2] / "docs" / "contract.md"
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
