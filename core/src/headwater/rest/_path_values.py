"""Path values from configuration: which config field fills which ``{placeholder}``.

Most connectors read one account, project or repository named in their config, and every
endpoint path holds it (``/organizations/{organization}/issues``). :class:`PathValues`
declares that once; a small function covers a field that must be split or checked first
(GitHub's ``owner/repo``).

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["PathValues"]


def _names(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen(kw_only=True)
class PathValues:
    """The values of path placeholders, taken from a config.

    ``fields`` maps a placeholder to the config field that fills it
    (``{"workspace": "workspace"}``); values are stripped of surrounding spaces. ``derive``,
    when set, is a function of the config returning more values; it raises
    :class:`~headwater.errors.ConfigError` (with the field's path) for a value that cannot
    be used, before any request is sent.

    .. versionadded:: 0.2
    """

    fields: Mapping[str, str] = attrs.field(factory=dict, converter=_names)
    derive: Callable[[Any], Mapping[str, str]] | None = None

    @property
    def config_fields(self) -> frozenset[str]:
        """The names of the config fields read directly (a ``derive`` function's are its own)."""
        return frozenset(self.fields.values())

    def resolve(self, config: object) -> dict[str, str]:
        """Every placeholder value for ``config``."""
        values = {name: str(getattr(config, field)).strip() for name, field in self.fields.items()}
        if self.derive is not None:
            values.update(self.derive(config))
        return values
