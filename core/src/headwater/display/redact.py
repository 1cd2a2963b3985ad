"""Scrubs secret values from text before it is printed.

Errors and progress details are meant to be free of secrets already (URLs are redacted where
they are built), but a connector's own message could still quote a token. Every line the sync
command prints passes through a :class:`Redactor` holding the config's secret values, so a
slip upstream is never shown on a terminal or kept in a scheduler's log.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from headwater.secret import REDACTED, Secret

__all__ = ["Redactor"]

# Shorter values would scrub ordinary words and numbers out of every line.
_MIN_SECRET_LENGTH = 4


def _walk(value: Any, seen: set[int]) -> Iterable[str]:
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, Secret):
        yield value.reveal()
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from _walk(getattr(value, field.name), seen)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item, seen)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item, seen)


@attrs.frozen(kw_only=True)
class Redactor:
    """Replaces each secret value in a text with ``REDACTED``.

    .. versionadded:: 0.1
    """

    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, config: object) -> Redactor:
        """A redactor for every :class:`~headwater.secret.Secret` inside a config object."""
        values = {value for value in _walk(config, set()) if len(value) >= _MIN_SECRET_LENGTH}
        # Longest first, so a secret containing another is scrubbed whole.
        return cls(secrets=tuple(sorted(values, key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text
