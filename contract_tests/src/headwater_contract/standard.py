"""The standard contract suite, collected for ``pytest --connector NAME``.

The plugin adds this module to the run when connectors are selected; it holds the suite class
unchanged, so every standard check runs for each of them.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater_contract.suite import ContractSuite

__all__ = ["TestContract"]


class TestContract(ContractSuite):
    """Every standard check, for the connectors given with ``--connector``.

    .. versionadded:: 0.1
    """
