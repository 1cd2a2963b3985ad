"""The config files the page saves: the same TOML the CLI reads, one file per connection.

They live in the connections folder (``headwater serve --configs-dir``, default
``./connections``) as ``<source type>/<connection>.toml``: the folder names the connector,
which the file itself does not, and the page shows the command that uses each file::

    headwater sync github --config connections/github/github.toml

Writing is atomic (a temporary file renamed into place), and a file is only written after the
CLI's own loader (:func:`~headwater.config.load_user_config`) accepted it.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = ["ConnectionFile", "ConnectionFiles", "render_toml"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


@attrs.frozen(kw_only=True)
class ConnectionFile:
    source_type: str
    connection: str
    path: Path


class ConnectionFiles:
    """The connections folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, source_type: str, connection: str) -> Path:
        if not (_NAME.match(source_type) and _NAME.match(connection)):
            raise ValueError("a connection is named with letters, digits, '_' and '-'")
        return self.root / source_type / f"{connection}.toml"

    def list(self) -> Iterator[ConnectionFile]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir() or not _NAME.match(folder.name):
                continue
            for file in sorted(folder.glob("*.toml")):
                if _NAME.match(file.stem):
                    yield ConnectionFile(source_type=folder.name, connection=file.stem, path=file)

    def read(self, source_type: str, connection: str) -> dict[str, Any] | None:
        """The file's TOML data, or ``None`` when there is no such file."""
        path = self.path(source_type, connection)
        try:
            with path.open("rb") as file:
                return tomllib.load(file)
        except FileNotFoundError:
            return None

    def write(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".toml")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
                file.write(text)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _string(value: str) -> str:
    # JSON's escapes are all valid in a TOML basic string; DEL is the one control character
    # JSON leaves raw that TOML insists on escaping.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    raise TypeError(f"cannot write a {type(value).__name__} to TOML")


def render_toml(data: Mapping[str, Any], *, header: str = "") -> str:
    """``data`` (scalars, lists and nested tables) as TOML text; tables after scalars."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _table(data, (), lines)
    return "\n".join(lines).strip("\n") + "\n"


def _table(data: Mapping[str, Any], at: tuple[str, ...], lines: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    if at and (scalars or not tables):
        lines += ["", "[" + ".".join(_key(part) for part in at) + "]"]
    lines += [f"{_key(key)} = {_scalar(value)}" for key, value in scalars.items()]
    for key, value in tables.items():
        _table(value, (*at, key), lines)
