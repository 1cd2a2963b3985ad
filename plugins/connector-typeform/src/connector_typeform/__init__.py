"""Typeform connector for Headwater.

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
            source_type="typeform",
            contract_major=CONTRACT_MAJOR,
            label="Typeform",
            load="connector_typeform.source:TypeformSource",
            kit="connector_typeform.testing:kit",
            release_status="alpha",
            unreleased=True,
        )
    ]
