"""The contract kit's schema facts: defaults that fit most schemas, fan-out links made explicit."""

from __future__ import annotations

import httpx
import pytest

from headwater.emulator import ContractKit, Emulator, ParentLink, SchemaKit, json_response


class Api(Emulator):
    def handle(self, request: httpx.Request) -> httpx.Response:
        return json_response(200, [])


def add_rows(emulator: Api, schema: str) -> None:
    emulator.store.add(schema, [{"id": 1}])


def test_a_schema_the_kit_does_not_describe_gets_the_defaults():
    kit = ContractKit(emulator=Api, valid_config={})

    assert kit.schema_kit("issues") == SchemaKit()
    assert kit.schema_kit("issues").table is None
    assert kit.add_rows is None
    assert kit.secret_name_exceptions == {}


def test_a_kit_describes_fan_out_schemas_and_how_rows_arrive():
    members = SchemaKit(
        expected_key=lambda row: (row["project_id"], row["user"]),
        parent=ParentLink(schema="projects", columns={"_projects_id": "id"}),
    )
    kit = ContractKit(
        emulator=Api, valid_config={}, schemas={"members": members}, add_rows=add_rows
    )
    api = kit.emulator()

    assert kit.schema_kit("members").parent == ParentLink(
        schema="projects", columns={"_projects_id": "id"}
    )
    assert kit.schema_kit("members").expected_key({"project_id": 7, "user": "ada"}) == (7, "ada")
    assert kit.add_rows is not None
    kit.add_rows(api, "records")
    assert api.store.rows("records") == [{"id": 1}]


def test_a_parent_link_must_name_the_columns_it_expects():
    with pytest.raises(ValueError, match="needs at least one column"):
        ParentLink(schema="projects", columns={})


def test_the_runtime_takes_any_handler_that_wraps_the_emulator():
    kit = ContractKit(emulator=Api, valid_config={})
    api = kit.emulator()
    seen = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return api(request)

    runtime = kit.runtime(recording)
    with httpx.Client(transport=runtime.transport) as client:
        client.get("https://api.example.test/items")

    assert seen == ["/items"]
    assert len(api.requests) == 1
