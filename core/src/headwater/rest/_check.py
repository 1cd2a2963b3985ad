"""A credential check declared as data: one request, and what to tell the user per outcome.

Every API connector checks credentials the same way: it sends the cheapest request that
needs them and turns each failure into a sentence that says what to fix. A
:class:`CredentialCheck` holds the request (a path with placeholders, query parameters) and
the sentences, keyed by the :class:`~headwater.errors.ErrorKind` of the failure; anything
else (the network, a 5xx after retries) is "could not be reached".

.. versionadded:: 0.2
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from headwater.errors import ConfigError, ErrorKind, HTTPStatusError, SourceError
from headwater.rest._client import RestClient
from headwater.rest._paths import fill_path, placeholders
from headwater.secret import Secret

if TYPE_CHECKING:
    from headwater.rest._client import ClientConfig
    from headwater.runtime import Runtime

__all__ = ["CredentialCheck"]

UNREACHABLE = "{label} could not be reached: {error}"

# What {reason} says when the API gave no words of its own (or the client reads none).
_PLAIN_REASONS = {
    ErrorKind.AUTHENTICATION: "authentication failed",
    ErrorKind.PERMISSION: "permission denied",
    ErrorKind.NOT_FOUND: "not found",
    ErrorKind.BAD_REQUEST: "bad request",
}


def _messages(value: Mapping[ErrorKind | str, str]) -> dict[ErrorKind, str]:
    return {ErrorKind(kind): message for kind, message in value.items()}


def _params(value: Mapping[str, str]) -> dict[str, str]:
    return {str(name): str(item) for name, item in value.items()}


def _values(value: Mapping[str, Callable[[Any], str]]) -> dict[str, Callable[[Any], str]]:
    return dict(value)


@attrs.frozen(kw_only=True)
class CredentialCheck:
    """``GET path`` with ``params``; a failure of kind K answers ``messages[K]``.

    Messages are :meth:`str.format` templates. They may name ``{label}`` (the connector's
    label), ``{error}`` (the failure), ``{reason}`` (the API's own words, as the client's
    ``error_message`` reads them from the error body, else a plain phrase such as
    ``permission denied``), any placeholder of ``path``, any config field that is not a
    secret (``{repository!r}``) and any name of ``values``: small functions of the config
    for text a template cannot say (``" for connected account acct_1"`` or nothing). A
    failure whose kind has no message, and one that is not an HTTP answer at all, gets
    ``unreachable``. A config the path values
    refuse (:class:`~headwater.errors.ConfigError`) answers its own message, without a
    request.

    .. versionadded:: 0.2
    """

    path: str
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_params)
    messages: Mapping[ErrorKind, str] = attrs.field(factory=dict, converter=_messages)
    unreachable: str = UNREACHABLE
    values: Mapping[str, Callable[[Any], str]] = attrs.field(factory=dict, converter=_values)

    def names(self) -> frozenset[str]:
        """Every name the messages use."""
        templates = [*self.messages.values(), self.unreachable]
        return frozenset(
            field.split(".")[0].split("[")[0]
            for template in templates
            for _, field, _, _ in string.Formatter().parse(template)
            if field
        )

    def run(
        self,
        client: ClientConfig,
        config: object,
        path_values: Mapping[str, str],
        *,
        label: str,
        runtime: Runtime,
    ) -> tuple[bool, str | None]:
        """Send the request: ``(True, None)``, or ``(False, what to fix)``. Never raises for
        refused credentials or network failures."""
        context = {
            **_plain_fields(config),
            **path_values,
            **{name: value(config) for name, value in self.values.items()},
            "label": label,
        }
        try:
            path = fill_path(self.path, path_values)
            with RestClient(client, runtime) as api:
                api.get_json(path, params=self.params or None)
        except ConfigError as error:
            return False, str(error)
        except SourceError as error:
            template = self.messages.get(error.kind, self.unreachable)
            reason = _reason(client, error)
            return False, template.format_map({**context, "error": error, "reason": reason})
        return True, None

    def check_names(self, known: frozenset[str]) -> None:
        """Raise ``ValueError`` if a message names something it will not be given.

        ``known`` holds the config's field names that are not secrets; the path's
        placeholders, ``label``, ``error``, ``reason`` and the names of ``values`` are always
        known.
        """
        given = {"label", "error", "reason", *self.values}
        unknown = self.names() - known - placeholders(self.path) - given
        if unknown:
            raise ValueError(
                f"the credential check's messages name {sorted(unknown)}, which are neither"
                f" config fields nor placeholders of {self.path!r}"
            )


def _plain_fields(config: object) -> dict[str, Any]:
    """The config's fields that may appear in a message: every one but the secrets."""
    if not attrs.has(type(config)):
        return {}
    values = attrs.asdict(config, recurse=False)  # type: ignore[arg-type]
    return {name: value for name, value in values.items() if not isinstance(value, Secret)}


def _reason(client: ClientConfig, error: SourceError) -> str:
    """The API's own words for ``error``, or a plain phrase for its kind."""
    read = client.error_message
    if read is not None and isinstance(error, HTTPStatusError) and error.body_excerpt:
        try:
            said = read(error.body_excerpt)
        except Exception:
            said = None
        if said:
            return said
    return _PLAIN_REASONS.get(error.kind, str(error.kind).replace("_", " "))
