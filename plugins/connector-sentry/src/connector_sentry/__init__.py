"""Sentry connector for Headwater.

This module is imported whenever connectors are listed, so it only registers the connector's
SourceSpec; the source and its dependencies load on first use.
"""

from __future__ import annotations

from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl

__all__ = ["register_sources"]


@hookimpl
def register_sources() -> list[SourceSpec]:
    return [
        SourceSpec(
            source_type="sentry",
            contract_major=CONTRACT_MAJOR,
            label="Sentry",
            load="connector_sentry.source:SentrySource",
            kit="connector_sentry.testing:kit",
            release_status="alpha",
            unreleased=True,
        )
    ]
