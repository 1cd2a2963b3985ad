"""Retries: which answers are retried, how long the client waits, and what it says when it stops.

Every test runs on a ManualClock: waits are recorded, never slept.
"""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx
import pytest
import stamina

from headwater import ManualClock, ProgressKind, RequestBudget, Runtime, Secret
from headwater.emulator import (
    Emulator,
    ResetFailure,
    StatusFailure,
    TimeoutFailure,
    TruncatedBodyFailure,
    emulator_transport,
    json_response,
)
from headwater.errors import (
    AuthenticationError,
    BadRequestError,
    ErrorKind,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestBudgetExhausted,
    ResponseFormatError,
    ServerError,
)
from headwater.rest import ApiKeyAuth, ClientConfig, RestClient, RetryPolicy, parse_retry_after

BASE = "https://api.example.com"
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class Items(Emulator):
    """Answers every request with one row, unless a failure was injected."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        return json_response(200, {"data": [{"id": 1}]})


class Recorder:
    def __init__(self) -> None:
        self.events = []

    def emit(self, event):
        self.events.append(event)


def make(api: Emulator, *, policy: RetryPolicy | None = None, budget: RequestBudget | None = None):
    clock = ManualClock(NOW)
    progress = Recorder()
    runtime = Runtime(
        transport=emulator_transport(api),
        clock=clock,
        sleep=clock.sleep,
        progress=progress,
        budget=budget or RequestBudget(),
    )
    config = ClientConfig(
        base_url=BASE,
        auth=ApiKeyAuth(key=Secret("sk_live_abcdef"), name="api_key", location="query"),
        # Deterministic waits: each the backoff's upper bound, from 1 s.
        retry=policy or RetryPolicy(wait_initial=1, full_jitter=False),
    )
    return RestClient(config, runtime), clock, progress


@pytest.mark.parametrize(
    ("status", "headers", "retried", "error_type"),
    [
        (429, {}, True, RateLimitedError),
        (500, {}, True, ServerError),
        (502, {}, True, ServerError),
        (503, {}, True, ServerError),
        (504, {}, True, ServerError),
        (400, {}, False, BadRequestError),
        (401, {}, False, AuthenticationError),
        (403, {}, False, PermissionDeniedError),
        (404, {}, False, NotFoundError),
        (422, {}, False, BadRequestError),
        (501, {}, False, ServerError),
        # GitHub's primary and secondary rate limits arrive as 403s.
        (403, {"X-RateLimit-Remaining": "0"}, True, RateLimitedError),
        (403, {"Retry-After": "1"}, True, RateLimitedError),
    ],
)
def test_which_statuses_are_retried(status, headers, retried, error_type):
    api = Items()
    api.inject(StatusFailure(status=status, headers=headers, json={"message": "nope"}))
    client, _, _ = make(api)

    if retried:
        assert client.get_json("/items") == {"data": [{"id": 1}]}
        assert len(api.requests) == 2
    else:
        with pytest.raises(error_type) as caught:
            client.get_json("/items")
        assert caught.value.status == status
        assert caught.value.attempts == 1
        assert len(api.requests) == 1


def test_a_github_403_with_a_rate_limit_message_is_retried():
    api = Items()
    body = {"message": "You have exceeded a secondary rate limit. Please wait."}
    api.inject(StatusFailure(status=403, json=body))
    client, _, _ = make(api)

    client.get_json("/items")

    assert len(api.requests) == 2


def _http_date(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    ("status", "headers", "waits"),
    [
        (429, {"Retry-After": "7"}, [7.0]),
        (429, {"Retry-After": "0"}, []),
        (429, {"Retry-After": "2.5"}, [2.5]),
        (429, {"Retry-After": _http_date(NOW + dt.timedelta(seconds=30))}, [30.0]),
        (429, {"Retry-After": _http_date(NOW - dt.timedelta(seconds=30))}, []),
        (429, {"X-RateLimit-Reset": str(int(NOW.timestamp()) + 45)}, [45.0]),
        (429, {"X-Sentry-Rate-Limit-Reset": str(int(NOW.timestamp()) + 12)}, [12.0]),
        (503, {"Retry-After": "5"}, [5.0]),
        # Capped at max_server_wait (120 s by default).
        (429, {"Retry-After": "100000"}, [120.0]),
        # No header: exponential backoff, here without jitter (wait_initial=1).
        (429, {}, [1.0]),
        (503, {}, [1.0]),
        # A reset header on a non-rate-limit answer means nothing.
        (503, {"X-RateLimit-Reset": str(int(NOW.timestamp()) + 45)}, [1.0]),
    ],
)
def test_waits_honour_what_the_api_asks(status, headers, waits):
    api = Items()
    api.inject(StatusFailure(status=status, headers=headers))
    client, clock, _ = make(api)

    client.get_json("/items")

    assert clock.slept == waits
    assert len(api.requests) == 2


def test_retry_after_zero_retries_at_once_without_sleeping():
    api = Items()
    api.inject(StatusFailure(status=429, headers={"Retry-After": "0"}), times=3)
    sleeps = []
    runtime = Runtime(transport=emulator_transport(api), sleep=sleeps.append)

    RestClient(ClientConfig(base_url=BASE), runtime).get_json("/items")

    assert sleeps == []
    assert len(api.requests) == 4


def test_backoff_grows_exponentially_and_is_capped():
    api = Items()
    api.inject(StatusFailure(status=500), times=5)
    policy = RetryPolicy(attempts=6, wait_initial=1, wait_max=5, full_jitter=False)
    client, clock, _ = make(api, policy=policy)

    client.get_json("/items")

    assert clock.slept == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_additive_jitter_stays_within_its_bound():
    api = Items()
    api.inject(StatusFailure(status=502), times=3)
    policy = RetryPolicy(
        attempts=4, wait_initial=1, wait_max=60, wait_jitter=0.5, full_jitter=False
    )
    client, clock, _ = make(api, policy=policy)

    client.get_json("/items")

    for wait, base in zip(clock.slept, [1.0, 2.0, 4.0], strict=True):
        assert base <= wait <= base + 0.5


@pytest.mark.parametrize(
    ("draw", "waits"),
    [
        # The default policy: bounds 0.25, 0.5, 1, 2, 4, 8, 16 s over 8 attempts.
        ("high", [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]),
        ("low", []),  # a draw of 0 retries at once, without a sleep
        ("middle", [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]),
    ],
)
def test_the_default_backoff_is_exponential_with_full_jitter(monkeypatch, draw, waits):
    import headwater.rest._retry as retry

    pick = {"high": lambda a, b: b, "low": lambda a, b: a, "middle": lambda a, b: (a + b) / 2}
    monkeypatch.setattr(retry.random, "uniform", pick[draw])
    api = Items()
    api.inject(StatusFailure(status=503), times=7)
    client, clock, _ = make(api, policy=RetryPolicy())

    client.get_json("/items")

    assert clock.slept == waits
    assert len(api.requests) == 8


def test_full_jitter_draws_each_wait_below_its_bound():
    api = Items()
    api.inject(StatusFailure(status=503), times=200)
    policy = RetryPolicy(attempts=201, wait_initial=0.25, wait_max=2, max_total_wait=10_000)
    client, clock, _ = make(api, policy=policy)

    client.get_json("/items")

    bounds = [min(2.0, 0.25 * 2**n) for n in range(200)]
    assert all(0 <= wait <= bound for wait, bound in zip(clock.slept, bounds, strict=True))
    assert len(set(clock.slept)) > 150  # drawn, not fixed


def test_the_last_error_says_what_how_often_and_why():
    api = Items()
    api.inject(StatusFailure(status=503, json={"error": "down"}), times=10)
    client, _, _ = make(api, policy=RetryPolicy(attempts=3, full_jitter=False))

    with pytest.raises(ServerError) as caught:
        client.get_json("/items", params={"page": "2"})

    error = caught.value
    message = str(error)
    assert message.startswith(f"GET {BASE}/items?page=2 failed after 3 attempts")
    assert "HTTP 503" in message
    assert "down" in message
    assert "sk_live_abcdef" not in message
    assert error.attempts == 3
    assert error.kind is ErrorKind.TRANSIENT
    assert len(api.requests) == 3


def test_the_last_network_error_names_the_exception():
    api = Items()
    api.inject(TimeoutFailure(), times=10)
    client, _, _ = make(api, policy=RetryPolicy(attempts=2, full_jitter=False))

    with pytest.raises(NetworkError, match=r"failed after 2 attempts.*ReadTimeout"):
        client.get_json("/items")


@pytest.mark.parametrize(
    "failure",
    [TimeoutFailure(), ResetFailure(), TruncatedBodyFailure(keep_bytes=5)],
    ids=["timeout", "reset", "truncated-body"],
)
def test_network_failures_are_retried(failure):
    api = Items()
    api.inject(failure)
    client, _, _ = make(api)

    assert client.get_json("/items") == {"data": [{"id": 1}]}
    assert len(api.requests) == 2


@pytest.mark.parametrize(
    "body", [b"<html>bad gateway</html>", b'{"data": [', b""], ids=["html", "cut-json", "empty"]
)
def test_a_2xx_that_is_not_json_is_retried(body):
    api = Items()
    api.inject(StatusFailure(status=200, body=body))
    client, _, _ = make(api)

    assert client.get_json("/items") == {"data": [{"id": 1}]}


def test_a_2xx_that_is_never_json_ends_with_a_format_error():
    api = Items()
    api.inject(StatusFailure(status=200, body=b"<html>maintenance</html>"), times=5)
    client, _, _ = make(api, policy=RetryPolicy(attempts=2, full_jitter=False))

    with pytest.raises(ResponseFormatError, match=r"failed after 2 attempts.*not JSON"):
        client.get_json("/items")


def test_waiting_stops_at_the_total_budget():
    api = Items()
    api.inject(StatusFailure(status=429, headers={"Retry-After": "100"}), times=10)
    policy = RetryPolicy(max_server_wait=100, max_total_wait=150, full_jitter=False)
    client, clock, _ = make(api, policy=policy)

    with pytest.raises(RateLimitedError, match="exceed the 150 s retry budget") as caught:
        client.get_json("/items")

    assert clock.slept == [100.0]
    assert caught.value.attempts == 2


def test_the_total_budget_must_exceed_the_retry_after_cap():
    with pytest.raises(ValueError, match="max_total_wait"):
        RetryPolicy(max_server_wait=300, max_total_wait=60)


SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}


@pytest.mark.parametrize(
    ("status", "headers", "body", "waits"),
    [
        # A rate limit that names no wait: at least the minimum, then the backoff grows.
        (429, {}, None, [60.0, 60.0]),
        (403, {}, SECONDARY, [60.0, 60.0]),
        # The API's own wait wins, shorter or longer.
        (429, {"Retry-After": "7"}, None, [7.0, 7.0]),
        (429, {"Retry-After": "90"}, None, [90.0, 90.0]),
        # A reset time: the first wait reaches it, so the second answer's reset has passed.
        (429, {"X-RateLimit-Reset": str(int(NOW.timestamp()) + 5)}, None, [5.0]),
        # Not a rate limit: the plain backoff.
        (503, {}, None, [1.0, 2.0]),
    ],
)
def test_a_rate_limit_without_a_named_wait_waits_at_least_the_minimum(status, headers, body, waits):
    api = Items()
    api.inject(StatusFailure(status=status, headers=headers, json=body), times=2)
    policy = RetryPolicy(wait_initial=1, full_jitter=False, rate_limit_min_wait=60)
    client, clock, _ = make(api, policy=policy)

    client.get_json("/items")

    assert clock.slept == waits
    assert len(api.requests) == 3


def test_the_total_budget_must_allow_the_minimum_rate_limit_wait():
    with pytest.raises(ValueError, match="rate_limit_min_wait"):
        RetryPolicy(rate_limit_min_wait=1000, max_total_wait=900)


def test_retries_report_progress():
    api = Items()
    api.inject(StatusFailure(status=503), times=1)
    api.inject(StatusFailure(status=429, headers={"Retry-After": "3"}), times=1)
    client, _, progress = make(api)

    client.request("GET", "/items", schema="items")

    kinds = [(event.kind, event.seconds) for event in progress.events]
    assert kinds == [
        (ProgressKind.RETRY, 0.0),
        (ProgressKind.WAIT, 1.0),
        (ProgressKind.RETRY, 0.0),
        (ProgressKind.WAIT, 3.0),
    ]
    assert all(event.schema == "items" for event in progress.events)
    assert all("sk_live_abcdef" not in event.detail for event in progress.events)


def test_a_rate_limit_pauses_every_request_that_shares_the_budget():
    api = Items()
    api.inject(StatusFailure(status=429, headers={"Retry-After": "30"}))
    clock = ManualClock(NOW)
    budget = RequestBudget()
    runtime = Runtime(
        transport=emulator_transport(api), clock=clock, sleep=clock.sleep, budget=budget
    )
    config = ClientConfig(base_url=BASE, retry=RetryPolicy(attempts=1))
    first, second = RestClient(config, runtime), RestClient(config, runtime)

    with pytest.raises(RateLimitedError):
        first.get_json("/items")
    second.get_json("/other")

    assert clock.slept == [30.0]


def test_a_rate_limit_does_not_pause_another_run_or_another_api():
    api = Items()
    api.inject(StatusFailure(status=429, headers={"Retry-After": "30"}))
    clock = ManualClock(NOW)
    runtime = Runtime(transport=emulator_transport(api), clock=clock, sleep=clock.sleep)
    other_run = Runtime(transport=emulator_transport(api), clock=clock, sleep=clock.sleep)
    config = ClientConfig(base_url=BASE, retry=RetryPolicy(attempts=1))

    with pytest.raises(RateLimitedError):
        RestClient(config, runtime).get_json("/items")
    RestClient(config, other_run).get_json("/items")
    RestClient(ClientConfig(base_url="https://other.example.com"), runtime).get_json("/x")

    assert clock.slept == []


def test_stamina_switched_off_means_one_attempt():
    api = Items()
    api.inject(StatusFailure(status=503))
    client, _, _ = make(api)
    stamina.set_active(False)
    try:
        with pytest.raises(ServerError):
            client.get_json("/items")
    finally:
        stamina.set_active(True)
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("120", 120.0),
        (" 3 ", 3.0),
        ("-5", 0.0),
        ("Thu, 01 Jan 2026 12:01:00 GMT", 60.0),
        ("Thu, 01 Jan 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, NOW) == expected


def test_a_refused_connection_is_retried():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return json_response(200, {"ok": True})

    clock = ManualClock(NOW)
    runtime = Runtime(transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep)

    assert RestClient(ClientConfig(base_url=BASE), runtime).get_json("/x") == {"ok": True}
    assert len(calls) == 2


def test_every_attempt_takes_a_slot_from_the_runs_budget():
    api = Items()
    api.inject(StatusFailure(status=503), times=2)
    budget = RequestBudget(max_requests=4)
    client, _, _ = make(api, budget=budget)

    client.get_json("/items")
    assert budget.used == 3

    api.inject(StatusFailure(status=503), times=5)
    with pytest.raises(RequestBudgetExhausted):
        client.get_json("/items")
    assert len(api.requests) == 4
