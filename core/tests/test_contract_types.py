"""The source-contract types refuse inconsistent declarations with a clear reason."""

from __future__ import annotations

import attrs
import pytest

from headwater import (
    IncrementalField,
    NumberField,
    SecretField,
    SelectField,
    SelectOption,
    SourceConfig,
    SourceInputs,
    SourceResponse,
    SourceSchema,
    SourceSpec,
    SwitchGroupField,
    SyncMode,
    TextField,
)
from headwater.sources import walk_fields


def rows():
    return iter([{"id": 1}])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"items": [{"id": 1}]}, "items must be a zero-argument callable"),
        ({"primary_keys": []}, "primary_keys is empty"),
        ({"partition_mode": "datetime"}, "needs partition_keys"),
        (
            {"partition_mode": "datetime", "partition_keys": ["created_at"]},
            "needs partition_format",
        ),
        ({"partition_mode": "md5", "partition_keys": ["id"]}, "positive partition_count"),
        ({"partition_mode": "numerical", "partition_keys": ["id"]}, "positive partition_size"),
        ({"partition_mode": "weekly"}, "'weekly' is not a valid PartitionMode"),
        ({"sort_mode": "sideways"}, "'sideways' is not a valid SortMode"),
    ],
)
def test_source_response_refuses_inconsistent_storage_hints(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        SourceResponse(**{"name": "issues", "items": rows, **kwargs})


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"primary_keys": ["id"], "sort_mode": "desc"},
        {
            "partition_mode": "datetime",
            "partition_keys": ["created_at"],
            "partition_format": "month",
        },
        {"partition_mode": "md5", "partition_keys": ["id"], "partition_count": 16},
        {"partition_mode": "numerical", "partition_keys": ["id"], "partition_size": 10_000},
    ],
)
def test_source_response_accepts_consistent_hints(kwargs):
    response = SourceResponse(name="issues", items=rows, **kwargs)
    assert list(response.items()) == [{"id": 1}]


def test_source_response_is_frozen_and_keyword_only():
    response = SourceResponse(name="issues", items=rows)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        response.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        SourceResponse("issues", rows)  # type: ignore[misc]


UPDATED = IncrementalField(field="updated_at", label="Updated at", type="datetime")


@pytest.mark.parametrize(
    ("schema", "modes", "default"),
    [
        (SourceSchema(name="labels"), ("full_refresh",), "full_refresh"),
        (
            SourceSchema(name="issues", supports_incremental=True, incremental_fields=[UPDATED]),
            ("incremental", "full_refresh"),
            "incremental",
        ),
        (
            SourceSchema(
                name="events",
                supports_incremental=True,
                supports_append=True,
                incremental_fields=[UPDATED],
                default_sync_mode="append",
            ),
            ("incremental", "append", "full_refresh"),
            "append",
        ),
    ],
)
def test_schema_sync_modes_and_default(schema, modes, default):
    assert schema.sync_modes == tuple(SyncMode(m) for m in modes)
    assert schema.effective_default_sync_mode == default


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"supports_incremental": True}, "declares no incremental field"),
        ({"default_sync_mode": "incremental"}, "is not supported"),
    ],
)
def test_schema_refuses_inconsistent_modes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SourceSchema(name="issues", **kwargs)


def test_incremental_inputs_need_a_field_and_type():
    with pytest.raises(ValueError, match="needs incremental_field and incremental_field_type"):
        SourceInputs(schema_name="issues", should_use_incremental_field=True)
    inputs = SourceInputs(
        schema_name="issues",
        should_use_incremental_field=True,
        incremental_field="updated_at",
        incremental_field_type="datetime",
        db_incremental_field_last_value="2026-01-01T00:00:00Z",
    )
    assert inputs.incremental_field_type == "datetime"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source_type": "GitHub"}, "lower-case letters"),
        ({"source_type": "9lives"}, "starting with a letter"),
        ({"load": "connector_github.source.GithubSource"}, "must look like"),
        ({"kit": "not a path"}, "must look like"),
        ({"release_status": "gamma"}, "not a valid ReleaseStatus"),
    ],
)
def test_source_spec_validates_names_and_import_paths(kwargs, message):
    base = {
        "source_type": "github",
        "contract_major": 1,
        "label": "GitHub",
        "load": "connector_github.source:GithubSource",
    }
    with pytest.raises(ValueError, match=message):
        SourceSpec(**{**base, **kwargs})


AUTH = SelectField(
    name="auth",
    label="Authentication",
    options=[
        SelectOption(
            value="token", label="Token", fields=[SecretField(name="token", label="Token")]
        ),
        SelectOption(
            value="app",
            label="GitHub App",
            fields=[
                TextField(name="app_id", label="App id"),
                SecretField(name="token", label="Private key"),
            ],
        ),
    ],
)


def test_walk_fields_reaches_sub_fields_with_paths():
    config = SourceConfig(
        label="GitHub",
        fields=[
            TextField(name="repository", label="Repository"),
            AUTH,
            SwitchGroupField(
                name="advanced",
                label="Advanced",
                fields=[NumberField(name="page_size", label="Page size", default=100)],
            ),
        ],
    )

    paths = [path for path, _ in walk_fields(config.fields)]

    assert paths == [
        "$.repository",
        "$.auth",
        "$.auth.token",
        "$.auth.app_id",
        "$.auth.token",
        "$.advanced",
        "$.advanced.page_size",
    ]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TextField(name="Repository", label="Repository"), "lower-case identifier"),
        (lambda: TextField(name="class", label="Class"), "lower-case identifier"),
        (lambda: TextField(name="repository", label="  "), "needs a label"),
        (lambda: SelectField(name="mode", label="Mode", options=[]), "has no options"),
        (
            lambda: SelectField(
                name="mode",
                label="Mode",
                options=[SelectOption(value="a", label="A"), SelectOption(value="a", label="A2")],
            ),
            "repeats an option value",
        ),
        (
            lambda: SelectField(
                name="mode", label="Mode", options=[SelectOption(value="a", label="A")], default="b"
            ),
            "default 'b' is no option",
        ),
        (
            lambda: SourceConfig(
                label="X",
                fields=[TextField(name="a", label="A"), TextField(name="a", label="A again")],
            ),
            "declared twice",
        ),
    ],
)
def test_fields_refuse_bad_declarations(build, message):
    with pytest.raises(ValueError, match=message):
        build()
