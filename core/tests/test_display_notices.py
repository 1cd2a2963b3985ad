"""Notices (a fallback, a skipped parent, a read continued) reach the user in every output;
routine messages (each commit) stay in the JSON log."""

from __future__ import annotations

import json

import pytest
from memory_source import MemorySchema, MemorySource, at, config, runtime

from headwater import ProgressEvent, ProgressKind
from headwater.cli.sync_output import SyncOutput
from headwater.sync import sync_schema

NOTICE = "the last sync is older than the API keeps changes (30 days); reading every object"


class Noticing(MemorySource):
    """Tells the user something while reading, as a connector's change feed does."""

    def source_for_pipeline(self, config, inputs, runtime):
        runtime.progress.emit(
            ProgressEvent(kind=ProgressKind.NOTICE, schema=inputs.schema_name, detail=NOTICE)
        )
        return super().source_for_pipeline(config, inputs, runtime)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_notice_is_shown_in_every_output_and_commits_are_not(tmp_path, capsys, log_format):
    items = MemorySchema(name="items")
    items.rows = [{"id": n, "updated_at": at(n)} for n in range(1, 4)]
    source = Noticing(items)
    output = SyncOutput.open(
        name=source.source_type,
        schemas=("items",),
        runtime=runtime(),
        config=config(source.source_type),
        quiet=False,
        log_format=log_format,
    )

    with output:
        output.started("items")
        result = sync_schema(source, config(), "items", str(tmp_path / "wh"), output.runtime)
        output.finished("items", result)

    captured = capsys.readouterr()
    if log_format == "json":
        events = [json.loads(line) for line in captured.out.splitlines()]
        notices = [e for e in events if e["event"] == "notice"]
        assert [(e["schema"], e["detail"]) for e in notices] == [("items", NOTICE)]
        assert any(e["detail"].startswith("committed version") for e in events if "detail" in e)
    else:
        assert captured.err.splitlines() == [f"items: note: {NOTICE}"]
        assert "committed version" not in captured.out + captured.err
