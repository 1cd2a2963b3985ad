"""The benchmark's API: a local HTTP server, in its own process, on 127.0.0.1.

Run as ``python bench/api_server.py``; it prints its base URL on the first line of stdout and
serves until stdin closes (the harness holds the pipe, so the server never outlives it).

It serves one dataset of 200,000 records in pages of 100 in two pagination styles, plus
what the fan-out and retry figures need:

==========================================  ================================================
``GET /cursor/items?limit=&cursor=``        ``{"data": [...], "next_cursor": "..."}``
``GET /link/items?per_page=&page=``         a JSON list with a GitHub-style ``Link`` header
``GET /flaky/cursor/items?...``             ``/cursor/items``, but every 50th request is a
                                            429 with ``Retry-After: 0``
``GET /unavailable/...``                    any path above, but every 5th request is a 503
                                            without ``Retry-After``
``GET /parents?per_page=&page=``            200 parents, Link-paginated
``GET /parents/{id}/children``              5 rows per parent (each with a ``created_at``
                                            in the parent's month), answered after 50 ms
``GET /wide/items?limit=&cursor=&total=``   ``/cursor/items``'s shape, but records of 20 mixed
                                            fields (see :func:`wide_record`), ``total`` of
                                            them (default 200,000); ``min_id=N`` (without a
                                            cursor) starts at record N
==========================================  ================================================

Pages are encoded once and cached, so the server's own cost stays small and equal for every
client it is compared with. It is a plain stdlib ``ThreadingHTTPServer`` (one thread per
connection, HTTP/1.1 keep-alive) that writes each answer in one ``send`` with Nagle's
algorithm off. (``headwater.emulator.EmulatorServer`` writes the head and the body in two
sends without ``TCP_NODELAY``, so on a keep-alive connection every answer waits for the
client's delayed ACK, about 40 ms: fine for tests, fatal for a throughput figure.)
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

__all__ = ["RECORDS", "route", "wide_record"]

RECORDS = 200_000
PARENTS = 200
CHILDREN_PER_PARENT = 5
CHILD_LATENCY = 0.050
FLAKY_EVERY = 50
UNAVAILABLE_EVERY = 5

Answer = tuple[int, dict[str, str], bytes]

_flaky_lock = threading.Lock()
_flaky_count = 0
_unavailable_count = 0


def _record(i: int) -> dict[str, object]:
    return {
        "id": i,
        "name": f"record {i}",
        "created_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
        "amount": i * 3,
        "active": i % 2 == 0,
        "tags": ["alpha", "beta"] if i % 3 else [],
    }


_CATEGORIES = ("books", "games", "garden", "music", "tools")
_COUNTRIES = ("DE", "FR", "NL", "SE", "US", "JP")


def wide_record(i: int) -> dict[str, object]:
    """Record ``i`` of ``/wide/items``: ints, ISO timestamps, strings, floats, bools, nulls,
    a nested object and a small list (the sync benchmark's data)."""
    return {
        "id": i,
        "uid": f"{i:08x}-{(i * 2654435761) % 2**32:08x}",
        "name": f"customer {i}",
        "email": f"user{i}@example.com",
        "created_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
        "updated_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:{i % 60:02d}Z",
        "amount": round(i * 0.37, 2),
        "quantity": i % 97,
        "price": (i % 1000) / 7,
        "active": i % 2 == 0,
        "verified": i % 3 == 0,
        "score": None if i % 5 == 0 else (i % 100) / 10,
        "note": None if i % 4 else f"note about {i}",
        "category": _CATEGORIES[i % len(_CATEGORIES)],
        "country": _COUNTRIES[i % len(_COUNTRIES)],
        "parent_id": None if i % 7 else i // 7,
        "tags": ["alpha", "beta"][: i % 3],
        "address": {"street": f"{i} Main St", "city": f"city {i % 50}", "zip": f"{i % 99999:05d}"},
        "rank": (i * 7919) % 100_003,
        "ratio": (i % 17) / 17,
    }


@functools.lru_cache(maxsize=2_100)  # the 2,000 pages of 200,000 records; larger runs re-encode
def _wide_page(start: int, size: int, total: int) -> bytes:
    nxt = start + size if start + size < total else None
    rows = orjson.dumps([wide_record(i) for i in range(start, min(start + size, total))])
    tail = b"null" if nxt is None else b'"' + str(nxt).encode() + b'"'
    return b'{"data":' + rows + b',"next_cursor":' + tail + b"}"


@functools.cache
def _window(start: int, size: int) -> bytes:
    return orjson.dumps([_record(i) for i in range(start, min(start + size, RECORDS))])


@functools.cache
def _cursor_page(start: int, size: int) -> bytes:
    nxt = start + size if start + size < RECORDS else None
    tail = b"null" if nxt is None else b'"' + str(nxt).encode() + b'"'
    return b'{"data":' + _window(start, size) + b',"next_cursor":' + tail + b"}"


def _next_link(base: str, path: str, params: dict[str, str], page: int) -> dict[str, str]:
    query = urlencode({**params, "page": str(page)})
    return {"Link": f'<{base}{path}?{query}>; rel="next"'}


def route(base: str, target: str) -> Answer:
    """Answer one ``GET`` of ``target`` (path and query); see the module docstring."""
    global _flaky_count, _unavailable_count
    parts = urlsplit(target)
    path, params = parts.path, dict(parse_qsl(parts.query))
    if path.startswith("/unavailable/"):
        with _flaky_lock:
            _unavailable_count += 1
            down = _unavailable_count % UNAVAILABLE_EVERY == 0
        if down:
            return 503, {}, b'{"message":"try again"}'
        path = path.removeprefix("/unavailable")
    if path.startswith("/flaky/"):
        with _flaky_lock:
            _flaky_count += 1
            limited = _flaky_count % FLAKY_EVERY == 0
        if limited:
            return 429, {"Retry-After": "0"}, b'{"message":"slow down"}'
        path = path.removeprefix("/flaky")
    if path == "/cursor/items":
        start, size = int(params.get("cursor", "0")), int(params.get("limit", "100"))
        return 200, {}, _cursor_page(start, size)
    if path == "/wide/items":
        start = int(params.get("cursor") or params.get("min_id") or "0")
        size = int(params.get("limit", "100"))
        return 200, {}, _wide_page(start, size, int(params.get("total", str(RECORDS))))
    if path == "/link/items":
        page, size = int(params.get("page", "1")), int(params.get("per_page", "100"))
        more = page * size < RECORDS
        headers = _next_link(base, path, params, page + 1) if more else {}
        return 200, headers, _window((page - 1) * size, size)
    if path == "/parents":
        page, size = int(params.get("page", "1")), int(params.get("per_page", "100"))
        ids = range((page - 1) * size, min(page * size, PARENTS))
        more = page * size < PARENTS
        headers = _next_link(base, path, params, page + 1) if more else {}
        return 200, headers, orjson.dumps([{"id": i, "slug": f"parent-{i}"} for i in ids])
    segments = path.strip("/").split("/")
    if len(segments) == 3 and segments[0] == "parents" and segments[2] == "children":
        time.sleep(CHILD_LATENCY)
        parent = int(segments[1])
        created = f"2025-{1 + parent % 12:02d}-{1 + parent % 28:02d}T00:00:00Z"
        rows = [
            {"id": parent * 100 + n, "n": n, "created_at": created}
            for n in range(CHILDREN_PER_PARENT)
        ]
        return 200, {}, orjson.dumps(rows)
    return 404, {}, b'{"message":"not found"}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        status, headers, body = route(self.server.base_url, self.path)
        lines = [f"HTTP/1.1 {status} {self.responses[status][0]}"]
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    base_url = ""


def main() -> None:
    for start in range(0, RECORDS, 100):  # encode every page before any figure is taken
        _cursor_page(start, 100)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(server.base_url, flush=True)
    sys.stdin.read()  # until the harness closes the pipe
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
