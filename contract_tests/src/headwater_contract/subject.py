"""The connector under test, loaded once per session, strictly, in stages.

Loading a connector for the suite goes: the plugin through a strict registry, then the source,
its form and its kit; the generated config class; the kit's valid config; the schemas it lists
against its emulator; one full read of each schema. Each stage can fail, and exactly one
standard check reports each stage's failure (:attr:`Blocked.check`). Every other check that
needs the stage is skipped with a pointer to that check, so a broken connector shows one
failure per cause instead of thirty.

.. versionadded:: 0.1
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import attrs
import pytest

from headwater.config import load_config_class, resolve_references, structure_source_config
from headwater.discovery import ENTRY_POINT_GROUP, Connector, Registry
from headwater.emulator import ContractKit, Emulator, SchemaKit
from headwater.runtime import ManualClock, ProgressEvent, Runtime
from headwater.sources import Source, SourceConfig, SourceInputs, SourceResponse, SourceSchema
from headwater_contract.leaks import LeakFinder, SecretValue, secret_values
from headwater_contract.observe import ObservedApi
from headwater_contract.reading import Read, read

if TYPE_CHECKING:
    from collections.abc import Hashable, Mapping, Sequence

__all__ = [
    "Blocked",
    "Loaded",
    "SchemaFacts",
    "Subject",
    "Subjects",
    "installed_names",
    "key_of",
]

T = TypeVar("T")

_PROGRESS = logging.getLogger("headwater.progress")


@attrs.frozen(kw_only=True)
class Blocked:
    """A stage that failed: why, and which standard check reports it.

    .. versionadded:: 0.1
    """

    reason: str
    check: str

    @property
    def message(self) -> str:
        return f"cannot check this: {self.reason} ({self.check} fails for it)"

    def skip(self) -> NoReturn:
        """Skip the current check, pointing at the one that fails for this reason."""
        pytest.skip(self.message)


@attrs.frozen(kw_only=True)
class Loaded:
    """A connector loaded strictly: its registry entry, source, form and kit.

    .. versionadded:: 0.1
    """

    connector: Connector
    source: Source[Any]
    source_config: SourceConfig
    kit: ContractKit[Any]


@attrs.frozen(kw_only=True)
class SchemaFacts:
    """One schema as the connector describes it, before anything is read.

    ``response`` is what ``source_for_pipeline`` returns for a full read: it carries the
    primary keys, partitioning and sort order, and reads nothing until ``items()`` runs.

    .. versionadded:: 0.1
    """

    schema: SourceSchema
    response: SourceResponse
    kit: SchemaKit

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def primary_keys(self) -> tuple[str, ...]:
        return tuple(self.response.primary_keys or ())

    @property
    def is_fan_out(self) -> bool:
        return self.kit.parent is not None


def key_of(row: Mapping[str, Any], keys: Sequence[str]) -> tuple[Hashable, ...]:
    """The primary key of ``row``: its values of ``keys``, made hashable.

    .. versionadded:: 0.1
    """
    return tuple(_hashable(row.get(key)) for key in keys)


def _hashable(value: Any) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[no-any-return]


def installed_names() -> list[str]:
    """The names of the installed ``headwater`` entry points, read afresh.

    .. versionadded:: 0.1
    """
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)})


class _LoggedProgress:
    """Progress events go to a logger, where the leak guard reads them with every log."""

    def emit(self, event: ProgressEvent) -> None:
        _PROGRESS.debug("%s", event)


class Subject:
    """One connector under test. Stages load on first use and are kept for the session.

    .. versionadded:: 0.1
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.loading_logs: list[str] = []
        """Log records of loading the connector during collection, for the leak check."""
        self.leak_sites: list[str] = []
        """Where a secret was found in what the connector produced (errors, messages)."""
        self._reads: dict[str, Read] = {}
        self._reference: ObservedApi | None = None

    # --- stages -------------------------------------------------------------------------------

    @functools.cached_property
    def loaded(self) -> Loaded | Blocked:
        """The connector through a strict registry, its source, form and kit."""
        blocked = functools.partial(Blocked, check="test_loads_strictly")
        try:
            registry = Registry(
                importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                only=[self.name],
                strict=True,
                environ={},
            )
            connector = registry.connector(self.name)
            source = connector.load_source()
            kit = connector.load_kit()
        except Exception as error:
            return blocked(reason=_one_line(error, full=True))
        if not isinstance(kit, ContractKit):
            return blocked(
                reason=f"its kit {connector.spec.kit} is a {type(kit).__name__}, not a"
                " headwater.emulator.ContractKit"
            )
        try:
            source_config = source.get_source_config()
        except Exception as error:
            return blocked(reason=f"get_source_config() raised {_one_line(error)}")
        if not isinstance(source_config, SourceConfig):
            return blocked(
                reason=f"get_source_config() returned a {type(source_config).__name__},"
                " not a headwater.SourceConfig"
            )
        return Loaded(connector=connector, source=source, source_config=source_config, kit=kit)

    @functools.cached_property
    def config_class(self) -> type[Any] | Blocked:
        """The generated config class."""
        loaded = self.loaded
        if isinstance(loaded, Blocked):
            return loaded
        try:
            return load_config_class(loaded.connector.spec)
        except Exception as error:
            return Blocked(reason=_one_line(error), check="test_generated_config_class_is_current")

    @functools.cached_property
    def resolvers(self) -> Mapping[str, Any]:
        """Secret resolvers (built in: ``env:`` and ``file:``), as a user's config gets them."""
        from headwater.config import BUILTIN_RESOLVERS

        return BUILTIN_RESOLVERS

    @functools.cached_property
    def secrets(self) -> tuple[SecretValue, ...]:
        """The secret values of the kit's valid config."""
        loaded = self.loaded
        if isinstance(loaded, Blocked):
            return ()
        resolved, _ = resolve_references(dict(loaded.kit.valid_config), self.resolvers)
        return secret_values(loaded.source_config.fields, resolved)

    @functools.cached_property
    def leaks(self) -> LeakFinder:
        return LeakFinder(self.secrets)

    @functools.cached_property
    def config(self) -> Any:
        """The kit's valid config, structured into the generated class (or :class:`Blocked`)."""
        loaded, config_class = self.loaded, self.config_class
        if isinstance(loaded, Blocked):
            return loaded
        if isinstance(config_class, Blocked):
            return config_class
        try:
            return structure_source_config(
                config_class,
                loaded.source_config,
                loaded.kit.valid_config,
                resolvers=self.resolvers,
            )
        except Exception as error:
            return Blocked(
                reason=f"the kit's valid config is rejected: {self.leaks.scrub(str(error))}",
                check="test_valid_config_is_accepted",
            )

    @functools.cached_property
    def schemas(self) -> list[SchemaFacts] | Blocked:
        """Every schema the connector lists for the valid config, with its full-read response."""
        loaded, config = self.loaded, self.config
        if isinstance(loaded, Blocked):
            return loaded
        if isinstance(config, Blocked):
            return config
        blocked = functools.partial(Blocked, check="test_schemas_are_listed_with_unique_names")
        api = self.api()
        try:
            listed = list(loaded.source.get_schemas(config, self.runtime(api)))
        except Exception as error:
            return blocked(reason=f"get_schemas() raised {self.leaks.scrub(_one_line(error))}")
        names = [schema.name for schema in listed if isinstance(schema, SourceSchema)]
        if len(names) != len(listed):
            return blocked(reason="get_schemas() returned something that is not a SourceSchema")
        if len(set(names)) != len(names):
            return blocked(reason=f"get_schemas() lists a name twice: {names}")
        facts = []
        for schema in listed:
            try:
                response = loaded.source.source_for_pipeline(
                    config, SourceInputs(schema_name=schema.name), self.runtime(api)
                )
            except Exception as error:
                return blocked(
                    reason=f"source_for_pipeline() for {schema.name!r} raised"
                    f" {self.leaks.scrub(_one_line(error))}"
                )
            if not isinstance(response, SourceResponse):
                return blocked(
                    reason=f"source_for_pipeline() for {schema.name!r} returned a"
                    f" {type(response).__name__}, not a SourceResponse"
                )
            facts.append(
                SchemaFacts(
                    schema=schema, response=response, kit=loaded.kit.schema_kit(schema.name)
                )
            )
        return facts

    # --- what checks ask for (skipping when a stage failed) ----------------------------------

    def need(self, stage: T | Blocked) -> T:
        """The stage's value, or skip the check (another check fails for the reason)."""
        if isinstance(stage, Blocked):
            stage.skip()
        return stage

    def facts(self, schema: str) -> SchemaFacts:
        """The facts of one schema (skipping when the schemas could not be listed)."""
        for facts in self.need(self.schemas):
            if facts.name == schema:
                return facts
        raise LookupError(f"{self.name} lists no schema {schema!r}")

    @property
    def source(self) -> Source[Any]:
        return self.need(self.loaded).source

    @property
    def kit(self) -> ContractKit[Any]:
        return self.need(self.loaded).kit

    @property
    def packages(self) -> tuple[str, ...]:
        """The connector's top-level package (empty when it did not load).

        .. versionadded:: 0.1
        """
        loaded = self.loaded
        if isinstance(loaded, Blocked):
            return ()
        return (loaded.connector.spec.load.split(".")[0],)

    # --- talking to the emulator -------------------------------------------------------------

    def api(self, emulator: Emulator | None = None) -> ObservedApi:
        """A fresh emulator from the kit (or ``emulator``), observed on its own clock."""
        kit = self.need(self.loaded).kit
        return ObservedApi(emulator if emulator is not None else kit.emulator(), ManualClock())

    def runtime(self, api: ObservedApi, **overrides: Any) -> Runtime:
        """A runtime that sends every request to ``api`` and sleeps on its clock."""
        kit = self.need(self.loaded).kit
        fields: dict[str, Any] = {
            "clock": api.clock,
            "sleep": api.clock.sleep,
            "progress": _LoggedProgress(),
        }
        fields.update(overrides)
        return kit.runtime(api, **fields)

    def read(
        self,
        api: ObservedApi,
        inputs: SourceInputs,
        *,
        max_batches: int | None = None,
        **runtime: Any,
    ) -> Read:
        """Read through ``api`` with the valid config."""
        config = self.need(self.config)
        result = read(
            self.source,
            config,
            inputs,
            api,
            self.runtime(api, **runtime),
            max_batches=max_batches,
        )
        if result.error is not None:
            self.describe(result.error)  # notes a secret in the error for the leak guard
        return result

    @property
    def reference(self) -> ObservedApi:
        """The emulator the cached full reads use; never changed, never given failures."""
        if self._reference is None:
            self._reference = self.api()
        return self._reference

    def full_read(self, schema: str) -> Read:
        """A full read (no incremental bound) of ``schema`` on the reference emulator, cached."""
        if schema not in self._reads:
            self._reads[schema] = self.read(self.reference, SourceInputs(schema_name=schema))
        return self._reads[schema]

    def clean_full_read(self, schema: str) -> Read:
        """The full read of ``schema``, or skip when it failed (its own check reports that)."""
        result = self.full_read(schema)
        if not result.ok:
            Blocked(
                reason=f"the full read of {schema!r} failed",
                check="test_full_read_returns_every_row_once",
            ).skip()
        if not result.rows:
            Blocked(
                reason=f"the full read of {schema!r} returned no rows",
                check="test_full_read_returns_every_row_once",
            ).skip()
        return result

    def need_keys(self, facts: SchemaFacts, rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
        """The primary keys of ``facts``, or skip when a row lacks one (another check fails)."""
        keys = facts.primary_keys
        for row in rows:
            if any(row.get(key) is None for key in keys):
                Blocked(
                    reason=f"rows of {facts.name!r} lack primary-key fields, so they cannot be"
                    " told apart",
                    check="test_primary_keys_are_present_and_not_null",
                ).skip()
        return keys

    def expected_keys(self, facts: SchemaFacts, emulator: Emulator) -> list[tuple[Hashable, ...]]:
        """The primary keys the emulator's rows for ``facts`` must come out with."""
        table = facts.kit.table or facts.name
        derive = facts.kit.expected_key
        keys = facts.primary_keys
        found = []
        for row in emulator.store.rows(table):
            if derive is not None:
                key = derive(row)
                if key is not None:
                    found.append(tuple(_hashable(value) for value in key))
            else:
                found.append(key_of(row, keys))
        return found

    def describe(self, error: BaseException) -> str:
        """An error as a check may show it: type and message, secrets scrubbed.

        A secret found in it is recorded for the leak guard (:attr:`leak_sites`).
        """
        text = _one_line(error, full=True)
        self.note(text, f"a {type(error).__name__} the connector raised")
        return self.leaks.scrub(text)

    def note(self, text: str, where: str) -> None:
        """Record ``where`` in :attr:`leak_sites` if ``text`` holds a secret."""
        if self.leaks.find(text):
            self.leak_sites.append(where)


def _one_line(error: BaseException, *, full: bool = False) -> str:
    text = str(error).strip()
    if not full:
        text = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Subjects:
    """The subjects of one pytest session, by connector name.

    .. versionadded:: 0.1
    """

    def __init__(self) -> None:
        self._subjects: dict[str, Subject] = {}

    def get(self, name: str) -> Subject:
        if name not in self._subjects:
            self._subjects[name] = Subject(name)
        return self._subjects[name]

    def loaded(self) -> list[Subject]:
        return list(self._subjects.values())
