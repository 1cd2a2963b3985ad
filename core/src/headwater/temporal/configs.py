"""Config files as workflow inputs: sent as text with references, resolved by workers.

:func:`read_config_for_submit` reads a config file where a sync is submitted without
resolving anything (the submitting machine need not hold the secrets), and refuses a file
whose secret fields hold literal values instead of ``env:``/``file:`` references, since the
text goes into Temporal's history. :func:`load_config_text` is the worker's side: it
resolves the references and validates the config exactly as ``headwater sync`` does.

.. versionadded:: 0.2
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from headwater.errors import ConfigError, ConfigProblem

if TYPE_CHECKING:
    from headwater.config import UserConfig
    from headwater.discovery import Connector
    from headwater.sources import Source

__all__ = ["SubmittedConfig", "load_config_text", "read_config_for_submit"]


@attrs.frozen(kw_only=True)
class SubmittedConfig:
    """A config file read for submission: its text and the connection it names (if any).

    .. versionadded:: 0.2
    """

    name: str
    text: str
    connection: str | None


def _value_at(raw: Mapping[str, Any], path: str) -> object:
    value: object = raw
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _literal_secrets(
    source_raw: Mapping[str, Any], source: Source[Any], resolvers: Mapping[str, Any]
) -> list[str]:
    from headwater.sources import is_secret, walk_fields

    found = []
    for path, field in walk_fields(source.get_source_config().fields):
        if not is_secret(field):
            continue
        value = _value_at(source_raw, path)
        if not isinstance(value, str) or not value:
            continue
        prefix, sep, _ = value.partition(":")
        if not sep or prefix not in resolvers:
            found.append(path.replace("$.", "$.source.", 1))
    return found


def read_config_for_submit(
    path: Path, connector: Connector, resolvers: Mapping[str, Any]
) -> SubmittedConfig:
    """Read ``path`` for a workflow input; nothing is resolved.

    :raises ConfigError: when the file cannot be read or parsed, or a secret field holds a
        literal value (the message names the field, never the value).

    .. versionadded:: 0.2
    """
    from headwater.config.user import parse_config_text, read_config_text

    context = os.fspath(path)
    text = read_config_text(path)
    raw = parse_config_text(text, context)
    source_raw = raw.get("source", {})
    if isinstance(source_raw, Mapping):
        literal = _literal_secrets(source_raw, connector.load_source(), resolvers)
        if literal:
            raise ConfigError(
                [
                    ConfigProblem(
                        path=where,
                        message="a secret must be a reference (env:NAME or file:PATH) when"
                        " the sync runs on Temporal: its value would be stored in the"
                        " workflow history",
                    )
                    for where in literal
                ],
                context=context,
            )
    connection = raw.get("connection")
    return SubmittedConfig(
        name=context,
        text=text,
        connection=connection if isinstance(connection, str) else None,
    )


def load_config_text(connector: Connector, name: str, text: str) -> UserConfig:
    """Resolve and validate a config sent as text (the worker's side of a submission).

    Problems are reported against ``name``, the file the text came from.

    .. versionadded:: 0.2
    """
    from headwater.config import load_config_class, load_user_config
    from headwater.discovery import get_registry

    source = connector.load_source()
    with tempfile.TemporaryDirectory(prefix="headwater-config-") as folder:
        path = Path(folder) / "config.toml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_user_config(
                path,
                config_class=load_config_class(connector.spec),
                source_config=source.get_source_config(),
                resolvers=get_registry().secret_resolvers(),
            )
        except ConfigError as error:
            raise ConfigError(error.problems, context=name) from None
