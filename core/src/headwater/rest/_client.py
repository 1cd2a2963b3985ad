"""The HTTP client every REST connector uses: one place for transport, auth, retries, safety.

:class:`RestClient` sends each request through the :class:`~headwater.Runtime` (its httpx
transport, base-URL override, clock, sleep, request budget, progress sink and logger),
signs it only when it goes to the configured origin, follows redirects itself (so it can
check where they lead), types every failure (:mod:`headwater.errors`), retries what is
transient (:mod:`headwater.rest._retry`) and parses JSON with orjson. It is thread-safe: fan-out
workers share one client, so they share its connection pool, OAuth2 token and rate-limit gate.

.. versionadded:: 0.1
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self

import attrs
import httpx
import orjson

from headwater.errors import (
    ForeignOriginError,
    HTTPStatusError,
    NetworkError,
    RateLimitedError,
    ResponseFormatError,
    error_for_status,
    redact_url,
)
from headwater.rest._auth import Auth, Signer, SigningContext
from headwater.rest._logs import redact_httpx_log
from headwater.rest._oauth2 import request_token
from headwater.rest._origin import ForeignLinks, Origin, origin_of, show_origin
from headwater.rest._query import with_params
from headwater.rest._rate_limit import RateLimitGate, shared_gate
from headwater.rest._retry import RetryPolicy, call_with_retries, server_wait
from headwater.runtime import ProgressEvent, ProgressKind, Runtime
from headwater.secret import REDACTED

__all__ = ["ApiResponse", "ClientConfig", "RestClient"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_EXCERPT_CHARS = 300
# A secret shorter than this is not scrubbed from messages: it would mangle ordinary words.
_MIN_SCRUB = 4
_TRANSIENT_HTTPX = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _headers(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ClientConfig:
    """How to reach one API: a connector declares it once, in its settings.

    ``base_url`` is the API's real base URL; the Runtime may override it (an emulator).
    ``headers`` go on every request (``Accept``, an API version header). ``redact_params``
    names extra query parameters to hide in logs and errors, beyond the usual secret-looking
    names and the auth's own. ``foreign_links`` decides what happens to a next link or
    redirect to another origin (:class:`~headwater.rest.ForeignLinks`). ``error_message``
    reads the API's own explanation from an error body (its first characters, secrets
    already scrubbed), or returns ``None``: the errors of permanent failures (4xx other than
    rate limits) then end with it instead of the raw body, so a user reads ``card_error
    (card_declined): Your card was declined`` rather than a JSON envelope.

    .. versionadded:: 0.1
    """

    base_url: str
    auth: Auth | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_headers)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    timeout: float = 30.0
    connect_timeout: float = 10.0
    foreign_links: ForeignLinks = attrs.field(default=ForeignLinks.REFUSE, converter=ForeignLinks)
    redact_params: tuple[str, ...] = attrs.field(default=(), converter=_names)
    max_redirects: int = 5
    user_agent: str = "headwater/0.1"
    error_message: Callable[[str], str | None] | None = attrs.field(default=None, eq=False)
    """.. versionadded:: 0.1"""


@attrs.frozen(kw_only=True)
class ApiResponse:
    """A successful answer: the httpx response and its parsed JSON ``body``.

    ``no_rows`` is set when the status is one the endpoint declared to mean "nothing here"
    (GitHub's 409 for an empty repository); ``body`` is ``None`` then, and for 204.

    .. versionadded:: 0.1
    """

    response: httpx.Response
    body: Any
    no_rows: bool = False

    @property
    def url(self) -> httpx.URL:
        """The URL that answered (after redirects), as sent but without credentials."""
        return self.response.request.url

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def content(self) -> bytes:
        return self.response.content


class _Label:
    """``"GET https://api.example.com/items?page=2"`` (redacted), made only when shown.

    Every request has one, but it is read only when something goes wrong or is logged;
    redacting a URL per page would cost a few percent of a fast read.
    """

    __slots__ = ("_client", "_method", "_text", "_url")

    def __init__(self, method: str, url: httpx.URL, client: RestClient) -> None:
        self._method = method
        self._url = url
        self._client = client
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = f"{self._method} {self._client.redact(self._url)}"
        return self._text


class RestClient:
    """A thread-safe client for one API, bound to one :class:`~headwater.Runtime`.

    Use it as a context manager, or call :meth:`close`. Paths are relative to the base URL
    (``"/repos/a/b/issues"``); absolute URLs (next links) are checked against its origin.

    .. versionadded:: 0.1
    """

    def __init__(self, config: ClientConfig, runtime: Runtime) -> None:
        self.config = config
        self.runtime = runtime
        self.base_url = runtime.resolve_base_url(config.base_url)
        base = httpx.URL(self.base_url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"the base URL must be an http(s) URL, not {self.base_url!r}")
        self.origin: Origin = origin_of(base)
        self._gate = shared_gate(runtime.budget, self.origin)
        self._http = httpx.Client(
            transport=runtime.transport,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            headers={"User-Agent": config.user_agent, **config.headers},
            follow_redirects=False,  # followed in _attempt, where their origin is checked
        )
        self._signer: Signer | None = None
        if config.auth is not None:
            context = SigningContext(
                request_token=functools.partial(request_token, self), clock=runtime.clock
            )
            self._signer = config.auth.signer(context)
        auth_params = self._signer.query_params if self._signer else frozenset()
        self._auth_params = auth_params
        self._redact_params = frozenset(config.redact_params) | auth_params
        # httpx logs every request URL at INFO: hide this API's key parameters there too.
        redact_httpx_log(self._redact_params)

    # --- public -----------------------------------------------------------------------------

    def url(self, path: str | httpx.URL, params: Mapping[str, str] | None = None) -> httpx.URL:
        """The absolute URL of ``path`` (relative to the base URL, or absolute) with ``params``.

        ``params`` are merged into the query the URL already has, replacing equal names.
        """
        if isinstance(path, httpx.URL):
            url = path
        elif "://" in path:
            url = httpx.URL(path)
        else:
            url = httpx.URL(self.base_url + "/" + path.lstrip("/"))
        return with_params(url, params) if params else url

    def request(
        self,
        method: str,
        path: str | httpx.URL,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        no_rows_statuses: frozenset[int] = frozenset(),
        schema: str | None = None,
    ) -> ApiResponse:
        """Send one request, with retries; return the parsed answer or raise a typed error.

        ``no_rows_statuses`` are statuses answered with ``ApiResponse(no_rows=True)``
        instead of an error. ``schema`` labels progress events.
        """
        target = self.without_credentials(self.url(path, params))
        label = _Label(method, target, self)
        return call_with_retries(
            lambda: self._attempt(method, target, headers, json, no_rows_statuses, label, schema),
            policy=self.config.retry,
            runtime=self.runtime,
            gate=self._gate,
            label=label,
            schema=schema,
        )

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """``GET`` ``path`` and return its JSON body: for credential checks and detail calls."""
        return self.request("GET", path, params=params, headers=headers).body

    def redact(self, url: str | httpx.URL) -> str:
        """``url`` as it may be shown: credentials and secret-looking parameters hidden."""
        return redact_url(str(url), extra_params=self._redact_params)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RestClient {show_origin(self.origin)}>"

    # --- one attempt ------------------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        target: httpx.URL,
        headers: Mapping[str, str] | None,
        json: Any,
        no_rows_statuses: frozenset[int],
        label: object,
        schema: str | None,
    ) -> ApiResponse:
        signed = self._may_sign(target, label)
        redirects = 0
        resigned = False
        while True:
            response = self._send(method, target, headers, json, signed, label, schema)
            status = response.status_code
            location = response.headers.get("location") if status in _REDIRECTS else None
            if location:
                if redirects >= self.config.max_redirects:
                    raise HTTPStatusError(
                        f"{label}: more than {self.config.max_redirects} redirects; check the"
                        " base URL",
                        status=status,
                        url=self.redact(target),
                    )
                redirects += 1
                target = self.without_credentials(target.join(location))
                signed = self._may_sign(target, label)
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, json = "GET", None
                continue
            if status == 401 and signed and not resigned and self._signer is not None:
                # An OAuth2 token can be revoked before it expires: mint a new one, once.
                resigned = self._signer.reject()
                if resigned:
                    continue
            if status in no_rows_statuses:
                return ApiResponse(response=response, body=None, no_rows=True)
            if not 200 <= status < 300:
                raise self._status_error(response, label)
            if status in (204, 205) or method == "HEAD":
                return ApiResponse(response=response, body=None)
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise ResponseFormatError(
                    f"{label}: HTTP {status} with a body that is not JSON"
                    f" ({len(response.content)} bytes, starting {self._excerpt(response)!r});"
                    " the API or a proxy in front of it sent something else"
                ) from None
            return ApiResponse(response=response, body=body)

    def _send(
        self,
        method: str,
        target: httpx.URL,
        headers: Mapping[str, str] | None,
        json: Any,
        signed: bool,
        label: object,
        schema: str | None,
    ) -> httpx.Response:
        runtime = self.runtime
        self._wait_for_gate(self._gate if signed else None, label, schema)
        runtime.budget.acquire(runtime.clock, runtime.sleep)
        request = self._http.build_request(method, target, headers=headers, json=json)
        if signed and self._signer is not None:
            self._signer.sign(request)
        try:
            response = self._http.send(request)
        except _TRANSIENT_HTTPX as error:
            raise NetworkError(
                f"{label}: no complete answer ({type(error).__name__}: {self.scrub(str(error))})"
            ) from error
        except httpx.DecodingError as error:
            raise ResponseFormatError(
                f"{label}: the body could not be decoded ({self.scrub(str(error))})"
            ) from error
        runtime.logger.debug("%s -> %d", label, response.status_code)
        return response

    def _wait_for_gate(self, gate: RateLimitGate | None, label: object, schema: str | None) -> None:
        if gate is None:
            return
        runtime = self.runtime
        remaining = gate.remaining(runtime.clock)
        if remaining <= 0:
            return
        runtime.logger.info("rate limited: waiting %.1f s before %s", remaining, label)
        runtime.progress.emit(
            ProgressEvent(
                kind=ProgressKind.WAIT,
                schema=schema,
                seconds=remaining,
                detail=f"rate limited: waiting before {label}",
            )
        )
        gate.wait(runtime.clock, runtime.sleep)

    def post_form(
        self, url: httpx.URL, form: Mapping[str, str], headers: Mapping[str, str], label: object
    ) -> httpx.Response:
        """One unsigned ``POST`` of ``form`` to ``url``, not retried: for token endpoints.

        It waits for the rate-limit gate of ``url``'s origin and takes a share of the request
        budget like every request; a timeout or reset raises
        :class:`~headwater.errors.NetworkError` (without the error's text, which could quote
        the form).

        .. versionadded:: 0.2
        """
        runtime = self.runtime
        self._wait_for_gate(shared_gate(runtime.budget, origin_of(url)), label, None)
        runtime.budget.acquire(runtime.clock, runtime.sleep)
        try:
            return self._http.post(url, data=dict(form), headers=dict(headers))
        except _TRANSIENT_HTTPX as error:
            raise NetworkError(f"{label}: no complete answer ({type(error).__name__})") from error

    # --- safety -----------------------------------------------------------------------------

    def _may_sign(self, target: httpx.URL, label: object) -> bool:
        """``True`` to sign a request to ``target``; raises if it must not be sent at all."""
        origin = origin_of(target)
        if origin == self.origin:
            return True
        shown = self.redact(target)
        if self.config.foreign_links is ForeignLinks.FOLLOW_WITHOUT_CREDENTIALS:
            self.runtime.logger.info("following %s without credentials", shown)
            return False
        # The advice for the connector's author goes to the log; the error is for the user.
        self.runtime.logger.debug(
            "%s: if the API documents links to %s, the connector may follow them without"
            " credentials: ClientConfig(foreign_links=ForeignLinks.FOLLOW_WITHOUT_CREDENTIALS)",
            label,
            show_origin(origin),
        )
        raise ForeignOriginError(
            f"{label}: the API sent a link to another host ({shown}, on {show_origin(origin)});"
            f" the connector sends credentials only to {show_origin(self.origin)}, so it refused"
            " to follow it. Nothing was sent there. Tell the connector's author: the API may"
            " have moved its pages",
            url=shown,
        )

    def without_credentials(self, url: httpx.URL) -> httpx.URL:
        """``url`` without the auth's query parameters (an API may echo a key into its links).

        The signer adds the key back to requests for this origin; it must travel nowhere
        else, and must not be stored in resume state.
        """
        for name in self._auth_params:
            if name in url.params:
                url = url.copy_remove_param(name)
        return url

    def scrub(self, text: str) -> str:
        """``text`` with every secret of the auth (at least 4 characters) replaced by ``***``.

        .. versionadded:: 0.2
        """
        if self._signer is None:
            return text
        for secret in self._signer.secrets():
            if len(secret) >= _MIN_SCRUB:
                text = text.replace(secret, REDACTED)
        return text

    def _excerpt(self, response: httpx.Response) -> str:
        text = response.content[: _EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
        return self.scrub(" ".join(text.split())[:_EXCERPT_CHARS])

    def _status_error(self, response: httpx.Response, label: object) -> HTTPStatusError:
        status = response.status_code
        policy = self.config.retry
        url = self.redact(self.without_credentials(response.request.url))
        excerpt = self._excerpt(response)
        wait = server_wait(response, policy, self.runtime.clock.now())
        if status == 429 or (status == 403 and policy.rate_limit_403(response)):
            detail = f": {excerpt}" if excerpt else ""
            return RateLimitedError(
                f"HTTP {status} for {url} (the API's rate limit was reached){detail}",
                status=status,
                url=url,
                body_excerpt=excerpt,
                retry_after=wait,
            )
        said = self._api_message(excerpt) if status < 500 else None
        error = error_for_status(
            status, url=url, body_excerpt=excerpt, retry_after=wait, api_message=said
        )
        error.retry_after = wait
        return error

    def _api_message(self, excerpt: str) -> str | None:
        read = self.config.error_message
        if read is None or not excerpt:
            return None
        try:
            said = read(excerpt)
        except Exception:
            # A reader that fails on an odd body must not hide the error it was to explain.
            self.runtime.logger.debug("error_message could not read %r", excerpt, exc_info=True)
            return None
        return self.scrub(" ".join(said.split())) if said else None
