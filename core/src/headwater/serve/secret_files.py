"""Where the page keeps the secrets typed into it: one file per value, readable by you only.

A secret typed into a form never goes into the config file. It is written to its own file
under the secrets folder (``~/.config/headwater/secrets`` unless ``headwater serve
--secrets-dir`` says otherwise), at ``<source type>/<connection>/<field path>``, created with
mode 0600 inside folders of mode 0700, and the config file gets a ``file:`` reference to it::

    token = "file:/home/ana/.config/headwater/secrets/github/github/token"

So ``headwater check`` and ``headwater sync`` read the saved config with the built-in ``file``
resolver and nothing else, and the config file can be shared or committed without leaking a
credential. A value typed as a reference (``env:GITHUB_TOKEN``, ``file:~/token``) is stored
as written: it holds no secret.

.. versionadded:: 0.2
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Container
from pathlib import Path

__all__ = ["SecretFiles", "default_secrets_dir", "is_reference"]

_REFERENCE = re.compile(r"^([a-z][a-z0-9_]*):\S")


def default_secrets_dir() -> Path:
    """``$XDG_CONFIG_HOME/headwater/secrets``, by default ``~/.config/headwater/secrets``."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "headwater" / "secrets"


def is_reference(value: str, prefixes: Container[str]) -> bool:
    """Whether ``value`` is a reference to a secret (``env:NAME``) rather than the secret."""
    match = _REFERENCE.match(value)
    return match is not None and match.group(1) in prefixes


class SecretFiles:
    """Writes secret values to private files and returns references to them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, source_type: str, connection: str, field_path: str) -> Path:
        # field_path is "$.token" or "$.auth.token": names the connector declared, never input.
        parts = field_path.removeprefix("$.").split(".")
        return self.root / source_type / connection / ".".join(parts)

    def store(self, source_type: str, connection: str, field_path: str, value: str) -> str:
        """Write ``value`` to its file (0600), atomically; the ``file:`` reference to it."""
        target = self.path_for(source_type, connection, field_path)
        self._private_dirs(target.parent)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            os.fchmod(descriptor, 0o600)
            # The file resolver drops one trailing newline: add one, and the value reads back
            # exactly, even one that ends with a newline itself.
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
                file.write(value + "\n")
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return f"file:{target.resolve()}"

    def _private_dirs(self, folder: Path) -> None:
        missing = []
        current = folder
        while not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
