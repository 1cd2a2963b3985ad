"""The connector catalog (docs/connectors.md) is written from the connectors' metadata."""

from __future__ import annotations

import importlib.metadata

from headwater.catalog import main, render_catalog
from headwater.discovery import Registry

from conftest import FIXTURES


def connectors():
    registry = Registry(importlib.metadata.entry_points(group="headwater"), environ={})
    return [c for c in registry.connectors() if c.distribution is not None]


def test_the_catalog_shows_fields_and_schemas_with_keys_and_order(harness):
    run = harness()
    run.install_forge()

    text = render_catalog(connectors())

    assert (
        "| ![](icons/forge.svg) [Forge](#forge) | `forge` | connector-forge 1.0.0 | beta"
        " | Engineering |"
    ) in text
    assert "## ![](icons/forge.svg) Forge" in text
    assert "| `api_token` | secret | required, secret | API token |" in text
    assert (
        "| `issues` | id | updated_at (datetime) | asc | datetime of created_at (month)"
        " | incremental, append, full_refresh |"
    ) in text
    assert "| `events` | id | occurred_at (datetime) | desc |" in text
    assert "| `members` | _projects_id, user | - | - | - | full_refresh |" in text


def test_a_stale_catalog_fails_the_check(harness, tmp_path, capsys):
    run = harness()
    run.install_forge()
    page = tmp_path / "connectors.md"

    assert main(["--output", str(page)]) == 0
    assert main(["--check", str(page)]) == 0
    page.write_text(page.read_text() + "hand edit\n")
    assert main(["--check", str(page)]) == 1
    assert "is stale: run `nox -s docs`" in capsys.readouterr().err


def test_the_icons_are_copied_beside_the_page_and_checked(harness, tmp_path, capsys):
    run = harness()
    run.install_forge()
    page = tmp_path / "connectors.md"
    icons = tmp_path / "icons"
    icons.mkdir()
    (icons / "gone.svg").write_text("<svg/>")

    assert main(["--output", str(page)]) == 0
    packaged = (FIXTURES / "connector_forge" / "icon.svg").read_bytes()
    # Connectors installed where the tests run are in the catalog too.
    names = {p.name for p in icons.iterdir()}
    assert "forge.svg" in names
    assert "gone.svg" not in names
    assert (icons / "forge.svg").read_bytes() == packaged
    assert main(["--check", str(page)]) == 0

    (icons / "forge.svg").write_text("<svg>edited</svg>")
    (icons / "gone.svg").write_text("<svg/>")
    assert main(["--check", str(page)]) == 1
    err = capsys.readouterr().err
    assert f"{icons / 'forge.svg'} is stale" in err
    assert f"{icons / 'gone.svg'} is stale" in err
    assert f"{page} is stale" not in err


def test_with_no_connectors_the_catalog_says_so():
    assert "No connectors yet" in render_catalog([])
