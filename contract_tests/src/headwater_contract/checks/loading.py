"""Loading: the connector is found by its name, targets this contract, and plugs in cleanly.

The first three checks read the entry point and call the plugin module directly, without the
host's registry, so each reports its own mistake even when the registry would refuse the
plugin for it. :func:`loads_strictly` then loads the connector the way the suite (and the host
in strict mode) does, and :func:`kit_is_consistent` checks what the kit tells the suite.

.. versionadded:: 0.1
"""

from __future__ import annotations

import importlib.metadata
from types import ModuleType
from typing import Any

import pluggy

from headwater import hookspecs
from headwater.discovery import ENTRY_POINT_GROUP, import_path
from headwater.emulator import ContractKit, Emulator
from headwater.sources import CONTRACT_MAJOR, Source, SourceSpec, walk_fields
from headwater_contract.checks._common import examples, fail, fail_if
from headwater_contract.leaks import MIN_SECRET_LENGTH
from headwater_contract.subject import Blocked, Subject

__all__ = [
    "contract_major_is_supported",
    "entry_point_name_is_source_type",
    "hooks_are_valid",
    "kit_is_consistent",
    "loads_strictly",
]


def _entry_point(name: str) -> importlib.metadata.EntryPoint:
    found = [
        ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name
    ]
    if not found:
        fail(f"no entry point named {name!r} in the {ENTRY_POINT_GROUP!r} group is installed")
    return found[0]


def _module(ep: importlib.metadata.EntryPoint) -> ModuleType:
    try:
        module = ep.load()
    except Exception as error:
        fail(f"the plugin module {ep.value} of entry point {ep.name!r} fails to import: {error!r}")
    if not isinstance(module, ModuleType):
        fail(
            f"entry point {ep.name!r} names {ep.value}, which is a {type(module).__name__};"
            " it must name the plugin module that implements the hooks"
        )
    return module


def _specs(ep: importlib.metadata.EntryPoint) -> list[Any]:
    module = _module(ep)
    hook = getattr(module, "register_sources", None)
    if hook is None:
        fail(
            f"the plugin module {ep.value} implements no register_sources hook;"
            " a connector registers its SourceSpec through it"
        )
    try:
        result = hook()
    except Exception as error:
        fail(f"register_sources() of {ep.value} raised {error!r}")
    return list(result or ())


def entry_point_name_is_source_type(name: str) -> None:
    """The entry point's name is the ``source_type`` its plugin registers and its source has.

    .. versionadded:: 0.1
    """
    ep = _entry_point(name)
    problems = []
    for spec in _specs(ep):
        if not isinstance(spec, SourceSpec):
            continue  # hooks_are_valid reports it
        if spec.source_type != ep.name:
            problems.append(
                f"the entry point is named {ep.name!r}, but its plugin registers source_type"
                f" {spec.source_type!r}; users and the host find a connector by one name, so"
                f' name the entry point after the source ({spec.source_type} = "{ep.value}"'
                " under [project.entry-points.headwater]) or change the source_type"
            )
        try:
            cls = import_path(spec.load)
        except Exception:
            continue  # hooks_are_valid reports it
        declared = getattr(cls, "source_type", None)
        if declared not in (ep.name, spec.source_type):
            problems.append(
                f"the entry point is named {ep.name!r}, but {spec.load} has source_type"
                f" {declared!r}; they must be equal"
            )
    fail_if(problems)


def contract_major_is_supported(name: str) -> None:
    """The connector targets the source-contract major of this host.

    .. versionadded:: 0.1
    """
    ep = _entry_point(name)
    for spec in _specs(ep):
        if isinstance(spec, SourceSpec) and spec.contract_major != CONTRACT_MAJOR:
            fail(
                f"{spec.source_type!r} targets source contract {spec.contract_major}, but this"
                f" host provides contract {CONTRACT_MAJOR}; port the connector to contract"
                f" {CONTRACT_MAJOR} (SourceSpec(contract_major=headwater.CONTRACT_MAJOR)) and"
                " pin the headwater release range it was written for"
            )


def hooks_are_valid(name: str) -> None:
    """The plugin implements known hooks with valid signatures and registers one good spec.

    .. versionadded:: 0.1
    """
    ep = _entry_point(name)
    module = _module(ep)
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    known = {n for n in dir(hookspecs) if manager.parse_hookspec_opts(hookspecs, n)}
    unknown = sorted(
        attr
        for attr in dir(module)
        if not attr.startswith("_")
        and manager.parse_hookimpl_opts(module, attr) is not None
        and attr not in known
    )
    if unknown:
        fail(
            f"{ep.value} implements hook(s) {', '.join(unknown)} that this host does not know"
            f" (it knows {', '.join(sorted(known))}); check the names against docs/hooks.md"
        )
    try:
        manager.register(module, name=ep.name)
    except Exception as error:
        fail(f"{ep.value} has an invalid hook implementation: {error}")
    specs = _specs(ep)
    wrong = [type(spec).__name__ for spec in specs if not isinstance(spec, SourceSpec)]
    if wrong:
        fail(f"register_sources() returned {examples(wrong)}, not headwater.SourceSpec objects")
    if len(specs) != 1:
        fail(
            f"register_sources() returned {len(specs)} specs; a connector package registers"
            " exactly one source (its SourceSpec), so it can be versioned and installed alone"
        )
    spec = specs[0]
    if spec.kit is None:
        fail(
            f"the SourceSpec of {spec.source_type!r} names no contract kit; set"
            " kit='<package>.testing:kit' so the contract suite can test it"
        )
    for what, path in (("load", spec.load), ("kit", spec.kit)):
        try:
            import_path(path)
        except Exception as error:
            fail(f"SourceSpec.{what} {path!r} cannot be imported: {error!r}")
    cls = import_path(spec.load)
    if not (isinstance(cls, type) and issubclass(cls, Source)):
        fail(f"SourceSpec.load {spec.load!r} names a {type(cls).__name__}, not a Source subclass")


def loads_strictly(subject: Subject) -> None:
    """The connector loads through a strict registry (no load problem at all), with its kit.

    .. versionadded:: 0.1
    """
    loaded = subject.loaded
    if isinstance(loaded, Blocked):
        fail(f"{subject.name} does not load strictly: {loaded.reason}")


def kit_is_consistent(subject: Subject) -> None:
    """What the kit says about the connector is true, and enough for the other checks.

    .. versionadded:: 0.1
    """
    loaded = subject.need(subject.loaded)
    kit: ContractKit[Any] = loaded.kit
    problems = []
    try:
        emulator = kit.emulator()
    except Exception as error:
        fail(f"ContractKit.emulator() raised {error!r}")
    if not isinstance(emulator, Emulator):
        problems.append(
            f"ContractKit.emulator() made a {type(emulator).__name__}; it must make a"
            " headwater.emulator.Emulator (failures are injected through it)"
        )
    for secret in subject.secrets:
        if len(secret.value) < MIN_SECRET_LENGTH:
            problems.append(
                f"the valid config's secret at {secret.path} is shorter than"
                f" {MIN_SECRET_LENGTH} characters, so the suite cannot tell it from ordinary"
                " text when it looks for leaks; use a distinctive sample value"
                " ('contract-token-1234')"
            )
    paths = {path for path, _ in walk_fields(loaded.source_config.fields)}
    for path in kit.secret_name_exceptions:
        if path not in paths:
            problems.append(
                f"ContractKit.secret_name_exceptions names {path!r}, which is no field"
                f" (fields: {examples(sorted(paths), 10)})"
            )
    schemas = subject.schemas
    if not isinstance(schemas, Blocked):
        names = {facts.name for facts in schemas}
        for name, schema_kit in kit.schemas.items():
            if name not in names:
                problems.append(
                    f"ContractKit.schemas describes {name!r}, which {subject.name} does not"
                    f" list (schemas: {examples(sorted(names), 10)})"
                )
            parent = schema_kit.parent
            if parent is not None and (parent.schema not in names or parent.schema == name):
                problems.append(
                    f"the ParentLink of {name!r} names parent schema {parent.schema!r}, which"
                    " is not another schema of the connector"
                )
        if kit.add_rows is None and any(f.schema.supports_incremental for f in schemas):
            problems.append(
                "schemas support incremental syncs, but ContractKit.add_rows is not set; the"
                " suite needs it to make new rows arrive between two reads"
            )
    fail_if(problems, f"the contract kit of {subject.name} is inconsistent:")
