"""The emulator server: real HTTP/1.1 on 127.0.0.1 that starts, stops and restarts cleanly."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from headwater.emulator import (
    EmulatedTimeout,
    Emulator,
    EmulatorServer,
    ResetFailure,
    TimeoutFailure,
    TruncatedBodyFailure,
    json_response,
)

# Generous next to what stop() needs (a few milliseconds), tight next to a 30 s hold.
PROMPT = 2.0


class Echo(Emulator):
    """Answers every request with what it received, so tests can see what crossed the socket."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/boom":
            raise RuntimeError("the emulator has a bug")
        return json_response(
            200,
            {
                "method": request.method,
                "url": str(request.url),
                "body": request.content.decode(),
                "x-custom": request.headers.get("X-Custom"),
            },
        )


@pytest.fixture
def no_new_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert set(threading.enumerate()) - before == set()


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PROMPT
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_base_url_is_loopback_on_the_bound_port_and_only_while_running() -> None:
    server = EmulatorServer(Echo())
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    with server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert int(server.base_url.rsplit(":", 1)[1]) > 0
        assert repr(server) == f"EmulatorServer({server.base_url})"
    assert repr(server) == "EmulatorServer(stopped)"


def test_the_handler_sees_method_full_url_headers_and_body() -> None:
    emulator = Echo()
    with EmulatorServer(emulator) as server, httpx.Client(base_url=server.base_url) as client:
        base_url = server.base_url
        response = client.post(
            "/things?q=a%20b&page=2", content=b'{"a":1}', headers={"X-Custom": "yes"}
        )

    assert response.json() == {
        "method": "POST",
        "url": f"{base_url}/things?q=a%20b&page=2",
        "body": '{"a":1}',
        "x-custom": "yes",
    }
    (request,) = emulator.requests
    assert request.url.params["q"] == "a b"
    assert request.headers["Content-Length"] == "7"


def test_a_chunked_request_body_reaches_the_handler_whole() -> None:
    emulator = Echo()
    with EmulatorServer(emulator) as server, httpx.Client(base_url=server.base_url) as client:
        response = client.put("/things", content=iter([b"ab", b"cd", b"ef"]))

    assert response.json()["body"] == "abcdef"
    assert "Transfer-Encoding" not in emulator.requests[0].headers


@pytest.mark.parametrize(
    ("response", "body"),
    [
        (httpx.Response(200, content=b"ok"), b"ok"),
        (httpx.Response(201, json={"id": 1}), b'{"id":1}'),
        (httpx.Response(204), b""),
        (httpx.Response(404, text="missing"), b"missing"),
        (httpx.Response(599, content=b"odd"), b"odd"),
        (httpx.Response(200, content=iter([b"str", b"eamed"])), b"streamed"),
    ],
    ids=["200", "201-json", "204", "404-text", "599-unknown", "streamed-body"],
)
def test_the_handlers_status_and_body_go_out_with_a_correct_length(
    response: httpx.Response, body: bytes
) -> None:
    with (
        EmulatorServer(lambda request: response) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        received = client.get("/")

    assert received.status_code == response.status_code
    assert received.content == body
    if response.status_code != 204:
        assert received.headers["Content-Length"] == str(len(body))


def test_repeated_headers_are_kept() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = [("Link", '<https://a>; rel="next"'), ("Link", '<https://b>; rel="last"')]
        return httpx.Response(200, headers=headers)

    with EmulatorServer(handler) as server, httpx.Client(base_url=server.base_url) as client:
        response = client.get("/")

    assert response.headers.get_list("Link") == [
        '<https://a>; rel="next"',
        '<https://b>; rel="last"',
    ]


def test_a_head_request_gets_headers_without_a_body() -> None:
    with (
        EmulatorServer(lambda request: httpx.Response(200, content=b"12345")) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        response = client.head("/")
        after = client.get("/")  # the connection is still in step

    assert response.headers["Content-Length"] == "5"
    assert response.content == b""
    assert after.content == b"12345"


def test_a_handler_exception_answers_500_and_the_server_keeps_serving(
    capfd: pytest.CaptureFixture[str],
) -> None:
    server = EmulatorServer(Echo())
    with server, httpx.Client(base_url=server.base_url) as client:
        failed = client.get("/boom")
        after = client.get("/fine")

    assert failed.status_code == 500
    assert failed.text == "emulator handler raised RuntimeError: the emulator has a bug\n"
    assert after.status_code == 200
    assert [str(error) for error in server.handler_errors] == ["the emulator has a bug"]
    assert capfd.readouterr().err == ""


def test_a_handler_returning_something_else_answers_500() -> None:
    server = EmulatorServer(lambda request: "ok")  # type: ignore[arg-type, return-value]
    with server, httpx.Client(base_url=server.base_url) as client:
        response = client.get("/")

    assert response.status_code == 500
    assert "must return an httpx.Response" in response.text
    assert isinstance(server.handler_errors[0], TypeError)


def test_stop_is_prompt_while_a_timeout_holds_a_connection(no_new_threads: None) -> None:
    emulator = Echo()
    emulator.inject(TimeoutFailure(seconds=30))
    server = EmulatorServer(emulator).start()
    outcome: list[BaseException] = []

    def waiting_client() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            try:
                client.get("/held")
            except httpx.HTTPError as error:
                outcome.append(error)

    thread = threading.Thread(target=waiting_client)
    thread.start()
    wait_for(lambda: len(emulator.requests) == 1)

    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < PROMPT

    thread.join(PROMPT)
    assert not thread.is_alive()
    # The held request was never answered: the client sees the server hang up.
    assert [type(error) for error in outcome] == [httpx.RemoteProtocolError]


def test_a_timeout_hold_ends_after_its_seconds_with_no_answer() -> None:
    emulator = Echo()
    emulator.inject(TimeoutFailure(seconds=0.1))
    with EmulatorServer(emulator) as server, httpx.Client(base_url=server.base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get("/held", timeout=5)
        assert client.get("/next").status_code == 200


def test_stop_is_prompt_with_idle_keep_alive_connections(no_new_threads: None) -> None:
    server = EmulatorServer(Echo()).start()
    with httpx.Client(base_url=server.base_url) as client:
        for _ in range(3):  # a few pooled connections left open
            client.get("/")
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < PROMPT


def test_no_thread_outlives_stop_after_every_kind_of_failure(no_new_threads: None) -> None:
    emulator = Echo()
    with EmulatorServer(emulator) as server, httpx.Client(base_url=server.base_url) as client:
        emulator.inject(ResetFailure())
        emulator.inject(TruncatedBodyFailure())
        emulator.inject(TimeoutFailure())
        for _ in range(3):
            with pytest.raises(httpx.TransportError):
                client.get("/", timeout=0.2)
        assert client.get("/").status_code == 200


def test_a_restart_serves_again_on_the_same_port(capfd: pytest.CaptureFixture[str]) -> None:
    server = EmulatorServer(Echo())
    with server:
        first = server.base_url
    with server, httpx.Client(base_url=server.base_url) as client:
        assert server.base_url == first
        assert client.get("/").status_code == 200
    assert capfd.readouterr().err == ""


def test_a_client_sees_the_outage_between_stop_and_start() -> None:
    server = EmulatorServer(Echo()).start()
    try:
        with httpx.Client(base_url=server.base_url) as client:
            assert client.get("/").status_code == 200
            server.stop()
            with pytest.raises(httpx.ConnectError):
                client.get("/")
            server.start()
            assert client.get("/").status_code == 200
    finally:
        server.stop()


def test_start_twice_is_refused_and_stop_twice_is_harmless() -> None:
    server = EmulatorServer(Echo())
    with server, pytest.raises(RuntimeError, match="already running"):
        server.start()
    server.stop()


def test_a_plain_handler_may_raise_the_failure_signals() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise EmulatedTimeout(seconds=0.05)

    with (
        EmulatorServer(handler) as server,
        httpx.Client(base_url=server.base_url) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.get("/")


def test_nothing_is_written_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    emulator = Echo()
    with EmulatorServer(emulator) as server, httpx.Client(base_url=server.base_url) as client:
        client.get("/")
        client.get("/boom")
        emulator.inject(ResetFailure())
        with pytest.raises(httpx.ReadError):
            client.get("/")

    assert capfd.readouterr().err == ""


def test_a_request_with_broken_framing_gets_400_without_reaching_the_handler() -> None:
    emulator = Echo()
    with (
        EmulatorServer(emulator) as server,
        socket.create_connection(address_of(server)) as sock,
        sock.makefile("rb") as reader,
    ):
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
        status_line = reader.readline()
    assert status_line.startswith(b"HTTP/1.1 400 ")
    assert emulator.requests == []


def test_a_client_hanging_up_mid_body_never_reaches_the_handler(no_new_threads: None) -> None:
    emulator = Echo()
    with EmulatorServer(emulator) as server:
        with socket.create_connection(address_of(server)) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        started = time.monotonic()
    assert time.monotonic() - started < PROMPT
    assert emulator.requests == []


def address_of(server: EmulatorServer) -> tuple[str, int]:
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)
