"""The source: form fields, schema list, credential check and pipeline hand-off.

Endpoint details live in settings.py; talking to the API lives in stripe.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector_stripe import stripe
from connector_stripe.settings import ENDPOINTS, NON_RETRYABLE_ERRORS
from headwater import SecretField, SourceConfig, TextField
from headwater.rest import RestSource

if TYPE_CHECKING:
    from connector_stripe._config import StripeConfig
    from headwater import Runtime, SourceInputs, SourceResponse

__all__ = ["StripeSource"]

CAPTION = (
    "Charges, customers, invoices and their lines, subscriptions and their items,"
    " PaymentIntents, refunds, balance transactions, products and prices of one Stripe account"
    " (or one connected account)."
)


class StripeSource(RestSource["StripeConfig"]):
    """Reads one Stripe account."""

    source_type = "stripe"
    endpoints = ENDPOINTS
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def get_source_config(self) -> SourceConfig:
        # After changing the fields, regenerate _config.py (`headwater generate stripe`); the
        # contract suite fails while it is stale.
        return SourceConfig(
            label="Stripe",
            caption=CAPTION,
            category="Payments",
            icon="icon.svg",
            docs_url="https://docs.stripe.com/api",
            release_status="alpha",
            unreleased=True,
            fields=[
                SecretField(
                    name="secret_key",
                    label="Secret key",
                    caption=(
                        "A secret key (sk_live_...) or a restricted key (rk_live_...) with Read"
                        " on every table to sync, from Developers > API keys."
                    ),
                ),
                TextField(
                    name="account_id",
                    label="Connected account",
                    caption=(
                        "Optional: a connected account's id, to read that account through a"
                        " platform key (sent as the Stripe-Account header)."
                    ),
                    placeholder="acct_1032D82eZvKYlo2C",
                    required=False,
                    pattern=r"acct_[A-Za-z0-9]+",
                    pattern_hint="acct_ followed by letters and digits",
                ),
            ],
        )

    def validate_credentials(
        self, config: StripeConfig, runtime: Runtime
    ) -> tuple[bool, str | None]:
        return stripe.check_credentials(config, runtime)

    def source_for_pipeline(
        self, config: StripeConfig, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        return stripe.response(config, inputs, runtime)
