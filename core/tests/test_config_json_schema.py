"""The JSON Schema of a connector's form (``headwater spec``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_config_samples import SPEC, sample_source_config

from headwater.config import JSON_SCHEMA_DIALECT, form_json_schema


@pytest.fixture
def schema() -> dict[str, Any]:
    return form_json_schema(SPEC, sample_source_config())


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every object schema inside ``node`` (the root, option objects, switch groups)."""
    if isinstance(node, dict):
        if "properties" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)


def test_the_root_describes_a_closed_object(schema: dict[str, Any]) -> None:
    assert (
        schema["$schema"] == JSON_SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    )
    assert schema["title"] == "GitHub"
    assert schema["description"] == "Issues, pull requests and commits of one repository."
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    # Required means: no default, so the user must say it.
    assert schema["required"] == ["repository", "auth"]
    assert list(schema["properties"]) == [
        "repository",
        "notify_email",
        "base_url",
        "description",
        "webhook_secret",
        "page_size",
        "request_timeout",
        "visibility",
        "auth",
        "proxy",
        "ca_bundle",
        "google_drive",
    ]


def test_every_object_is_closed_and_requires_only_known_properties(schema: dict[str, Any]) -> None:
    objects = list(_objects(schema))
    assert len(objects) == 4  # root, the two auth options, the proxy group
    for node in objects:
        assert node["additionalProperties"] is False
        assert set(node["required"]) <= set(node["properties"])


def test_properties_carry_label_caption_and_default(schema: dict[str, Any]) -> None:
    repository = schema["properties"]["repository"]
    assert repository["title"] == "Repository"
    assert repository["description"] == "owner/name, such as posthog/posthog"
    assert repository["x-headwater-placeholder"] == "owner/name"
    assert repository["minLength"] == 1
    assert schema["properties"]["base_url"]["default"] == "https://api.github.com"
    assert schema["properties"]["page_size"]["default"] == 100


def test_secrets_are_write_only(schema: dict[str, Any]) -> None:
    properties = schema["properties"]
    token_option, app_option = properties["auth"]["oneOf"]
    assert properties["webhook_secret"]["writeOnly"] is True
    assert properties["webhook_secret"]["x-headwater-widget"] == "password"
    assert token_option["properties"]["token"]["writeOnly"] is True
    assert app_option["properties"]["private_key"]["writeOnly"] is True
    assert app_option["properties"]["private_key"]["x-headwater-widget"] == "file"
    assert app_option["properties"]["private_key"]["x-headwater-accept"] == [".pem"]
    # A file that is not secret, and plain text, can be shown.
    assert "writeOnly" not in properties["ca_bundle"]
    assert "writeOnly" not in properties["repository"]


def test_text_kinds_have_formats_and_widgets(schema: dict[str, Any]) -> None:
    properties = schema["properties"]
    assert properties["notify_email"] == {
        "title": "Notification email",
        "type": "string",
        "format": "email",
    }
    assert properties["base_url"]["format"] == "uri"
    assert properties["description"]["x-headwater-widget"] == "textarea"


def test_numbers_carry_their_kind_and_bounds(schema: dict[str, Any]) -> None:
    properties = schema["properties"]
    assert properties["page_size"] == {
        "title": "Page size",
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 100,
    }
    assert properties["request_timeout"]["type"] == "number"
    assert properties["request_timeout"]["minimum"] == 0.5


def test_a_plain_select_is_one_of_its_values(schema: dict[str, Any]) -> None:
    assert schema["properties"]["visibility"] == {
        "title": "Visibility",
        "type": "string",
        "oneOf": [
            {"const": "all", "title": "All"},
            {"const": "public", "title": "Public"},
            {"const": "private", "title": "Private"},
        ],
        "default": "all",
    }


def test_a_select_with_sub_fields_is_one_of_its_option_objects(schema: dict[str, Any]) -> None:
    token_option, app_option = schema["properties"]["auth"]["oneOf"]
    assert token_option["title"] == "Personal access token"
    assert token_option["properties"]["selection"] == {"const": "token"}
    assert token_option["required"] == ["selection", "token"]
    assert app_option["properties"]["selection"] == {"const": "app"}
    assert app_option["required"] == ["selection", "app_id", "private_key"]
    assert app_option["properties"]["app_id"]["minimum"] == 1


def test_a_switch_group_is_an_object_or_null(schema: dict[str, Any]) -> None:
    proxy = schema["properties"]["proxy"]
    assert proxy["type"] == ["object", "null"]
    assert proxy["required"] == ["url"]
    assert proxy["properties"]["port"]["default"] == 8080
    assert proxy["x-headwater-switch-default"] is False


def test_an_oauth_field_names_its_provider(schema: dict[str, Any]) -> None:
    assert schema["properties"]["google_drive"] == {
        "title": "Google Drive",
        "type": "string",
        "x-headwater-oauth-provider": "google",
    }


def test_connector_metadata_rides_along(schema: dict[str, Any]) -> None:
    assert schema["x-headwater"] == {
        "source_type": "github",
        "contract_major": 1,
        "category": "Source control",
        "release_status": "beta",
        "unreleased": False,
        "docs_url": "https://docs.example.com/connectors/github",
        "icon": "icon.svg",
    }


def test_the_schema_is_deterministic_json(schema: dict[str, Any]) -> None:
    again = form_json_schema(SPEC, sample_source_config())
    assert json.dumps(schema) == json.dumps(again)
    assert json.loads(json.dumps(schema)) == schema
