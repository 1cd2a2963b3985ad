"""Who may use the page: the Host check, the access token and CSRF tokens.

- **Host check.** Bound to a loopback address, the page answers only requests whose ``Host``
  names a loopback address. A web page elsewhere cannot then reach it through a domain that
  resolves to 127.0.0.1 (DNS rebinding) and read the answers.
- **Access token.** Bound to any other address, every request must carry the token printed
  at start-up: once as ``?token=...`` in the printed link, which sets an ``HttpOnly``,
  ``SameSite=Strict`` cookie and redirects to the same page without it, or as
  ``Authorization: Bearer ...``.
- **CSRF.** Every state-changing request (each ``POST``) must carry the page's CSRF token, as
  the ``_csrf`` form field or the ``X-CSRF-Token`` header, and an ``Origin`` header, when
  the browser sends one, naming this very server. Another site's page can neither read the
  token nor forge the origin.

Tokens are compared in constant time.

.. versionadded:: 0.2
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

__all__ = [
    "ACCESS_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "Guard",
    "is_loopback",
]

ACCESS_COOKIE = "headwater_access"
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"
_LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is loopback."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@attrs.frozen(kw_only=True)
class Guard:
    """The tokens of one server process and the checks that use them.

    ``access_token`` is ``None`` when the server is bound to loopback (the Host check
    protects it instead).
    """

    bind_host: str
    port: int
    csrf_token: str = attrs.field(factory=lambda: secrets.token_urlsafe(32))
    access_token: str | None = None

    @classmethod
    def for_bind(cls, bind_host: str, port: int) -> Guard:
        token = None if is_loopback(bind_host) else secrets.token_urlsafe(24)
        return cls(bind_host=bind_host, port=port, access_token=token)

    @property
    def needs_access_token(self) -> bool:
        return self.access_token is not None

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether the ``Host`` header is acceptable (always, behind an access token)."""
        if self.needs_access_token:
            return True
        if not host_header:
            return False
        try:
            name = urlsplit("//" + host_header).hostname
        except ValueError:
            return False
        return name is not None and is_loopback(name)

    def access_granted(
        self, *, query_token: str | None, cookies: Mapping[str, str], authorization: str | None
    ) -> bool:
        if self.access_token is None:
            return True
        bearer = None
        if authorization and authorization.lower().startswith("bearer "):
            bearer = authorization[7:].strip()
        return any(
            _same(candidate, self.access_token)
            for candidate in (query_token, cookies.get(ACCESS_COOKIE), bearer)
        )

    def csrf_ok(
        self, *, submitted: str | None, origin: str | None, host_header: str | None
    ) -> bool:
        """Whether a state-changing request carries the CSRF token and comes from this page."""
        if not _same(submitted, self.csrf_token):
            return False
        if origin is None:
            return True  # not every client sends one; the token alone decides then
        try:
            netloc = urlsplit(origin).netloc
        except ValueError:
            return False
        return bool(host_header) and netloc == host_header
