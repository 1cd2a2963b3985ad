"""Keeping credentials out of httpx's own log lines.

httpx logs every request at INFO on the ``httpx`` logger, with the full URL: an API key sent
as a query parameter would land in the logs of anyone who enables INFO logging.
:func:`redact_httpx_log` attaches one shared filter to that logger which rewrites the URL
argument as :func:`~headwater.errors.redact_url` shows it, including every auth parameter
name a client has registered (names only; values are never kept).

Importing this module changes no logging configuration. The filter is attached by whoever
sets logging up (``headwater serve``, ``headwater worker``) and by every
:class:`~headwater.rest.RestClient` when it is built, since a program embedding Headwater may
configure logging its own way; attaching it again only registers more names.

.. versionadded:: 0.1
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import httpx

from headwater.errors import redact_url

__all__ = ["HttpxUrlRedaction", "redact_httpx_log"]


class HttpxUrlRedaction(logging.Filter):
    """Rewrites the :class:`httpx.URL` arguments of a log record as they may be shown.

    Secret-looking query parameters are hidden by :func:`~headwater.errors.redact_url`;
    :meth:`register` adds parameter names to hide as well (an API's key parameter).

    .. versionadded:: 0.2
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._names: frozenset[str] = frozenset()

    def register(self, names: Iterable[str]) -> None:
        """Also hide the values of the query parameters ``names``."""
        with self._lock:
            self._names = self._names | frozenset(names)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(arg, httpx.URL) for arg in args):
            record.args = tuple(
                redact_url(str(arg), extra_params=self._names)
                if isinstance(arg, httpx.URL)
                else arg
                for arg in args
            )
        return True


_FILTER = HttpxUrlRedaction()
_INSTALL = threading.Lock()


def redact_httpx_log(names: Iterable[str] = ()) -> HttpxUrlRedaction:
    """Attach the shared :class:`HttpxUrlRedaction` to the ``httpx`` logger (once), and
    register ``names`` as query parameters to hide. Returns the filter.

    .. versionadded:: 0.2
    """
    _FILTER.register(names)
    with _INSTALL:
        logger = logging.getLogger("httpx")
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER
