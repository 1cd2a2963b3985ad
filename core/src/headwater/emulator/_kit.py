"""What a connector hands the contract suite: its emulator, sample configs, and the facts
about its schemas that the source contract cannot say.

A connector's ``testing.py`` builds one :class:`ContractKit` and names it in its
``SourceSpec(kit=...)``; the contract suite loads it only when it tests that connector.

The source contract says what a schema *is* (name, keys, incremental fields, sort order). The
suite also needs to know what the emulator *holds*: which of its tables feeds a schema and which
key each stored row should come out with (:class:`SchemaKit`), which schemas are read per
parent row and which parent fields their rows must carry (:class:`ParentLink`), and what
"new rows arrived" means for the API (``ContractKit.add_rows``). These are declared once, here,
independently of the connector's endpoint settings: a kit derived from the settings would
agree with them by construction and catch nothing.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from headwater.emulator._base import Emulator
from headwater.emulator._transport import emulator_transport
from headwater.runtime import Runtime

if TYPE_CHECKING:
    from headwater.emulator._handler import Handler

__all__ = ["ContractKit", "InvalidConfig", "ParentLink", "SchemaKit"]

E = TypeVar("E", bound=Emulator)


def _json_path(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.startswith("$"):
        raise ValueError(f"{attribute.name} must be a JSON path like '$.repository', not {value!r}")


@attrs.frozen(kw_only=True)
class InvalidConfig:
    """A ``[source]`` config the connector must reject, and where the error must point.

    ``path`` is the JSON path the :class:`~headwater.errors.ConfigError` must name
    (``"$.repository"``); ``description`` says what is wrong, for the test's name and failure
    message.

    .. versionadded:: 0.1
    """

    config: Mapping[str, Any]
    path: str = attrs.field(validator=_json_path)
    description: str


def _as_tuple(value: Sequence[InvalidConfig]) -> tuple[InvalidConfig, ...]:
    return tuple(value)


def _as_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


def _columns(value: Mapping[str, str]) -> dict[str, str]:
    columns = dict(value)
    if not columns:
        raise ValueError(
            "a ParentLink needs at least one column, like {'_projects_id': 'id'}:"
            " the parent fields every child row must carry"
        )
    return columns


@attrs.frozen(kw_only=True)
class ParentLink:
    """A fan-out schema's link to its parent: the parent fields each child row must carry.

    ``schema`` is the parent schema's name. ``columns`` maps a column of the child rows to the
    field of the parent row it must equal: ``{"_projects_id": "id"}`` for the default
    ``_<parent>_<field>`` naming, ``{"project_id": "id"}`` for a rename.

    .. versionadded:: 0.1
    """

    schema: str
    columns: Mapping[str, str] = attrs.field(converter=_columns)


@attrs.frozen(kw_only=True)
class SchemaKit:
    """What the emulator holds for one schema, so the suite knows which rows a read must return.

    ``table`` is the emulator's :class:`~headwater.emulator.RowStore` table serving the schema
    (default: the schema's name). ``expected_key`` turns one stored row into the primary key
    the connector must emit for it, as a tuple in the order of the schema's primary keys
    (default: the stored row's values of those keys), or ``None`` for a stored row the schema
    does not return. ``parent`` marks a fan-out schema. ``single_page`` says the endpoint has
    no pagination, so one request for the whole read is right rather than a sign that the
    emulator holds too few rows to exercise pagination.

    .. versionadded:: 0.1
    """

    table: str | None = None
    expected_key: Callable[[Mapping[str, Any]], tuple[Any, ...] | None] | None = attrs.field(
        default=None, eq=False
    )
    parent: ParentLink | None = None
    single_page: bool = False


@attrs.frozen(kw_only=True)
class ContractKit(Generic[E]):
    """What the contract suite needs from a connector to test it against its emulator.

    ``emulator`` makes a fresh emulator, so tests never share rows or injected failures; every
    emulator it makes must hold the same rows, and more rows than fit on one page of each
    paginated endpoint. ``valid_config`` is raw ``[source]`` values (as a user would write them)
    that work against the emulator, with distinctive secret values (the suite looks for them
    in logs, reprs and errors); ``invalid_configs`` must each be rejected at their path.

    ``schemas`` describes schemas whose rows the defaults of :class:`SchemaKit` do not find,
    and every fan-out schema. ``add_rows(emulator, schema)`` makes new rows arrive in the API
    for ``schema``: rows whose incremental fields are later than every existing row's, as
    happens between two syncs (it may also update existing rows). It is needed when any schema
    supports incremental syncs. ``secret_name_exceptions`` maps a field's JSON path (``$.x``)
    to why the suite's naming rule for secrets does not apply to it (a ``primary_key`` field
    that is not a credential, say).

    ``add_row_at(emulator, schema, field, value)`` adds one new row to ``schema`` whose
    incremental field ``field`` holds exactly ``value`` (as the connector's rows hold it:
    ISO text, epoch seconds...); the suite uses it to check that a read from a watermark
    includes a row *at* the watermark (the host's lower bounds are inclusive). Optional;
    without it that check is skipped with a reason (new in 0.2).

    .. versionadded:: 0.1
    """

    emulator: Callable[[], E]
    valid_config: Mapping[str, Any]
    invalid_configs: Sequence[InvalidConfig] = attrs.field(default=(), converter=_as_tuple)
    schemas: Mapping[str, SchemaKit] = attrs.field(factory=dict, converter=_as_dict)
    """.. versionadded:: 0.1"""
    add_rows: Callable[[E, str], None] | None = attrs.field(default=None, eq=False)
    """.. versionadded:: 0.1"""
    secret_name_exceptions: Mapping[str, str] = attrs.field(factory=dict, converter=_as_dict)
    """.. versionadded:: 0.1"""
    add_row_at: Callable[[E, str, str, Any], None] | None = attrs.field(default=None, eq=False)
    """.. versionadded:: 0.2"""

    def schema_kit(self, name: str) -> SchemaKit:
        """The :class:`SchemaKit` of schema ``name``: the declared one, else the defaults.

        .. versionadded:: 0.1
        """
        return self.schemas.get(name) or SchemaKit()

    def runtime(self, emulator: Handler, **overrides: Any) -> Runtime:
        """A :class:`~headwater.Runtime` whose requests go to ``emulator`` in process.

        ``emulator`` may be any :data:`~headwater.emulator.Handler`, such as a wrapper that
        records or rewrites the emulator's answers (the contract suite passes one).

        ``overrides`` set any other field (``clock``, ``sleep``, ``budget``...), or replace
        the transport: ``transport=None, base_url=server.base_url`` reaches the emulator
        through an :class:`~headwater.emulator.EmulatorServer` instead.
        """
        fields: dict[str, Any] = {"transport": emulator_transport(emulator)}
        fields.update(overrides)
        return Runtime(**fields)
