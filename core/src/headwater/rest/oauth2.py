"""OAuth2 access tokens: minted lazily, reused, refreshed before they expire.

Two grants cover the APIs we read from: client credentials (a machine identity) and refresh
token (a user connected an account once). The token is minted on the first request, not when
the client is built, so a client that never sends anything costs nothing; it is refreshed
``refresh_margin`` seconds before its ``expires_in`` runs out, and once more if the API still
answers 401 (tokens get revoked early). Fan-out threads share one signer, so one token.

A token endpoint that refuses (``invalid_client``, ``invalid_grant``...) raises
:class:`~headwater.errors.TokenEndpointError`, a configuration error: the user must reconnect
or fix the client credentials, and retrying would not help.

.. versionadded:: 0.1
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from headwater.errors import TokenEndpointError
from headwater.rest.auth import Auth, Signer, SigningContext
from headwater.secret import Secret

if TYPE_CHECKING:
    import httpx

__all__ = ["OAuth2ClientCredentials", "OAuth2RefreshToken"]

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
