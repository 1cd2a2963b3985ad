"""Sentry connector for Headwater.

This module is imported whenever connectors are listed, so it only registers the connector's
SourceSpec; the source (settings.py) and its dependencies load on first use. :data:`SPEC` is
the one place the connector's label and release status are written: the source reads them
from it.
"""

from __future__ import annotations

from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl

__all__ = ["SPEC", "register_sources"]

SPEC = SourceSpec(
    source_type="sentry",
    contract_major=CONTRACT_MAJOR,
    label="Sentry",
    load="connector_sentry.settings:SentrySource",
    kit="connector_sentry.testing:kit",
    release_status="alpha",
    unreleased=True,
)


@hookimpl
def register_sources() -> list[SourceSpec]:
    return [SPEC]
