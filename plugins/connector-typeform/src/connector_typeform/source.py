"""The source: form fields, schema list, credential check and pipeline hand-off.

Endpoint details live in settings.py; talking to the API lives in the module named after the
connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector_typeform import (
    typeform,
)
from connector_typeform.settings import (
    BASE_URLS,
    DEFAULT_BASE_URL,
    ENDPOINTS,
    NON_RETRYABLE_ERRORS,
)
from headwater import SecretField, SelectField, SelectOption, SourceConfig
from headwater.rest import RestSource

if TYPE_CHECKING:
    from connector_typeform._config import (
        TypeformConfig,
    )
    from headwater import Runtime, SourceInputs, SourceResponse

__all__ = ["TypeformSource"]

CAPTION = (
    "Forms of a Typeform account, the questions of each form, and the completed responses"
    " to each of them."
)


class TypeformSource(RestSource["TypeformConfig"]):
    """Reads the forms one personal access token can see, and their responses."""

    source_type = "typeform"
    endpoints = ENDPOINTS
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def get_source_config(self) -> SourceConfig:
        # After changing the fields, regenerate _config.py (`headwater generate NAME`); the
        # contract suite fails while it is stale.
        return SourceConfig(
            label="Typeform",
            caption=CAPTION,
            category="Surveys",
            icon="icon.svg",
            docs_url="https://www.typeform.com/developers/",
            release_status="alpha",
            unreleased=True,
            fields=[
                SecretField(
                    name="token",
                    label="Personal access token",
                    caption=(
                        "Created under Account > Personal tokens, with the Forms: Read and"
                        " Responses: Read scopes."
                    ),
                ),
                SelectField(
                    name="base_url",
                    label="API region",
                    caption="The API host of the account's data center.",
                    default=DEFAULT_BASE_URL,
                    options=[
                        SelectOption(value=url, label=label) for url, label in BASE_URLS.items()
                    ],
                ),
            ],
        )

    def validate_credentials(
        self,
        config: TypeformConfig,
        runtime: Runtime,
    ) -> tuple[bool, str | None]:
        return typeform.check_credentials(config, runtime)

    def source_for_pipeline(
        self,
        config: TypeformConfig,
        inputs: SourceInputs,
        runtime: Runtime,
    ) -> SourceResponse:
        return typeform.response(config, inputs, runtime)
