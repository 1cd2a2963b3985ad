"""OAuth2: tokens minted lazily, reused, refreshed before expiry; token endpoint refusals."""

from __future__ import annotations

import base64
import threading
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import pytest

from headwater import ErrorKind, ManualClock, Runtime, Secret
from headwater.emulator import Emulator, StatusFailure, emulator_transport, json_response
from headwater.errors import AuthenticationError, ServerError, TokenEndpointError
from headwater.rest import (
    ClientConfig,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
    RestClient,
    RetryPolicy,
)

if TYPE_CHECKING:
    import httpx

BASE = "https://api.example.com"
CLIENT_SECRET = "client-secret-value"
REFRESH = "refresh-token-value"


class OAuthApi(Emulator):
    """A token endpoint (RFC 6749) and one API endpoint that wants a live bearer token."""

    def __init__(self, *, expires_in: int | None = 3600, rotate: bool = False) -> None:
        super().__init__()
        self.expires_in = expires_in
        self.rotate = rotate
        self.issued: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.revoked: set[str] = set()
        self.refresh_token = REFRESH
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return self._token(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return json_response(401, {"message": "invalid token"})
        return json_response(200, {"data": [{"id": 1}], "token": token})

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            user, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            form.update(basic_user=user, basic_password=password)
        with self._lock:
            self.forms.append(form)
            secret = form.get("client_secret") or form.get("basic_password")
            if secret != CLIENT_SECRET:
                return json_response(
                    401, {"error": "invalid_client", "error_description": "unknown client"}
                )
            if form["grant_type"] == "refresh_token" and form["refresh_token"] != (
                self.refresh_token
            ):
                return json_response(
                    400, {"error": "invalid_grant", "error_description": "token revoked"}
                )
            token = f"access-{len(self.issued) + 1}"
            self.issued.append(token)
            answer: dict[str, object] = {"access_token": token, "token_type": "Bearer"}
            if self.expires_in is not None:
                answer["expires_in"] = self.expires_in
            if self.rotate:
                self.refresh_token = f"refresh-{len(self.issued)}"
                answer["refresh_token"] = self.refresh_token
        return json_response(200, answer)


def client_credentials(**overrides) -> OAuth2ClientCredentials:
    fields = {
        "token_url": "/oauth/token",
        "client_id": "my-client",
        "client_secret": Secret(CLIENT_SECRET),
        "scopes": ["read:items"],
    }
    fields.update(overrides)
    return OAuth2ClientCredentials(**fields)


def make(api: OAuthApi, auth, *, retry: RetryPolicy | None = None):
    clock = ManualClock()
    runtime = Runtime(transport=emulator_transport(api), clock=clock, sleep=clock.sleep)
    config = ClientConfig(
        base_url=BASE, auth=auth, retry=retry or RetryPolicy(wait_initial=1, full_jitter=False)
    )
    return RestClient(config, runtime), clock


def test_the_token_is_minted_lazily_and_reused():
    api = OAuthApi()
    client, _ = make(api, client_credentials())

    assert api.issued == []
    tokens = [client.get_json("/items")["token"] for _ in range(3)]

    assert tokens == ["access-1"] * 3
    assert api.forms == [
        {
            "grant_type": "client_credentials",
            "scope": "read:items",
            "basic_user": "my-client",
            "basic_password": CLIENT_SECRET,
        }
    ]


def test_client_secret_post_sends_the_credentials_as_form_fields():
    api = OAuthApi()
    client, _ = make(api, client_credentials(client_auth="post", extra={"audience": "api"}))

    client.get_json("/items")

    assert api.forms[0] == {
        "grant_type": "client_credentials",
        "audience": "api",
        "scope": "read:items",
        "client_id": "my-client",
        "client_secret": CLIENT_SECRET,
    }


def test_the_token_is_refreshed_before_it_expires():
    api = OAuthApi(expires_in=600)
    client, clock = make(api, client_credentials(refresh_margin=60))

    client.get_json("/items")
    clock.advance(530)
    assert client.get_json("/items")["token"] == "access-1"
    clock.advance(15)  # 545 s: within the 60 s margin of its 600 s life
    assert client.get_json("/items")["token"] == "access-2"


def test_a_revoked_token_is_replaced_once_on_401():
    api = OAuthApi(expires_in=None)
    client, _ = make(api, client_credentials())
    client.get_json("/items")
    api.revoked.add("access-1")

    assert client.get_json("/items")["token"] == "access-2"


def test_a_401_with_a_fresh_token_is_an_authentication_error():
    api = OAuthApi()
    api.inject(StatusFailure(status=401, json={"message": "no access"}), times=2, path="/items")
    client, _ = make(api, client_credentials())

    with pytest.raises(AuthenticationError):
        client.get_json("/items")
    assert len(api.issued) == 2


def test_refresh_token_grant_and_rotation():
    api = OAuthApi(rotate=True, expires_in=100)
    rotated: list[Secret] = []
    auth = OAuth2RefreshToken(
        token_url=f"{BASE}/oauth/token",
        client_id="my-client",
        client_secret=Secret(CLIENT_SECRET),
        refresh_token=Secret(REFRESH),
        on_rotate=rotated.append,
    )
    client, clock = make(api, auth)

    client.get_json("/items")
    clock.advance(100)
    client.get_json("/items")

    assert [form["refresh_token"] for form in api.forms] == [REFRESH, "refresh-1"]
    assert rotated == [Secret("refresh-1"), Secret("refresh-2")]


@pytest.mark.parametrize(
    ("auth", "oauth_error", "status"),
    [
        (client_credentials(client_secret=Secret("wrong-secret")), "invalid_client", 401),
        (
            OAuth2RefreshToken(
                token_url="/oauth/token",
                client_id="my-client",
                client_secret=Secret(CLIENT_SECRET),
                refresh_token=Secret("revoked-refresh"),
            ),
            "invalid_grant",
            400,
        ),
    ],
    ids=["wrong-client-secret", "revoked-refresh-token"],
)
def test_a_refusing_token_endpoint_is_a_configuration_error(auth, oauth_error, status):
    api = OAuthApi()
    client, _ = make(api, auth)

    with pytest.raises(TokenEndpointError) as caught:
        client.get_json("/items")

    error = caught.value
    assert error.kind is ErrorKind.CONFIGURATION
    assert error.oauth_error == oauth_error
    assert error.status == status
    assert oauth_error in str(error)
    assert len(api.forms) == 1  # not retried
    for secret in (CLIENT_SECRET, "wrong-secret", "revoked-refresh"):
        assert secret not in str(error)


@pytest.mark.parametrize(
    "answer",
    [{"token_type": "bearer"}, {"access_token": "x", "token_type": "mac"}],
    ids=["no-access-token", "not-bearer"],
)
def test_an_unusable_token_answer_is_a_configuration_error(answer):
    api = OAuthApi()
    api.inject(StatusFailure(status=200, json=answer), path="/oauth/token")
    client, _ = make(api, client_credentials())

    with pytest.raises(TokenEndpointError):
        client.get_json("/items")


def test_a_flaky_token_endpoint_is_retried():
    api = OAuthApi()
    api.inject(StatusFailure(status=503), path="/oauth/token")
    client, clock = make(api, client_credentials())

    assert client.get_json("/items")["token"] == "access-1"
    assert clock.slept == [1.0]


def test_a_token_endpoint_that_stays_down_is_transient_not_configuration():
    api = OAuthApi()
    api.inject(StatusFailure(status=503), times=10, path="/oauth/token")
    client, _ = make(
        api, client_credentials(), retry=RetryPolicy(attempts=2, wait_initial=1, full_jitter=False)
    )

    with pytest.raises(ServerError, match="OAuth2 token endpoint") as caught:
        client.get_json("/items")
    assert caught.value.kind is ErrorKind.TRANSIENT


def test_fan_out_threads_share_one_token():
    api = OAuthApi()
    client, _ = make(api, client_credentials())

    threads = [threading.Thread(target=client.get_json, args=("/items",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert api.issued == ["access-1"]


def test_oauth_secrets_stay_out_of_reprs():
    auth = OAuth2RefreshToken(
        token_url="/t",
        client_id="c",
        client_secret=Secret(CLIENT_SECRET),
        refresh_token=Secret(REFRESH),
    )
    client, _ = make(OAuthApi(), auth)
    for text in (repr(auth), repr(client), repr(client.config)):
        assert CLIENT_SECRET not in text
        assert REFRESH not in text
