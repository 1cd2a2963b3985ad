"""The sync and warehouse packages (internal): every module says why, exports sorted names."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import headwater.sync
import headwater.warehouse

PACKAGES = [headwater.sync, headwater.warehouse]
MODULES = sorted(
    {
        *(p.__name__ for p in PACKAGES),
        *(
            f"{package.__name__}.{info.name}"
            for package in PACKAGES
            for info in pkgutil.iter_modules(package.__path__)
        ),
        "headwater.examples",
        "headwater.examples.shop",
        "headwater.examples.source",
        "headwater.cli.sync_commands",
    }
)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_says_why_and_exports_sorted_existing_names(name):
    module = importlib.import_module(name)

    assert module.__doc__
    assert len(module.__doc__.strip()) > 40
    assert module.__all__ == sorted(module.__all__)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
