"""Talking to Stripe: the client and its auth, the credential check, each schema's response.

Requests, retries and pagination are the shared machinery's (headwater.rest); this module says
how to reach the API, and reads Stripe's error envelope (the client's ``error_message``, so
every permanent failure's message ends with what Stripe said).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import attrs

from connector_stripe import settings
from connector_stripe.changes import CHANGED_FIELD, changes_response, stamped
from connector_stripe.nested import nested_response
from headwater.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConfigProblem,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
)
from headwater.rest import BasicAuth, RestClient, endpoint_response

if TYPE_CHECKING:
    from connector_stripe._config import StripeConfig
    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig

__all__ = ["check_credentials", "client_config", "response", "stripe_message"]

LABEL = settings.LABEL
REJECTED = (
    f"{LABEL} rejected the secret key: copy a current key from Developers > API keys in the"
    " Stripe Dashboard"
)
# Secret keys are sk_live_/sk_test_, restricted keys rk_live_/rk_test_ (docs.stripe.com/keys).
# A publishable key (pk_) can read nothing this connector lists, so it is refused up front.
_KEY_PREFIXES = ("sk_", "rk_")
# Stripe's envelope: {"error": {"type", "code", "message", "param", "doc_url", ...}}.
_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)')
_FIELD = {name: re.compile(rf'"{name}"\s*:\s*"([^"\\]*)"') for name in ("type", "code")}


def secret_key_problem(config: StripeConfig) -> ConfigError | None:
    """A :class:`ConfigError` at ``$.secret_key`` when the key is not a secret or restricted
    key; the value is never quoted."""
    if config.secret_key.reveal().strip().startswith(_KEY_PREFIXES):
        return None
    return ConfigError(
        [
            ConfigProblem(
                path="$.secret_key",
                message="expected a secret key (sk_...) or a restricted key (rk_...)",
            )
        ],
        context=f"invalid {LABEL} configuration",
    )


def client_config(config: StripeConfig) -> ClientConfig:
    """The API client: the key as the basic-auth user name, and the connected account."""
    headers = dict(settings.CLIENT.headers)
    if config.account_id:
        headers["Stripe-Account"] = config.account_id.strip()
    return attrs.evolve(
        settings.CLIENT,
        auth=BasicAuth(username=config.secret_key),
        headers=headers,
        error_message=stripe_message,
    )


def stripe_message(body: str) -> str | None:
    """``type (code): message`` from Stripe's error envelope, or ``None`` if it has none.

    ``body`` is the start of the error body the client kept; a long body is cut off, so the
    fields are read by pattern when the JSON does not parse.
    """
    fields: dict[str, Any] = {}
    try:
        parsed = json.loads(body)
    except ValueError:
        match = _MESSAGE.search(body)
        if match is None:
            return None
        fields["message"] = match.group(1).replace('\\"', '"')
        for name, pattern in _FIELD.items():
            found = pattern.search(body)
            fields[name] = found.group(1) if found else None
    else:
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if not isinstance(error, dict) or not error.get("message"):
            return None
        fields = error
    kind = fields.get("type") or "error"
    code = f" ({fields['code']})" if fields.get("code") else ""
    return f"{kind}{code}: {fields['message']}"


def check_credentials(config: StripeConfig, runtime: Runtime) -> tuple[bool, str | None]:
    """List one charge: needs a valid key, read access to charges and the connected account."""
    problem = secret_key_problem(config)
    if problem is not None:
        return False, str(problem)
    try:
        with RestClient(client_config(config), runtime) as client:
            client.get_json("/v1/charges", params={"limit": "1"})
    except AuthenticationError:
        return False, REJECTED
    except PermissionDeniedError as error:
        said = stripe_message(error.body_excerpt) or "permission denied"
        return False, (
            f"The {LABEL} key may not list charges{_for_account(config)}: {said}. Give a"
            " restricted key Read on the tables to sync, or use a secret key"
        )
    except NotFoundError as error:
        said = stripe_message(error.body_excerpt) or "not found"
        return False, f"{LABEL} answered 404{_for_account(config)}: {said}"
    except BadRequestError as error:
        return False, f"{LABEL} refused the check: {error}"
    except SourceError as error:
        return False, f"{LABEL} could not be reached: {error}"
    return True, None


def _for_account(config: StripeConfig) -> str:
    return f" for connected account {config.account_id}" if config.account_id else ""


def response(config: StripeConfig, inputs: SourceInputs, runtime: Runtime) -> SourceResponse:
    """The rows of ``inputs.schema_name``, read when the host iterates them.

    :raises ConfigError: at ``$.secret_key`` when the key is not a secret or restricted key.
    """
    problem = secret_key_problem(config)
    if problem is not None:
        raise problem
    endpoint = settings.ENDPOINTS[inputs.schema_name]
    feed = settings.FEEDS.get(inputs.schema_name)
    if feed is not None and inputs.incremental_field == CHANGED_FIELD:
        return changes_response(
            client_config(config), endpoint, settings.EVENTS, feed, inputs, runtime
        )
    if feed is not None:
        # Every row of a table with a change feed says when its state was read, so `changed`
        # is never missing, whatever the mode (changes.py).
        endpoint = endpoint.evolve(normalize=stamped(endpoint.normalize, runtime))
    nested = settings.NESTED.get(inputs.schema_name)
    if nested is not None:
        return nested_response(client_config(config), nested, endpoint, inputs, runtime)
    return endpoint_response(client_config(config), endpoint, inputs, runtime)
