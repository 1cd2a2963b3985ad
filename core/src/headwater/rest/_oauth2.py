"""OAuth2 access tokens: minted lazily, reused, refreshed before they expire.

Two grants cover the APIs we read from: client credentials (a machine identity) and refresh
token (a user connected an account once). The token is minted on the first request, not when
the client is built, so a client that never sends anything costs nothing; it is refreshed
``refresh_margin`` seconds before its ``expires_in`` runs out, and once more if the API still
answers 401 (tokens get revoked early). Fan-out threads share one signer, so one token.

Tokens are requested through the API's :class:`~headwater.rest.RestClient`
(:func:`request_token`): the same connection pool, request budget and rate-limit gate, and the
same retries for 429, 5xx and network errors. A token endpoint that refuses
(``invalid_client``, ``invalid_grant``...) raises :class:`~headwater.errors.TokenEndpointError`,
a configuration error: the user must reconnect or fix the client credentials, and retrying
would not help. A token endpoint's body is never quoted in an error, only its OAuth2 error
code and description (secrets scrubbed): a cut-off token response is still a token.

.. versionadded:: 0.1
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs
import orjson

from headwater.errors import ResponseFormatError, TokenEndpointError, error_for_status
from headwater.rest._auth import Auth, Signer, SigningContext, basic_authorization
from headwater.rest._origin import origin_of
from headwater.rest._rate_limit import shared_gate
from headwater.rest._retry import call_with_retries, server_wait
from headwater.secret import Secret

if TYPE_CHECKING:
    import httpx

    from headwater.rest._client import RestClient

__all__ = ["OAuth2ClientCredentials", "OAuth2RefreshToken", "request_token"]

_DESCRIPTION_CHARS = 300

ClientAuthentication = Literal["basic", "post"]


def _scopes(value: Any) -> tuple[str, ...]:
    return tuple(value)


def _mapping(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


@attrs.frozen(kw_only=True)
class OAuth2ClientCredentials(Auth):
    """The client-credentials grant (RFC 6749 section 4.4).

    ``client_auth="basic"`` sends the client id and secret as HTTP basic credentials, which
    RFC 6749 section 2.3.1 requires every server to accept; ``"post"`` sends them as form
    fields, for servers that only take those. ``extra`` adds form fields (``audience``).
    ``token_url`` may be relative to the API's base URL.

    .. versionadded:: 0.1
    """

    token_url: str
    client_id: str
    client_secret: Secret
    scopes: tuple[str, ...] = attrs.field(default=(), converter=_scopes)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_mapping)
    client_auth: ClientAuthentication = "basic"
    refresh_margin: float = 60.0

    def signer(self, context: SigningContext) -> Signer:
        def form() -> dict[str, str]:
            fields = {"grant_type": "client_credentials", **self.extra}
            if self.scopes:
                fields["scope"] = " ".join(self.scopes)
            return fields

        return _TokenSigner(
            context=context,
            token_url=self.token_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            client_auth=self.client_auth,
            refresh_margin=self.refresh_margin,
            form=form,
            refresh_token=None,
            on_rotate=None,
        )


@attrs.frozen(kw_only=True)
class OAuth2RefreshToken(Auth):
    """The refresh-token grant (RFC 6749 section 6): exchange a stored refresh token.

    Providers that rotate refresh tokens send a new one with each access token; the signer
    uses it from then on and calls ``on_rotate`` with it, so the host can store it (the old
    one no longer works). ``client_secret`` is ``None`` for public clients.

    .. versionadded:: 0.1
    """

    token_url: str
    client_id: str
    refresh_token: Secret
    client_secret: Secret | None = None
    scopes: tuple[str, ...] = attrs.field(default=(), converter=_scopes)
    client_auth: ClientAuthentication = "basic"
    refresh_margin: float = 60.0
    on_rotate: Callable[[Secret], None] | None = attrs.field(default=None, eq=False)

    def signer(self, context: SigningContext) -> Signer:
        def form() -> dict[str, str]:
            fields = {"grant_type": "refresh_token"}
            if self.scopes:
                fields["scope"] = " ".join(self.scopes)
            return fields

        return _TokenSigner(
            context=context,
            token_url=self.token_url,
            client_id=self.client_id,
            client_secret=self.client_secret,
            client_auth=self.client_auth,
            refresh_margin=self.refresh_margin,
            form=form,
            refresh_token=self.refresh_token,
            on_rotate=self.on_rotate,
        )


class _TokenSigner(Signer):
    """Holds the current access token; mints one when there is none or it is about to expire."""

    def __init__(
        self,
        *,
        context: SigningContext,
        token_url: str,
        client_id: str,
        client_secret: Secret | None,
        client_auth: ClientAuthentication,
        refresh_margin: float,
        form: Callable[[], dict[str, str]],
        refresh_token: Secret | None,
        on_rotate: Callable[[Secret], None] | None,
    ) -> None:
        if client_auth not in ("basic", "post"):
            raise ValueError(f"client_auth must be 'basic' or 'post', not {client_auth!r}")
        self._context = context
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._client_auth = client_auth
        self._margin = refresh_margin
        self._form = form
        self._refresh_token = refresh_token
        self._on_rotate = on_rotate
        # One lock: fan-out threads that find the token expired wait for one refresh.
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at: float | None = None

    def sign(self, request: httpx.Request) -> None:
        with self._lock:
            token = self._current()
        request.headers["Authorization"] = f"Bearer {token.reveal()}"

    def reject(self) -> bool:
        with self._lock:
            self._token = None
        return True

    def secrets(self) -> tuple[str, ...]:
        values = [
            secret.reveal() for secret in (self._client_secret, self._refresh_token) if secret
        ]
        token = self._token
        if token is not None:
            values.append(token.reveal())
        return tuple(values)

    def _current(self) -> Secret:
        # Called with the lock held.
        clock = self._context.clock
        expired = self._expires_at is not None and clock.monotonic() >= self._expires_at
        if self._token is None or expired:
            self._mint()
        assert self._token is not None
        return self._token

    def _mint(self) -> None:
        form = self._form()
        basic: tuple[str, Secret] | None = None
        if self._refresh_token is not None:
            form["refresh_token"] = self._refresh_token.reveal()
        if self._client_auth == "basic" and self._client_secret is not None:
            basic = (self._client_id, self._client_secret)
        else:
            form["client_id"] = self._client_id
            if self._client_secret is not None:
                form["client_secret"] = self._client_secret.reveal()
        started = self._context.clock.monotonic()
        answer = self._context.request_token(self._token_url, form, basic)
        self._token, self._expires_at = self._read_answer(answer, started)

    def _read_answer(
        self, answer: Mapping[str, Any], started: float
    ) -> tuple[Secret, float | None]:
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenEndpointError(
                "the OAuth2 token endpoint answered without an access_token; check the token"
                " URL and that the client is allowed this grant type"
            )
        token_type = answer.get("token_type", "bearer")
        if not isinstance(token_type, str) or token_type.casefold() != "bearer":
            raise TokenEndpointError(
                f"the OAuth2 token endpoint issued a {token_type!r} token; only bearer tokens"
                " are supported"
            )
        rotated = answer.get("refresh_token")
        if self._refresh_token is not None and isinstance(rotated, str) and rotated:
            new = Secret(rotated)
            if new != self._refresh_token:
                self._refresh_token = new
                if self._on_rotate is not None:
                    self._on_rotate(new)
        lifetime = _seconds(answer.get("expires_in"))
        # Measured from when the request started, so a slow token endpoint errs on the early
        # side. A token shorter-lived than twice the margin is renewed at half its life rather
        # than before every request. Without expires_in it is used until the API answers 401.
        if lifetime is None:
            return Secret(token), None
        return Secret(token), started + max(lifetime - self._margin, lifetime / 2)

    def __repr__(self) -> str:
        return f"<OAuth2 signer for client {self._client_id!r} at {self._token_url!r}>"


def _seconds(value: Any) -> float | None:
    # RFC 6749 says a number; some servers send it as a string.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def request_token(
    client: RestClient, token_url: str, form: Mapping[str, str], basic: tuple[str, Secret] | None
) -> Mapping[str, Any]:
    """Ask ``token_url`` for a token through ``client``; return the endpoint's JSON answer.

    This is the :class:`~headwater.rest._auth.TokenRequester` a :class:`~headwater.rest.RestClient`
    gives its signer. ``token_url`` may be relative to the client's base URL; ``basic`` (client
    id and secret) goes in an ``Authorization: Basic`` header, else the form carries them.
    429, 5xx and network errors are retried under the client's :class:`RetryPolicy
    <headwater.rest.RetryPolicy>`.

    :raises TokenEndpointError: when the endpoint refuses to issue a token.

    .. versionadded:: 0.2
    """
    url = client.url(token_url)
    label = f"POST {client.redact(url)} (OAuth2 token endpoint)"
    headers = {"Accept": "application/json"}
    if basic is not None:
        headers["Authorization"] = basic_authorization(*basic)

    def attempt() -> Mapping[str, Any]:
        return _token_answer(client, client.post_form(url, form, headers, label), label)

    return call_with_retries(
        attempt,
        policy=client.config.retry,
        runtime=client.runtime,
        gate=shared_gate(client.runtime.budget, origin_of(url)),
        label=label,
    )


def _token_answer(client: RestClient, response: httpx.Response, label: str) -> Mapping[str, Any]:
    status = response.status_code
    if status == 429 or status >= 500:
        # Transient: retried, and never described from the body (it is the token's body).
        wait = server_wait(response, client.config.retry, client.runtime.clock.now())
        error = error_for_status(status, url=client.redact(response.request.url))
        error.retry_after = wait
        raise error
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        answer = None
    if 200 <= status < 300:
        if not isinstance(answer, dict):
            # Never quote the body: a cut-off token response is still a token.
            raise ResponseFormatError(f"{label}: HTTP {status} with a body that is not JSON")
        return answer
    code = answer.get("error") if isinstance(answer, dict) else None
    description = answer.get("error_description") if isinstance(answer, dict) else None
    reason = f" {code}" if isinstance(code, str) else ""
    if isinstance(description, str):
        reason += f" ({client.scrub(description[:_DESCRIPTION_CHARS])})"
    raise TokenEndpointError(
        f"{label} refused to issue a token: HTTP {status}{reason}. Check the OAuth2 client"
        " id and secret, the scopes, and that the refresh token (if any) is still valid;"
        " reconnecting the account issues a new one",
        status=status,
        oauth_error=code if isinstance(code, str) else None,
    )
