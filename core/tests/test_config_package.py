"""The public face of :mod:`headwater.config`."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import headwater.config

PUBLIC_MODULES = [
    "codegen",
    "generated",
    "json_schema",
    "references",
    "secrets",
    "structure",
    "user",
]
INTERNAL_MODULES = ["checks", "converter", "problems"]


def test_exports_are_sorted_and_resolve() -> None:
    exported = headwater.config.__all__
    assert exported == sorted(exported)
    for name in exported:
        assert getattr(headwater.config, name) is not None


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_of_a_public_module_is_exported(module_name: str) -> None:
    module = importlib.import_module(f"headwater.config.{module_name}")
    for name in module.__all__:
        assert name in headwater.config.__all__, f"{module_name}.{name} is not exported"
        assert getattr(headwater.config, name) is getattr(module, name)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES + INTERNAL_MODULES)
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
