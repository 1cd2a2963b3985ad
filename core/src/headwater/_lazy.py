"""Package attributes imported on first access (PEP 562), so importing a package stays cheap.

``headwater`` and ``headwater.sources`` re-export the contract types from their modules. A
plugin module imports ``SourceSpec`` and ``hookimpl`` from ``headwater`` when connectors are
listed; with eager re-exports that import would also build every field, schema, pipeline and
runtime class. :func:`lazy_exports` gives a package a module ``__getattr__`` that imports the
module holding a name when the name is first looked up, and caches it on the package.

Internal: not part of the documented surface; it may change without notice.

.. versionadded:: 0.2
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, modules: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A ``__getattr__`` and a ``__dir__`` for ``package``, which re-exports each name of
    ``modules[module]`` from ``module``.

    Assign both in the package's ``__init__`` (``__getattr__, __dir__ = lazy_exports(...)``)
    and import the same names under ``TYPE_CHECKING`` for type checkers. An unknown name
    raises :class:`AttributeError`, as for any module (``from package import submodule``
    relies on it).
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # the next lookup skips __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
