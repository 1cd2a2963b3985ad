"""Where a connector's generated config module lives, and loading or checking it.

The module sits next to the source: for ``load="connector_github.settings:GithubSource"`` it is
``connector_github._config``. Locating it uses :func:`importlib.util.find_spec` on the
package, so checking a connector never imports its source module (or its dependencies).

.. versionadded:: 0.1
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from headwater.config.codegen import config_class_name, render_config_module
from headwater.errors import PluginError

if TYPE_CHECKING:
    from headwater.sources.metadata import SourceConfig
    from headwater.sources.spec import SourceSpec

__all__ = [
    "check_generated",
    "config_module_name",
    "config_module_path",
    "load_config_class",
    "write_config_module",
]

_MODULE = "_config"


def config_module_name(spec: SourceSpec) -> str:
    """The generated module's import name: the source's package + ``._config``.

    :raises PluginError: when ``spec.load`` names a top-level module, which has no package
        to hold the generated module.

    .. versionadded:: 0.1
    """
    module = spec.load.partition(":")[0]
    package, _, _ = module.rpartition(".")
    if not package:
        raise PluginError(
            f"connector {spec.source_type!r}: load path {spec.load!r} names the top-level"
            f" module {module!r}; put the source in a module of a package"
            f" ('{module}.source:...') so its generated config has a package to live in"
        )
    return f"{package}.{_MODULE}"


def config_module_path(spec: SourceSpec) -> Path:
    """The file the generated module is written to, inside the source's package folder.

    Finding the package imports its parent packages at most, never the source module.

    :raises PluginError: when the package cannot be found or is not a folder on disk.

    .. versionadded:: 0.1
    """
    module_name = config_module_name(spec)
    package = module_name.rpartition(".")[0]
    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError) as error:
        raise PluginError(
            f"connector {spec.source_type!r}: cannot locate package {package!r} ({error})"
        ) from None
    locations = list(found.submodule_search_locations or ()) if found is not None else []
    if not locations:
        raise PluginError(
            f"connector {spec.source_type!r}: package {package!r} of {spec.load!r}"
            " is not installed as a folder, so its generated config cannot be written"
        )
    return Path(locations[0]) / f"{_MODULE}.py"


def write_config_module(spec: SourceSpec, source_config: SourceConfig) -> Path:
    """Render the config module and write it where :func:`config_module_path` says.

    The file is rewritten only when its text changes, so its timestamp means something.

    .. versionadded:: 0.1
    """
    path = config_module_path(spec)
    text = render_config_module(spec, source_config)
    if _read(path) != text:
        path.write_text(text, encoding="utf-8", newline="\n")
    importlib.invalidate_caches()
    return path


def check_generated(spec: SourceSpec, source_config: SourceConfig) -> str | None:
    """``None`` when the generated module on disk is current, else why it is not (one line).

    :raises PluginError: when the package itself cannot be located.

    .. versionadded:: 0.1
    """
    path = config_module_path(spec)
    advice = f"run `headwater generate {spec.source_type}`"
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{path} is missing; {advice}"
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        return f"{path} cannot be read ({reason}); {advice}"
    if current != render_config_module(spec, source_config):
        return f"{path} is stale: it does not match the source's fields; {advice}"
    return None


def load_config_class(spec: SourceSpec) -> type[Any]:
    """Import the generated module and return the source's config class.

    :raises PluginError: when the module or the class is missing (telling the user to run
        ``headwater generate``), or the module fails to import.

    .. versionadded:: 0.1
    """
    module_name = config_module_name(spec)
    class_name = config_class_name(spec.source_type)
    advice = f"run `headwater generate {spec.source_type}`"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise PluginError(
                f"connector {spec.source_type!r}: cannot import {module_name} ({error})"
            ) from error
        raise PluginError(
            f"connector {spec.source_type!r} has no generated config module {module_name}; {advice}"
        ) from None
    except Exception as error:
        raise PluginError(
            f"connector {spec.source_type!r}: importing {module_name} failed"
            f" ({type(error).__name__}: {error}); {advice}"
        ) from error
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and attrs.has(cls)):
        raise PluginError(
            f"connector {spec.source_type!r}: {module_name} does not define the attrs class"
            f" {class_name}; {advice}"
        )
    return cls


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
