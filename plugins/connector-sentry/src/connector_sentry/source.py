"""The source: form fields, schema list, credential check and pipeline hand-off.

Endpoint details live in settings.py; talking to the API lives in sentry.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector_sentry import sentry
from connector_sentry.settings import DEFAULT_REGION, ENDPOINTS, NON_RETRYABLE_ERRORS, REGIONS
from headwater import SecretField, SelectField, SelectOption, SourceConfig, TextField
from headwater.rest import RestSource

if TYPE_CHECKING:
    from connector_sentry._config import SentryConfig
    from headwater import Runtime, SourceInputs, SourceResponse

__all__ = ["SentrySource"]

CAPTION = (
    "Projects, issues, their events, grouping hashes and tag values, and every project's"
    " error events, of one Sentry organization."
)


class SentrySource(RestSource["SentryConfig"]):
    """Reads one organization."""

    source_type = "sentry"
    endpoints = ENDPOINTS
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def get_source_config(self) -> SourceConfig:
        # After changing the fields, regenerate _config.py (`headwater generate sentry`).
        return SourceConfig(
            label="Sentry",
            caption=CAPTION,
            category="Engineering",
            icon="icon.svg",
            docs_url="https://docs.sentry.io/api/",
            release_status="alpha",
            unreleased=True,
            fields=[
                TextField(
                    name="organization",
                    label="Organization",
                    caption="The organization's slug, as in https://sentry.io/organizations/<slug>/.",
                    placeholder="acme-inc",
                ),
                SelectField(
                    name="region",
                    label="Region",
                    caption="The API host of the organization's data storage location.",
                    default=DEFAULT_REGION,
                    options=[
                        SelectOption(value=host, label=label) for host, label in REGIONS.items()
                    ],
                ),
                SecretField(
                    name="auth_token",
                    label="Auth token",
                    caption=(
                        "An organization or personal auth token with the org:read,"
                        " project:read and event:read scopes."
                    ),
                ),
            ],
        )

    def validate_credentials(
        self, config: SentryConfig, runtime: Runtime
    ) -> tuple[bool, str | None]:
        return sentry.check_credentials(config, runtime)

    def source_for_pipeline(
        self, config: SentryConfig, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        return sentry.response(config, inputs, runtime)
