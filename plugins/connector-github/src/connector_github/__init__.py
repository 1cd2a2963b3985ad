"""GitHub connector for Headwater.

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
            source_type="github",
            contract_major=CONTRACT_MAJOR,
            label="GitHub",
            load="connector_github.source:GithubSource",
            kit="connector_github.testing:kit",
            release_status="alpha",
            unreleased=True,
        )
    ]
