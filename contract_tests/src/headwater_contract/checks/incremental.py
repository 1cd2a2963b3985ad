"""Incremental reads: from a watermark, new rows come and old ones do not; order is as declared.

The host reads a schema, keeps the highest incremental value it wrote as the watermark, and
asks for rows from that value on (inclusive) next time. For ``desc`` endpoints (newest first)
an interrupted read leaves the earliest value it reached, and the next read continues below
it. These checks play the host's part against the emulator: read, add rows, read again.

.. versionadded:: 0.1
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from headwater.sources import IncrementalField, SortMode, SourceInputs
from headwater_contract.checks._common import examples, fail, fail_if
from headwater_contract.subject import Blocked, SchemaFacts, Subject, key_of
from headwater_contract.values import comparable

if TYPE_CHECKING:
    from collections.abc import Hashable

    from headwater_contract.observe import ObservedApi
    from headwater_contract.reading import Read

__all__ = [
    "desc_reads_resume_below_the_earliest_value",
    "incremental_reads_return_new_rows_only",
    "sort_mode_matches_the_data",
]

Row = dict[str, Any]


def _inputs(schema: str, field: IncrementalField, **bounds: Any) -> SourceInputs:
    return SourceInputs(
        schema_name=schema,
        should_use_incremental_field=True,
        incremental_field=field.field,
        incremental_field_type=field.type,
        **bounds,
    )


def _values(rows: tuple[Row, ...], field: IncrementalField, schema: str) -> list[Any]:
    values = [comparable(row.get(field.field), field.type) for row in rows]
    if any(value is None for value in values):
        Blocked(
            reason=f"rows of {schema!r} lack a readable {field.field!r}",
            check="test_incremental_fields_are_present_and_typed",
        ).skip()
    return values


def _must_succeed(subject: Subject, result: Read, what: str) -> None:
    if result.exceeded:
        fail(f"{what} did not stop (more than its request limit)")
    if result.error is not None:
        fail(f"{what} failed: {subject.describe(result.error)}")


def _watermark(rows: tuple[Row, ...], field: IncrementalField, schema: str) -> tuple[Any, Any]:
    """The highest value in ``rows``: as the row holds it (what the host passes) and comparable."""
    values = _values(rows, field, schema)
    index = max(range(len(values)), key=values.__getitem__)
    return rows[index][field.field], values[index]


def incremental_reads_return_new_rows_only(subject: Subject, schema: str) -> None:
    """After rows are added, a read from the first read's watermark returns every new row and
    none older than the watermark; with nothing added, no new keys (boundary rows may repeat).

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    kit = subject.kit
    if kit.add_rows is None:
        fail(
            f"{schema!r} supports incremental syncs, but ContractKit.add_rows is not set, so"
            " the suite cannot make new rows arrive; declare it in the connector's testing.py"
        )
    keys = facts.primary_keys
    if not keys:
        Blocked(
            reason=f"{schema!r} has no primary keys",
            check="test_primary_keys_are_present_and_not_null",
        ).skip()
    problems = []
    for field in facts.schema.incremental_fields:
        problems += _from_watermark(subject, facts, field)
    fail_if(problems)


def _from_watermark(subject: Subject, facts: SchemaFacts, field: IncrementalField) -> list[str]:
    schema, keys = facts.name, facts.primary_keys
    api = subject.api()
    first = subject.read(api, _inputs(schema, field))
    _must_succeed(subject, first, f"the first incremental read of {schema!r} on {field.field!r}")
    if not first.rows:
        Blocked(
            reason=f"the first read of {schema!r} returned no rows",
            check="test_full_read_returns_every_row_once",
        ).skip()
    subject.need_keys(facts, first.rows)
    raw, mark = _watermark(first.rows, field, schema)
    before = set(subject.expected_keys(facts, api.emulator))
    add_rows = subject.kit.add_rows
    assert add_rows is not None
    add_rows(api.emulator, schema)
    new = set(subject.expected_keys(facts, api.emulator)) - before
    if not new:
        fail(
            f"ContractKit.add_rows added no rows to {schema!r} (its emulator table holds the"
            " same keys as before); it must make new rows arrive"
        )
    problems = []
    where = f"{field.field!r} >= {raw!r}"
    second = subject.read(api, _inputs(schema, field, db_incremental_field_last_value=raw))
    _must_succeed(subject, second, f"the read of {schema!r} from the watermark ({where})")
    got = {key_of(row, keys) for row in second.rows}
    missing = sorted(new - got, key=repr)
    if missing:
        problems.append(
            f"reading {schema!r} from the watermark ({where}) missed {len(missing)} of the"
            f" {len(new)} new rows (e.g. {examples(missing)})"
        )
    problems += _older(second, field, mark, schema, where)
    # Nothing added since: only rows at the watermark itself may come again.
    raw2, mark2 = _watermark(first.rows + second.rows, field, schema)
    where2 = f"{field.field!r} >= {raw2!r}"
    third = subject.read(api, _inputs(schema, field, db_incremental_field_last_value=raw2))
    _must_succeed(subject, third, f"the read of {schema!r} from the watermark ({where2})")
    known = {key_of(row, keys) for row in first.rows + second.rows}
    unseen = sorted({key_of(row, keys) for row in third.rows} - known, key=repr)
    if unseen:
        problems.append(
            f"with nothing added, reading {schema!r} from the watermark ({where2}) returned"
            f" {len(unseen)} keys never seen before (e.g. {examples(unseen)})"
        )
    problems += _older(third, field, mark2, schema, where2)
    return problems


def _older(result: Read, field: IncrementalField, mark: Any, schema: str, where: str) -> list[str]:
    values = _values(result.rows, field, schema)
    older = [(row, value) for row, value in zip(result.rows, values, strict=True) if value < mark]
    if not older:
        return []
    row, _ = older[0]
    return [
        f"reading {schema!r} from the watermark ({where}) returned {len(older)} rows older than"
        f" it (e.g. one with {field.field!r} = {row[field.field]!r}): the API was not asked for"
        " rows from the watermark on. Send the lower bound in the endpoint's incremental"
        " parameter (the one the API documents for this field)"
    ]


def _groups(facts: SchemaFacts, rows: tuple[Row, ...]) -> dict[Hashable, list[int]]:
    """Row positions per parent (fan-out rows interleave across parents), else one group."""
    parent = facts.kit.parent
    columns = tuple(parent.columns) if parent is not None else ()
    groups: dict[Hashable, list[int]] = {}
    for index, row in enumerate(rows):
        groups.setdefault(key_of(row, columns), []).append(index)
    return groups


def sort_mode_matches_the_data(subject: Subject, schema: str) -> None:
    """Rows come in the order the schema declares (``sort_mode``) of its incremental field.

    Checked on an incremental first read, per parent for fan-out schemas.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    field = facts.schema.incremental_fields[0]
    api = subject.api()
    result = subject.read(api, _inputs(schema, field))
    if not result.ok or result.response is None:
        Blocked(
            reason=f"the incremental read of {schema!r} failed",
            check="test_incremental_reads_return_new_rows_only",
        ).skip()
    declared = result.response.sort_mode
    values = _values(result.rows, field, schema)
    rising = falling = 0
    first_break: tuple[int, int] | None = None
    for positions in _groups(facts, result.rows).values():
        for before, after in itertools.pairwise(positions):
            if values[after] > values[before]:
                rising += 1
                if declared is SortMode.DESC and first_break is None:
                    first_break = (before, after)
            elif values[after] < values[before]:
                falling += 1
                if declared is SortMode.ASC and first_break is None:
                    first_break = (before, after)
    if first_break is None:
        return
    before, after = first_break
    shown = f"{result.rows[after][field.field]!r} came after {result.rows[before][field.field]!r}"
    if declared is SortMode.ASC and rising == 0:
        fail(
            f"{schema!r} declares sort_mode 'asc', but its rows come newest first by"
            f" {field.field!r} ({shown}); declare sort_mode='desc' so the host advances the"
            " watermark only when the read completes"
        )
    if declared is SortMode.DESC and falling == 0:
        fail(
            f"{schema!r} declares sort_mode 'desc', but its rows come oldest first by"
            f" {field.field!r} ({shown}); declare sort_mode='asc'"
        )
    fail(
        f"the rows of {schema!r} are not in {declared.value} order of {field.field!r}"
        f" ({shown}); ask the API to sort by the incremental field, or the host's watermark"
        " will skip rows when a read is interrupted"
    )


def desc_reads_resume_below_the_earliest_value(subject: Subject, schema: str) -> None:
    """After a read interrupted after its first batch, a read from its earliest value returns
    no newer rows, and the two reads together return every row.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    keys = facts.primary_keys
    field = facts.schema.incremental_fields[0]
    reference = subject.clean_full_read(schema)
    subject.need_keys(facts, reference.rows)
    if len(reference.batches) < 2:
        fail(
            f"{schema!r} is a desc endpoint but its full read came in one batch, so an"
            " interrupted read cannot be checked; seed the emulator with more rows than fit"
            " on one page"
        )
    api: ObservedApi = subject.api()
    interrupted = subject.read(api, _inputs(schema, field), max_batches=1)
    _must_succeed(subject, interrupted, f"the first batch of {schema!r}")
    batch = interrupted.batches[0] if interrupted.batches else ()
    if not batch:
        fail(f"the first batch of {schema!r} is empty")
    values = _values(batch, field, schema)
    lowest = min(range(len(values)), key=values.__getitem__)
    raw, mark = batch[lowest][field.field], values[lowest]
    where = f"db_incremental_field_earliest_value={raw!r}"
    resumed = subject.read(api, _inputs(schema, field, db_incremental_field_earliest_value=raw))
    _must_succeed(subject, resumed, f"the resumed read of {schema!r} ({where})")
    problems = []
    newer = [
        row
        for row, value in zip(resumed.rows, _values(resumed.rows, field, schema), strict=True)
        if value > mark
    ]
    if newer:
        problems.append(
            f"the read resumed with {where} returned {len(newer)} rows newer than that (e.g."
            f" {field.field!r} = {newer[0][field.field]!r}); a desc endpoint must continue"
            " below the earliest value: send it as the upper bound (IncrementalParams.end_param)"
        )
    if keys:
        seen = {key_of(row, keys) for row in batch + resumed.rows}
        missing = [key for key in subject.expected_keys(facts, api.emulator) if key not in seen]
        if missing:
            problems.append(
                f"the interrupted read and the read resumed with {where} together missed"
                f" {len(missing)} rows (e.g. {examples(missing)})"
            )
    fail_if(problems)
