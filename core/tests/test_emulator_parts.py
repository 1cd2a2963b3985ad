"""The emulator toolkit's smaller parts: rows, failure kinds, JSON answers, the kit, the exports."""

from __future__ import annotations

import importlib
import math
import pkgutil
import subprocess
import sys
import threading
from typing import Any

import attrs
import httpx
import pytest

import headwater.emulator
from headwater import ManualClock, Runtime
from headwater.emulator import (
    ContractKit,
    EmulatedReset,
    Emulator,
    InvalidConfig,
    ResetFailure,
    RowStore,
    StatusFailure,
    TimeoutFailure,
    TruncatedBodyFailure,
    emulator_transport,
    json_response,
)


class Hello(Emulator):
    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/boom":
            raise LookupError("no such fixture")
        return json_response(200, {"hello": request.content.decode() or "world"})


# --- rows ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batches", "expected"),
    [
        ([[{"id": 1}, {"id": 2}]], [{"id": 1}, {"id": 2}]),
        (
            [[{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], [{"id": 1, "v": "A"}]],
            [{"id": 1, "v": "A"}, {"id": 2, "v": "b"}],
        ),
        (
            [[{"id": 1, "v": "a"}], [{"id": 3, "v": "c"}, {"id": 1, "v": "A"}]],
            [{"id": 1, "v": "A"}, {"id": 3, "v": "c"}],
        ),
        ([[{"id": 1, "v": "a"}, {"id": 1, "v": "b"}]], [{"id": 1, "v": "b"}]),
        ([], []),
    ],
    ids=["append", "update-in-place", "update-and-append", "last-wins-in-a-batch", "empty"],
)
def test_add_upserts_by_key_keeping_first_seen_order(
    batches: list[list[dict[str, Any]]], expected: list[dict[str, Any]]
) -> None:
    store = RowStore()
    for batch in batches:
        store.add("items", batch)
    assert store.rows("items") == expected


def test_a_table_can_be_keyed_by_another_column() -> None:
    store = RowStore()
    store.add("users", [{"login": "ana", "n": 1}], key="login")
    store.add("users", [{"login": "ana", "n": 2}, {"login": "bo", "n": 3}], key="login")
    assert store.rows("users") == [{"login": "ana", "n": 2}, {"login": "bo", "n": 3}]
    with pytest.raises(ValueError, match="keyed by 'login', not 'id'"):
        store.add("users", [{"id": 1}])


def test_a_row_without_its_key_is_refused_and_nothing_is_stored() -> None:
    store = RowStore()
    with pytest.raises(ValueError, match="row 1 added to table 'items' has no key 'id'"):
        store.add("items", [{"id": 1}, {"name": "no id"}])
    assert store.rows("items") == []


def test_rows_are_snapshots() -> None:
    store = RowStore()
    source = {"id": 1, "name": "a"}
    store.add("items", [source])
    source["name"] = "changed by the caller"
    snapshot = store.rows("items")
    snapshot[0]["name"] = "changed by the reader"
    snapshot.append({"id": 2})
    assert store.rows("items") == [{"id": 1, "name": "a"}]
    assert store.rows("never-added") == []


def test_delete_removes_rows_and_refuses_a_missing_key_without_removing_any() -> None:
    store = RowStore()
    store.add("items", [{"id": n} for n in (1, 2, 3)])
    store.delete("items", [2])
    assert store.rows("items") == [{"id": 1}, {"id": 3}]
    with pytest.raises(KeyError, match="no row with key 7"):
        store.delete("items", [1, 7])
    assert store.rows("items") == [{"id": 1}, {"id": 3}]


def test_concurrent_adds_lose_nothing() -> None:
    store = RowStore()

    def add(worker: int) -> None:
        for n in range(200):
            store.add("items", [{"id": (worker, n)}])

    threads = [threading.Thread(target=add, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.rows("items")) == 1600


# --- failures and injection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: StatusFailure(status=102), "final HTTP status"),
        (lambda: StatusFailure(status=600), "final HTTP status"),
        (lambda: StatusFailure(status=500, body=b"x", json={}), "either a body or json"),
        (lambda: TimeoutFailure(seconds=0), "seconds"),
        (lambda: TruncatedBodyFailure(keep_bytes=-1), "keep_bytes"),
    ],
)
def test_a_failure_that_cannot_happen_is_refused(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"times": 0}, "times must be at least 1"),
        ({"path": "items"}, "path must start with '/'"),
    ],
)
def test_inject_refuses_a_failure_that_could_never_apply(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Hello().inject(ResetFailure(), **kwargs)


def test_failure_kinds_are_frozen_data() -> None:
    failure = StatusFailure(status=429, headers={"Retry-After": "1"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        failure.status = 500  # type: ignore[misc]
    assert failure == StatusFailure(status=429, headers={"Retry-After": "1"})


def test_an_emulator_is_abstract_until_it_handles_requests() -> None:
    with pytest.raises(TypeError, match="abstract"):
        Emulator()  # type: ignore[abstract]


def test_calling_an_emulator_directly_raises_the_failure_signal() -> None:
    emulator = Hello()
    emulator.inject(ResetFailure())
    with pytest.raises(EmulatedReset):
        emulator(httpx.Request("GET", "https://api.example.test/"))
    assert emulator(httpx.Request("GET", "https://api.example.test/")).status_code == 200
    assert len(emulator.requests) == 2


# --- the in-process transport --------------------------------------------------------------------


def test_the_transport_hands_the_handler_a_read_body() -> None:
    emulator = Hello()
    with httpx.Client(transport=emulator_transport(emulator)) as client:
        response = client.post("https://api.example.test/", content=iter([b"ev", b"ery"]))
    assert response.json() == {"hello": "every"}
    assert emulator.requests[0].content == b"every"


def test_a_handler_bug_propagates_through_the_transport_with_its_own_type() -> None:
    with (
        httpx.Client(transport=emulator_transport(Hello())) as client,
        pytest.raises(LookupError, match="no such fixture"),
    ):
        client.get("https://api.example.test/boom")


def test_a_handler_returning_something_else_is_a_type_error() -> None:
    transport = emulator_transport(lambda request: "ok")  # type: ignore[arg-type, return-value]
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(TypeError, match=r"must return an httpx\.Response, not str"),
    ):
        client.get("https://api.example.test/")


# --- json_response -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "body"),
    [
        ({"a": [1, 2], "b": None}, b'{"a":[1,2],"b":null}'),
        ([], b"[]"),
        ({"name": "Zoë"}, '{"name":"Zoë"}'.encode()),
    ],
)
def test_json_response_is_compact_utf8_with_a_length(payload: Any, body: bytes) -> None:
    response = json_response(200, payload)
    assert response.content == body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Length"] == str(len(body))
    assert response.json() == payload


def test_json_response_headers_add_to_and_override_the_defaults() -> None:
    response = json_response(
        422, {"message": "invalid"}, {"Content-Type": "application/problem+json", "X-Id": "7"}
    )
    assert response.status_code == 422
    assert response.headers.get_list("Content-Type") == ["application/problem+json"]
    assert response.headers["X-Id"] == "7"


def test_json_response_refuses_what_no_api_would_send() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_response(200, {"x": math.nan})


# --- the contract kit ----------------------------------------------------------------------------


def make_kit() -> ContractKit:
    return ContractKit(
        emulator=Hello,
        valid_config={"repository": "acme/widgets", "token": "t0ken"},
        invalid_configs=[
            InvalidConfig(
                config={"token": "t0ken"}, path="$.repository", description="no repository"
            )
        ],
    )


def test_a_kit_makes_a_fresh_emulator_each_time() -> None:
    kit = make_kit()
    first, second = kit.emulator(), kit.emulator()
    first.store.add("items", [{"id": 1}])
    assert first is not second
    assert second.store.rows("items") == []
    assert kit.invalid_configs == (
        InvalidConfig(config={"token": "t0ken"}, path="$.repository", description="no repository"),
    )


def test_a_kits_runtime_sends_requests_to_the_emulator() -> None:
    kit = make_kit()
    emulator = kit.emulator()
    runtime = kit.runtime(emulator)
    assert isinstance(runtime, Runtime)
    assert runtime.base_url is None

    with httpx.Client(transport=runtime.transport) as client:
        assert client.get("https://api.example.test/").json() == {"hello": "world"}
    assert len(emulator.requests) == 1


def test_a_kits_runtime_takes_overrides_including_the_transport() -> None:
    kit = make_kit()
    clock = ManualClock()
    runtime = kit.runtime(kit.emulator(), clock=clock, sleep=clock.sleep)
    assert runtime.clock is clock
    assert runtime.transport is not None

    served = kit.runtime(kit.emulator(), transport=None, base_url="http://127.0.0.1:1")
    assert served.transport is None
    assert served.resolve_base_url("https://api.example.test") == "http://127.0.0.1:1"


def test_an_invalid_config_must_name_a_json_path() -> None:
    with pytest.raises(ValueError, match="JSON path like"):
        InvalidConfig(config={}, path="repository", description="no repository")


# --- the public face -----------------------------------------------------------------------------


def test_every_module_exports_sorted_names_that_exist() -> None:
    # What the package exports, and that each export is dated, is pinned in test_surface.py.
    modules = [info.name for info in pkgutil.iter_modules(headwater.emulator.__path__)]
    assert "_params" in modules
    for name in modules:
        module = importlib.import_module(f"headwater.emulator.{name}")
        assert module.__all__ == sorted(module.__all__)
        assert all(hasattr(module, item) for item in module.__all__)


def test_importing_headwater_does_not_import_the_emulator_or_httpx() -> None:
    code = (
        "import sys, headwater; print(sorted({'httpx', 'headwater.emulator'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
