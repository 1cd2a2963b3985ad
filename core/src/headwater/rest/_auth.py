"""How a request proves who sends it: bearer tokens, API keys, HTTP basic.

A connector declares its auth by the config fields that hold the credentials
(``BearerAuth.from_config("token")``, an :class:`AuthFrom`); the source builds the auth from
each config.

An :class:`Auth` is a declaration (frozen, safe to share and to print). The client turns it
into a :class:`Signer` once, and the signer adds the credentials to each request that goes to
the configured origin; requests elsewhere are never signed. Static credentials are their own
signer; OAuth2 (:mod:`headwater.rest._oauth2`) mints tokens and so needs a stateful one.

Every secret is a :class:`~headwater.Secret`, so reprs show ``***``; signers also list their
secret values (:meth:`Signer.secrets`) so the client can scrub them from error messages, in
case an API echoes a key back in an error body.

.. versionadded:: 0.1
"""

from __future__ import annotations

import abc
import base64
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from headwater.rest._query import with_params
from headwater.secret import Secret

if TYPE_CHECKING:
    import httpx

    from headwater.runtime import Clock

__all__ = [
    "ApiKeyAuth",
    "Auth",
    "AuthFrom",
    "BasicAuth",
    "BearerAuth",
    "Signer",
    "SigningContext",
    "TokenRequester",
    "basic_authorization",
]

TokenRequester = Callable[[str, Mapping[str, str], "tuple[str, Secret] | None"], Mapping[str, Any]]
"""Posts a form to a token endpoint and returns its JSON answer; the client provides it.

Arguments: the token URL (absolute, or relative to the API's base URL), the form fields, and
the HTTP basic credentials for the endpoint (``None``: none). Raises
:class:`~headwater.errors.TokenEndpointError` when the endpoint refuses.

.. versionadded:: 0.1
"""


@attrs.frozen(kw_only=True)
class SigningContext:
    """What a signer may use besides its credentials: the client's token endpoint access
    and the runtime's clock (token expiry is measured on it, so tests can move time).

    .. versionadded:: 0.1
    """

    request_token: TokenRequester
    clock: Clock


class Signer(abc.ABC):
    """Adds credentials to requests bound for the configured origin. Must be thread-safe.

    .. versionadded:: 0.1
    """

    @abc.abstractmethod
    def sign(self, request: httpx.Request) -> None:
        """Add the credentials to ``request`` in place (a header, or a query parameter)."""

    @property
    def query_params(self) -> frozenset[str]:
        """Query parameters that carry credentials: stripped from URLs the API hands out,
        redacted wherever a URL is shown."""
        return frozenset()

    def secrets(self) -> tuple[str, ...]:
        """The secret values this signer sends, to scrub from error messages."""
        return ()

    def reject(self) -> bool:
        """The API answered 401: drop cached credentials. ``True`` if signing again may help."""
        return False


class Auth(abc.ABC):
    """A way to authenticate, as declared in a connector's settings.

    .. versionadded:: 0.1
    """

    @abc.abstractmethod
    def signer(self, context: SigningContext) -> Signer:
        """The signer for one client. Called once per client, before its first request."""


def _names(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _options(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True)
class AuthFrom:
    """An :class:`Auth` declared by the config fields that hold its credentials.

    A connector's source says *which* fields carry the secret, and the host builds the auth
    for each config: ``BearerAuth.from_config("token")`` is
    ``BearerAuth(token=config.token)``. ``fields`` maps each argument of ``kind`` to the
    config field holding it; ``options`` are the fixed arguments (a header name, a prefix).

    .. versionadded:: 0.2
    """

    kind: Callable[..., Auth]
    fields: Mapping[str, str] = attrs.field(converter=_names)
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_options)

    @property
    def config_fields(self) -> frozenset[str]:
        """The names of the config fields this auth reads."""
        return frozenset(self.fields.values())

    def build(self, config: object) -> Auth:
        """The auth for ``config``: each argument read from its config field."""
        values = {argument: getattr(config, field) for argument, field in self.fields.items()}
        return self.kind(**values, **self.options)


class _StaticAuth(Auth, Signer):
    """Credentials that never change: the declaration signs requests itself."""

    def signer(self, context: SigningContext) -> Signer:
        return self


@attrs.frozen(kw_only=True)
class BearerAuth(_StaticAuth):
    """``Authorization: Bearer <token>``: personal access tokens, API tokens, fixed OAuth tokens.

    .. versionadded:: 0.1
    """

    token: Secret
    scheme: str = "Bearer"

    @classmethod
    def from_config(cls, token: str, *, scheme: str = "Bearer") -> AuthFrom:
        """The bearer token held by config field ``token``.

        .. versionadded:: 0.2
        """
        return AuthFrom(kind=cls, fields={"token": token}, options={"scheme": scheme})

    def sign(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"{self.scheme} {self.token.reveal()}"

    def secrets(self) -> tuple[str, ...]:
        return (self.token.reveal(),)


@attrs.frozen(kw_only=True)
class ApiKeyAuth(_StaticAuth):
    """An API key in a header of any name, or in a query parameter.

    ``ApiKeyAuth(key=k, name="X-Api-Key")`` sends ``X-Api-Key: <key>``;
    ``ApiKeyAuth(key=k, name="Authorization", prefix="Klaviyo-API-Key ")`` sends Klaviyo's
    ``Authorization: Klaviyo-API-Key <key>``; ``location="query"`` sends ``?<name>=<key>``
    (the parameter is then redacted in every URL shown, whatever its name).

    .. versionadded:: 0.1
    """

    key: Secret
    name: str
    location: Literal["header", "query"] = "header"
    prefix: str = ""

    @classmethod
    def from_config(
        cls,
        key: str,
        *,
        name: str,
        location: Literal["header", "query"] = "header",
        prefix: str = "",
    ) -> AuthFrom:
        """The API key held by config field ``key``, sent as ``name`` in the header or query.

        The options are checked here, when the connector is declared, not at the first sync.

        .. versionadded:: 0.2
        """
        # Built once with an empty key: raises ValueError for options that cannot work.
        cls(key=Secret(""), name=name, location=location, prefix=prefix)
        options = {"name": name, "location": location, "prefix": prefix}
        return AuthFrom(kind=cls, fields={"key": key}, options=options)

    def __attrs_post_init__(self) -> None:
        if self.location not in ("header", "query"):
            raise ValueError(f"location must be 'header' or 'query', not {self.location!r}")
        if not self.name:
            raise ValueError("an API key needs the name of its header or query parameter")

    def sign(self, request: httpx.Request) -> None:
        value = self.prefix + self.key.reveal()
        if self.location == "header":
            request.headers[self.name] = value
        else:
            request.url = with_params(request.url, {self.name: value})

    @property
    def query_params(self) -> frozenset[str]:
        return frozenset({self.name}) if self.location == "query" else frozenset()

    def secrets(self) -> tuple[str, ...]:
        return (self.key.reveal(),)


def _empty_secret() -> Secret:
    return Secret("")


@attrs.frozen(kw_only=True)
class BasicAuth(_StaticAuth):
    """HTTP basic authentication.

    Some APIs (Stripe, for one) take the API key as the user name and an empty password: pass
    the key as a :class:`~headwater.Secret` user name then, so it is treated as one.

    .. versionadded:: 0.1
    """

    username: str | Secret
    password: Secret = attrs.field(factory=_empty_secret)

    @classmethod
    def from_config(cls, username: str, password: str | None = None) -> AuthFrom:
        """HTTP basic credentials from config fields ``username`` and ``password``.

        Without ``password``, the password is empty (an API key sent as the user name).

        .. versionadded:: 0.2
        """
        fields = {"username": username}
        if password is not None:
            fields["password"] = password
        return AuthFrom(kind=cls, fields=fields)

    def sign(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = basic_authorization(self.username, self.password)

    def secrets(self) -> tuple[str, ...]:
        values = [self.password.reveal(), basic_authorization(self.username, self.password)]
        if isinstance(self.username, Secret):
            values.append(self.username.reveal())
        return tuple(values)


def basic_authorization(username: str | Secret, password: Secret) -> str:
    """The ``Authorization`` header value for HTTP basic credentials.

    .. versionadded:: 0.1
    """
    user = username.reveal() if isinstance(username, Secret) else username
    pair = f"{user}:{password.reveal()}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
