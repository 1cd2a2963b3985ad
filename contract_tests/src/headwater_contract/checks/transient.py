"""Transient failures in the middle of a read: retried in place, waited out through the runtime.

The error checks fail a read's first request. These fail a later one (the second request of
the read: the second page), where a connector's own retry shows: one that starts the read
over returns the first page twice, one that moves on skips a page. And
they watch for blocking sleeps (:mod:`headwater_contract.sleeps`): every wait goes through
``runtime.sleep``, so retries belong to the shared client, not to a loop of the connector's
own around ``time.sleep``.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from headwater.emulator import Failure, ResetFailure, StatusFailure, TimeoutFailure
from headwater.errors import ErrorKind
from headwater.sources import SourceInputs
from headwater_contract.checks._common import Shown, count, examples, fail, fail_if
from headwater_contract.sleeps import watch_sleeps
from headwater_contract.subject import Blocked, Subject, key_of

if TYPE_CHECKING:
    from collections.abc import Hashable

    from headwater_contract.reading import Read
    from headwater_contract.sleeps import SleepWatch

__all__ = ["a_failure_on_a_later_page_is_retried_in_place", "waits_go_through_runtime_sleep"]

LATER_REQUEST = 2
"""The request of a read that fails: the second, after the first page's rows came."""

_RETRIED: tuple[tuple[str, Failure], ...] = (
    ("a 503", StatusFailure(status=503, json={"message": "Service Unavailable"})),
    ("a connection reset", ResetFailure()),
    ("a timeout", TimeoutFailure()),
)

_WAITED: tuple[tuple[str, Failure | None], ...] = (
    ("", None),  # a clean read: a connector that paces itself sleeps here
    _RETRIED[0],
    _RETRIED[1],
    ("a 429 without Retry-After", StatusFailure(status=429, json={"message": "Slow down"})),
)


def _later_request(reference: Read) -> int:
    """The request to fail: the second of the read, or the only one of a one-request read."""
    return LATER_REQUEST if len(reference.exchanges) >= LATER_REQUEST else 1


def _read_failing(
    subject: Subject, schema: str, number: int, failure: Failure | None, watch: SleepWatch
) -> Read:
    api = subject.api()
    if failure is not None:
        api.fail_request(number, failure)
    watch.clear()
    return subject.read(api, SourceInputs(schema_name=schema))


def _failed_request(result: Read, number: int) -> str:
    if len(result.exchanges) < number:
        return f"request {number}"
    return f"request {number} ({result.exchanges[number - 1].describe()})"


def a_failure_on_a_later_page_is_retried_in_place(subject: Subject, schema: str) -> None:
    """A 503, a reset or a timeout on the second request of a read is retried, and the read
    returns exactly the rows of a clean read: none twice, none missing.

    .. versionadded:: 0.1
    """
    facts = subject.facts(schema)
    reference = subject.clean_full_read(schema)
    keys = subject.need_keys(facts, reference.rows)
    if len(reference.exchanges) < LATER_REQUEST:
        return  # one page: nothing comes later (the full-read check asks for more rows)
    number = LATER_REQUEST
    wanted: Counter[Hashable] = Counter()
    if keys:
        wanted.update(key_of(row, keys) for row in reference.rows)
    else:  # rows without keys cannot be told apart: their number is all there is
        wanted["rows"] = len(reference.rows)
    problems = []
    unretried = []
    with watch_sleeps(subject.packages) as watch:  # so a blocking sleep costs no time here
        for what, failure in _RETRIED:
            result = _read_failing(subject, schema, number, failure, watch)
            where = f"{what} on {_failed_request(result, number)}"
            if result.exceeded:
                problems.append(f"after {where}, the read of {schema!r} did not stop")
                continue
            if result.error is not None:
                if (
                    getattr(result.error, "kind", None) is ErrorKind.TRANSIENT
                    and len(result.exchanges) <= number
                ):
                    # Nothing was sent after the failure: not retried at all, which the retry
                    # checks (on the first request) report.
                    unretried.append(what)
                    continue
                problems.append(
                    f"after {where}, the read of {schema!r} failed:"
                    f" {subject.describe(result.error)}; a transient failure mid-read must be"
                    " retried, and the read go on from the failed request"
                )
                continue
            got: Counter[Hashable] = Counter()
            if keys:
                got.update(key_of(row, keys) for row in result.rows)
            else:
                got["rows"] = len(result.rows)
            problems += _exactness(schema, where, wanted, got, keys)
    if len(unretried) == len(_RETRIED):
        Blocked(
            reason=f"the connector does not retry {', '.join(unretried)} at all",
            check="test_server_errors_are_retried_then_fail_clearly, test_timeouts_are_retried",
        ).skip()
    fail_if(problems)


def _exactness(
    schema: str,
    where: str,
    wanted: Counter[Hashable],
    got: Counter[Hashable],
    keys: tuple[str, ...],
) -> list[str]:
    if not keys:
        if got != wanted:
            return [
                f"after {where}, the read of {schema!r} returned {got['rows']} rows instead of"
                f" {wanted['rows']}: a page was read twice or skipped"
            ]
        return []
    problems = []
    twice = [(key, count) for key, count in got.items() if count > wanted.get(key, 0)]
    if twice:
        shown = examples(Shown(f"{examples([key])} ({count} times)") for key, count in twice)
        problems.append(
            f"after {where}, {count(len(twice), 'row')} of {schema!r} came more than once"
            f" ({shown}):"
            " the read started over instead of retrying the request that failed. Leave"
            " retries to the shared client (RetryPolicy), which repeats only that request,"
            " or continue from the read's position"
        )
    missing = [key for key in wanted if key not in got]
    if missing:
        problems.append(
            f"after {where}, {count(len(missing), 'row')} of {schema!r} never came (e.g."
            f" {examples(missing)}): the page that failed was skipped instead of retried"
        )
    extra = [key for key in got if key not in wanted]
    if extra and not twice:
        problems.append(
            f"after {where}, the read of {schema!r} returned {count(len(extra), 'row')} a"
            f" clean read does not (e.g. {examples(extra)})"
        )
    return problems


def waits_go_through_runtime_sleep(subject: Subject) -> None:
    """No blocking ``time.sleep`` or ``asyncio.sleep`` while reading any schema: cleanly, and
    with a 503, a reset, a timeout or a 429 without ``Retry-After`` on a later request.

    .. versionadded:: 0.1
    """
    schemas = subject.need(subject.schemas)
    read_any = False
    with watch_sleeps(subject.packages) as watch:
        for facts in schemas:
            reference = subject.full_read(facts.name)
            if not reference.ok or not reference.rows:
                continue  # its full-read check fails for it
            read_any = True
            number = _later_request(reference)
            for what, failure in _WAITED:
                result = _read_failing(subject, facts.name, number, failure, watch)
                sleeps = watch.sleeps
                if not sleeps:
                    continue
                during = f"reading {facts.name!r}"
                if failure is not None:
                    during += f" after {what} on {_failed_request(result, number)}"
                more = f" ({len(sleeps)} blocking sleeps in all)" if len(sleeps) > 1 else ""
                fail(
                    f"the connector slept outside runtime.sleep: {sleeps[0].describe()} while"
                    f" {during}{more}. Wait through runtime.sleep, on runtime.clock, so the"
                    " host and its tests control time (a blocking sleep stalls a worker, and"
                    " cannot be measured or interrupted), and leave retries to the shared"
                    " client (its RetryPolicy) instead of a loop of the connector's own"
                )
    if not read_any:
        Blocked(
            reason="no schema's full read succeeded", check="test_full_read_returns_every_row_once"
        ).skip()
