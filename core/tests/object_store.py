"""A local S3 emulator for tests: moto's server on 127.0.0.1, and a proxy that can kill.

``moto_server()`` starts ``python -m moto.server`` as a subprocess (deltalake holds the GIL
while it does I/O, so an emulator in the test's own process would never get to answer) and
stops it afterwards. ``KillingProxy`` forwards connections to it and, when told to, SIGKILLs
a process at the moment it sends a given request: killing a sync at its commit's ``PUT`` of
``_delta_log/N.json``, after its data files were uploaded, is killing it exactly between the
data write and the commit.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator

import attrs

ACCESS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REQUEST = re.compile(rb"(GET|PUT|POST|DELETE|HEAD) ([^ ]+) HTTP/1\.1\r\n")
COMMIT = re.compile(r"/_delta_log/\d{20}\.json$")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@attrs.frozen
class S3:
    endpoint: str
    bucket: str

    def options(self, endpoint: str | None = None) -> dict[str, str]:
        """deltalake storage options (or environment) reaching the emulator."""
        return {
            "AWS_ENDPOINT_URL": endpoint or self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
            **ACCESS,
        }

    def new_warehouse(self) -> str:
        return f"s3://{self.bucket}/{uuid.uuid4().hex[:8]}"

    def keys(self, prefix: str) -> list[str]:
        """The keys of the objects under ``prefix`` (an ``s3://bucket/...`` URI)."""
        import boto3

        bucket, _, path = prefix.removeprefix("s3://").partition("/")
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=ACCESS["AWS_SECRET_ACCESS_KEY"],
        )
        listed = client.list_objects_v2(Bucket=bucket, Prefix=path)
        return sorted(item["Key"] for item in listed.get("Contents", []))


@contextlib.contextmanager
def moto_server() -> Iterator[S3]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.05)  # waiting for a server to start, not for time to pass
        request = urllib.request.Request(f"{endpoint}/warehouse", method="PUT")
        urllib.request.urlopen(request, timeout=5).close()
        yield S3(endpoint=endpoint, bucket="warehouse")
    finally:
        process.terminate()
        process.wait(timeout=10)


class KillingProxy:
    """A TCP proxy to ``upstream`` that can SIGKILL ``victim`` when it sends its n-th commit.

    It forwards bytes untouched (no HTTP re-framing to get wrong) and only reads the request
    lines going by, so a commit's ``PUT .../_delta_log/N.json`` is seen before it is forwarded.
    """

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self.upstream = (host, int(port))
        self.victim: int | None = None
        self.kill_at_commit = 0
        self.commits = 0
        self.killed = False
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, *, victim: int | None, kill_at_commit: int) -> None:
        with self._lock:
            self.victim, self.kill_at_commit = victim, kill_at_commit
            self.commits, self.killed, self.requests = 0, False, []

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        tail = b""
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [])
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        # A request line may straddle two reads: look at the end of the last.
                        seen = tail + data
                        fresh = [m for m in REQUEST.finditer(seen) if m.end() > len(tail)]
                        tail = seen[-512:]
                        if fresh and self._kill_at(fresh):
                            return  # the commit request is never forwarded
                        upstream.sendall(data)
                    else:
                        client.sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    def _kill_at(self, requests: list[re.Match[bytes]]) -> bool:
        with self._lock:
            for match in requests:
                method, path = match.group(1).decode(), match.group(2).decode().split("?")[0]
                self.requests.append((method, path))
                if method == "PUT" and COMMIT.search(path):
                    self.commits += 1
            if self.victim is None or not self.kill_at_commit or self.killed:
                return False
            if self.commits < self.kill_at_commit:
                return False
            # The data files of this commit are uploaded; the commit never lands.
            os.kill(self.victim, signal.SIGKILL)
            self.killed = True
            return True

    def uploaded_data_before_the_kill(self) -> bool:
        """Whether data files went up between the last landed commit and the killed one."""
        since_commit = []
        for method, path in self.requests[:-1]:
            since_commit = [] if COMMIT.search(path) else [*since_commit, (method, path)]
        return any(m == "PUT" and p.endswith(".parquet") for m, p in since_commit)
