"""What a connector says about itself for forms, catalogs and docs.

.. versionadded:: 0.1
"""

from __future__ import annotations

import attrs

from headwater.sources.fields import Field, walk_fields
from headwater.sources.spec import ReleaseStatus

__all__ = ["SourceConfig"]


def _unique_names(instance: SourceConfig, attribute: attrs.Attribute[object], value: object) -> None:
    seen: dict[str, str] = {}
    for path, field in walk_fields(instance.fields):
        # Names must be unique among siblings; the same name under two select options is fine.
        parent = path.rsplit(".", 1)[0]
        key = f"{parent}.{field.name}"
        if key in seen:
            raise ValueError(f"field {field.name!r} is declared twice at {parent}")
        seen[key] = path


@attrs.frozen(kw_only=True)
class SourceConfig:
    """Form metadata and fields returned by ``Source.get_source_config()``.

    ``icon`` is a file name inside the connector's package (``"icon.svg"``), read with
    :mod:`importlib.resources`, so the icon ships in the wheel.
    """

    label: str
    caption: str = ""
    category: str = "API"
    icon: str | None = None
    docs_url: str | None = None
    release_status: ReleaseStatus = attrs.field(default=ReleaseStatus.ALPHA, converter=ReleaseStatus)
    unreleased: bool = False
    fields: tuple[Field, ...] = attrs.field(default=(), converter=tuple, validator=_unique_names)
