"""Every exception Headwater raises, the problem records they carry, and the rules that
classify them. This module is a leaf: it imports nothing from Headwater.

The hierarchy::

    HeadwaterError
    ├── ConfigError (ValueError)            user configuration is wrong; carries every problem
    ├── PluginError
    │   ├── PluginLoadError                 plugins could not be loaded (strict mode)
    │   ├── ContractVersionError            the connector asked for targets another contract
    │   ├── EmulatorUnavailableError        a kit's emulator cannot start here (no server binary)
    │   └── UnknownConnectorError (LookupError)
    ├── RequestBudgetExhausted              the shared request budget of a run is spent
    ├── SyncError                           writing a schema into the warehouse failed
    │   ├── RowError (ValueError)           a row the warehouse cannot store
    │   │   └── PrimaryKeyError             a row's primary key is missing or null
    │   ├── StateError                      a table's sync state is unreadable, lost or too new
    │   ├── LayoutChangedError              keys, incremental field or partitioning changed
    │   ├── TableLockedError                another sync is writing the same table
    │   └── WarehouseError (OSError)        the warehouse cannot be written (disk, folder, store)
    └── SourceError                         talking to a source's API failed
        ├── HTTPStatusError                 the API answered with an error status
        │   ├── AuthenticationError         401: credentials are missing or wrong
        │   ├── PermissionDeniedError       403: credentials lack a permission
        │   ├── NotFoundError (LookupError) 404
        │   ├── BadRequestError             400, 422 and other 4xx
        │   ├── RateLimitedError            429, or a 403 the API marks as a rate limit
        │   └── ServerError                 5xx
        ├── NetworkError                    timeout, reset, refused connection
        ├── ResponseFormatError             a 2xx body that is truncated or not what was promised
        ├── ResumeExpiredError              the API no longer accepts a saved resume state
        ├── PaginationLoopError             a paginator saw a URL, cursor or page twice
        ├── ForeignOriginError              the API pointed at another origin; not followed
        └── TokenEndpointError              an OAuth2 token endpoint refused the credentials

Two records are not exceptions but what they carry: :class:`ConfigProblem` (one thing wrong
in a configuration, at its path) and :class:`LoadProblem` (a plugin that could not be used).

Each :class:`SourceError` has an :class:`ErrorKind`. A source's ``get_non_retryable_errors()``
returns :class:`ErrorRule` objects; :func:`classify` matches them against an error, on the
typed kind and status first and on the message text only where a rule asks for it.

A :class:`SourceError` raised after retries carries ``attempts`` (how many requests were made)
and says so in its message; its type and kind stay those of the last failure, so rules still
match on them.

Messages say what happened and what to do. None of them ever contains a secret: URLs are
redacted by the code that builds them (:func:`redact_url`).

.. versionadded:: 0.1
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConfigProblem",
    "ContractVersionError",
    "EmulatorUnavailableError",
    "ErrorKind",
    "ErrorRule",
    "ForeignOriginError",
    "HTTPStatusError",
    "HeadwaterError",
    "LayoutChangedError",
    "LoadProblem",
    "NetworkError",
    "NotFoundError",
    "PaginationLoopError",
    "PermissionDeniedError",
    "PluginError",
    "PluginLoadError",
    "PrimaryKeyError",
    "RateLimitedError",
    "RequestBudgetExhausted",
    "ResponseFormatError",
    "ResumeExpiredError",
    "RowError",
    "ServerError",
    "SourceError",
    "StateError",
    "SyncError",
    "TableLockedError",
    "TokenEndpointError",
    "UnknownConnectorError",
    "WarehouseError",
    "classify",
    "error_for_status",
    "redact_url",
    "user_message",
]


class HeadwaterError(Exception):
    """The root of every error Headwater raises on purpose.

    .. versionadded:: 0.1
    """


# --- configuration -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ConfigProblem:
    """One thing wrong with a piece of configuration, at a JSON path such as ``$.source.token``.

    ``message`` never quotes a value: a value might be a secret.

    .. versionadded:: 0.1
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} @ {self.path}"


class ConfigError(HeadwaterError, ValueError):
    """User configuration is invalid. ``problems`` lists all of them, not only the first.

    .. versionadded:: 0.1
    """

    def __init__(self, problems: Sequence[ConfigProblem], *, context: str = "") -> None:
        self.problems = tuple(problems)
        self.context = context
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.context}: " if self.context else ""
        if len(self.problems) == 1:
            return f"{head}{self.problems[0]}"
        lines = [f"{head}{len(self.problems)} problems"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


# --- plugins -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LoadProblem:
    """A plugin that could not be used, and why, in one line.

    .. versionadded:: 0.1
       In :mod:`headwater.discovery` until 0.2.
    """

    plugin: str
    distribution: str | None
    version: str | None
    reason: str

    @property
    def origin(self) -> str:
        if self.distribution is None:
            return self.plugin
        return f"{self.plugin} ({self.distribution} {self.version})"

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


class PluginError(HeadwaterError):
    """A plugin or connector package could not be used.

    .. versionadded:: 0.1
    """


class PluginLoadError(PluginError):
    """Raised in strict mode (``HEADWATER_STRICT_PLUGINS=1``) when any plugin fails to load.

    .. versionadded:: 0.1
    """

    def __init__(self, problems: Sequence[LoadProblem]) -> None:
        self.problems = tuple(problems)
        lines = [str(problem) for problem in self.problems]
        super().__init__(
            "plugins failed to load (HEADWATER_STRICT_PLUGINS is set):\n  - " + "\n  - ".join(lines)
        )


class ContractVersionError(PluginError):
    """A connector targets a source-contract major this host does not provide: raised when
    that connector is asked for (``headwater sync NAME``); listing connectors reports it.

    .. versionadded:: 0.1
    """


class EmulatorUnavailableError(PluginError):
    """A connector kit's emulator cannot start on this machine (a database server it needs is
    not installed, say); the message says why and what to install. ``headwater demo`` leaves
    that connector out and runs the others.

    .. versionadded:: 0.2
    """


class UnknownConnectorError(PluginError, LookupError):
    """No loadable connector has the requested name.

    .. versionadded:: 0.1
    """


class RequestBudgetExhausted(HeadwaterError):
    """The run's shared request budget is spent; raise it rather than exceed the budget.

    .. versionadded:: 0.1
    """


# --- syncing into the warehouse ----------------------------------------------------------------


class SyncError(HeadwaterError):
    """Syncing one schema into the warehouse failed; the table keeps its last commit.

    .. versionadded:: 0.1
    """


class RowError(SyncError, ValueError):
    """A row the warehouse cannot store: an item that is not a dict, a value of an unknown type.

    .. versionadded:: 0.1
    """


class PrimaryKeyError(RowError):
    """A row of an incremental (MERGE) schema lacks a primary key, or the key is null.

    .. versionadded:: 0.1
    """


class StateError(SyncError):
    """A table's sync state cannot be used: unreadable, lost, or written by a newer Headwater.

    .. versionadded:: 0.1
    """


class LayoutChangedError(SyncError):
    """The primary keys, incremental field or partitioning differ from what the table holds.

    Syncing on would mix two layouts in one table; the message says what changed and how to
    rewrite the table (a full refresh).

    .. versionadded:: 0.1
    """


class TableLockedError(SyncError):
    """Another sync is writing the same table (or wrote to it while this one ran).

    .. versionadded:: 0.1
    """


# --- talking to APIs ---------------------------------------------------------------------------


class WarehouseError(SyncError, OSError):
    """The warehouse could not be read or written: a read-only or full disk, a path that is a
    file, a folder without permission, an object store that is unreachable or refuses the
    credentials. ``path`` is the table (or file) concerned, ``reason`` the system's words in
    one line. Nothing was committed by the step that failed.

    .. versionadded:: 0.2
    """

    def __init__(self, message: str, *, path: str = "", reason: str = "") -> None:
        self.path = path
        self.reason = reason
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ErrorKind(enum.StrEnum):
    """What kind of failure a :class:`SourceError` is; rules and retry policies match on it.

    .. versionadded:: 0.1
    """

    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    BAD_REQUEST = "bad_request"
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    RESPONSE_FORMAT = "response_format"
    PAGINATION = "pagination"
    FOREIGN_ORIGIN = "foreign_origin"
    """The API sent a link or redirect to another origin, which was not followed.

    .. versionadded:: 0.1
    """
    CONFIGURATION = "configuration"
    """The configuration cannot work (OAuth2 credentials a token endpoint refuses).

    .. versionadded:: 0.1
    """


class SourceError(HeadwaterError):
    """Talking to a source's API failed. ``kind`` says how; ``status`` is set for HTTP errors.

    ``attempts`` is how many times the request was tried (more than 1 after retries).

    .. versionadded:: 0.1
    """

    kind: ErrorKind = ErrorKind.TRANSIENT
    status: int | None = None
    attempts: int = 1


class HTTPStatusError(SourceError):
    """The API answered with an error status.

    ``url`` is already redacted; ``body_excerpt`` is the start of the response body, which
    APIs use for their error message. ``retry_after`` is the wait in seconds the API asked
    for (``Retry-After`` or a rate-limit reset header), if any.

    .. versionadded:: 0.1
    """

    retry_after: float | None = None

    def __init__(self, message: str, *, status: int, url: str = "", body_excerpt: str = "") -> None:
        self.status = status
        self.url = url
        self.body_excerpt = body_excerpt
        super().__init__(message)


class AuthenticationError(HTTPStatusError):
    """401: the credentials are missing, wrong or expired.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.AUTHENTICATION


class PermissionDeniedError(HTTPStatusError):
    """403: the credentials are valid but lack a permission or scope.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.PERMISSION


class NotFoundError(HTTPStatusError, LookupError):
    """404: the resource does not exist, or the credentials cannot see it.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.NOT_FOUND


class BadRequestError(HTTPStatusError):
    """400, 422 and other client errors: the request itself is wrong.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.BAD_REQUEST


class RateLimitedError(HTTPStatusError):
    """429, or a 403 that the API marks as a rate limit. ``retry_after`` is in seconds.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.RATE_LIMITED

    def __init__(
        self,
        message: str,
        *,
        status: int,
        url: str = "",
        body_excerpt: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, url=url, body_excerpt=body_excerpt)
        self.retry_after = retry_after


class ServerError(HTTPStatusError):
    """5xx: the API failed; usually worth a retry.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.TRANSIENT


class NetworkError(SourceError):
    """The request never got a complete answer: timeout, connection reset or refused.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.TRANSIENT


class ResponseFormatError(SourceError):
    """A successful response whose body is truncated, not JSON, or lacks the expected data.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.RESPONSE_FORMAT


class ResumeExpiredError(SourceError):
    """The API refused the saved position of an interrupted read (an expired cursor).

    Raised by a source for the first request of a resumed read; the host then reads again
    from the watermark (nothing is lost: MERGE and the append filter absorb what is read
    twice). ``status`` is the API's answer.

    .. versionadded:: 0.2
    """

    kind = ErrorKind.RESPONSE_FORMAT

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class PaginationLoopError(SourceError):
    """A paginator was handed a URL, cursor or page it had already seen; reading stopped.

    Also raised when an endpoint's ``max_pages`` is reached and the API still offers more.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.PAGINATION


class ForeignOriginError(SourceError):
    """The API sent a next link or redirect to another scheme, host or port.

    Credentials go only to the configured origin, so the link was not followed. ``url`` is
    the refused target, redacted.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.FOREIGN_ORIGIN

    def __init__(self, message: str, *, url: str = "") -> None:
        self.url = url
        super().__init__(message)


class TokenEndpointError(SourceError):
    """An OAuth2 token endpoint refused to issue a token, or answered something unusable.

    This is a configuration problem (a wrong client id or secret, a revoked refresh token, a
    missing scope), so it is not retried. ``status`` is the token endpoint's HTTP status (if
    it answered) and ``oauth_error`` the ``error`` code of RFC 6749 section 5.2, such as
    ``invalid_client`` or ``invalid_grant``. A token endpoint that stays unreachable raises
    the transient error instead: nothing in the configuration needs to change.

    .. versionadded:: 0.1
    """

    kind = ErrorKind.CONFIGURATION

    def __init__(
        self, message: str, *, status: int | None = None, oauth_error: str | None = None
    ) -> None:
        self.status = status
        self.oauth_error = oauth_error
        super().__init__(message)


_STATUS_CLASSES: dict[int, type[HTTPStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitedError,
}

_STATUS_ADVICE: dict[type[HTTPStatusError], str] = {
    AuthenticationError: "check that the credentials are correct and not expired",
    PermissionDeniedError: "grant the credentials the permission or scope this resource needs",
    NotFoundError: "check the configured names and ids, and that the credentials can see them",
    BadRequestError: "the request was rejected as invalid",
    RateLimitedError: "the API's rate limit was reached",
    ServerError: "the API failed on its side",
}


def error_for_status(
    status: int,
    *,
    url: str = "",
    body_excerpt: str = "",
    retry_after: float | None = None,
    api_message: str | None = None,
) -> HTTPStatusError:
    """Build the typed error for an HTTP error ``status``; ``url`` must already be redacted.

    The message ends with ``api_message`` (what the API said, read from its error body) when
    given, else with the body excerpt.

    .. versionchanged:: 0.1
       ``api_message``.

    .. versionadded:: 0.1
    """
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else BadRequestError
    advice = _STATUS_ADVICE[cls]
    where = f" for {url}" if url else ""
    shown = api_message or body_excerpt
    detail = f": {shown}" if shown else ""
    message = f"HTTP {status}{where} ({advice}){detail}"
    if cls is RateLimitedError:
        return RateLimitedError(
            message, status=status, url=url, body_excerpt=body_excerpt, retry_after=retry_after
        )
    return cls(message, status=status, url=url, body_excerpt=body_excerpt)


# --- classification ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ErrorRule:
    """Marks a failure as permanent and says what the user should do about it.

    A rule matches an error when every criterion it sets matches: ``kind`` and ``status``
    compare with the typed error; ``text`` (case-insensitive substring of the error message)
    is the fallback for failures that carry no useful type. A rule with no criterion is
    refused: it would match everything.

    .. versionadded:: 0.1
    """

    message: str
    kind: ErrorKind | None = None
    status: int | None = None
    text: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind is None and self.status is None and not self.text:
            raise ValueError("an ErrorRule needs at least one of kind, status or text")

    def matches(self, error: BaseException) -> bool:
        if self.kind is not None and getattr(error, "kind", None) != self.kind:
            return False
        if self.status is not None and getattr(error, "status", None) != self.status:
            return False
        return not self.text or self.text.casefold() in str(error).casefold()


def classify(error: BaseException, rules: Iterable[ErrorRule]) -> ErrorRule | None:
    """Return the first rule matching ``error`` (rules are tried in order), else ``None``.

    Rules that match on the typed error (kind or status) are tried before rules that match
    on text alone, so a rewording of an API's message cannot override a typed match.

    .. versionadded:: 0.1
    """
    ordered = list(rules)
    typed = [rule for rule in ordered if rule.kind is not None or rule.status is not None]
    textual = [rule for rule in ordered if rule.kind is None and rule.status is None]
    for rule in (*typed, *textual):
        if rule.matches(error):
            return rule
    return None


def user_message(error: BaseException, rules: Iterable[ErrorRule]) -> str:
    """What a user reads when ``error`` ends a schema: the connector's message for it (the
    first rule that matches, see :func:`classify`), then the error's own words.

    .. versionadded:: 0.2
    """
    text = str(error)
    rule = classify(error, rules)
    if rule is None or rule.message in text:
        return text
    return f"{rule.message} ({text})"


# --- redaction ---------------------------------------------------------------------------------

_SECRET_PARAM_WORDS = ("token", "key", "secret", "password", "passwd", "auth", "signature", "sig")


def redact_url(url: str, *, extra_params: Iterable[str] = ()) -> str:
    """Return ``url`` with credentials removed: userinfo and secret-looking query values.

    A query parameter is secret when its name contains one of the usual words (token, key,
    secret, password, auth, signature) or is listed in ``extra_params``.

    .. versionadded:: 0.1
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    extra = {name.casefold() for name in extra_params}
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        redacted = [
            (name, "***" if _is_secret_param(name, extra) else value) for name, value in pairs
        ]
        query = urlencode(redacted, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _is_secret_param(name: str, extra: set[str]) -> bool:
    folded = name.casefold()
    return folded in extra or any(word in folded for word in _SECRET_PARAM_WORDS)
