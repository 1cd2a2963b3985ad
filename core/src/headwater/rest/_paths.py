"""Filling ``{placeholders}`` in endpoint paths, so that no value can change the path.

Values come from configuration (``{org}``) and from parent rows in fan-out (``{repo}``): both
are data, and data must not steer a request elsewhere. Every value is percent-encoded as one
path segment, so ``a/b`` becomes ``a%2Fb``; a value that is only dots (``..``) is encoded as
well, because httpx (like every URL normalizer) would otherwise resolve it as "parent
directory". Placeholders are filled in one pass, so a value that looks like a placeholder
(``{repo}``) is never filled again.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

__all__ = ["encode_segment", "fill_path", "placeholders"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(path: str) -> frozenset[str]:
    """The placeholder names in ``path``.

    .. versionadded:: 0.1
    """
    return frozenset(_PLACEHOLDER.findall(path))


def encode_segment(value: object) -> str:
    """``value`` as one percent-encoded path segment; empty values are refused.

    .. versionadded:: 0.1
    """
    text = str(value)
    if not text:
        raise ValueError("an empty value cannot fill a path segment")
    encoded = quote(text, safe="")
    if set(encoded) == {"."}:
        encoded = encoded.replace(".", "%2E")
    return encoded


def fill_path(path: str, values: Mapping[str, object], *, partial: bool = False) -> str:
    """``path`` with each ``{name}`` replaced by ``values[name]``, encoded.

    A placeholder without a value is an error naming it, unless ``partial`` leaves it for a
    later step (fan-out fills static placeholders first, then the resolved one).

    .. versionadded:: 0.1
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return encode_segment(values[name])
        if partial:
            return match.group(0)
        known = ", ".join(sorted(values)) or "none"
        raise ValueError(f"path {path!r} needs a value for {{{name}}} (values given: {known})")

    return _PLACEHOLDER.sub(replace, path)
