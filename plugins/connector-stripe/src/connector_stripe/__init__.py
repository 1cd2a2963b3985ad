"""Stripe connector for Headwater.

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
            source_type="stripe",
            contract_major=CONTRACT_MAJOR,
            label="Stripe",
            load="connector_stripe.source:StripeSource",
            kit="connector_stripe.testing:kit",
            release_status="alpha",
            unreleased=True,
        )
    ]
