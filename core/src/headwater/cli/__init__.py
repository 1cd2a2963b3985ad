"""The ``headwater`` command line.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.cli.app import ExitCode, LazyCommand, UserError, cli, main

__all__ = ["ExitCode", "LazyCommand", "UserError", "cli", "main"]
