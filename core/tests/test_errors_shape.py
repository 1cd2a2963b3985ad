"""headwater.errors: a leaf (nothing it imports imports it back) whose docstring tree is true."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import headwater
from headwater import errors

SOURCE = Path(headwater.__file__).parent


def _module_file(module: str) -> Path | None:
    parts = module.split(".")[1:]
    package = SOURCE.joinpath(*parts, "__init__.py")
    if package.exists():
        return package
    plain = SOURCE.joinpath(*parts[:-1], f"{parts[-1]}.py") if parts else None
    return plain if plain is not None and plain.exists() else None


def _imports(module: str) -> set[str]:
    """Headwater modules ``module`` imports anywhere (type-checking blocks and functions too),
    with the packages whose ``__init__`` each import runs."""
    path = _module_file(module)
    if path is None:
        return set()
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for name in names:
            if name == "headwater" or name.startswith("headwater."):
                parts = name.split(".")
                found.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return {name for name in found if _module_file(name) is not None}


def _reachable(start: str) -> dict[str, str]:
    """Every headwater module reachable from ``start``'s imports, with who imported it."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        current = todo.pop()
        for name in sorted(_imports(current)):
            if name not in seen:
                seen[name] = current
                todo.append(name)
    return seen


def test_the_import_graph_is_read():
    # The reader must see real edges, or the leaf test below would pass vacuously.
    reached = _reachable("headwater.discovery")
    assert {"headwater.errors", "headwater.hookspecs", "headwater.sources.spec"} <= set(reached)


def test_nothing_errors_imports_imports_it_back():
    reached = _reachable("headwater.errors")
    assert "headwater.errors" not in reached, reached


def _drawn_tree() -> dict[str, str | None]:
    """Each class drawn in errors.py's docstring with the class drawn as its parent."""
    doc = errors.__doc__ or ""
    lines = doc.split("The hierarchy::", 1)[1].strip("\n").split("\n\n", 1)[0].splitlines()
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in lines:
        found = re.search(r"(?:── )?([A-Z][A-Za-z]+)", line)
        assert found, line
        depth = found.start(1)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[found[1]] = stack[-1][1] if stack else None
        stack.append((depth, found[1]))
    return parents


def _real_tree() -> dict[str, str | None]:
    parents: dict[str, str | None] = {}
    for name, cls in vars(errors).items():
        if inspect.isclass(cls) and issubclass(cls, errors.HeadwaterError):
            bases = [base for base in cls.__bases__ if issubclass(base, errors.HeadwaterError)]
            parents[name] = bases[0].__name__ if bases else None
    return parents


def test_the_docstring_draws_every_error_under_its_real_parent():
    assert _drawn_tree() == _real_tree()
