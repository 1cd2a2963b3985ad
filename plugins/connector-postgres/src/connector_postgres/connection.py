"""Connections to the server: the libpq URI, session safety settings, and errors in plain words.

Every session this connector opens is read-only (``default_transaction_read_only``), has a
statement timeout, and reads times in UTC with ISO 8601 intervals, all set through libpq's
``options`` at connect time, so no statement of ours can forget them.

The password travels only inside the URI handed to the driver. Driver errors can quote what
they were given, so every message that leaves this module is scrubbed of the password (raw and
percent-encoded) and of the URI.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import attrs

from headwater.errors import ErrorKind, SourceError

if TYPE_CHECKING:
    from connector_postgres._config import PostgresConfig

__all__ = ["PostgresError", "connect", "describe_failure", "redirected"]

CONNECT_TIMEOUT = 10
"""Seconds libpq waits for the server to answer a connection attempt."""

CATALOG_TIMEOUT_MS = 30_000
"""The statement timeout of catalog queries and the credential check."""


class PostgresError(SourceError):
    """Talking to the PostgreSQL server failed; ``kind`` says how (password, database, TLS...)."""

    def __init__(self, message: str, kind: ErrorKind = ErrorKind.TRANSIENT) -> None:
        super().__init__(message)
        self.kind = kind


def _options(statement_timeout_ms: int) -> str:
    settings = {
        "default_transaction_read_only": "on",
        "statement_timeout": str(statement_timeout_ms),
        "TimeZone": "UTC",
        "IntervalStyle": "iso_8601",
        "application_name": "headwater",
    }
    return " ".join(f"-c {name}={value}" for name, value in settings.items())


def _uri(config: PostgresConfig, statement_timeout_ms: int, ca_file: str | None) -> str:
    password = config.password.reveal()
    query: dict[str, str] = {
        "sslmode": config.ssl_mode,
        "connect_timeout": str(CONNECT_TIMEOUT),
        "options": _options(statement_timeout_ms),
    }
    if ca_file is not None:
        query["sslrootcert"] = ca_file
    host = f"[{config.host}]" if ":" in config.host else config.host
    return (
        f"postgresql://{quote(config.user, safe='')}:{quote(password, safe='')}"
        f"@{host}:{int(config.port)}/{quote(config.database, safe='')}"
        f"?{urlencode(query, quote_via=quote)}"
    )


def _scrub(text: str, config: PostgresConfig, uri: str) -> str:
    password = config.password.reveal()
    for secret in (uri, password, quote(password, safe="")):
        if secret:
            text = text.replace(secret, "***")
    return text


def redirected(config: PostgresConfig, base_url: str | None) -> PostgresConfig:
    """``config`` aimed at ``base_url`` when it is a ``postgresql://host:port/database`` URL.

    This is the database form of ``Runtime.base_url``: the contract suite and the tests give
    each fresh copy of the test database its own URL while the config stays the same. Any
    other base URL (an HTTP one, from tools made for APIs) is ignored; user names and
    passwords in it are refused, as credentials come from the config only.
    """
    if not base_url or not base_url.startswith(("postgresql://", "postgres://")):
        return config
    target = urlsplit(base_url)
    if target.username or target.password:
        raise ValueError("a postgresql:// base URL must not carry credentials")
    return attrs.evolve(
        config,
        host=target.hostname or config.host,
        port=target.port or config.port,
        database=unquote(target.path.lstrip("/")) or config.database,
    )


@contextlib.contextmanager
def connect(
    config: PostgresConfig, *, statement_timeout_ms: int = CATALOG_TIMEOUT_MS
) -> Iterator[Any]:
    """An ADBC DB-API connection for ``config``: read-only, with a statement timeout.

    :raises PostgresError: when the server cannot be reached or refuses us; also for any
        driver error inside the block, with the message scrubbed of the password.
    """
    import adbc_driver_postgresql.dbapi as dbapi

    with _ca_file(config) as ca_file:
        uri = _uri(config, statement_timeout_ms, ca_file)
        try:
            connection = dbapi.connect(uri)
        except Exception as error:
            raise describe_failure(error, config, uri) from None
        try:
            yield connection
        except dbapi.Error as error:
            raise describe_failure(error, config, uri) from None
        finally:
            with contextlib.suppress(Exception):
                connection.close()


@contextlib.contextmanager
def _ca_file(config: PostgresConfig) -> Iterator[str | None]:
    """libpq reads the CA certificate from a file: the configured one, for this connection."""
    certificate = config.ca_certificate
    if not certificate:
        yield None
        return
    handle, path = tempfile.mkstemp(prefix="headwater-postgres-ca-", suffix=".pem")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(certificate)
        yield path
    finally:
        os.unlink(path)


# What libpq and the server say, and what the user should do. SQLSTATEs: see api_inventory.md.
_SQLSTATES = {
    "28P01": (ErrorKind.AUTHENTICATION, "the server rejected the password for user {user!r}"),
    "28000": (
        ErrorKind.AUTHENTICATION,
        "the server does not let user {user!r} connect to database {database!r}"
        " (pg_hba.conf, or the role does not exist)",
    ),
    "3D000": (ErrorKind.NOT_FOUND, "database {database!r} does not exist on {host}:{port}"),
    "42501": (ErrorKind.PERMISSION, "user {user!r} lacks a permission"),
    "57014": (ErrorKind.TRANSIENT, "a statement ran past the statement timeout and was cancelled"),
}

_TEXTS = (
    ("password authentication failed", "28P01"),
    ("does not exist", None),
    ("connection refused", "refused"),
    ("ssl", "tls"),
    ("certificate", "tls"),
    ("timeout expired", "timeout"),
    ("could not translate host name", "host"),
)


def describe_failure(error: BaseException, config: PostgresConfig, uri: str) -> PostgresError:
    """A :class:`PostgresError` saying what went wrong in the user's terms, without secrets."""
    raw = _scrub(str(error), config, uri)
    detail = _server_words(raw)
    place = {
        "user": config.user,
        "database": config.database,
        "host": config.host,
        "port": config.port,
    }
    state = getattr(error, "sqlstate", None) or ""
    lowered = raw.casefold()
    if state not in _SQLSTATES:
        for text, meaning in _TEXTS:
            if text in lowered:
                if meaning == "28P01":
                    state = meaning
                elif text == "does not exist" and "database" in lowered:
                    state = "3D000"
                elif text == "does not exist" and "role" in lowered:
                    state = "28000"
                elif meaning is not None and text != "does not exist":
                    state = meaning
                if state:
                    break
    if state in _SQLSTATES:
        kind, template = _SQLSTATES[state]
        return PostgresError(f"{template.format(**place)}: {detail}", kind)
    where = f"{config.host}:{config.port}"
    if state == "refused":
        return PostgresError(
            f"could not connect to {where}: connection refused; is PostgreSQL running and"
            " listening there (listen_addresses, port)?",
            ErrorKind.TRANSIENT,
        )
    if state == "tls":
        return PostgresError(
            f"TLS with {where} failed (ssl mode {config.ssl_mode}): {detail}; check the ssl"
            " mode, and the CA certificate for verify-full",
            ErrorKind.CONFIGURATION,
        )
    if state == "timeout":
        return PostgresError(
            f"{where} did not answer within {CONNECT_TIMEOUT} s; check the host, the port"
            " and the firewall",
            ErrorKind.TRANSIENT,
        )
    if state == "host":
        return PostgresError(f"host {config.host!r} is unknown: {detail}", ErrorKind.CONFIGURATION)
    return PostgresError(f"PostgreSQL at {where}: {detail}", ErrorKind.TRANSIENT)


def _server_words(message: str) -> str:
    """The server's or libpq's own sentence, without the driver's prefixes and query text."""
    text = " ".join(message.split())
    for prefix in ("IO: ", "[libpq] ", "Failed to connect: "):
        text = text.removeprefix(prefix)
    for marker in ("FATAL:", "ERROR:"):
        if marker in text:
            text = text.split(marker, 1)[1].strip()
            break
    else:
        if "failed:" in text:
            text = text.rsplit("failed:", 1)[1].strip()
    return text.split(". SQLSTATE")[0].strip().rstrip(".")
