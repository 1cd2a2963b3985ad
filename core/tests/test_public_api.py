"""Every front door exports sorted names that exist; importing the host stays light.

Which names are public is pinned by test_surface.py.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MODULES = [
    "headwater",
    "headwater.errors",
    "headwater.runtime",
    "headwater.secret",
    "headwater.sources",
    "headwater.hookspecs",
    "headwater.discovery",
    "headwater.emulator",
    "headwater.config",
    "headwater.rest",
    "headwater.sync",
    "headwater.warehouse",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_every_name_exists(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported)
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []


def test_importing_headwater_stays_light():
    code = (
        "import sys, headwater, headwater.discovery, headwater.cli;"
        "print(sorted(m for m in ('httpx','pyarrow','deltalake','rich') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
