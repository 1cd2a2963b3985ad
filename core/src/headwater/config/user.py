"""The user's config file: one TOML file per connection.

::

    connection = "github_posthog"     # optional; the table folder, defaults to the source type
    start_date = 2024-01-01           # optional; bounds the first sync
    [source]                          # the connector's fields; values may be "env:NAME"
    repository = "posthog/posthog"
    token = "env:GITHUB_TOKEN"
    [schemas.issues]                  # optional per-schema choices
    enabled = true
    sync_mode = "incremental"         # incremental | append | full_refresh
    incremental_field = "updated_at"

:func:`load_user_config` reports every problem in the file at once, each at its JSON path
(``$.source.token``, ``$.schemas.issues.sync_mode``). Which schema names, sync modes and
incremental fields are valid depends on the source's schemas, which may need the API to
list; :func:`check_schema_choices` checks them once they are known.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import os
import re
import tomllib
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from cattrs.errors import BaseValidationError, CattrsError

from headwater.config.converter import config_converter
from headwater.config.problems import (
    InvalidValue,
    join_path,
    problems_from_exception,
    quote,
    unknown_field_problem,
)
from headwater.config.structure import structure_source_config
from headwater.errors import ConfigError, ConfigProblem
from headwater.sources.schema import SyncMode  # noqa: TC001 - cattrs resolves annotations at runtime

if TYPE_CHECKING:
    from headwater.hookspecs import SecretResolver
    from headwater.sources.metadata import SourceConfig
    from headwater.sources.schema import SourceSchema

__all__ = ["SchemaChoice", "UserConfig", "check_schema_choices", "load_user_config"]

_TOP_LEVEL_KEYS = ("connection", "start_date", "source", "schemas")
# A connection name becomes a folder (and part of object-store keys): keep it portable.
_CONNECTION = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_TOML_POSITION = re.compile(
    r"^(?P<what>.*) \(at (?P<where>line \d+, column \d+|end of document)\)$"
)


@attrs.frozen(kw_only=True)
class SchemaChoice:
    """What the user chose for one schema (``[schemas.NAME]``); ``None`` means the default.

    .. versionadded:: 0.1
    """

    enabled: bool = True
    sync_mode: SyncMode | None = None
    incremental_field: str | None = None


@attrs.frozen(kw_only=True)
class UserConfig:
    """A loaded and validated config file.

    ``source`` is an instance of the connector's generated config class. ``start_date`` is
    always timezone-aware UTC. ``connection`` is ``None`` when the file does not name one;
    the connection is then named after the source type.

    .. versionadded:: 0.1
    """

    connection: str | None = None
    start_date: dt.datetime | None = None
    source: Any
    schemas: Mapping[str, SchemaChoice] = attrs.field(factory=lambda: types.MappingProxyType({}))


def load_user_config(
    path: str | os.PathLike[str],
    *,
    config_class: type[Any],
    source_config: SourceConfig,
    resolvers: Mapping[str, SecretResolver],
) -> UserConfig:
    """Read, resolve and validate the config file at ``path``.

    :raises ConfigError: with the file name as context and every problem found: an
        unreadable file or a TOML syntax error (with its line), else each problem of the
        top level, of ``[source]`` (under ``$.source``) and of ``[schemas]``.

    .. versionadded:: 0.1
    """
    raw = _read_toml(path)
    problems = [
        unknown_field_problem("$", key, _TOP_LEVEL_KEYS)
        for key in raw
        if key not in _TOP_LEVEL_KEYS
    ]
    connection = _connection(raw.get("connection"), problems)
    start_date = _start_date(raw.get("start_date"), problems)
    source = None
    source_raw = raw.get("source", {})
    if isinstance(source_raw, Mapping):
        try:
            source = structure_source_config(
                config_class, source_config, source_raw, resolvers=resolvers, path="$.source"
            )
        except ConfigError as error:
            problems.extend(error.problems)
    else:
        problems.append(ConfigProblem(path="$.source", message="expected table"))
    schemas: dict[str, SchemaChoice] = {}
    try:
        schemas = config_converter().structure(raw.get("schemas", {}), dict[str, SchemaChoice])
    except (BaseValidationError, CattrsError, InvalidValue) as error:
        problems.extend(problems_from_exception(error, "$.schemas"))
    if problems:
        raise ConfigError(problems, context=os.fspath(path))
    return UserConfig(
        connection=connection,
        start_date=start_date,
        source=source,
        schemas=types.MappingProxyType(schemas),
    )


def check_schema_choices(
    choices: Mapping[str, SchemaChoice], schemas: Sequence[SourceSchema]
) -> list[ConfigProblem]:
    """Problems with ``[schemas.NAME]`` choices against the schemas the source offers.

    An unknown schema name (with the closest real name), a sync mode the schema does not
    support, an incremental field it does not offer. The caller decides whether to raise.

    .. versionadded:: 0.1
    """
    by_name = {schema.name: schema for schema in schemas}
    problems: list[ConfigProblem] = []
    for name, choice in choices.items():
        path = join_path("$.schemas", name)
        schema = by_name.get(name)
        if schema is None:
            message = f"unknown schema {quote(name)}"
            close = difflib.get_close_matches(name, sorted(by_name), n=1)
            if close:
                message += f" (did you mean {quote(close[0])}?)"
            problems.append(ConfigProblem(path=path, message=message))
            continue
        if choice.sync_mode is not None and choice.sync_mode not in schema.sync_modes:
            supported = ", ".join(quote(mode.value) for mode in schema.sync_modes)
            problems.append(
                ConfigProblem(
                    path=join_path(path, "sync_mode"),
                    message=f"schema {quote(name)} does not support sync mode"
                    f" {quote(choice.sync_mode.value)}; expected one of {supported}",
                )
            )
        offered = [field.field for field in schema.incremental_fields]
        if choice.incremental_field is not None and choice.incremental_field not in offered:
            if offered:
                expected = "expected one of " + ", ".join(quote(field) for field in offered)
            else:
                expected = "it has no incremental fields"
            problems.append(
                ConfigProblem(
                    path=join_path(path, "incremental_field"),
                    message=f"schema {quote(name)} does not offer incremental field"
                    f" {quote(choice.incremental_field)}; {expected}",
                )
            )
    return problems


def _read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    return parse_config_text(read_config_text(path), os.fspath(path))


def read_config_text(path: str | os.PathLike[str]) -> str:
    """The text of the config file at ``path``.

    :raises ConfigError: when it cannot be read or is not UTF-8 text.

    .. versionadded:: 0.2
    """
    context = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError(
            [ConfigProblem(path="$", message=f"cannot read the file ({reason})")], context=context
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            [ConfigProblem(path="$", message=f"invalid TOML at line {line}: not UTF-8 text")],
            context=context,
        ) from None


def parse_config_text(text: str, context: str) -> dict[str, Any]:
    """A config file's text as TOML data; ``context`` names the file in problems.

    :raises ConfigError: for invalid TOML (without quoting the text, which may hold a
        secret) or values nested too deep.

    .. versionadded:: 0.2
    """
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            [ConfigProblem(path="$", message=_toml_message(str(error)))], context=context
        ) from None
    except RecursionError:
        parsed = None
    if parsed is None or _depth(parsed) > _MAX_DEPTH:
        raise ConfigError(
            [ConfigProblem(path="$", message=f"values nest more than {_MAX_DEPTH} levels deep")],
            context=context,
        )
    return parsed


# How deep tables and arrays of a config file may nest; no connector's fields come close.
_MAX_DEPTH = 32


def _depth(value: object) -> int:
    # Iterative: the point is to refuse what recursion would choke on.
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > _MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def _toml_message(detail: str) -> str:
    match = _TOML_POSITION.match(detail)
    what, where = (match["what"], match["where"]) if match else (detail, "")
    # tomllib quotes the offending character in a few messages; inside a string that is
    # part of a value, and values may be secrets.
    what = re.sub(r"(character) .*$", r"\1", what)
    what = what[:1].lower() + what[1:]
    return f"invalid TOML at {where}: {what}" if where else f"invalid TOML: {what}"


def _connection(value: object, problems: list[ConfigProblem]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(ConfigProblem(path="$.connection", message="expected string"))
    elif not _CONNECTION.match(value):
        problems.append(
            ConfigProblem(
                path="$.connection",
                message="expected a folder name of letters, digits, '_' and '-'"
                " (at most 100 characters)",
            )
        )
    else:
        return value
    return None


_EARLIEST_START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LATEST_START = dt.datetime(2999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


def _start_date(value: object, problems: list[ConfigProblem]) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.datetime.fromisoformat(value)
    moment: dt.datetime | None = None
    # datetime is a date subclass: test it first.
    if isinstance(value, dt.datetime):
        # A local (naive) date-time in a config file is read as UTC: syncs run on servers
        # whose local zone should not change which rows are imported.
        try:
            moment = (
                value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
            )
        except OverflowError:
            moment = dt.datetime.min.replace(tzinfo=dt.UTC)
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    if moment is not None:
        if _EARLIEST_START <= moment <= _LATEST_START:
            return moment
        problems.append(
            ConfigProblem(
                path="$.start_date",
                message="expected a date from 1970-01-01 to 2999-12-31",
            )
        )
        return None
    problems.append(
        ConfigProblem(
            path="$.start_date",
            message="expected a date or date-time, such as 2024-01-01 or 2024-01-01T00:00:00Z",
        )
    )
    return None
