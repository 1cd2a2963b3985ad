"""The source: form fields, schema list, credential check and pipeline hand-off.

Endpoint details live in settings.py; talking to the API lives in the module named after the
connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector_klaviyo import (
    klaviyo,
)
from connector_klaviyo.settings import (
    ENDPOINTS,
    NON_RETRYABLE_ERRORS,
)
from headwater import SecretField, SourceConfig
from headwater.rest import RestSource

if TYPE_CHECKING:
    from connector_klaviyo._config import (
        KlaviyoConfig,
    )
    from headwater import Runtime, SourceInputs, SourceResponse

__all__ = ["KlaviyoSource"]

CAPTION = (
    "Profiles, events, email and SMS campaigns, flows, lists and their members, and metrics of"
    " one Klaviyo account."
)


class KlaviyoSource(RestSource["KlaviyoConfig"]):
    """Reads one Klaviyo account through its private API key."""

    source_type = "klaviyo"
    endpoints = ENDPOINTS
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def get_source_config(self) -> SourceConfig:
        # After changing the fields, regenerate _config.py (`headwater generate NAME`); the
        # contract suite fails while it is stale.
        return SourceConfig(
            label="Klaviyo",
            caption=CAPTION,
            category="Marketing",
            icon="icon.svg",
            docs_url="https://developers.klaviyo.com/en/reference/api_overview",
            release_status="alpha",
            unreleased=True,
            fields=[
                SecretField(
                    name="private_api_key",
                    label="Private API key",
                    caption=(
                        "A private key (pk_...) from Settings > API keys, with read access"
                        " (a read-only key is enough)."
                    ),
                ),
            ],
        )

    def validate_credentials(
        self,
        config: KlaviyoConfig,
        runtime: Runtime,
    ) -> tuple[bool, str | None]:
        return klaviyo.check_credentials(config, runtime)

    def source_for_pipeline(
        self,
        config: KlaviyoConfig,
        inputs: SourceInputs,
        runtime: Runtime,
    ) -> SourceResponse:
        return klaviyo.response(config, inputs, runtime)
