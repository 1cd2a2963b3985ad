"""Where credentials may go: the configured origin (scheme, host, port) and nowhere else.

APIs hand out URLs: next links, redirects. A compromised or misconfigured API (or a proxy in
front of it) could point one at another host, and a client that signs every request would send
the token there. So the client compares each target's origin with the base URL's origin: a
same-origin target is signed; another origin is refused, unless the connector opted in to
follow such links *without* credentials (some APIs serve pages from a CDN host).

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["ForeignLinks", "Origin", "origin_of", "show_origin"]

Origin = tuple[str, str, int]
"""``(scheme, host, port)`` with the scheme's default port filled in.

.. versionadded:: 0.1
"""

_DEFAULT_PORTS = {"http": 80, "https": 443}


class ForeignLinks(enum.StrEnum):
    """What to do with a next link or redirect to another origin.

    .. versionadded:: 0.1
    """

    REFUSE = "refuse"
    """Stop with :class:`~headwater.errors.ForeignOriginError` (the default)."""
    FOLLOW_WITHOUT_CREDENTIALS = "follow_without_credentials"
    """Follow it, sending no credentials (no auth header, no API-key parameter)."""


def origin_of(url: httpx.URL) -> Origin:
    """The origin of ``url``; hosts compare case-insensitively, default ports made explicit.

    .. versionadded:: 0.1
    """
    scheme = url.scheme.lower()
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(scheme, 0)
    return (scheme, url.host.lower(), port)


def show_origin(origin: Origin) -> str:
    """``https://api.example.com`` or ``http://127.0.0.1:8080``, for messages.

    .. versionadded:: 0.1
    """
    scheme, host, port = origin
    default = _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{host}" if port == default else f"{scheme}://{host}:{port}"
