"""Config: the form is well made, its generated class is current, and secrets stay secret.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from headwater.config import check_generated, form_json_schema, structure_source_config
from headwater.errors import ConfigError
from headwater.sources import (
    Field,
    FileUploadField,
    SecretField,
    SelectField,
    SwitchGroupField,
    is_secret,
    walk_fields,
)
from headwater_contract.checks._common import examples, fail, fail_if
from headwater_contract.subject import Blocked, Subject

__all__ = [
    "field_names_are_unique_and_labelled",
    "generated_config_class_is_current",
    "invalid_configs_are_rejected",
    "json_schema_is_valid",
    "looks_secret",
    "secret_fields_are_marked",
    "secrets_are_absent_from_reprs",
    "valid_config_is_accepted",
]

# A name "looks secret" when its last word is one of these (``api_key``, ``access_token``,
# ``client_secret``, ``password``, or run together: ``apikey``).
_SECRET_ENDINGS = ("token", "key", "password", "passwd", "secret", "passphrase")
# Keys that are not credentials, whatever their last word says.
_NOT_SECRET_NAMES = frozenset({"public_key", "primary_key", "partition_key", "sort_key"})
_WORD = re.compile(r"[a-z0-9]+")


def looks_secret(name: str) -> bool:
    """Whether a field named ``name`` reads as a credential.

    .. versionadded:: 0.1
    """
    if name in _NOT_SECRET_NAMES:
        return False
    words = _WORD.findall(name.lower())
    return bool(words) and words[-1].endswith(_SECRET_ENDINGS)


def field_names_are_unique_and_labelled(subject: Subject) -> None:
    """No two sibling fields share a name; every field and option has a label.

    .. versionadded:: 0.1
    """
    loaded = subject.need(subject.loaded)
    problems: list[str] = []
    _check_siblings(loaded.source_config.fields, "$", problems)
    fail_if(problems, f"the form of {subject.name} has {len(problems)} problem(s):")


def _check_siblings(fields: tuple[Field, ...], parent: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for field in fields:
        path = f"{parent}.{field.name}"
        if field.name in seen:
            problems.append(f"{path} is declared twice; field names must be unique")
        seen.add(field.name)
        if not field.label.strip():
            problems.append(f"{path} has no label; every field needs one for the form")
        if isinstance(field, SelectField):
            for option in field.options:
                if not option.label.strip():
                    problems.append(f"option {option.value!r} of {path} has no label")
                _check_siblings(option.fields, path, problems)
        elif isinstance(field, SwitchGroupField):
            _check_siblings(field.fields, path, problems)


def secret_fields_are_marked(subject: Subject) -> None:
    """Fields named like credentials are secret fields, and secret fields are named like them.

    .. versionadded:: 0.1
    """
    loaded = subject.need(subject.loaded)
    excepted = loaded.kit.secret_name_exceptions
    problems = []
    for path, field in walk_fields(loaded.source_config.fields):
        if path in excepted:
            continue
        secret = is_secret(field)
        if looks_secret(field.name) and not secret:
            problems.append(
                f"{path} is named like a credential but is a {type(field).__name__}: make it"
                " a SecretField, so its value is typed Secret and never shown in reprs, logs"
                " or errors (if it really is no secret, list it in"
                " ContractKit.secret_name_exceptions with the reason)"
            )
        elif isinstance(field, SecretField) and not looks_secret(field.name):
            problems.append(
                f"{path} is a secret field, but its name does not say so: name it like a"
                " credential (..._token, ..._key, ..._password, ..._secret) so that redaction"
                " by name (query parameters, logs) treats it as one too (or list it in"
                " ContractKit.secret_name_exceptions with the reason)"
            )
        elif isinstance(field, FileUploadField) and looks_secret(field.name) and not secret:
            problems.append(f"{path} is a file named like a credential: set secret=True")
    fail_if(problems)


def generated_config_class_is_current(subject: Subject) -> None:
    """The committed ``_config.py`` is what ``headwater generate`` writes for the fields.

    .. versionadded:: 0.1
    """
    loaded = subject.need(subject.loaded)
    try:
        stale = check_generated(loaded.connector.spec, loaded.source_config)
    except Exception as error:
        fail(f"the generated config class cannot be checked: {error}")
    if stale is not None:
        fail(stale + ", then commit it")
    config_class = subject.config_class
    if isinstance(config_class, Blocked):
        fail(config_class.reason)


def json_schema_is_valid(subject: Subject) -> None:
    """The form's JSON Schema is valid (draft 2020-12), marks secrets writeOnly, and accepts
    the kit's valid config.

    .. versionadded:: 0.1
    """
    import jsonschema  # type: ignore[import-untyped]  # ships no type information

    loaded = subject.need(subject.loaded)
    schema = form_json_schema(loaded.connector.spec, loaded.source_config)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        fail(f"the form's JSON Schema is not a valid draft 2020-12 schema: {error.message}")
    problems = []
    for path, field in walk_fields(loaded.source_config.fields):
        if is_secret(field) and not _property(schema, path).get("writeOnly"):
            problems.append(f"{path} is secret but not writeOnly in the JSON Schema")
    validator = jsonschema.Draft202012Validator(schema)
    for rejection in sorted(validator.iter_errors(dict(loaded.kit.valid_config)), key=str):
        where = "$" + "".join(f".{part}" for part in rejection.absolute_path)
        problems.append(
            f"the JSON Schema rejects the kit's valid config at {where}:"
            f" {subject.leaks.scrub(rejection.message)}; the form and the config class disagree"
        )
    fail_if(problems)


def _property(schema: dict[str, Any], path: str) -> dict[str, Any]:
    node: dict[str, Any] = schema
    for part in path.removeprefix("$.").split("."):
        properties = node.get("properties", {})
        if part in properties:
            node = properties[part]
            continue
        # A sub-field of a select option: look through the options.
        for option in node.get("oneOf", []):
            if part in option.get("properties", {}):
                node = option["properties"][part]
                break
        else:
            return {}
    return node


def valid_config_is_accepted(subject: Subject) -> None:
    """The kit's valid config structures into the generated class.

    .. versionadded:: 0.1
    """
    config = subject.config
    if isinstance(config, Blocked) and config.check == "test_valid_config_is_accepted":
        fail(config.reason)
    subject.need(config)


def invalid_configs_are_rejected(subject: Subject) -> None:
    """Each invalid sample config is rejected, with an error at its path and no secret in it.

    .. versionadded:: 0.1
    """
    loaded = subject.need(subject.loaded)
    config_class = subject.need(subject.config_class)
    samples = loaded.kit.invalid_configs
    if not samples:
        fail(
            "the kit declares no invalid configs; add at least one InvalidConfig (a required"
            " field left out, say) so the suite can check that bad input is rejected with a path"
        )
    problems = []
    for sample in samples:
        try:
            structure_source_config(
                config_class, loaded.source_config, sample.config, resolvers=subject.resolvers
            )
        except ConfigError as error:
            paths = [problem.path for problem in error.problems]
            if not any(_under(path, sample.path) for path in paths):
                problems.append(
                    f"invalid config {sample.description!r} is rejected, but not at"
                    f" {sample.path}: {subject.leaks.scrub(str(error))}"
                )
            leaked = subject.leaks.find(str(error))
            if leaked:
                problems.append(
                    f"the error for invalid config {sample.description!r} contains the value"
                    f" of {', '.join(leaked)}; config errors must never quote a secret"
                )
        except Exception as error:
            problems.append(
                f"invalid config {sample.description!r} raised {subject.describe(error)}"
                " instead of a ConfigError with a path"
            )
        else:
            problems.append(
                f"invalid config {sample.description!r} is accepted; it must be rejected at"
                f" {sample.path}"
            )
    fail_if(problems)


def _under(path: str, base: str) -> bool:
    return path == base or path.startswith((base + ".", base + "["))


def secrets_are_absent_from_reprs(subject: Subject) -> None:
    """No repr or str of the config, the source, the schemas or a response shows a secret.

    .. versionadded:: 0.1
    """
    loaded = subject.need(subject.loaded)
    config = subject.need(subject.config)
    if not subject.leaks.secrets:
        return  # no secret fields: nothing can leak (a short sample is reported elsewhere)
    shown: list[tuple[str, str]] = [
        ("repr(config)", repr(config)),
        ("str(config)", str(config)),
        ("repr(source)", repr(loaded.source)),
    ]
    if attrs.has(type(config)):
        for attribute in attrs.fields(type(config)):
            value = getattr(config, attribute.name)
            shown.append((f"repr(config.{attribute.name})", repr(value)))
            shown.append((f"f'{{config.{attribute.name}}}'", f"{value}"))
    schemas = subject.schemas
    if not isinstance(schemas, Blocked):
        for facts in schemas:
            shown.append((f"repr(schema {facts.name!r})", repr(facts.schema)))
            shown.append((f"repr(SourceResponse of {facts.name!r})", repr(facts.response)))
            shown.append((f"repr(items of {facts.name!r})", repr(facts.response.items)))
    problems = [
        f"{where} shows the value of {examples(subject.leaks.find(text))}"
        for where, text in shown
        if subject.leaks.find(text)
    ]
    fail_if(
        problems,
        "secrets appear in reprs (keep them as headwater.Secret until the moment they are sent):",
    )
