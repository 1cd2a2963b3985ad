"""Schemas: what a schema declares (keys, incremental fields, partitioning) is in its rows.

The warehouse MERGEs on the primary keys, filters and orders by the incremental field, and
buckets by the partition key; a declared column missing from the rows breaks each of those,
late and far from the connector. These checks read every schema from the emulator and hold
each row to its declaration.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from headwater.sources import IncrementalFieldType, PartitionMode, SourceInputs
from headwater_contract.checks._common import examples, fail, fail_if
from headwater_contract.subject import Blocked, Subject, key_of
from headwater_contract.values import type_problem

if TYPE_CHECKING:
    from collections.abc import Hashable

__all__ = [
    "incremental_fields_are_present_and_typed",
    "partition_keys_are_present_and_stable",
    "primary_keys_are_present_and_not_null",
    "schemas_are_listed_with_unique_names",
]

# A datetime partition key must not change while a row lives: these words say it does.
_MUTABLE_WORDS = frozenset({"updated", "modified", "changed", "edited", "last", "seen"})
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def schemas_are_listed_with_unique_names(subject: Subject) -> None:
    """``get_schemas`` lists schemas with unique names against the emulator.

    .. versionadded:: 0.1
    """
    schemas = subject.schemas
    if isinstance(schemas, Blocked):
        if schemas.check != "test_schemas_are_listed_with_unique_names":
            schemas.skip()
        fail(schemas.reason)
    if not schemas:
        fail(f"{subject.name} lists no schemas for the kit's valid config")


def _missing(rows: tuple[dict[str, Any], ...], column: str) -> list[int]:
    return [index for index, row in enumerate(rows) if row.get(column) is None]


def _absence(schema: str, column: str, what: str, rows: tuple[Any, ...], missing: list[int]) -> str:
    first = rows[missing[0]]
    has = ", ".join(sorted(first)) or "nothing"
    return (
        f"{len(missing)} of {len(rows)} rows of {schema!r} have no (or a null) {what}"
        f" {column!r}; row {missing[0]} has: {has}"
    )


def primary_keys_are_present_and_not_null(subject: Subject, schema: str) -> None:
    """Every row has every declared primary-key field, non-null.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    keys = facts.primary_keys
    if not keys:
        if facts.schema.supports_incremental or facts.schema.supports_append:
            fail(
                f"{schema!r} supports incremental syncs but its SourceResponse declares no"
                " primary_keys; MERGE needs them (declare the endpoint's real key, often"
                " composite, in settings.py)"
            )
        return
    rows = subject.clean_full_read(schema).rows
    problems = [
        _absence(schema, key, "primary-key field", rows, missing)
        for key in keys
        if (missing := _missing(rows, key))
    ]
    fail_if(problems)


def incremental_fields_are_present_and_typed(subject: Subject, schema: str) -> None:
    """Every row has every declared incremental field, non-null and of the declared type.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    rows = subject.clean_full_read(schema).rows
    problems = []
    for field in facts.schema.incremental_fields:
        missing = _missing(rows, field.field)
        if missing:
            problems.append(_absence(schema, field.field, "incremental field", rows, missing))
            continue
        wrong = [
            (index, problem)
            for index, row in enumerate(rows)
            if (problem := type_problem(row[field.field], field.type)) is not None
        ]
        if wrong:
            index, problem = wrong[0]
            problems.append(
                f"{len(wrong)} of {len(rows)} rows of {schema!r} have an {field.field!r} that"
                f" does not match its declared type {field.type.value!r}: row {index}'s is"
                f" {problem} ({rows[index][field.field]!r}); declare the type the API sends,"
                " or convert the value in the endpoint's row normalizer"
            )
    fail_if(problems)


def _words(name: str) -> set[str]:
    return {word.lower() for word in _WORDS.findall(name.replace("_", " "))}


def _mutable_words(name: str) -> set[str]:
    """The words of ``name`` that say its value changes: ``lastSeen`` does, ``firstSeen`` not."""
    words = _words(name)
    mutable = words & _MUTABLE_WORDS
    if "first" in words:
        mutable.discard("seen")
    return mutable


def partition_keys_are_present_and_stable(subject: Subject, schema: str) -> None:
    """Every row has the partition keys; a datetime key is a datetime that never changes.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    response = facts.response
    keys = tuple(response.partition_keys or ())
    if response.partition_mode is None or not keys:
        return
    rows = subject.clean_full_read(schema).rows
    problems = [
        _absence(schema, key, "partition key", rows, missing)
        for key in keys
        if (missing := _missing(rows, key))
    ]
    fail_if(problems)
    if response.partition_mode is PartitionMode.DATETIME:
        for key in keys:
            mutable = _mutable_words(key)
            if mutable:
                problems.append(
                    f"{schema!r} is partitioned by {key!r}, which reads as a field that changes"
                    f" ({', '.join(sorted(mutable))}); a row whose partition key changes is"
                    " written to two partitions. Partition by a stable creation datetime"
                    " (created_at, dateCreated, firstSeen)"
                )
            # The warehouse buckets ISO datetimes, dates and Unix times alike.
            wrong = [
                row[key]
                for row in rows
                if all(
                    type_problem(row[key], kind) is not None
                    for kind in (
                        IncrementalFieldType.DATETIME,
                        IncrementalFieldType.DATE,
                        IncrementalFieldType.TIMESTAMP,
                    )
                )
            ]
            if wrong:
                problems.append(
                    f"{schema!r} is datetime-partitioned by {key!r}, but {len(wrong)} values"
                    f" are no datetime or date (e.g. {examples(wrong)})"
                )
    problems += _stability(subject, schema, keys)
    fail_if(problems)


def _stability(subject: Subject, schema: str, keys: tuple[str, ...]) -> list[str]:
    """Partition values per primary key: equal in two reads, and after rows are added."""
    facts = subject.facts(schema)
    primary = facts.primary_keys
    if not primary:
        return []
    first = subject.clean_full_read(schema).rows
    subject.need_keys(facts, first)
    second = subject.read(subject.api(), SourceInputs(schema_name=schema))
    reads = [second]
    kit = subject.kit
    if kit.add_rows is not None:
        api = subject.api()
        kit.add_rows(api.emulator, schema)
        reads.append(subject.read(api, SourceInputs(schema_name=schema)))
    before: dict[tuple[Hashable, ...], tuple[Any, ...]] = {
        key_of(row, primary): tuple(row.get(k) for k in keys) for row in first
    }
    for later in reads:
        if not later.ok:
            continue  # the full-read and incremental checks report failing reads
        moved = [
            (pk, before[pk], value)
            for row in later.rows
            if (pk := key_of(row, primary)) in before
            and (value := tuple(row.get(k) for k in keys)) != before[pk]
        ]
        if moved:
            pk, old, new = moved[0]
            return [
                f"the partition key {examples(keys)} of {len(moved)} rows of {schema!r}"
                f" changed between reads (row {pk!r}: {old!r} -> {new!r}); partition by a"
                " value that never changes for a row"
            ]
    return []
