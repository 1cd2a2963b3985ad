"""The built-in secret resolvers: ``env:NAME`` and ``file:PATH``.

They are registered through the ``register_secret_resolvers`` hook like any plugin's, so a
vault or keychain resolver is a plugin away. A resolver raises :class:`LookupError` saying
what is missing, never what it found.

.. versionadded:: 0.1
"""

from __future__ import annotations

import os
import stat
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from headwater.hookspecs import SecretResolver

__all__ = ["BUILTIN_RESOLVERS", "MAX_SECRET_FILE", "resolve_env", "resolve_file"]

MAX_SECRET_FILE: Final = 64 * 1024
"""The largest secret file read, in bytes: a key or certificate bundle fits, a log does not.

.. versionadded:: 0.2
"""


def resolve_env(name: str) -> str:
    """The value of environment variable ``name`` (``"env:GITHUB_TOKEN"``).

    An empty variable is returned as is; the field's own checks decide whether empty is
    acceptable.

    .. versionadded:: 0.1
    """
    value = os.environ.get(name)
    if value is None:
        raise LookupError(f"environment variable {name} is not set")
    return value


def resolve_file(path: str) -> str:
    """The text of the file at ``path`` (``"file:~/.secrets/github"``), ``~`` expanded.

    One trailing newline is removed: editors add one, and no credential ends with it. Only a
    regular file of at most :data:`MAX_SECRET_FILE` bytes is read.

    .. versionadded:: 0.1
    """
    target = Path(path).expanduser()
    try:
        info = target.stat()
        if not stat.S_ISREG(info.st_mode):
            # A FIFO or a device would block or never end.
            raise LookupError(f"secret file {path} is not a regular file")
        if info.st_size > MAX_SECRET_FILE:
            raise LookupError(
                f"secret file {path} holds {info.st_size:,} bytes, more than a credential"
                f" ({MAX_SECRET_FILE:,} at most)"
            )
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LookupError(f"secret file {path} is not UTF-8 text") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise LookupError(f"cannot read secret file {path} ({reason})") from None
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


BUILTIN_RESOLVERS: Final[Mapping[str, SecretResolver]] = types.MappingProxyType(
    {"env": resolve_env, "file": resolve_file}
)
"""The resolvers Headwater registers for itself, keyed by reference prefix.

.. versionadded:: 0.1
"""
