"""The ``headwater`` command line.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.cli.app import ExitCode, LazyCommand, UserError, cli, main

__all__ = ["ExitCode", "LazyCommand", "UserError", "cli", "main"]
