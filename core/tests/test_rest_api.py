"""The REST package: documented private modules, light host imports.

Which names it exports, and that each is dated, is pinned by test_surface.py.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys

import pytest

import headwater.rest

MODULES = ["headwater.rest"] + [
    f"headwater.rest.{info.name}" for info in pkgutil.iter_modules(headwater.rest.__path__)
]


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_why_and_exports_sorted_existing_names(name):
    module = importlib.import_module(name)

    assert module.__doc__
    assert len(module.__doc__.strip()) > 40
    # Modules added later say so with their own release.
    assert re.search(r"versionadded:: 0\.\d", module.__doc__)
    exported = module.__all__
    assert exported == sorted(exported)
    assert [n for n in exported if not hasattr(module, n)] == []


def test_importing_headwater_does_not_import_the_rest_machinery():
    heavy = "('headwater.rest', 'httpx', 'stamina', 'orjson')"
    code = (
        "import sys, headwater, headwater.discovery, headwater.cli;"
        f"print(sorted(m for m in {heavy} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
