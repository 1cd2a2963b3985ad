"""Fixtures: a fresh copy of the seeded shop database on this process's real server.

The server is started by the project (connector_postgres.server). A test that needs it fails
with the reason when it cannot start, as the Temporal tests do: a missing server is a broken
set-up, never a silent skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from connector_postgres.testing import READER_PASSWORD, ShopDatabase

PASSWORD_ENV = "HW_TEST_PG_PASSWORD"


@pytest.fixture
def database() -> ShopDatabase:
    return ShopDatabase()


def write_config(path: Path, shop: ShopDatabase, schemas: str = "", /, **source: object) -> Path:
    """A pg.toml whose password is an env reference (never written to the file)."""
    values = {**shop.config(), **source, "password": f"env:{PASSWORD_ENV}"}
    lines = ['connection = "shop"', "", "[source]"]
    for key, value in values.items():
        lines.append(f"{key} = {value!r}".replace("'", '"'))
    path.write_text("\n".join(lines) + "\n\n" + schemas)
    return path


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``headwater`` in a fresh interpreter, with the reader's password in the environment."""
    return subprocess.run(
        [sys.executable, "-c", "from headwater.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, PASSWORD_ENV: READER_PASSWORD, **(env or {})},
        check=False,
        timeout=180,
    )
