"""Scaffolding a new connector package: ``headwater new NAME``.

The generated package has the shape of a typical API connector in this repository: the
plugin module registering its spec (``__init__.py``), the source as declarations
(``settings.py``), the generated config class (``_config.py``), the emulator and contract
kit (``testing.py``), ``api_inventory.md``, icon and tests. It works as generated: one real
example endpoint, read through the shared REST machinery, with an emulator written from its
documented behaviour and a contract kit, so it passes the contract suite and its own tests
before the author changes a line. The author then replaces the example API with the real
one, checklist in ``docs/writing-a-connector.md``.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.scaffold.connector import ConnectorNames, scaffold_connector

__all__ = ["ConnectorNames", "scaffold_connector"]
