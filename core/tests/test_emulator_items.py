"""An example API emulator, read through the in-process transport and over real sockets.

Every test runs both ways: what a client sees must not depend on which one a test picks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import httpx
import pytest

from headwater.emulator import (
    Emulator,
    EmulatorServer,
    Failure,
    ResetFailure,
    StatusFailure,
    TimeoutFailure,
    TruncatedBodyFailure,
    emulator_transport,
    json_response,
)

TOKEN = "t0ken"


class ItemsEmulator(Emulator):
    """``GET /items?page=N&per_page=M`` behind a bearer token; ``Link`` names the next page."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response(401, {"message": "Bad credentials"})
        if request.url.path != "/items":
            return json_response(404, {"message": "Not Found"})
        page = int(request.url.params.get("page", "1"))
        per_page = int(request.url.params.get("per_page", "2"))
        rows = self.store.rows("items")
        start = (page - 1) * per_page
        headers = {}
        if start + per_page < len(rows):
            headers["Link"] = f'<{request.url.copy_set_param("page", page + 1)}>; rel="next"'
        return json_response(200, {"items": rows[start : start + per_page]}, headers)


@attrs.frozen(kw_only=True)
class Api:
    emulator: ItemsEmulator
    client: httpx.Client


@pytest.fixture(params=["in-process", "server"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    emulator = ItemsEmulator()
    emulator.store.add("items", [{"id": n, "name": f"item {n}"} for n in (1, 2, 3)])
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if request.param == "in-process":
        transport = emulator_transport(emulator)
        base_url = "https://api.example.test"
        with httpx.Client(transport=transport, base_url=base_url, headers=headers) as client:
            yield Api(emulator=emulator, client=client)
    else:
        with (
            EmulatorServer(emulator) as server,
            httpx.Client(base_url=server.base_url, headers=headers, timeout=5.0) as client,
        ):
            yield Api(emulator=emulator, client=client)


def read_all(client: httpx.Client, per_page: int = 2) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    url = f"/items?per_page={per_page}"
    while True:
        response = client.get(url)
        response.raise_for_status()
        rows += response.json()["items"]
        following = response.links.get("next")
        if following is None:
            return rows
        url = following["url"]


def drain(response: httpx.Response, *, into: bytearray) -> None:
    for chunk in response.iter_raw():
        into += chunk


def test_pages_are_read_and_every_request_is_recorded(api: Api) -> None:
    assert read_all(api.client) == [
        {"id": 1, "name": "item 1"},
        {"id": 2, "name": "item 2"},
        {"id": 3, "name": "item 3"},
    ]
    requests = api.emulator.requests
    assert [r.url.params.get("page") for r in requests] == [None, "2"]
    assert {r.url.params["per_page"] for r in requests} == {"2"}
    assert {r.headers["Authorization"] for r in requests} == {f"Bearer {TOKEN}"}


def test_wrong_credentials_get_the_apis_401(api: Api) -> None:
    response = api.client.get("/items", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json() == {"message": "Bad credentials"}


def test_rows_added_updated_and_deleted_between_reads_show_in_the_next_read(api: Api) -> None:
    assert [row["id"] for row in read_all(api.client)] == [1, 2, 3]

    api.emulator.store.add("items", [{"id": 2, "name": "renamed"}, {"id": 4, "name": "item 4"}])
    assert read_all(api.client) == [
        {"id": 1, "name": "item 1"},
        {"id": 2, "name": "renamed"},
        {"id": 3, "name": "item 3"},
        {"id": 4, "name": "item 4"},
    ]

    api.emulator.store.delete("items", [1])
    assert [row["id"] for row in read_all(api.client)] == [2, 3, 4]


@pytest.mark.parametrize(
    ("failure", "status", "headers", "body"),
    [
        (
            StatusFailure(status=429, headers={"Retry-After": "7"}, json={"message": "slow"}),
            429,
            {"retry-after": "7", "content-type": "application/json"},
            b'{"message":"slow"}',
        ),
        (StatusFailure(status=503), 503, {}, b""),
        (
            StatusFailure(status=401, headers={"WWW-Authenticate": "Bearer"}, body=b"expired"),
            401,
            {"www-authenticate": "Bearer"},
            b"expired",
        ),
        (StatusFailure(status=200, json={"items": None}), 200, {}, b'{"items":null}'),
    ],
    ids=["429-retry-after", "503-empty", "401-text", "200-bad-body"],
)
def test_an_injected_status_answers_once_with_its_headers_and_body(
    api: Api, failure: StatusFailure, status: int, headers: dict[str, str], body: bytes
) -> None:
    api.emulator.inject(failure)

    response = api.client.get("/items")
    assert response.status_code == status
    assert response.content == body
    assert headers.items() <= dict(response.headers).items()

    assert api.client.get("/items").json()["items"][0]["id"] == 1


@pytest.mark.parametrize(
    ("failure", "error", "text"),
    [
        (TimeoutFailure(), httpx.ReadTimeout, "timed out"),
        (ResetFailure(), httpx.ReadError, "connection reset by peer"),
        (
            TruncatedBodyFailure(),
            httpx.RemoteProtocolError,
            "peer closed connection without sending complete message body",
        ),
    ],
    ids=["timeout", "reset", "truncated"],
)
def test_a_network_failure_raises_what_httpx_raises_against_a_real_server(
    api: Api, failure: Failure, error: type[httpx.HTTPError], text: str
) -> None:
    api.emulator.inject(failure)

    # Short, so the held request over sockets costs little; the in-process one fails at once.
    with pytest.raises(error) as raised:
        api.client.get("/items", timeout=0.3)
    assert text in str(raised.value).lower()

    assert api.client.get("/items").status_code == 200
    assert len(api.emulator.requests) == 2


@pytest.mark.parametrize(
    ("keep_bytes", "kept"),
    [
        (None, lambda length: length // 2),
        (5, lambda length: 5),
        (0, lambda length: 0),
        (10_000, lambda length: length - 1),
    ],
    ids=["half-by-default", "5-bytes", "nothing", "never-the-whole-body"],
)
def test_a_truncated_body_arrives_after_complete_headers(
    api: Api, keep_bytes: int | None, kept: Callable[[int], int]
) -> None:
    full = api.client.get("/items").content
    api.emulator.inject(TruncatedBodyFailure(keep_bytes=keep_bytes))

    received = bytearray()
    with api.client.stream("GET", "/items") as response:
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(full)
        with pytest.raises(httpx.RemoteProtocolError):
            drain(response, into=received)
    assert bytes(received) == full[: kept(len(full))]


@pytest.mark.parametrize("times", [1, 2, 3])
def test_a_failure_applies_to_the_next_times_requests(api: Api, times: int) -> None:
    api.emulator.inject(StatusFailure(status=503), times=times)

    statuses = [api.client.get("/items").status_code for _ in range(times + 2)]
    assert statuses == [503] * times + [200, 200]


@pytest.mark.parametrize(
    ("prefix", "path", "matches"),
    [
        ("/items", "/items", True),
        ("/items", "/items/7", True),
        ("/items/", "/items/7", True),
        ("/", "/items", True),
        ("/items", "/itemsx", False),
        ("/items/7", "/items", False),
        ("/users", "/items", False),
    ],
)
def test_a_failure_with_a_path_applies_only_to_requests_under_it(
    api: Api, prefix: str, path: str, matches: bool
) -> None:
    api.emulator.inject(StatusFailure(status=503), path=prefix)

    assert (api.client.get(path).status_code == 503) is matches
    # A failure that did not match is still waiting for a request under its path.
    assert (api.client.get(prefix).status_code == 503) is not matches


def test_failures_apply_in_the_order_they_were_injected(api: Api) -> None:
    api.emulator.inject(StatusFailure(status=429))
    api.emulator.inject(StatusFailure(status=503), times=2)
    api.emulator.inject(StatusFailure(status=502))

    statuses = [api.client.get("/items").status_code for _ in range(5)]
    assert statuses == [429, 503, 503, 502, 200]


def test_concurrent_requests_take_each_injected_failure_exactly_once(api: Api) -> None:
    api.emulator.inject(StatusFailure(status=503), times=10)
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            status = api.client.get("/items").status_code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 30 + [503] * 10
    assert len(api.emulator.requests) == 40
