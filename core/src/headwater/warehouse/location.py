"""Where a schema's table lives: ``<warehouse>/<connection>/<schema>``, local or in an object store.

The warehouse is a local folder by default; object-store URIs (``s3://``, ``az://``, ``gs://``)
go through the same writer. Credentials for object stores come from the environment as the
Delta Lake object-store client reads them (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ...) or
from explicit ``storage_options``; Headwater never stores them.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import attrs

__all__ = ["OBJECT_STORE_SCHEMES", "TableLocation", "table_location"]

OBJECT_STORE_SCHEMES = frozenset({"s3", "s3a", "az", "abfs", "abfss", "adl", "gs", "gcs"})
"""URI schemes handed to the Delta Lake object-store client unchanged."""

# A connection or schema name becomes a folder and part of object-store keys: keep it portable.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")


def _frozen_options(options: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(options))


@attrs.frozen(kw_only=True)
class TableLocation:
    """One table: its URI and the options the object-store client needs to reach it.

    ``uri`` is an absolute local path for local tables, else the object-store URI.

    .. versionadded:: 0.1
    """

    uri: str
    storage_options: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_options)

    @property
    def is_local(self) -> bool:
        """Whether the table is a folder on this machine (locks use the OS there)."""
        return urlsplit(self.uri).scheme.lower() not in OBJECT_STORE_SCHEMES

    def options(self) -> dict[str, str]:
        """A fresh, mutable copy of the storage options (deltalake wants a ``dict``)."""
        return dict(self.storage_options)

    def child(self, relative: str) -> str:
        """The URI (or path) of ``relative`` inside the table folder."""
        return f"{self.uri.rstrip('/')}/{relative}"


def table_location(
    warehouse: str,
    connection: str,
    schema: str,
    *,
    storage_options: Mapping[str, str] | None = None,
) -> TableLocation:
    """The location of ``schema``'s table for ``connection`` in ``warehouse``.

    ``warehouse`` is a local path (relative paths are resolved against the working directory,
    ``~`` is expanded), a ``file://`` URI, or an object-store URI.

    :raises ValueError: when the connection or schema name cannot be a folder name, or the
        warehouse URI has a scheme Headwater does not know.

    .. versionadded:: 0.1
    """
    for what, name in (("connection", connection), ("schema", schema)):
        if not _NAME.match(name) or name in (".", ".."):
            raise ValueError(
                f"{what} name {name!r} cannot be a table folder: use letters, digits,"
                " '_', '-' and '.', starting with a letter, digit or '_'"
            )
    parts = urlsplit(warehouse)
    scheme = parts.scheme.lower()
    options = dict(storage_options or {})
    if scheme in OBJECT_STORE_SCHEMES:
        return TableLocation(
            uri=f"{warehouse.rstrip('/')}/{connection}/{schema}", storage_options=options
        )
    if scheme == "file":
        root = Path(parts.path)
    elif scheme and len(scheme) > 1:
        # One letter is a Windows drive ("C:\\warehouse"), anything longer is a URI.
        known = ", ".join(sorted(OBJECT_STORE_SCHEMES))
        raise ValueError(
            f"warehouse {warehouse!r} has the scheme {scheme!r}; use a local path, a file:// URI"
            f" or an object-store URI ({known})"
        )
    else:
        root = Path(warehouse)
    path = root.expanduser().resolve() / connection / schema
    return TableLocation(uri=str(path), storage_options=options)
