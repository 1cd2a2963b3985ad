"""Talking to GitHub: the client and its auth, the credential check, each schema's response.

Requests, retries, pagination and fan-out are the shared machinery's (headwater.rest); this
module only says how to reach the API and which endpoint a schema reads. The one custom
iterator is the pull requests' incremental read, which stops at the watermark (see
:func:`_newest_first_until`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

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
    PageReader,
    RestClient,
    dependent_response,
    endpoint_response,
    incremental_params,
    response_for,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

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
    chosen = endpoint(inputs.schema_name, config)
    if inputs.schema_name == settings.PULL_REQUESTS.name:
        return _newest_first_until(client, chosen, inputs, runtime)
    return endpoint_response(client, chosen, inputs, runtime)


def _newest_first_until(
    client: ClientConfig, declared: Endpoint, inputs: SourceInputs, runtime: Runtime
) -> SourceResponse:
    """An incremental read of a newest-first list the API cannot filter: stop at the watermark.

    The bounds are the ones ``declared.incremental`` describes (the watermark or the start
    date; the earliest value of an interrupted read as the upper bound), computed by the
    shared :func:`incremental_params` but applied here to the rows instead of being sent.
    Rows above the upper bound are skipped; the read ends after the first page holding a row
    below the lower bound, as every later page is older still.
    """
    spec = declared.incremental
    field = inputs.incremental_field or declared.incremental_fields[0].field
    reader_endpoint = declared.evolve(incremental=None, incremental_fields=())

    def items() -> Iterator[list[Any]]:
        bounds = incremental_params(
            spec, inputs, now=runtime.clock.now(), sort_mode=declared.sort_mode
        )
        lower = _instant(bounds.get(spec.start_param)) if spec else None
        upper = None
        if (
            spec
            and inputs.should_use_incremental_field
            and inputs.db_incremental_field_earliest_value
        ):
            # Only a resumed read has an upper bound; "now" would drop rows updated mid-read.
            upper = _instant(bounds.get(spec.end_param or ""))
        with RestClient(client, runtime) as api:
            for page in PageReader(api, reader_endpoint, resume=inputs.resume_state):
                kept = []
                reached_lower = False
                for row in page:
                    value = _instant(row.get(field))
                    if value is None:
                        kept.append(row)  # conservative: keep a row that cannot be placed
                    elif lower is not None and value < lower:
                        reached_lower = True
                    elif upper is None or value <= upper:
                        kept.append(row)
                yield kept
                if reached_lower:
                    return

    return response_for(declared, inputs, items)


def _instant(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
