"""The client: auth kinds, where credentials may go, redirects, and keeping secrets out of sight."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from headwater import ManualClock, Runtime, Secret
from headwater.emulator import EmulatorServer, emulator_transport, json_response
from headwater.errors import (
    AuthenticationError,
    ErrorKind,
    ForeignOriginError,
    HTTPStatusError,
    NotFoundError,
)
from headwater.rest import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    ClientConfig,
    ForeignLinks,
    RestClient,
    RetryPolicy,
)

BASE = "https://api.example.com"
KEY = "sk_live_0123456789"


def echo(request: httpx.Request) -> httpx.Response:
    """Answers with what it received, so tests can see the credentials as sent."""
    return json_response(
        200,
        {
            "url": str(request.url),
            "authorization": request.headers.get("authorization"),
            "headers": dict(request.headers),
        },
    )


def client_for(handler, **config) -> RestClient:
    clock = ManualClock()
    runtime = Runtime(transport=emulator_transport(handler), clock=clock, sleep=clock.sleep)
    return RestClient(ClientConfig(base_url=BASE, **config), runtime)


@pytest.mark.parametrize(
    ("auth", "header", "value"),
    [
        (BearerAuth(token=Secret(KEY)), "authorization", f"Bearer {KEY}"),
        (ApiKeyAuth(key=Secret(KEY), name="X-Api-Key"), "x-api-key", KEY),
        (
            ApiKeyAuth(key=Secret(KEY), name="Authorization", prefix="Klaviyo-API-Key "),
            "authorization",
            f"Klaviyo-API-Key {KEY}",
        ),
        (
            BasicAuth(username="me", password=Secret(KEY)),
            "authorization",
            "Basic " + base64.b64encode(f"me:{KEY}".encode()).decode(),
        ),
        (
            BasicAuth(username=Secret(KEY)),
            "authorization",
            "Basic " + base64.b64encode(f"{KEY}:".encode()).decode(),
        ),
    ],
    ids=["bearer", "api-key-header", "klaviyo", "basic", "basic-key-as-user"],
)
def test_header_auth_kinds(auth, header, value):
    body = client_for(echo, auth=auth).get_json("/me")

    assert body["headers"][header] == value


def test_api_key_in_the_query():
    client = client_for(echo, auth=ApiKeyAuth(key=Secret(KEY), name="hapikey", location="query"))

    body = client.get_json("/me", params={"limit": "5"})

    assert body["url"] == f"{BASE}/me?limit=5&hapikey={KEY}"
    # Its name does not look secret, but it is the auth's parameter: always redacted.
    assert client.redact(body["url"]) == f"{BASE}/me?limit=5&hapikey=***"


def test_configured_headers_and_user_agent_go_on_every_request():
    client = client_for(echo, headers={"Accept": "application/vnd.github+json"})

    headers = client.get_json("/me")["headers"]

    assert headers["accept"] == "application/vnd.github+json"
    assert headers["user-agent"].startswith("headwater/")


def test_the_runtime_base_url_override_wins():
    config = ClientConfig(base_url=BASE, auth=BearerAuth(token=Secret(KEY)))
    with EmulatorServer(echo) as server, RestClient(config, Runtime(base_url=server.base_url)) as c:
        body = c.get_json("/v1/me")
        served_at = server.base_url

    assert body["url"] == f"{served_at}/v1/me"
    assert body["authorization"] == f"Bearer {KEY}"


def test_a_base_path_is_kept():
    client = client_for(echo)
    client = RestClient(ClientConfig(base_url=f"{BASE}/api/v2/"), client.runtime)

    assert client.get_json("/items")["url"] == f"{BASE}/api/v2/items"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.com/items?page=2",
        "http://api.example.com/items?page=2",
        "https://api.example.com:8443/items?page=2",
        "https://api.example.com.evil.example/items",
    ],
    ids=["host", "scheme", "port", "suffix-host"],
)
def test_credentials_never_go_to_another_origin(target):
    seen = []

    def handler(request):
        seen.append(request)
        return echo(request)

    client = client_for(handler, auth=BearerAuth(token=Secret(KEY)))

    with pytest.raises(ForeignOriginError, match="the API sent a link to another host") as caught:
        client.get_json(target)

    assert seen == []
    assert caught.value.kind is ErrorKind.FOREIGN_ORIGIN
    assert "refused to follow it" in str(caught.value)
    # The author's setting is no advice for the user who reads this.
    assert "ClientConfig" not in str(caught.value)


def test_the_default_port_is_the_same_origin():
    client = client_for(echo, auth=BearerAuth(token=Secret(KEY)))

    body = client.get_json("https://API.example.com:443/items")

    assert body["authorization"] == f"Bearer {KEY}"


def test_foreign_links_can_be_followed_without_credentials():
    client = client_for(
        echo,
        auth=ApiKeyAuth(key=Secret(KEY), name="api_key", location="query"),
        foreign_links=ForeignLinks.FOLLOW_WITHOUT_CREDENTIALS,
    )

    # The link even echoes the key: it must be stripped, not carried to the other host.
    body = client.get_json(f"https://cdn.example.net/page2?api_key={KEY}&page=2")

    assert body["url"] == "https://cdn.example.net/page2?page=2"
    assert KEY not in str(body)


def test_redirects_within_the_origin_are_followed_and_signed():
    def handler(request):
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/new?x=1"})
        return echo(request)

    body = client_for(handler, auth=BearerAuth(token=Secret(KEY))).get_json("/old")

    assert body["url"] == f"{BASE}/new?x=1"
    assert body["authorization"] == f"Bearer {KEY}"


def test_a_redirect_to_another_origin_is_refused():
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://evil.example.com/steal"})

    client = client_for(handler, auth=BearerAuth(token=Secret(KEY)))

    with pytest.raises(ForeignOriginError, match=r"evil\.example\.com"):
        client.get_json("/items")
    assert seen == [f"{BASE}/items"]


def test_a_redirect_loop_ends():
    def handler(request):
        return httpx.Response(302, headers={"Location": "/again"})

    with pytest.raises(HTTPStatusError, match="more than 5 redirects"):
        client_for(handler).get_json("/items")


def test_no_rows_statuses_are_answers_not_errors():
    def handler(request):
        return json_response(409, {"message": "Git Repository is empty."})

    client = client_for(handler)

    answer = client.request("GET", "/repos/a/b/commits", no_rows_statuses=frozenset({409}))

    assert answer.no_rows
    assert answer.body is None


def test_errors_carry_the_status_and_the_api_message():
    def handler(request):
        return json_response(404, {"message": "Not Found"})

    with pytest.raises(NotFoundError, match=r"HTTP 404 for .*/repos/a/b.*Not Found") as caught:
        client_for(handler).get_json("/repos/a/b")
    assert caught.value.status == 404


def test_secrets_never_reach_errors_logs_or_reprs(caplog):
    def handler(request):
        # A careless API echoing the credentials it received into its error body.
        return json_response(
            401, {"message": f"bad key {KEY}", "auth": request.headers.get("authorization")}
        )

    auth = ApiKeyAuth(key=Secret(KEY), name="token", location="query")
    client = client_for(handler, auth=auth, retry=RetryPolicy(attempts=1))
    caplog.set_level(logging.DEBUG)

    with pytest.raises(AuthenticationError) as caught:
        client.get_json(f"/items?token={KEY}&page=1")

    shown = [str(caught.value), repr(caught.value), caught.value.url, caught.value.body_excerpt]
    shown += [repr(client), repr(client.config), repr(auth), caplog.text]
    for text in shown:
        assert KEY not in text
    assert f"{BASE}/items?page=1 " in str(caught.value)
    assert "token=***" in caplog.text


@pytest.mark.parametrize(
    "auth",
    [
        BearerAuth(token=Secret(KEY)),
        BasicAuth(username=Secret(KEY), password=Secret(KEY)),
        ApiKeyAuth(key=Secret(KEY), name="X-Key"),
    ],
)
def test_auth_reprs_hide_the_secret(auth):
    assert KEY not in repr(auth)
    assert KEY not in repr(ClientConfig(base_url=BASE, auth=auth))


def test_a_base_url_must_be_http():
    with pytest.raises(ValueError, match="http"):
        RestClient(ClientConfig(base_url="ftp://files.example.com"), Runtime())


def _envelope(body):
    """An API's error envelope reader: ``{"error": {"code", "message"}}``."""
    import json

    error = json.loads(body).get("error") or {}
    return f"{error['code']}: {error['message']}" if "message" in error else None


def _failing_reader(body):
    raise KeyError("message")


@pytest.mark.parametrize(
    ("status", "reader", "ends_with"),
    [
        # A permanent failure ends with what the API said, not with its JSON envelope.
        (400, _envelope, "(the request was rejected as invalid): card_declined: Declined"),
        (401, _envelope, "are correct and not expired): card_declined: Declined"),
        (404, _envelope, "that the credentials can see them): card_declined: Declined"),
        # No reader, a reader that finds nothing, or one that fails: the body as it came.
        (400, None, '{"error":{"code":"card_declined","message":"Declined"}}'),
        (400, lambda body: None, '{"error":{"code":"card_declined","message":"Declined"}}'),
        (400, _failing_reader, '{"error":{"code":"card_declined","message":"Declined"}}'),
        # Rate limits and server errors keep the client's message (retried, attempts named).
        (503, _envelope, '"message":"Declined"}}; the API kept failing: try again later'),
    ],
)
def test_an_error_message_reader_puts_the_apis_words_in_the_error(status, reader, ends_with):
    def handler(request):
        return json_response(status, {"error": {"code": "card_declined", "message": "Declined"}})

    client = client_for(handler, error_message=reader, retry=RetryPolicy(attempts=1))

    with pytest.raises(HTTPStatusError) as caught:
        client.get_json("/charges")

    assert str(caught.value).endswith(ends_with)
    assert caught.value.status == status
    assert "card_declined" in caught.value.body_excerpt  # the raw body stays on the error


def test_what_the_reader_returns_is_scrubbed_of_secrets_too():
    def handler(request):
        return json_response(401, {"error": {"code": "bad_key", "message": f"no such key {KEY}"}})

    auth = BearerAuth(token=Secret(KEY))
    client = client_for(handler, auth=auth, error_message=_envelope, retry=RetryPolicy(attempts=1))

    with pytest.raises(AuthenticationError) as caught:
        client.get_json("/charges")

    assert KEY not in str(caught.value)
    assert str(caught.value).endswith("bad_key: no such key ***")
