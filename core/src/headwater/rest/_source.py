"""A source that is its declarations: a catalog of endpoints and how a config reaches them.

Most API connectors offer one table per endpoint, the same tables for every config, one list
of error rules, one credential check and one way to sign requests. :class:`RestSource`
turns those declarations into the whole :class:`~headwater.Source` contract, so a typical
connector writes no method at all:

- **identity** from its :class:`~headwater.SourceSpec` (``spec``): the source type, label
  and release status live there once, light enough to list connectors with;
- **the form** from ``caption``, ``category``, ``icon``, ``docs_url`` and ``fields``;
- **the client** from ``client``, ``auth`` (an :class:`~headwater.rest.AuthFrom`, such as
  ``BearerAuth.from_config("token")``) and, for an API with regional hosts, ``base_url``
  (:class:`~headwater.rest.BaseUrlFrom`);
- **path values** from ``path_values`` (:class:`~headwater.rest.PathValues`);
- **the credential check** from ``credential_check``
  (:class:`~headwater.rest.CredentialCheck`);
- **the hand-off**: ``source_for_pipeline`` reads the endpoint named by the schema, or its
  :class:`FanOut` when one is declared for it.

A connector whose API needs real code overrides only the method concerned.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

import attrs

from headwater.rest._endpoint import Endpoint
from headwater.rest._paths import placeholders
from headwater.rest._resource import dependent_response, endpoint_response
from headwater.sources import SecretField, Source, SourceConfig

if TYPE_CHECKING:
    from headwater.errors import ErrorRule
    from headwater.rest._auth import AuthFrom
    from headwater.rest._base_url import BaseUrlFrom
    from headwater.rest._check import CredentialCheck
    from headwater.rest._client import ClientConfig
    from headwater.rest._fanout import DependentEndpoint
    from headwater.rest._path_values import PathValues
    from headwater.runtime import Runtime
    from headwater.sources import Field, SourceInputs, SourceResponse, SourceSchema, SourceSpec

__all__ = ["CatalogEntry", "FanOut", "RestSource"]

C = TypeVar("C")


class CatalogEntry(Protocol):
    """What :class:`RestSource` needs of a catalog entry: the schema it offers.

    :class:`~headwater.rest.Endpoint` is one; a connector's own reader can be another.

    .. versionadded:: 0.1
    """

    def schema(self) -> SourceSchema: ...


@attrs.frozen(kw_only=True)
class FanOut:
    """How the schema ``child.name`` is read: ``child`` for every row of ``parent``.

    ``parent`` is the endpoint read for the parents (often the parent table's endpoint in
    another order); ``dependent`` says which parent field fills which child placeholder and
    which parent fields the child rows carry (:class:`~headwater.rest.DependentEndpoint`).

    .. versionadded:: 0.2
    """

    parent: Endpoint
    child: Endpoint
    dependent: DependentEndpoint


class RestSource(Source[C]):
    """A :class:`~headwater.Source` whose schemas are the entries of :attr:`endpoints`.

    Declare the class attributes below; every method of the source contract then has a
    default built from them. ``get_schemas`` makes no request, since every config offers the
    same schemas (override it for an API whose tables depend on the account). Declarations
    are checked when the class is defined: an auth, a path value or a credential message
    naming a config field the form does not have is a ``TypeError`` at import.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
       The form, client, auth, path values, credential check and hand-off are declarations.
    """

    spec: ClassVar[SourceSpec]
    """The connector's registered spec: the one place its source type, label and release
    status are written (the package ``__init__`` registers the same object)."""

    caption: ClassVar[str] = ""
    category: ClassVar[str] = "API"
    icon: ClassVar[str | None] = "icon.svg"
    docs_url: ClassVar[str | None] = None
    fields: ClassVar[Sequence[Field]] = ()
    """The form's fields; ``headwater generate`` writes the config class from them."""

    client: ClassVar[ClientConfig]
    """Base URL, headers, retry policy: everything about the API but the credentials."""

    auth: ClassVar[AuthFrom | None] = None
    """How requests are signed, from the config's fields; ``None``: not signed."""

    base_url: ClassVar[BaseUrlFrom | None] = None
    """The config field choosing the API host; ``None``: ``client.base_url`` for everyone."""

    path_values: ClassVar[PathValues | None] = None
    """Which config fields fill the endpoints' path placeholders."""

    credential_check: ClassVar[CredentialCheck]
    """The request ``validate_credentials`` sends, and its message per failure."""

    endpoints: ClassVar[Mapping[str, CatalogEntry]]
    """The tables, by name: each entry's ``schema()`` is what ``get_schemas`` lists."""

    fanouts: ClassVar[Sequence[FanOut]] = ()
    """Schemas read per parent row (each is also in :attr:`endpoints`, which lists it)."""

    non_retryable_errors: ClassVar[Sequence[ErrorRule]] = ()
    """The rules that turn the API's permanent failures into actionable messages."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:
            cls.source_type = spec.source_type
        _check_declarations(cls)

    def get_source_config(self) -> SourceConfig:
        # After changing the fields, regenerate _config.py (`headwater generate NAME`); the
        # contract suite fails while it is stale.
        return SourceConfig(
            label=self.spec.label,
            caption=self.caption,
            category=self.category,
            icon=self.icon,
            docs_url=self.docs_url,
            release_status=self.spec.release_status,
            unreleased=self.spec.unreleased,
            fields=list(self.fields),
        )

    def client_config(self, config: C) -> ClientConfig:
        """The client for ``config``: :attr:`client` on the :attr:`base_url` it chooses,
        signed by :attr:`auth`.

        :raises ConfigError: for a host :attr:`base_url` does not list.

        .. versionadded:: 0.2
        """
        client = self.client
        if self.base_url is not None:
            host = self.base_url.resolve(config, label=self.spec.label)
            client = attrs.evolve(client, base_url=host)
        if self.auth is not None:
            client = attrs.evolve(client, auth=self.auth.build(config))
        return client

    def config_path_values(self, config: C) -> dict[str, str]:
        """The path placeholder values of ``config`` (none without :attr:`path_values`).

        :raises ConfigError: when a value cannot be used (from a ``derive`` function).

        .. versionadded:: 0.2
        """
        return {} if self.path_values is None else self.path_values.resolve(config)

    def endpoint(self, name: str, config: C) -> Endpoint:
        """Endpoint ``name`` with its path placeholders filled from ``config``.

        .. versionadded:: 0.2
        """
        entry = self.endpoints[name]
        if not isinstance(entry, Endpoint):
            raise TypeError(
                f"schema {name!r} of {type(self).__name__} is not an Endpoint; the source"
                " must read it in its own source_for_pipeline"
            )
        return _filled(entry, self.config_path_values(config))

    def validate_credentials(self, config: C, runtime: Runtime) -> tuple[bool, str | None]:
        try:
            values = self.config_path_values(config)
            client = self.client_config(config)
        except ValueError as error:  # ConfigError is one
            return False, str(error)
        return self.credential_check.run(
            client, config, values, label=self.spec.label, runtime=runtime
        )

    def get_schemas(self, config: C, runtime: Runtime) -> Sequence[SourceSchema]:
        return self.get_catalog_schemas()

    def get_catalog_schemas(self) -> Sequence[SourceSchema]:
        return [entry.schema() for entry in self.endpoints.values()]

    def source_for_pipeline(
        self, config: C, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        name = inputs.schema_name
        client = self.client_config(config)
        fanout = next((fanout for fanout in self.fanouts if fanout.child.name == name), None)
        if fanout is None:
            return endpoint_response(client, self.endpoint(name, config), inputs, runtime)
        values = self.config_path_values(config)
        parent, child = _filled(fanout.parent, values), _filled(fanout.child, values)
        return dependent_response(client, parent, child, fanout.dependent, inputs, runtime)

    def get_non_retryable_errors(self) -> Sequence[ErrorRule]:
        return list(self.non_retryable_errors)


def _filled(endpoint: Endpoint, values: Mapping[str, str]) -> Endpoint:
    """``endpoint`` with the values of its own placeholders (fan-out ones stay open)."""
    own = {name: value for name, value in values.items() if name in placeholders(endpoint.path)}
    return endpoint.evolve(path_values={**endpoint.path_values, **own}) if own else endpoint


def _check_declarations(cls: type[RestSource[Any]]) -> None:
    """Every config field a declaration names is a field of the form."""
    fields = cls.__dict__.get("fields")
    if fields is None:
        return  # a partial base class, or a source with a hand-written form
    names = {field.name for field in fields}
    plain = frozenset(field.name for field in fields if not isinstance(field, SecretField))
    where = f"{cls.__qualname__}"
    named = []
    if cls.auth is not None:
        named += [("auth", field) for field in cls.auth.config_fields]
    if cls.path_values is not None:
        named += [("path_values", field) for field in cls.path_values.config_fields]
    if cls.base_url is not None:
        named.append(("base_url", cls.base_url.field))
    for declaration, field in named:
        if field not in names:
            raise TypeError(
                f"{where}.{declaration} reads config field {field!r}, which is not among"
                f" its fields ({', '.join(sorted(names)) or 'none'})"
            )
    check = getattr(cls, "credential_check", None)
    if check is not None:
        try:
            check.check_names(plain)
        except ValueError as error:
            raise TypeError(f"{where}.credential_check: {error}") from None
    children = {fanout.child.name for fanout in getattr(cls, "fanouts", ())}
    missing = children - set(getattr(cls, "endpoints", {}))
    if missing:
        raise TypeError(
            f"{where}.fanouts reads {sorted(missing)}, which are not among its endpoints"
        )
