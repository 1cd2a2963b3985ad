"""The source: form fields, schema list, credential check and pipeline hand-off.

Endpoint details live in settings.py; talking to the API lives in the module named after the
connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector_github import (
    github,
)
from connector_github.settings import (
    ENDPOINTS,
    NON_RETRYABLE_ERRORS,
    REPOSITORY_PATTERN,
)
from headwater import SecretField, SourceConfig, TextField
from headwater.rest import RestSource

if TYPE_CHECKING:
    from connector_github._config import (
        GithubConfig,
    )
    from headwater import Runtime, SourceInputs, SourceResponse

__all__ = ["GithubSource"]

CAPTION = (
    "Issues, pull requests and their reviews, commits, stargazers, releases and workflow runs"
    " of one GitHub repository."
)


class GithubSource(RestSource["GithubConfig"]):
    """Reads one repository."""

    source_type = "github"
    endpoints = ENDPOINTS
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def get_source_config(self) -> SourceConfig:
        # After changing the fields, regenerate _config.py (`headwater generate NAME`); the
        # contract suite fails while it is stale.
        return SourceConfig(
            label="GitHub",
            caption=CAPTION,
            category="Engineering",
            icon="icon.svg",
            docs_url="https://docs.github.com/en/rest?apiVersion=2022-11-28",
            release_status="alpha",
            unreleased=True,
            fields=[
                TextField(
                    name="repository",
                    label="Repository",
                    caption="owner/repo, as in the repository's URL on github.com.",
                    placeholder="octo-org/octo-repo",
                    pattern=REPOSITORY_PATTERN,
                    pattern_hint="owner/repo, like octo-org/octo-repo",
                ),
                SecretField(
                    name="token",
                    label="Personal access token",
                    caption=(
                        "A fine-grained token with read access to the repository's Metadata,"
                        " Contents, Issues, Pull requests and Actions (or a classic token with"
                        " the repo scope for a private repository)."
                    ),
                ),
            ],
        )

    def validate_credentials(
        self,
        config: GithubConfig,
        runtime: Runtime,
    ) -> tuple[bool, str | None]:
        return github.check_credentials(config, runtime)

    def source_for_pipeline(
        self,
        config: GithubConfig,
        inputs: SourceInputs,
        runtime: Runtime,
    ) -> SourceResponse:
        return github.response(config, inputs, runtime)
