"""Talking to Klaviyo: the client and its auth, the credential check, each schema's response.

Requests, retries, pagination and fan-out are the shared machinery's (headwater.rest); this
module only says how to reach the API and which endpoint a schema reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from connector_klaviyo import settings
from headwater.errors import (
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    SourceError,
)
from headwater.rest import ApiKeyAuth, RestClient, dependent_response, endpoint_response

if TYPE_CHECKING:
    from connector_klaviyo._config import KlaviyoConfig
    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig

__all__ = ["check_credentials", "client_config", "response"]

LABEL = settings.LABEL
REJECTED = (
    f"{LABEL} rejected the private API key: create a new one under Settings > API keys and"
    " update the config"
)


def client_config(config: KlaviyoConfig) -> ClientConfig:
    """The API client, sending ``Authorization: Klaviyo-API-Key <key>`` on every request."""
    auth = ApiKeyAuth(key=config.private_api_key, name="Authorization", prefix="Klaviyo-API-Key ")
    return attrs.evolve(settings.CLIENT, auth=auth)


def check_credentials(config: KlaviyoConfig, runtime: Runtime) -> tuple[bool, str | None]:
    """Read the account the key belongs to: one request that needs a valid private key.

    Get Accounts is the endpoint Klaviyo documents for checking that a private key works
    (scope ``accounts:read``; a read-only key has every read scope).
    """
    try:
        with RestClient(client_config(config), runtime) as client:
            client.get_json("/api/accounts")
    except AuthenticationError:
        return False, REJECTED
    except PermissionDeniedError:
        return False, (
            f"The {LABEL} private API key may not read the account: give it read access"
            " (at least the 'accounts:read' scope) under Settings > API keys"
        )
    except BadRequestError as error:
        return False, f"{LABEL} refused the request: {error}"
    except SourceError as error:
        return False, f"{LABEL} could not be reached: {error}"
    return True, None


def response(config: KlaviyoConfig, inputs: SourceInputs, runtime: Runtime) -> SourceResponse:
    """The rows of ``inputs.schema_name``, read when the host iterates them."""
    client = client_config(config)
    if inputs.schema_name == settings.LIST_PROFILES.name:
        return dependent_response(
            client,
            settings.LIST_PARENTS,
            settings.LIST_PROFILES,
            settings.PROFILES_OF_LISTS,
            inputs,
            runtime,
        )
    return endpoint_response(client, settings.ENDPOINTS[inputs.schema_name], inputs, runtime)
