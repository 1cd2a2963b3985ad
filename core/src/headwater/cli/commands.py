"""The built-in commands. Registered through the ``register_commands`` hook by
:mod:`headwater.builtin`, like any plugin's commands.

.. versionadded:: 0.1
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from headwater.cli.app import ExitCode, UserError
from headwater.discovery import Connector, get_registry

if TYPE_CHECKING:
    from headwater.config import UserConfig
    from headwater.sources import Source, SourceConfig, SourceSchema

__all__ = ["BUILTIN_COMMANDS"]

_config_option = click.option(
    "--config",
    "-c",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config file: [source] fields (values may be env:NAME), [schemas.NAME] choices.",
)


@attrs.frozen(kw_only=True)
class _Opened:
    connector: Connector
    source: Source[Any]
    source_config: SourceConfig


def _open(name: str) -> _Opened:
    connector = get_registry().connector(name)
    source = connector.load_source()
    return _Opened(connector=connector, source=source, source_config=source.get_source_config())


def _user_config(opened: _Opened, path: Path) -> UserConfig:
    from headwater.config import load_config_class, load_user_config

    config_class = load_config_class(opened.connector.spec)
    return load_user_config(
        path,
        config_class=config_class,
        source_config=opened.source_config,
        resolvers=get_registry().secret_resolvers(),
    )


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)


def _status(release_status: str, unreleased: bool) -> str:
    return f"{release_status}, unreleased" if unreleased else release_status


@click.command("connectors")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def connectors_command(as_json: bool) -> None:
    """List installed connectors with versions, and any that failed to load."""
    registry = get_registry()
    connectors = registry.connectors()
    # Asking the root group for every command lets plugins add theirs, so a plugin whose
    # register_commands hook fails is reported here too.
    context = click.get_current_context()
    root = context.find_root().command
    if isinstance(root, click.Group):
        root.list_commands(context)
    problems = registry.problems
    if as_json:
        payload = {
            "connectors": [
                {
                    "name": c.source_type,
                    "label": c.spec.label,
                    "distribution": c.distribution,
                    "version": c.version,
                    "release_status": str(c.spec.release_status),
                    "unreleased": c.spec.unreleased,
                    "contract_major": c.spec.contract_major,
                }
                for c in connectors
            ],
            "problems": [attrs.asdict(problem) for problem in problems],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    if connectors:
        rows = [
            (
                c.source_type,
                c.distribution or "(built in)",
                c.version or "",
                _status(c.spec.release_status, c.spec.unreleased),
                str(c.spec.contract_major),
            )
            for c in connectors
        ]
        click.echo(_table(rows, ("NAME", "DISTRIBUTION", "VERSION", "STATUS", "CONTRACT")))
    else:
        click.echo("No connectors installed. Install one with `pip install connector-NAME`.")
    if problems:
        click.echo(f"\n{len(problems)} plugin(s) could not be loaded:", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)


def _field_rows(source_config: SourceConfig) -> list[tuple[str, str, str, str]]:
    from headwater.sources import is_secret, walk_fields

    rows = []
    for path, field in walk_fields(source_config.fields):
        flags = ", ".join(
            flag for flag, on in (("required", field.required), ("secret", is_secret(field))) if on
        )
        rows.append((path.removeprefix("$."), field.kind_name, flags, field.label))
    return rows


def _schema_rows(schemas: Sequence[SourceSchema]) -> list[tuple[str, str, str]]:
    return [
        (
            schema.name,
            ", ".join(str(mode) for mode in schema.sync_modes),
            ", ".join(f"{f.field} ({f.type})" for f in schema.incremental_fields) or "-",
        )
        for schema in schemas
    ]


@click.command("info")
@click.argument("name")
def info_command(name: str) -> None:
    """Show a connector's metadata, config fields and schemas."""
    opened = _open(name)
    meta = opened.source_config
    connector = opened.connector
    click.echo(f"{meta.label} ({connector.source_type})")
    if meta.caption:
        click.echo(meta.caption)
    click.echo(
        f"distribution: {connector.distribution or '(built in)'} {connector.version or ''}".rstrip()
    )
    click.echo(f"status: {_status(meta.release_status, meta.unreleased)}")
    click.echo(f"category: {meta.category}")
    if meta.docs_url:
        click.echo(f"docs: {meta.docs_url}")
    click.echo("\nFields ([source] in the config file):")
    click.echo(_table(_field_rows(meta), ("FIELD", "KIND", "FLAGS", "LABEL")))
    schemas = opened.source.get_catalog_schemas()
    if schemas is None:
        click.echo(f"\nSchemas depend on the config: run `headwater schemas {name} --config FILE`.")
    else:
        click.echo("\nSchemas:")
        click.echo(_table(_schema_rows(schemas), ("SCHEMA", "SYNC MODES", "INCREMENTAL FIELDS")))


@click.command("spec")
@click.argument("name")
def spec_command(name: str) -> None:
    """Print the JSON Schema of a connector's config form (secrets are writeOnly)."""
    from headwater.config import form_json_schema

    opened = _open(name)
    click.echo(json.dumps(form_json_schema(opened.connector.spec, opened.source_config), indent=2))


def _runtime() -> Any:
    from headwater.runtime import Runtime

    return Runtime()


@click.command("check")
@click.argument("name")
@_config_option
def check_command(name: str, config_path: Path) -> None:
    """Validate a config and check its credentials against the API (exit 0 ok, 1 not).

    Everything `sync` validates is checked: the fields, then the [schemas.NAME] choices
    (unknown names, modes, incremental fields; exit 2), then the credentials.
    """
    from headwater.config import check_schema_choices

    opened = _open(name)
    user_config = _user_config(opened, config_path)
    runtime = _runtime()
    # The catalog needs no credentials; schemas that depend on the account are listed once
    # the credentials are known to work.
    catalog = opened.source.get_catalog_schemas()
    if catalog is not None:
        _raise_for_choices(check_schema_choices(user_config.schemas, catalog), config_path)
    ok, message = opened.source.validate_credentials(user_config.source, runtime)
    if not ok:
        click.echo(f"failed: {message or 'the credentials were rejected'}", err=True)
        raise SystemExit(ExitCode.FAILED)
    if catalog is None:
        offered = list(opened.source.get_schemas(user_config.source, runtime))
        _raise_for_choices(check_schema_choices(user_config.schemas, offered), config_path)
    click.echo(f"ok: {name} accepted the credentials in {config_path}")


def _raise_for_choices(problems: list[Any], config_path: Path) -> None:
    from headwater.errors import ConfigError

    if problems:
        raise ConfigError(problems, context=str(config_path))


@click.command("schemas")
@click.argument("name")
@_config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def schemas_command(name: str, config_path: Path, as_json: bool) -> None:
    """List the schemas (tables) a connector offers for a config, with sync modes."""
    from headwater.config import check_schema_choices
    from headwater.errors import ConfigError

    opened = _open(name)
    user_config = _user_config(opened, config_path)
    schemas = list(opened.source.get_schemas(user_config.source, _runtime()))
    problems = check_schema_choices(user_config.schemas, schemas)
    if problems:
        raise ConfigError(problems, context=str(config_path))
    if as_json:
        payload = [
            {
                "name": s.name,
                "sync_modes": [str(m) for m in s.sync_modes],
                "default_sync_mode": str(s.effective_default_sync_mode),
                "incremental_fields": [
                    {"field": f.field, "label": f.label, "type": str(f.type)}
                    for f in s.incremental_fields
                ],
                "enabled": user_config.schemas[s.name].enabled
                if s.name in user_config.schemas
                else True,
            }
            for s in schemas
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(_table(_schema_rows(schemas), ("SCHEMA", "SYNC MODES", "INCREMENTAL FIELDS")))


@click.command("generate")
@click.argument("names", nargs=-1)
@click.option(
    "--check", "check_only", is_flag=True, help="Write nothing; exit 1 if a file is stale."
)
def generate_command(names: tuple[str, ...], check_only: bool) -> None:
    """Write each connector's typed config class (_config.py) from its fields.

    With no NAME, every installed connector. With --check, report stale files and exit 1.
    """
    from headwater.config import check_generated, config_module_path, write_config_module

    registry = get_registry()
    connectors = [registry.connector(n) for n in names] if names else registry.connectors()
    if not connectors:
        raise UserError("no connectors installed to generate config classes for")
    stale = []
    for connector in connectors:
        source_config = connector.load_source().get_source_config()
        reason = check_generated(connector.spec, source_config)
        if reason is None:
            click.echo(f"up to date: {config_module_path(connector.spec)}")
            continue
        if check_only:
            stale.append(reason)
            click.echo(f"stale: {reason}", err=True)
            continue
        click.echo(f"wrote {write_config_module(connector.spec, source_config)}")
    if stale:
        click.echo(
            f"{len(stale)} generated config class(es) are stale;"
            " run `headwater generate` and commit the result",
            err=True,
        )
        raise SystemExit(ExitCode.FAILED)


BUILTIN_COMMANDS: Mapping[str, str] = {
    "connectors": "headwater.cli.commands:connectors_command",
    "info": "headwater.cli.commands:info_command",
    "spec": "headwater.cli.commands:spec_command",
    "check": "headwater.cli.commands:check_command",
    "schemas": "headwater.cli.commands:schemas_command",
    "generate": "headwater.cli.commands:generate_command",
    "new": "headwater.cli.new_command:new_command",
    "contract": "headwater.cli.contract_command:contract_command",
    "demo": "headwater.cli.demo_command:demo_command",
    "sync": "headwater.cli.sync_commands:sync_command",
    "reset": "headwater.cli.sync_commands:reset_command",
    "tables": "headwater.cli.warehouse_commands:tables_command",
    "query": "headwater.cli.warehouse_commands:query_command",
    "maintain": "headwater.cli.warehouse_commands:maintain_command",
    "worker": "headwater.cli.temporal_commands:worker_command",
    "submit": "headwater.cli.temporal_commands:submit_command",
    "schedule": "headwater.cli.temporal_commands:schedule_group",
    "runs": "headwater.cli.temporal_commands:runs_command",
    "serve": "headwater.serve.command:serve_command",
}
"""Each built-in command's name and the import path of its :class:`click.Command`: they are
registered as :class:`~headwater.cli.LazyCommand`, so a command's module (and what it imports)
loads only when that command runs.

.. versionchanged:: 0.2
   A mapping of names to import paths, was a tuple of commands.
"""
