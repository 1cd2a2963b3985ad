"""Connector configuration: generated config classes, user config files, form schemas.

Three things come from a connector's form fields (``Source.get_source_config()``):

- the typed config class committed in the connector (:func:`render_config_module`,
  written by ``headwater generate``, checked by :func:`check_generated`);
- the validation of user input into that class (:func:`structure_source_config`, and
  :func:`load_user_config` for a whole TOML file), which reports every problem at once with
  its path and never shows a value;
- the JSON Schema a UI renders the form from (:func:`form_json_schema`).

Importing this package is light: no connector, no httpx.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.config.codegen import config_class_name, render_config_module
from headwater.config.generated import (
    check_generated,
    config_module_name,
    config_module_path,
    load_config_class,
    write_config_module,
)
from headwater.config.json_schema import JSON_SCHEMA_DIALECT, form_json_schema
from headwater.config.references import resolve_references
from headwater.config.secrets import (
    BUILTIN_RESOLVERS,
    MAX_SECRET_FILE,
    resolve_env,
    resolve_file,
)
from headwater.config.structure import structure_source_config
from headwater.config.user import (
    SchemaChoice,
    UserConfig,
    check_schema_choices,
    load_user_config,
)

__all__ = [
    "BUILTIN_RESOLVERS",
    "JSON_SCHEMA_DIALECT",
    "MAX_SECRET_FILE",
    "SchemaChoice",
    "UserConfig",
    "check_generated",
    "check_schema_choices",
    "config_class_name",
    "config_module_name",
    "config_module_path",
    "form_json_schema",
    "load_config_class",
    "load_user_config",
    "render_config_module",
    "resolve_env",
    "resolve_file",
    "resolve_references",
    "structure_source_config",
    "write_config_module",
]
