"""The light description a connector registers: what it is called and where its code lives.

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
import re
from typing import Any, Final

import attrs

__all__ = ["CONTRACT_MAJOR", "ReleaseStatus", "SourceSpec"]

CONTRACT_MAJOR: Final = 1
"""The major version of the source contract (the types in :mod:`headwater.sources`).

A connector declares the major it was written for; the host refuses any other.

.. versionadded:: 0.1
"""

_SOURCE_TYPE = re.compile(r"^[a-z][a-z0-9_]*$")
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class ReleaseStatus(enum.StrEnum):
    """How far a connector is along: ``alpha`` may change shape, ``ga`` keeps its promises.

    .. versionadded:: 0.1
    """

    ALPHA = "alpha"
    BETA = "beta"
    GA = "ga"


def _check_source_type(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _SOURCE_TYPE.match(value):
        raise ValueError(
            f"{attribute.name} {value!r} must be lower-case letters, digits and underscores,"
            " starting with a letter"
        )


def _check_import_path(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _IMPORT_PATH.match(value):
        raise ValueError(f"{attribute.name} {value!r} must look like 'package.module:Attribute'")


@attrs.frozen(kw_only=True)
class SourceSpec:
    """What a connector registers through the ``register_sources`` hook.

    Listing connectors reads specs only. ``load`` and ``kit`` are import paths
    (``"connector_github.settings:GithubSource"``) resolved on first use, so listing never
    imports a connector's code or its dependencies.

    .. versionadded:: 0.1
    """

    source_type: str = attrs.field(validator=_check_source_type)
    contract_major: int
    label: str
    load: str = attrs.field(validator=_check_import_path)
    kit: str | None = attrs.field(default=None, validator=_check_import_path)
    release_status: ReleaseStatus = attrs.field(
        default=ReleaseStatus.ALPHA, converter=ReleaseStatus
    )
    unreleased: bool = False
