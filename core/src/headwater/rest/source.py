"""A source whose tables are a catalog of endpoints.

Most API connectors offer one table per endpoint, the same tables for every config, and one
list of error rules. :class:`RestSource` derives the schema list and the error rules from
those declarations, so a connector's ``source.py`` holds only what is its own: the form
fields, the credential check and the hand-off to its reading module.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from headwater.sources import Source

if TYPE_CHECKING:
    from headwater.errors import ErrorRule
    from headwater.runtime import Runtime
    from headwater.sources import SourceSchema

__all__ = ["CatalogEntry", "RestSource"]

C = TypeVar("C")


class CatalogEntry(Protocol):
    """What :class:`RestSource` needs of a catalog entry: the schema it offers.

    :class:`~headwater.rest.Endpoint` is one; a connector's own reader can be another.

    .. versionadded:: 0.1
    """

    def schema(self) -> SourceSchema: ...


class RestSource(Source[C]):
    """A :class:`~headwater.Source` whose schemas are the entries of :attr:`endpoints`.

    Set :attr:`endpoints` (``{name: Endpoint}``, in the order the tables should be listed) and
    :attr:`non_retryable_errors`; implement ``get_source_config``, ``validate_credentials``
    and ``source_for_pipeline``. Every config offers the same schemas, so ``get_schemas``
    makes no request (override it for an API whose tables depend on the account).

    .. versionadded:: 0.1
    """

    endpoints: ClassVar[Mapping[str, CatalogEntry]]
    """The tables, by name: each entry's ``schema()`` is what ``get_schemas`` lists."""

    non_retryable_errors: ClassVar[Sequence[ErrorRule]] = ()
    """The rules that turn the API's permanent failures into actionable messages."""

    def get_schemas(self, config: C, runtime: Runtime) -> Sequence[SourceSchema]:
        return self.get_catalog_schemas()

    def get_catalog_schemas(self) -> Sequence[SourceSchema]:
        return [entry.schema() for entry in self.endpoints.values()]

    def get_non_retryable_errors(self) -> Sequence[ErrorRule]:
        return list(self.non_retryable_errors)
