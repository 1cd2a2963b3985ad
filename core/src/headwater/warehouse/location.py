"""Where a schema's table lives: ``<warehouse>/<connection>/<schema>``, local or in an object store.

The warehouse is a local folder by default; object-store URIs (``s3://``, ``az://``, ``gs://``)
go through the same writer. Credentials for object stores come from the environment as the
Delta Lake object-store client reads them (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ...) or
from explicit ``storage_options``; Headwater never stores them. Everything that reaches an
object store (the writer, the lock, listing a warehouse's tables) goes through that one client,
so one set of credentials and options reaches all of it.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import re
import types
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import attrs

from headwater.errors import WarehouseError

__all__ = [
    "OBJECT_STORE_SCHEMES",
    "TableLocation",
    "describe_store_error",
    "is_object_store",
    "storage_failures",
    "table_location",
    "unreadable_table",
    "warehouse_error",
    "warehouse_root",
]

OBJECT_STORE_SCHEMES = frozenset({"s3", "s3a", "az", "abfs", "abfss", "adl", "gs", "gcs"})
"""URI schemes handed to the Delta Lake object-store client unchanged."""

# A connection or schema name becomes a folder and part of object-store keys: keep it portable.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")

# The object-store client's errors: a chain of causes joined by coloured arrows.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A native backtrace appended to a message: its first frame line ("   0: <unknown>") on.
_BACKTRACE = re.compile(r"\n\s*0: ")
_CAUSE = re.compile(r"\s*↳\s*")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>]+", re.IGNORECASE)
_XML_CODE = re.compile(r"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")
_MAX_ERROR_LENGTH = 600


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
        return not is_object_store(self.uri)

    def options(self) -> dict[str, str]:
        """A fresh, mutable copy of the storage options (deltalake wants a ``dict``)."""
        return dict(self.storage_options)

    def child(self, relative: str) -> str:
        """The URI (or path) of ``relative`` inside the table folder."""
        return f"{self.uri.rstrip('/')}/{relative}"


def is_object_store(uri: str) -> bool:
    """Whether ``uri`` (a warehouse or a table) is in an object store.

    .. versionadded:: 0.1
    """
    return urlsplit(uri).scheme.lower() in OBJECT_STORE_SCHEMES


def warehouse_root(warehouse: str) -> str:
    """Where a warehouse's tables are: an absolute local path, or the object-store URI.

    ``warehouse`` is a local path (relative paths are resolved against the working directory,
    ``~`` is expanded), a ``file://`` URI, or an object-store URI (returned without a trailing
    slash).

    :raises ValueError: when the warehouse URI has a scheme Headwater does not know.

    .. versionadded:: 0.1
    """
    parts = urlsplit(warehouse)
    scheme = parts.scheme.lower()
    if scheme in OBJECT_STORE_SCHEMES:
        return warehouse.rstrip("/")
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
    return str(root.expanduser().resolve())


def table_location(
    warehouse: str,
    connection: str,
    schema: str,
    *,
    storage_options: Mapping[str, str] | None = None,
) -> TableLocation:
    """The location of ``schema``'s table for ``connection`` in ``warehouse``.

    ``warehouse`` is what :func:`warehouse_root` takes.

    :raises ValueError: when the connection or schema name cannot be a folder name, the
        warehouse URI has a scheme Headwater does not know, or a local table folder leads
        outside the warehouse through a symbolic link.

    .. versionadded:: 0.1
    """
    for what, name in (("connection", connection), ("schema", schema)):
        if not _NAME.match(name) or name in (".", ".."):
            raise ValueError(
                f"{what} name {name!r} cannot be a table folder: use letters, digits,"
                " '_', '-' and '.', starting with a letter, digit or '_'"
            )
    root = warehouse_root(warehouse)
    options = dict(storage_options or {})
    if is_object_store(root):
        return TableLocation(uri=f"{root}/{connection}/{schema}", storage_options=options)
    folder = Path(root) / connection / schema
    # A symbolic link inside the warehouse could lead anywhere: a sync would write there and
    # `maintain` would vacuum there. Every table folder must stay under the warehouse root.
    target = folder.resolve()
    if not target.is_relative_to(root):
        raise ValueError(
            f"the table folder {folder} leads outside the warehouse (to {target}, through a"
            f" symbolic link); Headwater reads and writes only inside {root}: remove the link"
            " or make the warehouse the folder it points to"
        )
    return TableLocation(uri=str(folder), storage_options=options)


def _without_query(match: re.Match[str]) -> str:
    # A signed URL or an Azure SAS token carries credentials in its query (and a URL may have
    # a user and password): keep the scheme, host and path only.
    parts = urlsplit(match.group(0))
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def describe_store_error(error: BaseException) -> str:
    """An object-store client's error on one line: the chain of causes, without colours.

    URLs lose their query and user info (where signed requests and SAS tokens carry
    credentials), and an S3-style XML error body becomes its code and message.

    .. versionadded:: 0.1
    """
    text = _BACKTRACE.split(_ANSI.sub("", str(error)), maxsplit=1)[0]
    code, message = _XML_CODE.search(text), _XML_MESSAGE.search(text)
    causes = []
    for cause in _CAUSE.split(text):
        cause = " ".join(cause.split())
        if cause.startswith("<"):
            # The store's own error document: its code and message say it all.
            if code is None and message is None:
                continue
            cause = ": ".join(m.group(1) for m in (code, message) if m is not None)
        if cause:
            causes.append(_URL.sub(_without_query, cause))
    described = ": ".join(causes) or type(error).__name__
    if len(described) > _MAX_ERROR_LENGTH:
        described = described[: _MAX_ERROR_LENGTH - 3] + "..."
    return described


def unreadable_table(error: BaseException, name: str, uri: str) -> WarehouseError:
    """The :class:`~headwater.errors.WarehouseError` for a table that cannot be read (a
    damaged Delta log, a store that is unreachable or refuses the credentials): ``name``
    (``connection.schema``) and the reason in one line.

    .. versionadded:: 0.2
    """
    reason = _reason(error)
    return WarehouseError(f"cannot read {name} ({uri}): {reason}", path=uri, reason=reason)


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return describe_store_error(error)


def warehouse_error(
    error: BaseException, uri: str, doing: str, *, again: str = "run the sync again"
) -> WarehouseError:
    """The :class:`~headwater.errors.WarehouseError` for ``error``, met while ``doing`` (a verb
    phrase: "write", "lock") the table at ``uri``: the system's reason in one line, what to
    check, and ``again``, what to do then.

    .. versionadded:: 0.2
    """
    reason = _reason(error)
    if not _looks_like_storage(error, reason):
        # Delta Lake refused the operation itself (a schema or partitioning it cannot
        # write): pointing at the disk would send the user the wrong way.
        return WarehouseError(
            f"Delta Lake refused to {doing} the table {uri}: {reason}. Nothing was committed"
            f" by this step; {again} with HEADWATER_DEBUG=1 and report it if it persists",
            path=uri,
            reason=reason,
        )
    where = (
        "the object store is reachable with these credentials"
        if is_object_store(uri)
        else ("the warehouse folder exists as a folder, is writable and has free space")
    )
    return WarehouseError(
        f"cannot {doing} the table {uri}: {reason}. Nothing was committed by this step; check"
        f" that {where}, then {again}",
        path=uri,
        reason=reason,
    )


# How storage failures read when Delta Lake reports them: the OS's error, its object-store
# client's kinds, an HTTP status from a store.
_STORAGE = re.compile(
    r"os error \d+|filesystem|object ?store|no such file|not a directory|permission denied"
    r"|read-only|no space|s3|azure|gcs|google cloud|http|timed? ?out|connect|credential"
    r"|access denied|forbidden|unauthori[sz]ed|bucket",
    re.IGNORECASE,
)


def _looks_like_storage(error: BaseException, reason: str) -> bool:
    return isinstance(error, OSError) or _STORAGE.search(reason) is not None


@contextlib.contextmanager
def storage_failures(uri: str, doing: str, *, again: str = "run the sync again") -> Iterator[None]:
    """Turn a storage failure inside the block (a read-only or full disk, a path that is a
    file, an object store that is unreachable or refuses the credentials; Delta Lake reports
    them as ``DeltaError`` or ``OSError``) into :func:`warehouse_error`, not chained: the
    store client's text may quote a signed URL. A commit conflict (``CommitFailedError``) is
    not a storage failure and passes through.

    .. versionadded:: 0.2
    """
    from deltalake.exceptions import CommitFailedError, DeltaError

    try:
        yield
    except (DeltaError, OSError) as error:
        if isinstance(error, WarehouseError | CommitFailedError):
            raise
        raise warehouse_error(error, uri, doing, again=again) from None
