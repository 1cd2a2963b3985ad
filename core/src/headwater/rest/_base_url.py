"""The API host chosen in the config: a region among the hosts the API documents.

Some APIs serve each account from one regional host (Sentry's ``de.sentry.io``, Typeform's
``api.eu.typeform.com``). The form offers those hosts as a select field; :class:`BaseUrlFrom`
maps the chosen value to the base URL and refuses any other value, so credentials are never
sent to a host the connector does not know, even from a config built in code.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from headwater.errors import ConfigError, ConfigProblem

__all__ = ["BaseUrlFrom"]


def _urls(value: Mapping[str, str]) -> dict[str, str]:
    urls = dict(value)
    if not urls:
        raise ValueError("BaseUrlFrom needs at least one host")
    return urls


@attrs.frozen(kw_only=True)
class BaseUrlFrom:
    """The base URL is ``urls[config.<field>]``; any other value is a configuration error.

    ``urls`` maps each value the field may hold to its base URL, in the order the error
    lists them (``{"de.sentry.io": "https://de.sentry.io/api/0", ...}``). Values are
    compared without surrounding spaces or a trailing ``/``.

    .. versionadded:: 0.2
    """

    field: str
    urls: Mapping[str, str] = attrs.field(converter=_urls)

    def resolve(self, config: object, *, label: str) -> str:
        """The base URL for ``config``.

        :raises ConfigError: at ``$.<field>`` for a value that is not a key of ``urls``.
        """
        value = str(getattr(config, self.field)).strip().rstrip("/")
        if value in self.urls:
            return self.urls[value]
        problem = ConfigProblem(
            path=f"$.{self.field}",
            message=f"unknown {label} API host; expected one of " + ", ".join(self.urls),
        )
        raise ConfigError([problem], context=f"invalid {label} configuration")
