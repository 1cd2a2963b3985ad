"""Finding and loading plugins: entry points in the ``headwater`` group, called through pluggy.

A plugin module is imported only when needed: ``headwater sync github`` imports the module of
the entry point named ``github`` and nothing else; ``headwater connectors`` imports every
plugin module (which must stay light) but no source code (:class:`SourceSpec` holds import
paths). A plugin that fails in any way becomes a :class:`~headwater.errors.LoadProblem` and is
skipped, unless ``HEADWATER_STRICT_PLUGINS=1`` makes problems fatal.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata
import importlib.resources
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from headwater import hookspecs
from headwater.errors import (
    ContractVersionError,
    LoadProblem,
    PluginError,
    PluginLoadError,
    UnknownConnectorError,
)
from headwater.sources.spec import CONTRACT_MAJOR, SourceSpec

if TYPE_CHECKING:
    import click

    from headwater.sources.base import Source
    from headwater.sources.metadata import SourceConfig

__all__ = [
    "BUILTIN_PLUGIN",
    "Connector",
    "ENTRY_POINT_GROUP",
    "LOAD_ENV",
    "Registry",
    "STRICT_ENV",
    "get_registry",
    "import_path",
]

ENTRY_POINT_GROUP = "headwater"
LOAD_ENV = "HEADWATER_LOAD_CONNECTORS"
STRICT_ENV = "HEADWATER_STRICT_PLUGINS"
BUILTIN_PLUGIN = "headwater.builtin"


@attrs.frozen(kw_only=True)
class Connector:
    """A loaded connector: its spec and the distribution that provides it."""

    spec: SourceSpec
    plugin: str
    distribution: str | None
    version: str | None

    @property
    def source_type(self) -> str:
        return self.spec.source_type

    def load_source(self) -> Source[Any]:
        """Import the source class named by ``spec.load`` and return an instance."""
        from headwater.sources.base import Source

        cls = self._import(self.spec.load, "load")
        if not (isinstance(cls, type) and issubclass(cls, Source)):
            raise PluginError(
                f"{self._origin()}: {self.spec.load} is not a headwater.Source subclass"
            )
        declared = getattr(cls, "source_type", None)
        if declared != self.spec.source_type:
            raise PluginError(
                f"{self._origin()}: {self.spec.load} has source_type {declared!r},"
                f" but its spec registers {self.spec.source_type!r}"
            )
        return cls()

    def icon(self, meta: SourceConfig) -> bytes | None:
        """The icon ``meta.icon`` names, read from the connector's package; ``None`` if none.

        The host's page serves it and the connector catalog copies it into the docs.

        :raises PluginError: when the named icon is not a plain file name inside the package,
            or the package lacks it.

        .. versionadded:: 0.2
        """
        if not meta.icon:
            return None
        package = self.spec.load.partition(":")[0].split(".")[0]
        if os.path.basename(meta.icon) != meta.icon or meta.icon in (".", ".."):
            raise PluginError(f"{self._origin()}: its icon {meta.icon!r} is not a file name")
        resource = importlib.resources.files(package).joinpath(meta.icon)
        if not resource.is_file():
            raise PluginError(f"{self._origin()}: its icon {meta.icon} is missing from {package}")
        return resource.read_bytes()

    def load_kit(self) -> Any:
        """Import the contract kit named by ``spec.kit``."""
        if self.spec.kit is None:
            raise PluginError(f"{self._origin()}: the connector declares no contract kit")
        return self._import(self.spec.kit, "kit")

    def _import(self, path: str, what: str) -> Any:
        try:
            with _plugin_code():
                return import_path(path)
        except SystemExit as exc:
            raise PluginError(
                f"{self._origin()}: its {what} {path} called {_exited(exc)} while being imported"
            ) from None
        except Exception as exc:
            raise PluginError(
                f"{self._origin()}: cannot import its {what} {path}: {_one_line(exc)}"
            ) from exc

    def _origin(self) -> str:
        if self.distribution is None:
            return f"connector {self.source_type!r}"
        return f"connector {self.source_type!r} ({self.distribution} {self.version})"


def import_path(path: str) -> Any:
    """Resolve ``"package.module:Attribute.inner"`` to the object it names."""
    module_name, _, attribute = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split(".") if attribute else ():
        obj = getattr(obj, part)
    return obj


@attrs.frozen(kw_only=True)
class _Plugin:
    """An entry point, or a built-in plugin module, before it is loaded."""

    name: str
    distribution: str | None
    version: str | None
    load: Callable[[], Any]


@functools.cache
def _read_entry_points() -> tuple[importlib.metadata.EntryPoint, ...]:
    """The ``headwater`` entry points, read once per process (reading scans every dist-info)."""
    return tuple(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _plugins_from_entry_points(
    entry_points: Iterable[importlib.metadata.EntryPoint],
) -> list[_Plugin]:
    plugins: dict[tuple[str, str | None, str], _Plugin] = {}
    for ep in entry_points:
        # One parse of the distribution's metadata for both (each of ``dist.name`` and
        # ``dist.version`` reads and parses it again).
        metadata = ep.dist.metadata if ep.dist is not None else None
        name = metadata["Name"] if metadata is not None else None
        version = metadata["Version"] if metadata is not None else None
        # The same distribution seen twice on sys.path (an editable and a plain install of one
        # checkout, say) is one plugin, not a conflict.
        plugins.setdefault(
            (ep.name, name, ep.value),
            _Plugin(name=ep.name, distribution=name, version=version, load=ep.load),
        )
    return sorted(plugins.values(), key=lambda p: (p.name, p.distribution or ""))


@contextlib.contextmanager
def _plugin_code() -> Iterator[None]:
    """Plugin code (an import, a hook) runs with its prints sent to stderr.

    A command's stdout may be JSON a script reads (``headwater connectors --json``): a plugin
    that prints while it is imported must not corrupt it.
    """
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _exited(exc: SystemExit) -> str:
    return f"sys.exit({exc.code!r})"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


class Registry:
    """The plugins of one process: which are installed, which loaded, which failed.

    ``entry_points`` defaults to the installed ``headwater`` entry points; ``only`` and
    ``strict`` default to ``HEADWATER_LOAD_CONNECTORS`` and ``HEADWATER_STRICT_PLUGINS``.
    Built-in plugins (``builtins``) are registered first through the same hooks.
    """

    def __init__(
        self,
        entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
        *,
        only: Iterable[str] | None = None,
        strict: bool | None = None,
        builtins: Sequence[str] = (BUILTIN_PLUGIN,),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        if only is None and LOAD_ENV in env:
            only = [name.strip() for name in env[LOAD_ENV].split(",") if name.strip()]
        self._only = None if only is None else frozenset(only)
        self.strict = env.get(STRICT_ENV, "") not in ("", "0") if strict is None else strict
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._known_hooks = frozenset(
            name for name in dir(hookspecs) if self._pm.parse_hookspec_opts(hookspecs, name)
        )
        self._problems: list[LoadProblem] = []
        self._connectors: dict[str, Connector] = {}
        self._attempted: set[str] = set()
        self._failed: dict[str, list[LoadProblem]] = {}
        # Plugins refused for the contract major they target: asking for one of them raises
        # ContractVersionError rather than a general PluginError.
        self._mismatched: set[str] = set()
        # Loading is lazy and may happen from several threads at once (a worker's activities):
        # a thread must not see a plugin as attempted before its load has finished.
        self._loading = threading.RLock()

        eps = _read_entry_points() if entry_points is None else tuple(entry_points)
        self._plugins = _plugins_from_entry_points(eps)
        self._by_name: dict[str, list[_Plugin]] = {}
        for plugin in self._plugins:
            self._by_name.setdefault(plugin.name, []).append(plugin)
        if self._only is not None:
            for name in sorted(self._only - set(self._by_name)):
                self._record(
                    LoadProblem(
                        plugin=name,
                        distribution=None,
                        version=None,
                        reason=(
                            f"{LOAD_ENV} names {name!r}, but no installed distribution provides it"
                        ),
                    )
                )

        self._builtin_names = frozenset(builtins)
        for module_name in builtins:
            plugin = _Plugin(
                name=module_name,
                distribution=None,
                version=None,
                load=functools.partial(importlib.import_module, module_name),
            )
            self._load_plugin(plugin)
        self.raise_if_strict()

    # --- what is installed -------------------------------------------------------------------

    @property
    def installed_names(self) -> list[str]:
        """Names of the plugin entry points allowed by ``HEADWATER_LOAD_CONNECTORS``."""
        return [name for name in self._by_name if self._allowed(name)]

    @property
    def problems(self) -> list[LoadProblem]:
        """Every load problem met so far, in the order met."""
        return list(self._problems)

    @property
    def hook(self) -> Any:
        """pluggy's hook relay, for calling hooks across loaded plugins."""
        return self._pm.hook

    # --- loading -----------------------------------------------------------------------------

    def connector(self, name: str) -> Connector:
        """Load the connector ``name`` (and only its plugin); raise a clear error if it can't.

        Safe to call from several threads.
        """
        with self._loading:
            self._load_name(name)
        connector = self._connectors.get(name)
        if connector is not None:
            return connector
        failures = self._failed.get(name)
        if failures:
            error = ContractVersionError if name in self._mismatched else PluginError
            raise error("; ".join(str(problem) for problem in failures))
        if name in self._by_name and not self._allowed(name):
            raise UnknownConnectorError(
                f"connector {name!r} is installed but excluded by {LOAD_ENV}"
            )
        if name in self._by_name:
            raise UnknownConnectorError(f"plugin {name!r} is installed but registers no source")
        available = ", ".join(sorted(self._connectors_or_names())) or "none"
        raise UnknownConnectorError(
            f"no connector named {name!r} is installed (installed: {available});"
            f" install it with `pip install connector-{name.replace('_', '-')}`"
        )

    def connectors(self) -> list[Connector]:
        """Load every allowed plugin and return the connectors that loaded, sorted by name."""
        self.load_all()
        return [self._connectors[name] for name in sorted(self._connectors)]

    def load_all(self) -> None:
        """Load every allowed plugin (connectors and others)."""
        with self._loading:
            for name in list(self._by_name):
                self._load_name(name)
        self.raise_if_strict()

    def raise_if_strict(self) -> None:
        """In strict mode, raise :class:`PluginLoadError` if any problem was met."""
        if self.strict and self._problems:
            raise PluginLoadError(self._problems)

    def _connectors_or_names(self) -> Iterable[str]:
        return set(self._connectors) | set(self.installed_names)

    def _allowed(self, name: str) -> bool:
        return self._only is None or name in self._only

    def _load_name(self, name: str) -> None:
        if name in self._attempted or not self._allowed(name):
            return
        self._attempted.add(name)
        candidates = self._by_name.get(name, [])
        if len(candidates) > 1:
            claims = " and ".join(f"{p.distribution} {p.version}" for p in candidates)
            for plugin in candidates:
                self._fail(
                    plugin, f"the name {name!r} is claimed by both {claims}; uninstall one of them"
                )
            self.raise_if_strict()
            return
        for plugin in candidates:
            self._load_plugin(plugin)
        self.raise_if_strict()

    def _load_plugin(self, plugin: _Plugin) -> None:
        # SystemExit too: a plugin that exits while it is imported must not end the host.
        try:
            with _plugin_code():
                module = plugin.load()
        except SystemExit as exc:
            self._fail(plugin, f"called {_exited(exc)} while being imported")
            return
        except Exception as exc:
            self._fail(plugin, f"import failed: {_one_line(exc)}")
            return
        unknown = sorted(self._unknown_hooks(module))
        if unknown:
            known = ", ".join(sorted(self._known_hooks))
            self._fail(
                plugin,
                (
                    f"implements hook(s) {', '.join(unknown)} that this host"
                    f" (headwater {_host_version()}) does not know (it knows {known});"
                    " the plugin probably needs a newer headwater"
                ),
            )
            return
        try:
            self._pm.register(module, name=plugin.name)
        except Exception as exc:
            self._fail(plugin, f"invalid hook implementation: {_one_line(exc)}")
            return
        try:
            with _plugin_code():
                specs = self._call_own(plugin.name, "register_sources")
        except SystemExit as exc:
            self._fail(plugin, f"hook register_sources called {_exited(exc)}")
            return
        except Exception as exc:
            self._fail(plugin, f"hook register_sources raised {_one_line(exc)}")
            return
        self._accept_specs(plugin, specs)

    def _accept_specs(self, plugin: _Plugin, results: list[Any]) -> None:
        specs: list[SourceSpec] = []
        for result in results:
            for spec in result or ():
                if not isinstance(spec, SourceSpec):
                    self._fail(
                        plugin,
                        (
                            "register_sources returned"
                            f" {type(spec).__name__}, not headwater.SourceSpec"
                        ),
                    )
                    return
                specs.append(spec)
        for spec in specs:
            try:
                _check_contract(spec)
            except ContractVersionError as error:
                self._mismatched.add(plugin.name)
                self._fail(plugin, str(error))
                return
            if plugin.distribution is not None and spec.source_type != plugin.name:
                self._fail(
                    plugin,
                    (
                        f"registers source {spec.source_type!r} under the entry point"
                        f" {plugin.name!r}; a connector's entry-point name must equal"
                        " its source_type"
                    ),
                )
                return
            existing = self._connectors.get(spec.source_type)
            if existing is not None:
                self._fail(
                    plugin,
                    (
                        f"source {spec.source_type!r} is already registered by"
                        f" {existing.distribution or existing.plugin}"
                    ),
                )
                return
            self._connectors[spec.source_type] = Connector(
                spec=spec,
                plugin=plugin.name,
                distribution=plugin.distribution,
                version=plugin.version,
            )

    def _call_own(self, plugin_name: str, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call one plugin's implementation of a hook (so a failure is attributed to it)."""
        caller = getattr(self._pm.hook, hook_name)
        results = []
        for impl in caller.get_hookimpls():
            if impl.plugin_name == plugin_name:
                results.append(impl.function(**{arg: kwargs[arg] for arg in impl.argnames}))
        return results

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a hook on every registered plugin, isolating failures.

        Returns ``(plugin name, result)`` pairs; a raising implementation becomes a load problem
        (or, in strict mode, an error) and its plugin is skipped.
        """
        caller = getattr(self._pm.hook, hook_name)
        results: list[tuple[str, Any]] = []
        for impl in caller.get_hookimpls():  # registration order
            results += self._call_isolated(impl, hook_name, **kwargs)
        return results

    def _call_isolated(self, impl: Any, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        try:
            with _plugin_code():
                result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except (Exception, SystemExit) as exc:
            plugin = self._plugin_named(impl.plugin_name)
            what = (
                f"called {_exited(exc)}"
                if isinstance(exc, SystemExit)
                else f"raised {_one_line(exc)}"
            )
            self._record(
                LoadProblem(
                    plugin=impl.plugin_name,
                    distribution=plugin.distribution if plugin else None,
                    version=plugin.version if plugin else None,
                    reason=f"hook {hook_name} {what}",
                )
            )
            self.raise_if_strict()
            return []
        return [(impl.plugin_name, result)]

    def _plugin_named(self, name: str) -> _Plugin | None:
        found = self._by_name.get(name)
        return found[0] if found else None

    def _unknown_hooks(self, module: ModuleType) -> set[str]:
        unknown = set()
        for attr in dir(module):
            if attr.startswith("_"):
                continue
            if self._pm.parse_hookimpl_opts(module, attr) is not None and (
                attr not in self._known_hooks
            ):
                unknown.add(attr)
        return unknown

    def _fail(self, plugin: _Plugin, reason: str) -> None:
        problem = LoadProblem(
            plugin=plugin.name,
            distribution=plugin.distribution,
            version=plugin.version,
            reason=reason,
        )
        self._failed.setdefault(plugin.name, []).append(problem)
        self._record(problem)
        # A plugin with a problem is not half-used: none of its hooks run.
        if self._pm.has_plugin(plugin.name):
            self._pm.unregister(name=plugin.name)
        for source_type, connector in list(self._connectors.items()):
            if connector.plugin == plugin.name:
                del self._connectors[source_type]

    def _record(self, problem: LoadProblem) -> None:
        self._problems.append(problem)

    # --- hooks beyond sources ----------------------------------------------------------------

    def secret_resolvers(self, *, all_plugins: bool = False) -> dict[str, hookspecs.SecretResolver]:
        """Secret resolvers by prefix. Built-ins always; plugins' once loaded (or if asked)."""
        if all_plugins:
            self.load_all()
        resolvers: dict[str, hookspecs.SecretResolver] = {}
        for _, result in self.call_each("register_secret_resolvers"):
            for prefix, resolver in (result or {}).items():
                resolvers.setdefault(prefix, resolver)
        return resolvers

    def add_commands(self, cli: click.Group, *, builtin_only: bool = False) -> None:
        """Let registered plugins add their commands to ``cli``; built-in names win conflicts.

        Each plugin writes into a scratch group first, so a command that would replace an
        existing one is refused and reported against the plugin that tried.
        """
        import click

        caller = self._pm.hook.register_commands
        for impl in caller.get_hookimpls():
            if builtin_only != (impl.plugin_name in self._builtin_names):
                continue
            scratch = click.Group()
            for _, _result in self._call_isolated(impl, "register_commands", cli=scratch):
                for name, command in scratch.commands.items():
                    if name in cli.commands:
                        plugin = self._plugin_named(impl.plugin_name)
                        self._record(
                            LoadProblem(
                                plugin=impl.plugin_name,
                                distribution=plugin.distribution if plugin else None,
                                version=plugin.version if plugin else None,
                                reason=(
                                    f"command {name!r} is already provided; the plugin's is ignored"
                                ),
                            )
                        )
                        continue
                    cli.add_command(command, name)


def _check_contract(spec: SourceSpec) -> None:
    """:raises ContractVersionError: when ``spec`` targets another source-contract major."""
    if spec.contract_major == CONTRACT_MAJOR:
        return
    advice = f"install a release of it built for contract {CONTRACT_MAJOR}"
    if spec.contract_major > CONTRACT_MAJOR:
        advice += " or upgrade headwater"
    raise ContractVersionError(
        f"connector {spec.source_type!r} targets source contract {spec.contract_major},"
        f" but this host (headwater {_host_version()}) provides contract {CONTRACT_MAJOR};"
        f" {advice}"
    )


def _host_version() -> str:
    from headwater import __version__

    return __version__


@functools.cache
def get_registry() -> Registry:
    """The registry of this process, created on first use from the environment."""
    return Registry()
