"""The state document and the sync plan: what is stored, and which mode a schema gets."""

from __future__ import annotations

import datetime as dt

import pytest

from headwater import IncrementalField, SourceSchema, SyncMode
from headwater.config import SchemaChoice
from headwater.errors import ConfigError, StateError
from headwater.sync import Layout, Position, SchemaState, WriteStrategy, plan_sync
from headwater.warehouse import PartitionScheme

WHEN = dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
MONTHLY = PartitionScheme(mode="datetime", keys=["created_at"], format="month")


def test_a_state_document_reads_back_as_it_was_written():
    state = SchemaState(
        sequence=4,
        schema="orders",
        sync_mode="incremental",
        layout=Layout(
            primary_keys=["id"],
            incremental_field="updated_at",
            incremental_field_type="datetime",
            partition=MONTHLY,
        ),
        position=Position(
            watermark=WHEN, watermark_keys=frozenset({"[1]"}), earliest=WHEN, pending=WHEN
        ),
        resume={"cursor": "abc"},
        complete=False,
        run="r1",
        written_by="headwater 0.1.0; x",
        written_at=WHEN.isoformat(),
    )

    document = state.to_document()

    assert SchemaState.from_document(document) == state
    assert document["position"]["watermark"] == "2026-01-01T10:00:00+00:00"
    assert document["format"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 9}, "format 9, newer than this Headwater reads"),
        ({"layout": None}, "is damaged"),
    ],
)
def test_an_unusable_state_document_is_a_clear_error(change, message):
    document = {**SchemaState(sequence=1, schema="s", sync_mode="append").to_document(), **change}

    with pytest.raises(StateError, match=message):
        SchemaState.from_document(document)


@pytest.mark.parametrize(
    ("new", "has_watermark", "changes"),
    [
        (Layout(primary_keys=["id"]), True, []),
        (Layout(primary_keys=["id", "org"]), False, ["primary keys (id) -> (id, org)"]),
        (
            Layout(primary_keys=["id"], incremental_field="seen", incremental_field_type="date"),
            True,
            ["incremental field None (None) -> seen (date)"],
        ),
        (
            Layout(primary_keys=["id"], incremental_field="seen", incremental_field_type="date"),
            False,
            [],
        ),
        (
            Layout(primary_keys=["id"], partition=MONTHLY),
            False,
            ["partitioning none -> datetime month of created_at"],
        ),
    ],
)
def test_a_layout_change_lists_what_changed(new, has_watermark, changes):
    old = Layout(primary_keys=["id"])

    assert new.changes_from(old, has_watermark=has_watermark) == changes


SCHEMA = SourceSchema(
    name="issues",
    supports_incremental=True,
    supports_append=True,
    incremental_fields=[
        IncrementalField(field="updated_at", label="Updated", type="datetime"),
        IncrementalField(field="created_at", label="Created", type="datetime"),
    ],
)


@pytest.mark.parametrize(
    ("choice", "rewrite", "mode", "field", "strategy"),
    [
        (None, False, "incremental", "updated_at", WriteStrategy.MERGE),
        (SchemaChoice(sync_mode="append"), False, "append", "updated_at", WriteStrategy.APPEND),
        (
            SchemaChoice(incremental_field="created_at"),
            False,
            "incremental",
            "created_at",
            WriteStrategy.MERGE,
        ),
        (
            SchemaChoice(sync_mode="full_refresh"),
            False,
            "full_refresh",
            None,
            WriteStrategy.REPLACE,
        ),
        (None, True, "incremental", "updated_at", WriteStrategy.REPLACE),
    ],
)
def test_the_plan_follows_the_config_then_the_schema(choice, rewrite, mode, field, strategy):
    plan = plan_sync(SCHEMA, choice, rewrite=rewrite)

    assert plan.sync_mode == SyncMode(mode)
    assert (plan.incremental_field.field if plan.incremental_field else None) == field
    assert plan.strategy is strategy


@pytest.mark.parametrize(
    ("choice", "path"),
    [
        (SchemaChoice(incremental_field="nope"), "$.schemas.labels.incremental_field"),
        (SchemaChoice(sync_mode="incremental"), "$.schemas.labels.sync_mode"),
    ],
)
def test_a_choice_the_schema_does_not_offer_is_a_config_error(choice, path):
    schema = SourceSchema(
        name="labels",
        supports_append=True,
        incremental_fields=[IncrementalField(field="id", label="Id", type="integer")],
    )

    with pytest.raises(ConfigError) as raised:
        plan_sync(schema, choice)

    assert raised.value.problems[0].path == path
