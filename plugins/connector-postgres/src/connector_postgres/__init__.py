"""PostgreSQL connector for Headwater.

This module is imported whenever connectors are listed, so it only registers the connector's
SourceSpec; the source and its driver load on first use.
"""

from __future__ import annotations

from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl

__all__ = ["register_sources"]


@hookimpl
def register_sources() -> list[SourceSpec]:
    return [
        SourceSpec(
            source_type="postgres",
            contract_major=CONTRACT_MAJOR,
            label="PostgreSQL",
            load="connector_postgres.source:PostgresSource",
            kit="connector_postgres.testing:kit",
            release_status="alpha",
            unreleased=True,
        )
    ]
