"""Finding a connector's secrets where they must never be: logs, reprs, errors, messages.

The secrets are the values of the secret fields in the kit's valid config (references
resolved). :class:`LeakFinder` finds them in any text, raw or URL-encoded, and scrubs them, so
that a failure report about a leak never repeats the secret it found. :class:`LogCapture`
collects every log record a check produces, at debug level, for the finder to read.

.. versionadded:: 0.1
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import attrs

from headwater.sources import Field, is_secret, walk_fields

__all__ = [
    "LeakFinder",
    "LogCapture",
    "MIN_SECRET_LENGTH",
    "SecretValue",
    "secret_values",
    "value_at",
]

MIN_SECRET_LENGTH = 8
"""Shorter sample secrets cannot be told apart from ordinary text, so they are not searched
for (and the kit check asks for a longer one).

.. versionadded:: 0.1
"""

_REDACTED = "***"
# The emulator and the suite log what they see, credentials included; that is the test
# harness speaking, not the connector.
_HARNESS_LOGGERS = ("headwater.emulator", "headwater_contract")


@attrs.frozen(kw_only=True)
class SecretValue:
    """One secret of the sample config: the field's JSON path and its value.

    .. versionadded:: 0.1
    """

    path: str
    value: str = attrs.field(repr=False)

    @property
    def forms(self) -> tuple[str, ...]:
        """How the value may appear in text: as is, or encoded into a URL."""
        encoded = quote(self.value, safe="")
        return (self.value,) if encoded == self.value else (self.value, encoded)


def value_at(raw: Mapping[str, Any], path: str) -> Any:
    """The value at a field path (``$.auth.token``) of a raw config, or ``None``.

    .. versionadded:: 0.1
    """
    value: Any = raw
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def secret_values(
    fields: tuple[Field, ...], resolved: Mapping[str, Any]
) -> tuple[SecretValue, ...]:
    """The secrets in ``resolved`` (a raw config with references resolved), by field.

    .. versionadded:: 0.1
    """
    found = []
    for path, field in walk_fields(fields):
        if not is_secret(field):
            continue
        value = value_at(resolved, path)
        if isinstance(value, str) and value:
            found.append(SecretValue(path=path, value=value))
    return tuple(found)


class LeakFinder:
    """Finds (and scrubs) secret values in text.

    .. versionadded:: 0.1
    """

    def __init__(self, secrets: Iterable[SecretValue]) -> None:
        self.secrets = tuple(s for s in secrets if len(s.value) >= MIN_SECRET_LENGTH)

    def find(self, text: str) -> list[str]:
        """The paths of the secrets that ``text`` contains."""
        return [s.path for s in self.secrets if any(form in text for form in s.forms)]

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        for secret in self.secrets:
            for form in secret.forms:
                text = text.replace(form, _REDACTED)
        return text


class LogCapture(logging.Handler):
    """Keeps every log record (formatted, with its traceback) except the harness's own.

    .. versionadded:: 0.1
    """

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_HARNESS_LOGGERS):
            return
        try:
            self.texts.append(self.format(record))
        except Exception:  # a record whose arguments do not format: keep what we can
            self.texts.append(f"{record.levelname} {record.name}: {record.msg!s}")
