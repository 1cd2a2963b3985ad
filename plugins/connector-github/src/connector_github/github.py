"""Talking to GitHub: the client and its auth, the credential check, each schema's response.

Requests, retries, pagination and fan-out are the shared machinery's (headwater.rest); this
module only says how to reach the API and which endpoint a schema reads. The pull requests'
incremental read, which the API cannot filter, stops at the watermark through the reader
(``IncrementalParams(in_request=False)`` in settings.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs

from connector_github import settings
from headwater.errors import (
    AuthenticationError,
    ConfigError,
    ConfigProblem,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
)
from headwater.rest import (
    BearerAuth,
    RestClient,
    dependent_response,
    endpoint_response,
)

if TYPE_CHECKING:
    from connector_github._config import GithubConfig
    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig, Endpoint

__all__ = ["check_credentials", "client_config", "endpoint", "repository", "response"]

LABEL = settings.LABEL
REJECTED = (
    f"{LABEL} rejected the token (Bad credentials): create a new personal access token and"
    " update the config"
)

# The form checks settings.REPOSITORY_PATTERN when a config file is loaded; this check covers
# configs built in code, before any request, so a typo fails clearly.
_REPOSITORY = re.compile(f"^{settings.REPOSITORY_PATTERN}$")


def repository(config: GithubConfig) -> tuple[str, str]:
    """The configured ``owner/repo`` as ``(owner, repo)``.

    :raises ConfigError: at ``$.repository`` when it is not of that form.
    """
    value = config.repository.strip()
    if not _REPOSITORY.match(value) or value.endswith(("/.", "/..")):
        raise ConfigError(
            [ConfigProblem(path="$.repository", message="expected owner/repo, like octo-org/app")],
            context=f"invalid {LABEL} configuration",
        )
    owner, repo = value.split("/", 1)
    return owner, repo


def client_config(config: GithubConfig) -> ClientConfig:
    """The API client, signing requests with the config's token."""
    return attrs.evolve(settings.CLIENT, auth=BearerAuth(token=config.token))


def endpoint(name: str, config: GithubConfig) -> Endpoint:
    """Endpoint ``name``, its path filled in for the configured repository."""
    owner, repo = repository(config)
    return settings.ENDPOINTS[name].evolve(path_values={"owner": owner, "repo": repo})


def check_credentials(config: GithubConfig, runtime: Runtime) -> tuple[bool, str | None]:
    """Read the repository itself: one request that needs the token and access to the repo."""
    try:
        owner, repo = repository(config)
        with RestClient(client_config(config), runtime) as client:
            client.get_json(f"/repos/{owner}/{repo}")
    except ConfigError as error:
        return False, str(error)
    except AuthenticationError:
        return False, REJECTED
    except PermissionDeniedError:
        return False, (
            f"The {LABEL} token may not read {config.repository}: give a fine-grained token"
            " read access to the repository's Metadata, or a classic token the repo scope"
        )
    except NotFoundError:
        return False, (
            f"{LABEL} shows no repository {config.repository!r} to this token: check the"
            " name, and that the token has access to it (private repositories answer 404)"
        )
    except SourceError as error:
        return False, f"{LABEL} could not be reached: {error}"
    return True, None


def response(config: GithubConfig, inputs: SourceInputs, runtime: Runtime) -> SourceResponse:
    """The rows of ``inputs.schema_name``, read when the host iterates them."""
    client = client_config(config)
    if inputs.schema_name == settings.PULL_REQUEST_REVIEWS.name:
        owner, repo = repository(config)
        parent = settings.PULL_REQUEST_PARENTS.evolve(path_values={"owner": owner, "repo": repo})
        return dependent_response(
            client,
            parent,
            endpoint(inputs.schema_name, config),
            settings.REVIEWS_OF_PULL_REQUESTS,
            inputs,
            runtime,
        )
    return endpoint_response(client, endpoint(inputs.schema_name, config), inputs, runtime)
