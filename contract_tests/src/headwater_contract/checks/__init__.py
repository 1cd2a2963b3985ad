"""The contract checks, one module per concern, each a plain function of the connector under test.

The suite class (:class:`~headwater_contract.ContractSuite`) only names, parametrizes and orders
them; the logic and the failure messages live here, so each message can say what is wrong and
what to do. ``docs/contract.md`` lists every check.

.. versionadded:: 0.1
"""

from __future__ import annotations

__all__: list[str] = []
