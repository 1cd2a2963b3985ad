"""What a connector declares about one API endpoint, as data.

A connector's ``settings.py`` is a catalog of :class:`Endpoint` s: where the rows are, how
pages follow each other, which parameters filter by the watermark, and how the rows are
stored (primary keys, partition key, sort order). The machinery in :mod:`headwater.rest`
does the rest, so adding an endpoint is adding a declaration, not code.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from headwater.rest._paginators import Paginator, SinglePagePaginator
from headwater.rest._paths import placeholders
from headwater.rest._selectors import Selector
from headwater.sources import IncrementalField, PartitionFormat, SortMode, SourceSchema, SyncMode

if TYPE_CHECKING:
    from headwater.rest._params import IncrementalParams

__all__ = ["Endpoint", "ParamValue", "RowNormalizer", "query_value"]

ParamValue = str | int | float | bool | None
"""A query parameter value as declared; ``None`` leaves the parameter out.

.. versionadded:: 0.1
"""

RowNormalizer = Callable[[dict[str, Any]], "dict[str, Any] | None"]
"""Reshapes one row as read (flatten JSON:API ``attributes``, fix a type); ``None`` drops it.

.. versionadded:: 0.1
"""


def query_value(value: ParamValue) -> str:
    """How a declared value is written in a query string: ``True`` is ``true``.

    .. versionadded:: 0.1
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _params(value: Mapping[str, ParamValue]) -> dict[str, str]:
    return {name: query_value(item) for name, item in value.items() if item is not None}


def _strings(value: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(item) for name, item in value.items()}


def _keys(value: Iterable[str]) -> tuple[str, ...]:
    keys = (value,) if isinstance(value, str) else tuple(value)
    if not keys:
        raise ValueError("primary_keys must name at least one field")
    return keys


def _fields(value: Iterable[IncrementalField]) -> tuple[IncrementalField, ...]:
    return tuple(value)


def _filters(
    value: IncrementalParams | Mapping[str, IncrementalParams] | None,
) -> IncrementalParams | dict[str, IncrementalParams] | None:
    if value is None or not isinstance(value, Mapping):
        return value
    return dict(value) or None


def _statuses(value: Iterable[int]) -> frozenset[int]:
    return frozenset(value)


def _optional_selector(value: str | Selector | None) -> Selector | None:
    if value is None or isinstance(value, Selector):
        return value
    return Selector(value)


@attrs.frozen(kw_only=True)
class Endpoint:
    """One API endpoint, read into one table.

    ================== ==========================================================================
    ``name``           the schema (table) name, and the name errors and progress use
    ``path``           relative to the base URL; ``{placeholders}`` filled from ``path_values``
                       (and, in fan-out, from the parent row), always URL-encoded
    ``primary_keys``   the row's key, often composite (``("repo_id", "number")``)
    ``method``         ``GET``, or ``POST`` for search endpoints (``json`` is then the body)
    ``params``         query parameters of every page (filters such as ``state=all``)
    ``headers``        per-endpoint headers (GitHub's stargazers need their own ``Accept``)
    ``data_selector``  JSON path to the rows (``"data"``); ``None``: the body is the list
    ``paginator``      how pages follow each other (:mod:`headwater.rest._paginators`)
    ``page_size``      rows per page to ask for, sent as ``page_size_param`` (``limit``,
                       ``per_page``, ``page_size``, ``page[size]``)
    ``incremental``    how to filter by the watermark (:class:`IncrementalParams`); with
                       several incremental fields, one per field:
                       ``{"created": IncrementalParams(...), "updated": ...}`` (new in 0.2)
    ``incremental_fields`` the fields a user may sync incrementally on
    ``partition_key``  a stable creation datetime to partition by (``created_at``), never a
                       mutable one (``updated_at``); partitioned by ``partition_format``
    ``sort_mode``      the order the API returns the incremental field in
    ``no_rows_statuses`` statuses that mean "no rows" rather than an error (GitHub: 409)
    ``normalize``      a row hook: reshape a row, or return ``None`` to drop it
    ``max_pages``      a safety bound: more pages than this is an error
    ``reapply_filters`` put the endpoint's filters back on next links that lack them
    ``resume_expired_statuses`` statuses with which the API refuses the saved position of an
                       interrupted read (an expired cursor or next link); that read then
                       starts again from the watermark. Default 400, 404, 410 and 422:
                       only the first request of a resumed read is judged by them
    ``default_sync_mode`` the mode a sync uses when the user picks none (default: incremental
                       when supported); full refresh where the incremental field cannot see
                       changes (Stripe's lists filter on ``created`` only)
    ================== ==========================================================================

    .. versionadded:: 0.1
    """

    name: str
    path: str
    primary_keys: tuple[str, ...] = attrs.field(converter=_keys)
    method: Literal["GET", "POST"] = "GET"
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_params)
    json: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_strings)
    path_values: Mapping[str, str] = attrs.field(factory=dict, converter=_strings)
    data_selector: Selector | None = attrs.field(default=None, converter=_optional_selector)
    paginator: Paginator = attrs.field(factory=SinglePagePaginator)
    page_size: int | None = None
    page_size_param: str = "limit"
    incremental: IncrementalParams | Mapping[str, IncrementalParams] | None = attrs.field(
        default=None, converter=_filters
    )
    incremental_fields: tuple[IncrementalField, ...] = attrs.field(default=(), converter=_fields)
    partition_key: str | None = None
    partition_format: PartitionFormat = attrs.field(
        default=PartitionFormat.MONTH, converter=PartitionFormat
    )
    sort_mode: SortMode = attrs.field(default=SortMode.ASC, converter=SortMode)
    no_rows_statuses: frozenset[int] = attrs.field(factory=frozenset, converter=_statuses)
    normalize: RowNormalizer | None = attrs.field(default=None, eq=False)
    max_pages: int | None = None
    reapply_filters: bool = True
    resume_expired_statuses: frozenset[int] = attrs.field(
        default=frozenset({400, 404, 410, 422}), converter=_statuses
    )
    description: str = ""
    default_sync_mode: SyncMode | None = attrs.field(
        default=None, converter=attrs.converters.optional(SyncMode)
    )
    """.. versionadded:: 0.1"""

    def __attrs_post_init__(self) -> None:
        where = f"endpoint {self.name!r}"
        if self.method not in ("GET", "POST"):
            raise ValueError(f"{where}: method must be GET or POST, not {self.method!r}")
        if self.page_size is not None and self.page_size < 1:
            raise ValueError(f"{where}: page_size must be at least 1, not {self.page_size}")
        if self.max_pages is not None and self.max_pages < 1:
            raise ValueError(f"{where}: max_pages must be at least 1, not {self.max_pages}")
        for status in self.no_rows_statuses:
            if not 400 <= status <= 599:
                raise ValueError(f"{where}: no_rows_statuses holds {status}, not an error status")
        unknown = set(self.path_values) - placeholders(self.path)
        if unknown:
            raise ValueError(
                f"{where}: path_values {sorted(unknown)} match no placeholder in {self.path!r}"
            )
        if self.incremental_fields and self.incremental is None:
            raise ValueError(
                f"{where}: incremental_fields are declared but not how to filter by them;"
                " set incremental=IncrementalParams(start_param=...)"
            )
        self._check_filters(where)
        if self.default_sync_mode not in (None, SyncMode.FULL_REFRESH) and not (
            self.supports_incremental
        ):
            raise ValueError(
                f"{where}: default_sync_mode {self.default_sync_mode.value} needs incremental"
                " reads (incremental and incremental_fields)"
            )

    def _check_filters(self, where: str) -> None:
        names = tuple(field.field for field in self.incremental_fields)
        if isinstance(self.incremental, Mapping):
            for name in names:
                if name not in self.incremental:
                    raise ValueError(
                        f"{where}: no IncrementalParams for {name!r}; incremental must name"
                        " the parameter that filters each of the incremental_fields"
                    )
            for name in self.incremental:
                if name not in names:
                    raise ValueError(
                        f"{where}: IncrementalParams for {name!r}, which is not in"
                        f" incremental_fields {names}"
                    )
        elif len(names) > 1:
            # One parameter for several fields would send the watermark of one field as a
            # bound on another, and rows would be lost without a word.
            raise ValueError(
                f"{where}: {len(names)} incremental fields {names} but one IncrementalParams;"
                " say which parameter filters each field: incremental={"
                + ", ".join(f"{name!r}: IncrementalParams(...)" for name in names)
                + "}"
            )

    def filter_for(self, field: str | None) -> IncrementalParams | None:
        """How a read on incremental field ``field`` is filtered (``None``: no field chosen,
        as in a full read bounded by a start date; the first declared field's filter).

        Raises :class:`ValueError` for a field the endpoint does not declare.

        .. versionadded:: 0.2
        """
        names = tuple(item.field for item in self.incremental_fields)
        if field is not None and names and field not in names:
            raise ValueError(
                f"endpoint {self.name!r} has no incremental field {field!r};"
                f" it declares {', '.join(map(repr, names))}"
            )
        if not isinstance(self.incremental, Mapping):
            return self.incremental
        chosen = field if field is not None else names[0]
        return self.incremental[chosen]

    @property
    def supports_incremental(self) -> bool:
        """Whether the endpoint can be read from a watermark on."""
        return self.incremental is not None and bool(self.incremental_fields)

    def schema(self) -> SourceSchema:
        """The :class:`~headwater.SourceSchema` this endpoint offers, for ``get_schemas``."""
        return SourceSchema(
            name=self.name,
            supports_incremental=self.supports_incremental,
            supports_append=self.supports_incremental,
            # mypy's attrs plugin cannot solve the type variable of `converter=tuple`.
            incremental_fields=self.incremental_fields,
            description=self.description,
            default_sync_mode=self.default_sync_mode,
        )

    def evolve(self, **changes: Any) -> Endpoint:
        """A copy with ``changes`` (``endpoint.evolve(paginator=...)``)."""
        return attrs.evolve(self, **changes)
