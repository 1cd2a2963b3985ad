"""headwater-contract: the offline contract suite every Headwater connector must pass.

A pytest plugin. ``pytest --connector github`` checks the installed connector ``github``
against its own API emulator (from its contract kit): loading, config, credentials, schemas,
pagination, errors, incremental reads and fan-out, plus a guard that fails any check during
which a secret leaked. A connector's tests can subclass :class:`ContractSuite` instead. The
checks are listed in ``docs/contract.md``.

Installing the plugin changes nothing in other test runs: it acts only when asked. (Its
modules are plain code, not tests, so pytest need not rewrite their asserts:
PYTEST_DONT_REWRITE.)

.. versionadded:: 0.1
"""

from __future__ import annotations

# `-p headwater_contract` registers this package as the plugin (as does the pytest11 entry
# point), so the hooks must be reachable from here.
from headwater_contract.plugin import (
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_pycollect_makeitem,
    pytest_pycollect_makemodule,
    pytest_report_header,
    pytest_runtest_makereport,
)
from headwater_contract.suite import STANDARD_CHECKS, ContractSuite

__version__ = "0.1.0"
"""The version of the ``headwater-contract`` distribution.

.. versionadded:: 0.1
"""

__all__ = ["ContractSuite", "STANDARD_CHECKS", "__version__"]

_HOOKS = (
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_pycollect_makeitem,
    pytest_pycollect_makemodule,
    pytest_report_header,
    pytest_runtest_makereport,
)
