"""The REST package's public face: complete exports, documented modules, light host imports."""

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


def test_the_package_exports_every_public_module_name():
    exported = set(headwater.rest.__all__)
    internal = {
        # Building blocks with a home in their module; reached as headwater.rest.<module>.
        "LoopGuard",
        "MISSING",
        "Origin",
        "RateLimitGate",
        "basic_authorization",
        "call_with_retries",
        "is_retryable",
        "looks_like_rate_limit",
        "origin_of",
        "placeholders",
        "query_value",
        "request_token",
        "server_wait",
        "shared_gate",
        "show_origin",
    }
    for name in MODULES[1:]:
        module = importlib.import_module(name)
        missing = set(module.__all__) - exported - internal
        assert missing == set(), name


@pytest.mark.parametrize("name", sorted(headwater.rest.__all__))
def test_public_items_say_when_they_appeared(name):
    item = getattr(headwater.rest, name)
    if not callable(item) or not getattr(item, "__module__", "").startswith("headwater.rest"):
        return  # type aliases and constants are documented in their module
    assert re.search(r"versionadded:: 0\.\d", item.__doc__ or ""), name


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
