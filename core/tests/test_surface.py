"""The documented surface: what connector authors import, pinned, dated and rendered.

Authors import from four front doors of the host (``headwater``, ``headwater.rest``,
``headwater.emulator``, ``headwater.errors``) and from the contract kit (tested in
``contract_tests/tests/test_public_face.py``). Their ``__all__`` is pinned by
``surface.txt`` beside this file, so adding or removing a public name is a reviewed change
to that list. Everything else in the host is internal and may change without notice.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

SURFACE = Path(__file__).with_name("surface.txt")
ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "docs" / "reference"
FRONT_DOORS = ["headwater", "headwater.emulator", "headwater.errors", "headwater.rest"]
VERSIONADDED = re.compile(r"\.\. versionadded:: 0\.\d+")


def documented() -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for line in SURFACE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            module, _, name = line.partition(":")
            names.setdefault(module, []).append(name)
    return names


def surface() -> list[tuple[str, str]]:
    return [(module, name) for module, names in documented().items() for name in names]


def attribute_docstring(module: ModuleType, name: str) -> str | None:
    """The string literal under ``name = ...`` where it is defined, following ``from`` imports."""
    tree = ast.parse(inspect.getsource(module))
    # A package that exports lazily (headwater._lazy) imports its names for type checkers
    # under `if TYPE_CHECKING:`; those imports say where each name is defined.
    body = [
        statement
        for node in tree.body
        for statement in (node.body if isinstance(node, ast.If) else [node])
    ]
    for index, node in enumerate(body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            after = body[index + 1] if index + 1 < len(body) else None
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                return str(after.value.value)
            return None
        imported = isinstance(node, ast.ImportFrom) and node.module and node.level == 0
        if imported and any(a.name == name and a.asname is None for a in node.names):
            return attribute_docstring(importlib.import_module(node.module), name)
    return None


def docstring_of(module: ModuleType, name: str) -> str:
    item = getattr(module, name)
    if inspect.isclass(item) or inspect.isfunction(item):
        return item.__doc__ or ""
    # Constants and type aliases carry their docstring in the source, as griffe reads it.
    return attribute_docstring(module, name) or ""


def test_the_list_names_exactly_the_four_front_doors():
    assert sorted(documented()) == FRONT_DOORS


def test_the_list_is_sorted_like_all():
    for module, names in documented().items():
        assert names == sorted(names), f"keep {module}'s names in surface.txt sorted"


@pytest.mark.parametrize("module_name", FRONT_DOORS)
def test_each_front_door_exports_exactly_the_documented_names(module_name):
    module = importlib.import_module(module_name)

    added = sorted(set(module.__all__) - set(documented()[module_name]))
    removed = sorted(set(documented()[module_name]) - set(module.__all__))

    assert (added, removed) == ([], []), (
        f"{module_name}.__all__ differs from core/tests/surface.txt; a public name is a "
        "promise to connector authors: add it to (or remove it from) the list on purpose"
    )
    assert module.__all__ == sorted(module.__all__)


@pytest.mark.parametrize(("module_name", "name"), surface(), ids=lambda v: v)
def test_every_documented_name_exists_and_says_when_it_appeared(module_name, name):
    module = importlib.import_module(module_name)

    assert hasattr(module, name), f"{module_name}.{name} is documented but does not exist"
    doc = docstring_of(module, name)
    assert doc.strip(), f"{module_name}.{name} has no docstring"
    assert VERSIONADDED.search(doc), f"{module_name}.{name}: say `.. versionadded:: 0.x`"


@pytest.mark.parametrize("module_name", [*FRONT_DOORS, "headwater_contract"])
def test_every_front_door_is_rendered_by_a_reference_page(module_name):
    # mkdocstrings renders a `::: module` block with `filters: public`: the names in the
    # module's __all__, which the tests above pin.
    pages = {page.name: page.read_text(encoding="utf-8") for page in REFERENCE.glob("*.md")}
    rendering = [
        name
        for name, text in pages.items()
        if re.search(rf"^::: {re.escape(module_name)}\s*$", text, re.MULTILINE)
    ]
    assert len(rendering) == 1, f"{module_name} needs exactly one reference page"
    assert f"]({rendering[0]})" in pages["index.md"]
    assert "filters: public" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_the_reference_index_says_everything_else_is_internal():
    index = (REFERENCE / "index.md").read_text(encoding="utf-8")

    assert "internal" in index
    assert "without notice" in index


PRIVATE_PACKAGES = ["headwater.emulator", "headwater.rest"]


@pytest.mark.parametrize("package_name", PRIVATE_PACKAGES)
def test_the_modules_behind_a_front_door_are_private(package_name):
    # Like httpx's `_client.py`: the implementation has no second, undocumented door.
    package = importlib.import_module(package_name)

    modules = [info.name for info in pkgutil.iter_modules(package.__path__)]

    assert modules
    assert [name for name in modules if not name.startswith("_")] == []


def is_private(dotted: str) -> bool:
    parts = dotted.split(".")
    dunder = re.compile(r"^__\w+__$")
    return parts[0] == "headwater" and any(
        p.startswith("_") and not dunder.match(p) for p in parts[1:]
    )


def private_imports(path: Path) -> list[str]:
    """The private host modules ``path`` imports: a ``headwater`` path with a ``_`` part."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            paths = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from headwater.rest import _client` reaches a private module too.
            paths = (
                [node.module]
                if is_private(node.module)
                else [f"{node.module}.{alias.name}" for alias in node.names]
            )
        else:
            continue
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        found += [f"{where}: {dotted}" for dotted in paths if is_private(dotted)]
    return found


def plugin_modules() -> list[Path]:
    return sorted(
        path
        for path in (ROOT / "plugins").glob("*/**/*.py")
        if not {".nox", ".venv", "build"} & set(path.parts)
    )


def test_the_private_import_finder_sees_both_spellings(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    module = tmp_path / "m.py"
    module.write_text(
        "import headwater.rest._client\n"
        "from headwater.emulator import _server\n"
        "from headwater.rest import RestSource, __all__\n"
        "from headwater.rest._paginators import Page\n",
        encoding="utf-8",
    )

    assert private_imports(module) == [
        "m.py:1: headwater.rest._client",
        "m.py:2: headwater.emulator._server",
        "m.py:4: headwater.rest._paginators",
    ]


def test_connectors_import_the_host_through_its_front_doors():
    assert len(plugin_modules()) > 20
    found = [hit for path in plugin_modules() for hit in private_imports(path)]

    assert found == [], "import these from headwater.rest / headwater.emulator instead"


def internal_modules() -> list[str]:
    package = ROOT / "core" / "src" / "headwater"
    public = {name.removeprefix("headwater.") for name in FRONT_DOORS}
    return sorted(
        info.name for info in pkgutil.iter_modules([str(package)]) if info.name not in public
    )


@pytest.mark.parametrize("name", internal_modules())
def test_every_other_module_of_the_host_says_it_is_internal(name):
    package = ROOT / "core" / "src" / "headwater"
    path = package / name / "__init__.py" if (package / name).is_dir() else package / f"{name}.py"

    # Read, not imported: headwater.temporal needs an optional extra.
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""

    assert "internal" in doc.lower(), f"say in headwater.{name}'s docstring that it is internal"


def test_a_new_connector_imports_the_host_through_its_front_doors(tmp_path, monkeypatch):
    from headwater.scaffold import scaffold_connector

    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    written = scaffold_connector("acme", tmp_path / "connector-acme")
    modules = [path for path in written if path.suffix == ".py"]

    assert len(modules) > 3
    assert [hit for path in modules for hit in private_imports(path)] == []
