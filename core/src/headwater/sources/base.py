"""The class every connector's source implements.

.. versionadded:: 0.1
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

if TYPE_CHECKING:
    from headwater.errors import ErrorRule
    from headwater.runtime import Runtime
    from headwater.sources.metadata import SourceConfig
    from headwater.sources.pipeline import SourceInputs, SourceResponse
    from headwater.sources.schema import SourceSchema

__all__ = ["Source"]

ConfigT = TypeVar("ConfigT")


class Source(abc.ABC, Generic[ConfigT]):
    """A connector's source. ``ConfigT`` is the connector's generated config class.

    Subclasses set ``source_type`` (equal to the entry-point name) and implement the abstract
    methods. Methods that do I/O take a :class:`~headwater.Runtime` and must send every request
    through it. Instances hold no per-sync state: one instance serves many syncs.

    .. versionadded:: 0.1
    """

    source_type: ClassVar[str]

    @abc.abstractmethod
    def get_source_config(self) -> SourceConfig:
        """Form metadata and fields. Pure: no I/O, no imports of heavy dependencies needed."""

    @abc.abstractmethod
    def validate_credentials(self, config: ConfigT, runtime: Runtime) -> tuple[bool, str | None]:
        """Check the credentials against the API: ``(True, None)`` or ``(False, message)``.

        Never raises for bad credentials or network failures; the message tells the user
        what to fix and never contains a secret.
        """

    @abc.abstractmethod
    def get_schemas(self, config: ConfigT, runtime: Runtime) -> Sequence[SourceSchema]:
        """The tables this source offers for ``config``."""

    @abc.abstractmethod
    def source_for_pipeline(
        self, config: ConfigT, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        """Describe the rows of ``inputs.schema_name``; reading starts when ``items()`` runs."""

    def get_catalog_schemas(self) -> Sequence[SourceSchema] | None:
        """The schemas offered whatever the config (the endpoint catalog), if there is such a list.

        ``headwater info`` and the generated connector catalog show them. Return ``None`` (the
        default) when the schemas depend on the config, e.g. tables discovered in a database.
        """
        return None

    def get_non_retryable_errors(self) -> Sequence[ErrorRule]:
        """Rules for permanent failures (bad credentials, missing permission) and their messages."""
        return ()
