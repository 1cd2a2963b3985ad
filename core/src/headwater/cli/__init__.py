"""The ``headwater`` command line.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.cli.app import ExitCode, UserError, cli, main

__all__ = ["ExitCode", "UserError", "cli", "main"]
