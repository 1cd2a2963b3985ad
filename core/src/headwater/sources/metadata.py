"""What a connector says about itself for forms, catalogs and docs.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from headwater.sources.spec import ReleaseStatus

if TYPE_CHECKING:
    from headwater.sources.fields import Field

__all__ = ["SourceConfig"]


def _fields(value: Iterable[Field]) -> tuple[Field, ...]:
    return tuple(value)


def _unique_names(_: object, attribute: attrs.Attribute[Any], value: tuple[Field, ...]) -> None:
    _check_siblings(value, "$")


def _check_siblings(fields: tuple[Field, ...], parent: str) -> None:
    # Names must be unique among siblings; two select options may each have a `token` field.
    seen: set[str] = set()
    for field in fields:
        if field.name in seen:
            raise ValueError(f"field {field.name!r} is declared twice at {parent}")
        seen.add(field.name)
        for sub_fields in field.sub_field_lists:
            _check_siblings(sub_fields, f"{parent}.{field.name}")


@attrs.frozen(kw_only=True)
class SourceConfig:
    """Form metadata and fields returned by ``Source.get_source_config()``.

    ``icon`` is a file name inside the connector's package (``"icon.svg"``), read with
    :mod:`importlib.resources`, so the icon ships in the wheel.

    .. versionadded:: 0.1
    """

    label: str
    caption: str = ""
    category: str = "API"
    icon: str | None = None
    docs_url: str | None = None
    release_status: ReleaseStatus = attrs.field(
        default=ReleaseStatus.ALPHA, converter=ReleaseStatus
    )
    unreleased: bool = False
    fields: tuple[Field, ...] = attrs.field(default=(), converter=_fields, validator=_unique_names)
