"""Incremental reads: from a watermark, new rows come and old ones do not; order is as declared.

The host reads a schema, keeps the highest incremental value it wrote as the watermark, and
asks for rows from that value on (inclusive) next time. For ``desc`` endpoints (newest first)
an interrupted read leaves the earliest value it reached, and the next read continues below
it. These checks play the host's part against the emulator: read, add rows, read again. Each
runs for every declared incremental field, since a user may pick any of them; each first
needs the schema's full read (its own check reports a read that fails).

.. versionadded:: 0.1
"""

from __future__ import annotations

import bisect
import itertools
from typing import TYPE_CHECKING, Any

import pytest

from headwater.sources import IncrementalField, SortMode, SourceInputs
from headwater_contract.checks._common import count, examples, fail, fail_if
from headwater_contract.subject import Blocked, SchemaFacts, Subject, key_of
from headwater_contract.values import comparable

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    from headwater_contract.observe import Exchange, ObservedApi
    from headwater_contract.reading import Read

    # What one check finds for one incremental field: a problem, several, or none.
    FieldCheck = Callable[[Subject, SchemaFacts, IncrementalField], str | list[str] | None]

__all__ = [
    "desc_reads_resume_below_the_earliest_value",
    "incremental_bounds_reach_every_page",
    "incremental_reads_return_new_rows_only",
    "lower_bounds_are_inclusive",
    "sort_mode_matches_the_data",
]

Row = dict[str, Any]


def _check_every_field(subject: Subject, facts: SchemaFacts, check: FieldCheck) -> None:
    """Run ``check`` for each incremental field the schema declares; fail with every problem."""
    problems: list[str] = []
    for field in facts.schema.incremental_fields:
        found = check(subject, facts, field)
        if isinstance(found, str):
            problems.append(found)
        elif found:
            problems += found
    fail_if(problems)


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
    """After rows are added, a read from the first read's watermark returns every new row,
    every row a full read returns with a later value of the field (updated rows too), and
    none older than the watermark; with nothing added, no new keys (boundary rows may repeat).

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    subject.clean_full_read(schema)
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
    _check_every_field(subject, facts, _from_watermark)


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
    problems += _newer_missed(subject, facts, api, field, (raw, mark), second, new)
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


def _newer_missed(
    subject: Subject,
    facts: SchemaFacts,
    api: ObservedApi,
    field: IncrementalField,
    watermark: tuple[Any, Any],
    result: Read,
    new: set[tuple[Hashable, ...]],
) -> list[str]:
    """Rows a full read returns with a value of ``field`` past the watermark (rows changed
    since the first read; the ``new`` ones are judged apart) that the read from the watermark
    (``result``) left out.

    Rows *at* the watermark are :func:`lower_bounds_are_inclusive`'s to judge.
    """
    schema, keys = facts.name, facts.primary_keys
    raw, mark = watermark
    full = subject.read(api, SourceInputs(schema_name=schema))
    _must_succeed(subject, full, f"the full read of {schema!r} after ContractKit.add_rows")
    got = {key_of(row, keys) for row in result.rows}
    later = {
        key_of(row, keys)
        for row in full.rows
        if (value := comparable(row.get(field.field), field.type)) is not None and value > mark
    }
    missed = sorted(later - got - new, key=repr)
    if not missed:
        return []
    return [
        f"reading {schema!r} from the watermark ({field.field!r} >= {raw!r}) missed"
        f" {count(len(missed), 'row')} that a full read returns with a later {field.field!r} (e.g."
        f" {examples(missed)}; rows changed since the first read): the API was not asked for"
        f" rows from the watermark on in {field.field!r}, but in another field or not at all."
        " Send each field's watermark in the parameter the API documents for that field:"
        f" incremental={{{field.field!r}: IncrementalParams(start_param=...), ...}}"
    ]


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
    """Rows come in the order the schema declares (``sort_mode``) of each incremental field.

    Checked on an incremental first read on each field, per parent for fan-out schemas.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    subject.clean_full_read(schema)
    _check_every_field(subject, facts, _order_problem)


def _order_problem(subject: Subject, facts: SchemaFacts, field: IncrementalField) -> str | None:
    schema = facts.name
    api = subject.api()
    result = subject.read(api, _inputs(schema, field))
    if not result.ok or result.response is None:
        Blocked(
            reason=f"the incremental read of {schema!r} on {field.field!r} failed",
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
        return None
    before, after = first_break
    shown = f"{result.rows[after][field.field]!r} came after {result.rows[before][field.field]!r}"
    if declared is SortMode.ASC and rising == 0:
        return (
            f"{schema!r} declares sort_mode 'asc', but its rows come newest first by"
            f" {field.field!r} ({shown}); declare sort_mode='desc' so the host advances the"
            " watermark only when the read completes"
        )
    if declared is SortMode.DESC and falling == 0:
        return (
            f"{schema!r} declares sort_mode 'desc', but its rows come oldest first by"
            f" {field.field!r} ({shown}); declare sort_mode='asc'"
        )
    return (
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
    reference = subject.clean_full_read(schema)
    subject.need_keys(facts, reference.rows)
    if len(reference.batches) < 2:
        fail(
            f"{schema!r} is a desc endpoint but its full read came in one batch, so an"
            " interrupted read cannot be checked; seed the emulator with more rows than fit"
            " on one page"
        )
    _check_every_field(subject, facts, _resumed_below)


def _resumed_below(subject: Subject, facts: SchemaFacts, field: IncrementalField) -> list[str]:
    schema, keys = facts.name, facts.primary_keys
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
    return problems


def incremental_bounds_reach_every_page(subject: Subject, schema: str) -> None:
    """A read from an early watermark spans several pages, and every request of it carries
    the bounds the first sent (or else every row it returns respects them).

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    subject.clean_full_read(schema)
    _check_every_field(subject, facts, _bounds_on_every_page)


def _bounds_on_every_page(
    subject: Subject, facts: SchemaFacts, field: IncrementalField
) -> str | None:
    schema = facts.name
    api = subject.api()
    unbounded = subject.read(api, _inputs(schema, field))
    _must_succeed(subject, unbounded, f"the first incremental read of {schema!r}")
    if not unbounded.rows:
        return None  # the full-read check asks the emulator for rows
    values = _values(unbounded.rows, field, schema)
    page = max(len(batch) for batch in unbounded.batches)
    bounded: Read | None = None
    where, mark = "", None
    for raw, mark in _early_watermarks(unbounded.rows, values, field, page):  # noqa: B007
        where = f"{field.field!r} >= {raw!r}"
        bounded = subject.read(api, _inputs(schema, field, db_incremental_field_last_value=raw))
        _must_succeed(subject, bounded, f"the read of {schema!r} from {where}")
        if facts.is_fan_out or len(bounded.exchanges) > 1:
            break
    if bounded is None or not (facts.is_fan_out or len(bounded.exchanges) > 1):
        taken = count(len(bounded.exchanges), "request") if bounded is not None else "no read"
        pytest.skip(
            f"the read of {schema!r} from an early watermark took {taken}, so whether its"
            " bounds reach every page cannot be checked; seed the emulator with more than two"
            " pages of rows"
        )
    lacking = _requests_lacking_bounds(unbounded.exchanges, bounded.exchanges)
    if lacking is None:
        return None
    older = [
        row
        for row, value in zip(bounded.rows, _values(bounded.rows, field, schema), strict=True)
        if value < mark
    ]
    if not older:
        return None  # the API keeps the filter on its own (a cursor that carries it)
    return (
        f"the incremental filter reached only the first request of the read of {schema!r}"
        f" from {where} ({len(bounded.exchanges)} requests): {lacking}, and the read returned"
        f" {count(len(older), 'row')} older than the bound (e.g. one with {field.field!r} ="
        f" {older[0][field.field]!r}). Every page must stay filtered: when the API's next"
        " links drop the filter, put it back on each page (the shared reader does:"
        " Endpoint(reapply_filters=True), the default), or send it with every request"
    )


def _early_watermarks(
    rows: tuple[Row, ...], values: list[Any], field: IncrementalField, page: int
) -> list[tuple[Any, Any]]:
    """Watermarks to read from, best first: the highest value with more than a page of rows
    at or above it (the read spans pages, and as many rows as possible lie below the bound,
    where a filter lost on a later page shows), then the lowest value above the minimum."""
    ordered = sorted(values)
    chosen: list[int] = []
    above = [
        index
        for index, value in enumerate(values)
        if len(ordered) - bisect.bisect_left(ordered, value) > page
    ]
    if above:
        chosen.append(max(above, key=values.__getitem__))
    higher = [i for i, value in enumerate(values) if value > ordered[0]]
    if higher:
        lowest = min(higher, key=values.__getitem__)
        if not chosen or values[lowest] != values[chosen[0]]:
            chosen.append(lowest)
    return [(rows[i][field.field], values[i]) for i in chosen]


def _requests_lacking_bounds(
    unbounded: tuple[Exchange, ...], bounded: tuple[Exchange, ...]
) -> str | None:
    """The first request of ``bounded`` to a path that lacks a bound parameter the first
    request to that path sent, described; ``None`` when every one carries them.

    Bound parameters are those the bounded read sends and the unbounded read never does.
    """
    sent = {name for exchange in unbounded for name in exchange.url.params}
    bound_names = {name for exchange in bounded for name in exchange.url.params} - sent
    first: dict[str, tuple[int, dict[str, str]]] = {}
    for number, exchange in enumerate(bounded, start=1):
        params = exchange.url.params
        carried = {name: params[name] for name in bound_names if name in params}
        if exchange.path not in first:
            if carried:
                first[exchange.path] = (number, carried)
            continue
        origin, wanted = first[exchange.path]
        lost = sorted(name for name, value in wanted.items() if params.get(name) != value)
        if lost:
            shown = ", ".join(f"{name}={wanted[name]}" for name in lost)
            return (
                f"request {number} ({exchange.describe()}) lacks {shown}, which request"
                f" {origin} sent"
            )
    return None


def lower_bounds_are_inclusive(subject: Subject, schema: str) -> None:
    """A row added with exactly the watermark's value (``ContractKit.add_row_at``) comes in
    the read from that watermark: lower bounds are inclusive.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    subject.clean_full_read(schema)
    kit = subject.kit
    if kit.add_row_at is None:
        pytest.skip(
            "ContractKit.add_row_at is not set, so the suite cannot add a row at the"
            " watermark; declare it in testing.py to check that a read from a watermark"
            " returns the rows at it"
        )
    if not facts.primary_keys:
        Blocked(
            reason=f"{schema!r} has no primary keys",
            check="test_primary_keys_are_present_and_not_null",
        ).skip()
    _check_every_field(subject, facts, _row_at_the_watermark)


def _row_at_the_watermark(
    subject: Subject, facts: SchemaFacts, field: IncrementalField
) -> str | None:
    schema, keys = facts.name, facts.primary_keys
    api = subject.api()
    first = subject.read(api, _inputs(schema, field))
    _must_succeed(subject, first, f"the first incremental read of {schema!r}")
    if not first.rows:
        return None  # the full-read check asks the emulator for rows
    subject.need_keys(facts, first.rows)
    raw, _ = _watermark(first.rows, field, schema)
    add_row_at = subject.kit.add_row_at
    assert add_row_at is not None
    before = set(subject.expected_keys(facts, api.emulator))
    call = f"ContractKit.add_row_at(emulator, {schema!r}, {field.field!r}, {raw!r})"
    try:
        add_row_at(api.emulator, schema, field.field, raw)
    except Exception as error:
        fail(f"{call} raised {subject.describe(error)}; it must add one row at that value")
    added = set(subject.expected_keys(facts, api.emulator)) - before
    if not added:
        fail(f"{call} added no row to {schema!r}; it must add one row at that value")
    where = f"{field.field!r} >= {raw!r}"
    second = subject.read(api, _inputs(schema, field, db_incremental_field_last_value=raw))
    _must_succeed(subject, second, f"the read of {schema!r} from the watermark ({where})")
    got = {key_of(row, keys) for row in second.rows}
    missing = sorted(added - got, key=repr)
    if not missing:
        return None
    return (
        f"reading {schema!r} from the watermark ({where}) left out the row added at exactly"
        f" that value ({examples(missing)}): the bound sent was exclusive (a value past the"
        " watermark, or a greater-than parameter), and a row written in the same instant as"
        " the last one synced would be lost. The host's lower bounds are inclusive (MERGE"
        " absorbs the overlap): send the watermark as it is, in the parameter that includes"
        " it"
    )
