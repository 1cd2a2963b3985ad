"""The front of :mod:`headwater.config` (internal): sorted exports that resolve, light imports."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import headwater.config

MODULES = [
    "checks",
    "codegen",
    "converter",
    "generated",
    "json_schema",
    "problems",
    "references",
    "secrets",
    "structure",
    "user",
]


def test_exports_are_sorted_and_resolve() -> None:
    exported = headwater.config.__all__
    assert exported == sorted(exported)
    for name in exported:
        assert getattr(headwater.config, name) is not None


@pytest.mark.parametrize("module_name", MODULES)
def test_every_module_declares_what_it_offers(module_name: str) -> None:
    module = importlib.import_module(f"headwater.config.{module_name}")
    assert module.__all__ == sorted(module.__all__)
    assert ".. versionadded:: 0.1" in (module.__doc__ or "")
    for name in module.__all__:
        assert hasattr(module, name)


def test_importing_config_stays_light() -> None:
    code = (
        "import sys, headwater.config;"
        " print(sorted(m for m in ('httpx', 'pyarrow') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
