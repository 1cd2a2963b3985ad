"""Small helpers for writing HTML safely: every value that reaches a page is escaped here.

.. versionadded:: 0.2
"""

from __future__ import annotations

import html
from collections.abc import Mapping

__all__ = ["attributes", "escape"]


def escape(value: object) -> str:
    """``value`` as text safe inside an element or a quoted attribute."""
    return html.escape(str(value), quote=True)


def attributes(values: Mapping[str, str | bool | None]) -> str:
    """`` name="value"`` pairs; ``True`` writes a bare attribute, ``None``/``False`` none."""
    parts = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escape(value)}"')
    return "".join(parts)
