"""The Runtime seams: clocks, the shared request budget, base-URL overrides, secrets."""

from __future__ import annotations

import datetime as dt
import pickle
import threading

import pytest

from headwater import ManualClock, RequestBudget, Runtime, Secret
from headwater.errors import RequestBudgetExhausted


def test_manual_clock_sleep_advances_both_clocks():
    clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))

    clock.sleep(90)

    assert clock.now() == dt.datetime(2026, 1, 1, 0, 1, 30, tzinfo=dt.UTC)
    assert clock.monotonic() == 90
    assert clock.slept == [90]


def test_budget_refuses_the_request_past_its_total():
    clock = ManualClock()
    budget = RequestBudget(max_requests=3)

    for _ in range(3):
        budget.acquire(clock, clock.sleep)

    with pytest.raises(RequestBudgetExhausted, match="budget of 3 requests is spent"):
        budget.acquire(clock, clock.sleep)
    assert budget.used == 3


def test_budget_paces_requests_evenly():
    clock = ManualClock()
    budget = RequestBudget(per_second=4)

    for _ in range(5):
        budget.acquire(clock, clock.sleep)

    assert clock.slept == [0.25, 0.25, 0.25, 0.25]


def test_budget_is_shared_by_threads_without_overspending():
    clock = ManualClock()
    budget = RequestBudget(max_requests=100)
    refused = []

    def worker():
        for _ in range(30):
            try:
                budget.acquire(clock, clock.sleep)
            except RequestBudgetExhausted:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert budget.used == 100
    assert len(refused) == 20


@pytest.mark.parametrize(
    ("override", "default", "expected"),
    [
        (None, "https://api.github.com/", "https://api.github.com"),
        (None, "https://sentry.io/api/0/", "https://sentry.io/api/0"),
        ("http://127.0.0.1:8765/", "https://api.github.com/", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765", "https://api.github.com", "http://127.0.0.1:8765"),
        # An origin alone keeps the API's path: an emulator answers on the API's own paths.
        ("http://127.0.0.1:8765", "https://sentry.io/api/0", "http://127.0.0.1:8765/api/0"),
        ("http://127.0.0.1:8765/", "https://sentry.io/api/0/", "http://127.0.0.1:8765/api/0"),
        ("http://[::1]:8765", "https://de.sentry.io/api/0", "http://[::1]:8765/api/0"),
        # An override with a path is the whole base URL (GitHub Enterprise's /api/v3).
        (
            "https://ghe.example.test/api/v3/",
            "https://api.github.com",
            "https://ghe.example.test/api/v3",
        ),
        ("http://127.0.0.1:8765/v9", "https://sentry.io/api/0", "http://127.0.0.1:8765/v9"),
    ],
)
def test_runtime_base_url_override(override, default, expected):
    assert Runtime(base_url=override).resolve_base_url(default) == expected


@pytest.mark.parametrize("render", [repr, str, "{}".format, "{!r}".format, "{:>10}".format])
def test_secret_never_renders_its_value(render):
    secret = Secret("ghp_supersecret")
    assert "supersecret" not in render(secret)
    assert secret.reveal() == "ghp_supersecret"


def test_secret_refuses_pickling_and_hashing():
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret("x"))
    with pytest.raises(TypeError):
        hash(Secret("x"))
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
