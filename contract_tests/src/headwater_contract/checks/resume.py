"""Resuming: a read continued from one of its resume points returns exactly the rest.

A source that yields :class:`~headwater.ResumePoint` marks promises that each one covers every
row yielded before it: the host commits the point with those rows, and a sync killed after
that commit hands the point's state back. The check reads a schema whole, takes the point
halfway through, reads again from it, and compares: the rows after the point, each once,
nothing before it again, and fewer requests than the whole read. Every state must be JSON
and must hold no secret (it is stored in the table's commits).

.. versionadded:: 0.1
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from headwater.sources import SourceInputs
from headwater_contract.checks._common import examples, fail, fail_if
from headwater_contract.subject import Subject, key_of

__all__ = ["a_read_resumes_from_its_resume_points"]


def a_read_resumes_from_its_resume_points(subject: Subject, schema: str) -> None:
    """Reading again from the middle resume point returns exactly the rows after it.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    whole = subject.clean_full_read(schema)
    points = whole.resume_points
    if not points:
        pytest.skip(
            f"{schema!r} yields no ResumePoint: a sync killed mid-read reads it again from the"
            " watermark (the REST machinery yields them; a custom iterator may too)"
        )
    problems = []
    for _, state in points:
        try:
            text = json.dumps(state)
        except (TypeError, ValueError) as error:
            problems.append(f"a resume state of {schema!r} is not JSON ({error}): {state!r}")
            continue
        if subject.leaks.find(text):
            problems.append(
                f"a resume state of {schema!r} holds a secret of the config; states are stored"
                " in the table's commits: strip credentials from next URLs and cursors"
            )
            break
    fail_if(problems)
    at, state = points[len(points) // 2]
    rest = subject.read(subject.reference, SourceInputs(schema_name=schema, resume_state=state))
    if rest.error is not None or rest.exceeded:
        reason = subject.describe(rest.error) if rest.error else "it did not stop"
        fail(f"the read of {schema!r} resumed from {state!r} failed: {reason}")
    keys = subject.need_keys(facts, whole.rows)
    if keys:
        after = Counter(key_of(row, keys) for row in whole.rows[at:])
        got = Counter(key_of(row, keys) for row in rest.rows)
        before = {key_of(row, keys) for row in whole.rows[:at]}
        again = [key for key in got if key in before]
        missing = [key for key in after if key not in got]
        if again:
            problems.append(
                f"{len(again)} rows that came before the resume point came again (e.g."
                f" {examples(again)}): the read did not continue from its state {state!r}"
            )
        if missing:
            problems.append(
                f"{len(missing)} rows after the resume point never came (e.g."
                f" {examples(missing)}): the state skips rows it does not cover"
            )
    elif len(rest.rows) != len(whole.rows) - at:
        problems.append(
            f"the resumed read returned {len(rest.rows)} rows; {len(whole.rows) - at} came after"
            " the resume point in the whole read"
        )
    if not problems and len(rest.exchanges) >= len(whole.exchanges):
        problems.append(
            f"the resumed read sent {len(rest.exchanges)} requests, as many as the whole read"
            f" ({len(whole.exchanges)}): it did not skip what the state covers"
        )
    fail_if(problems)
