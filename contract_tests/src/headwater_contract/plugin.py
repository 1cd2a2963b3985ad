"""The pytest hooks of the contract suite: options, activation, collection, the leak guard.

Installed, the plugin is loaded into every pytest run of the environment (``pytest11``), so
each hook first checks that the suite was asked for; otherwise it changes nothing.

.. versionadded:: 0.1
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from headwater_contract import standard
from headwater_contract.guard import guard_of
from headwater_contract.selection import (
    OPTION,
    PLUGIN,
    add_option,
    explicitly_loaded,
    selected,
    unknown_problem,
)
from headwater_contract.session import state
from headwater_contract.suite import ContractSuite

if TYPE_CHECKING:
    from collections.abc import Generator

__all__ = [
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_pycollect_makeitem",
    "pytest_pycollect_makemodule",
    "pytest_report_header",
    "pytest_runtest_makereport",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_option(parser)


def pytest_configure(config: pytest.Config) -> None:
    session = state(config)
    session.registered = True
    names = selected(config)
    session.selected = names
    session.explicit = explicitly_loaded(config)
    if not names:
        return  # not asked (yet: a suite subclass may ask; see pytest_collection_modifyitems)
    problem = unknown_problem(names)
    if problem is not None:
        raise pytest.UsageError(problem)
    session.activate()
    suite = str(Path(standard.__file__))
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        config.args.append(suite)  # the user's own paths run too
    else:
        # No paths given: run the contract, not whatever the directory holds.
        config.args[:] = [suite]


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> Any:
    """Give the standard suite a short node id (it lives in site-packages, outside rootdir)."""
    if module_path == Path(standard.__file__):
        return pytest.Module.from_parent(parent, path=module_path, nodeid="headwater-contract")
    return None


def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> Any:
    """Collect subclasses of the suite whatever the project's ``python_classes`` say."""
    if (
        isinstance(obj, type)
        and issubclass(obj, ContractSuite)
        and obj is not ContractSuite
        and not name.startswith("_")
        and isinstance(collector, pytest.Module | pytest.Class)
    ):
        return pytest.Class.from_parent(collector, name=name, obj=obj)
    return None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    contract = state(config)
    problems = list(contract.usage_problems)
    checks = [item for item in items if _is_check(item)]
    # A module that failed to collect may hold the suite subclass: report that error instead.
    if contract.explicit and not contract.selected and not checks and not session.testsfailed:
        problems.append(
            f"the contract suite was loaded (-p {PLUGIN}) but no connector was selected;"
            f" name one with {OPTION} NAME (repeatable), or subclass ContractSuite with"
            " connectors = ('NAME',). A contract run that checks nothing would look like a pass"
        )
    if problems:
        raise pytest.UsageError("\n".join(dict.fromkeys(problems)))


def _is_check(item: pytest.Item) -> bool:
    cls = getattr(item, "cls", None)
    return isinstance(cls, type) and issubclass(cls, ContractSuite)


def pytest_report_header(config: pytest.Config) -> str | None:
    session = state(config)
    if not session.selected:
        return None
    from headwater_contract import __version__

    return (
        f"headwater-contract {__version__}: checking {', '.join(session.selected)}"
        " (strict plugin loading)"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    guard = guard_of(item)
    if guard is not None:
        guard.judge(report)
    return report
