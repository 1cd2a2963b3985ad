"""Errors: what is permanent fails at once with a friendly message; what is transient is retried.

Each check reads one schema (the probe: the first schema that is not fan-out) from a fresh
emulator that misbehaves in one way, on a manual clock, so waits are measured, not waited.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import TYPE_CHECKING

from headwater.emulator import Failure, ResetFailure, StatusFailure, TimeoutFailure
from headwater.errors import ErrorRule, classify
from headwater.sources import SourceInputs
from headwater_contract.checks._common import fail, fail_if
from headwater_contract.observe import REQUEST_LIMIT, ObservedApi
from headwater_contract.subject import Subject, key_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from headwater_contract.reading import Read

__all__ = [
    "auth_failures_fail_at_once_with_a_message",
    "probe_schema",
    "rate_limits_honour_retry_after",
    "server_errors_are_retried_then_fail_clearly",
    "timeouts_are_retried",
]

_RETRY_AFTER_SECONDS = 7
_RETRY_AFTER_DATE_SECONDS = 5


def probe_schema(subject: Subject) -> str:
    """The schema the error checks read: the first that is not read per parent row.

    .. versionadded:: 0.1
    """
    schemas = subject.need(subject.schemas)
    top = [facts for facts in schemas if not facts.is_fan_out] or schemas
    if not top:
        fail(f"{subject.name} lists no schemas to read")
    return top[0].name


def _read_with(
    subject: Subject, schema: str, failure: Failure, times: int
) -> tuple[ObservedApi, Read]:
    api = subject.api()
    api.emulator.inject(failure, times=times)
    return api, subject.read(api, SourceInputs(schema_name=schema))


def _rules(subject: Subject) -> Sequence[ErrorRule]:
    try:
        return list(subject.source.get_non_retryable_errors())
    except Exception as error:
        fail(f"get_non_retryable_errors() raised {subject.describe(error)}")


def _same_rows(subject: Subject, schema: str, result: Read) -> str | None:
    reference = subject.clean_full_read(schema)
    keys = subject.need_keys(subject.facts(schema), reference.rows)
    if not keys:
        if len(result.rows) != len(reference.rows):
            return f"{len(result.rows)} rows instead of {len(reference.rows)}"
        return None
    got = {key_of(row, keys) for row in result.rows}
    want = {key_of(row, keys) for row in reference.rows}
    if got != want:
        return f"{len(want - got)} rows missing and {len(got - want)} unexpected"
    return None


def auth_failures_fail_at_once_with_a_message(subject: Subject) -> None:
    """401 and 403 are not retried, and a rule of ``get_non_retryable_errors()`` explains them.

    .. versionadded:: 0.1
    """
    schema = probe_schema(subject)
    subject.clean_full_read(schema)
    rules = _rules(subject)
    problems = []
    for status, kind in ((401, "AUTHENTICATION"), (403, "PERMISSION")):
        failure = StatusFailure(status=status, json={"message": "Bad credentials"})
        _, result = _read_with(subject, schema, failure, REQUEST_LIMIT)
        answered = sum(1 for exchange in result.exchanges if exchange.status == status)
        if result.exceeded or answered > 2:
            problems.append(
                f"HTTP {status} was retried ({answered} requests got it): an authentication or"
                " permission failure cannot heal by itself, so it must fail at once"
            )
            continue
        if result.error is None:
            problems.append(
                f"the read of {schema!r} ended without an error although the API answered"
                f" HTTP {status}; the failure must surface, not end the read as if complete"
            )
            continue
        rule = classify(result.error, rules)
        if rule is None:
            problems.append(
                f"no rule of get_non_retryable_errors() matches the HTTP {status} error"
                f" ({subject.describe(result.error)}), so the host would treat it as retryable"
                " and never tell the user what to do; add"
                f" ErrorRule(kind=ErrorKind.{kind}, message='...what to fix...')"
            )
        elif not rule.message.strip():
            problems.append(f"the rule matching HTTP {status} has an empty message")
        elif subject.leaks.find(rule.message):
            problems.append(f"the message of the rule matching HTTP {status} contains a secret")
    fail_if(problems)


def rate_limits_honour_retry_after(subject: Subject) -> None:
    """A 429 with ``Retry-After`` (seconds, or an HTTP date) is retried after that wait.

    .. versionadded:: 0.1
    """
    schema = probe_schema(subject)
    subject.clean_full_read(schema)
    problems = []
    for form in ("seconds", "date"):
        api = subject.api()
        if form == "seconds":
            wanted: float = _RETRY_AFTER_SECONDS
            value = str(_RETRY_AFTER_SECONDS)
        else:
            wanted = _RETRY_AFTER_DATE_SECONDS
            moment = api.clock.now() + dt.timedelta(seconds=wanted)
            value = email.utils.format_datetime(moment, usegmt=True)
        api.emulator.inject(
            StatusFailure(
                status=429, headers={"Retry-After": value}, json={"message": "rate limited"}
            )
        )
        result = subject.read(api, SourceInputs(schema_name=schema))
        if not result.ok:
            reason = subject.describe(result.error) if result.error else "it never stopped"
            problems.append(
                f"after one 429 (Retry-After: {value}) the read of {schema!r} failed: {reason};"
                " a rate limit must be waited out and retried"
            )
            continue
        exchanges = result.exchanges
        index = next(i for i, e in enumerate(exchanges) if e.status == 429)
        if index + 1 >= len(exchanges):
            problems.append(f"after a 429 (Retry-After: {value}) nothing was retried")
            continue
        waited = exchanges[index + 1].at - exchanges[index].at
        if waited + 1e-6 < wanted:
            problems.append(
                f"after a 429 with Retry-After: {value} the next request came {waited:.1f} s"
                f" later, not {wanted} s: honour Retry-After (wait through runtime.sleep, on"
                " runtime.clock)"
            )
        different = _same_rows(subject, schema, result)
        if different:
            problems.append(f"after a retried 429 the read returned other rows: {different}")
    fail_if(problems)


def server_errors_are_retried_then_fail_clearly(subject: Subject) -> None:
    """A passing 503 is retried; a lasting one ends in a bounded number of attempts with an
    error that says what happened, and no rule calls it permanent.

    .. versionadded:: 0.1
    """
    schema = probe_schema(subject)
    subject.clean_full_read(schema)
    problems = []
    _, passing = _read_with(subject, schema, StatusFailure(status=503), 2)
    if not passing.ok:
        reason = subject.describe(passing.error) if passing.error else "it never stopped"
        problems.append(
            f"two 503s in a row failed the read of {schema!r} ({reason}); transient server"
            " errors must be retried with backoff"
        )
    else:
        different = _same_rows(subject, schema, passing)
        if different:
            problems.append(f"after retried 503s the read returned other rows: {different}")
    _, lasting = _read_with(subject, schema, StatusFailure(status=503), REQUEST_LIMIT)
    failed = sum(1 for exchange in lasting.exchanges if exchange.status == 503)
    if lasting.exceeded:
        problems.append(
            f"a lasting 503 was retried more than {REQUEST_LIMIT} times; bound the attempts"
        )
    elif lasting.error is None:
        problems.append(
            f"the read of {schema!r} ended without an error although the API kept answering"
            " 503; the failure must surface"
        )
    else:
        shown = subject.describe(lasting.error)
        if failed < 2:
            problems.append(f"a 503 was not retried before failing ({shown})")
        if "503" not in str(lasting.error):
            problems.append(
                f"the final error does not say what the API answered: {shown}; name the"
                " status (and the attempts) so the user knows it was the API"
            )
        rule = classify(lasting.error, _rules(subject))
        if rule is not None:
            problems.append(
                f"the rule {rule.message!r} of get_non_retryable_errors() matches a lasting"
                " 503, so the host would give up on a transient failure; match on the"
                " status or kind of the permanent failures only"
            )
    fail_if(problems)


def timeouts_are_retried(subject: Subject) -> None:
    """A timeout or a connection reset is retried and the read completes.

    .. versionadded:: 0.1
    """
    schema = probe_schema(subject)
    subject.clean_full_read(schema)
    problems = []
    cases: tuple[tuple[str, Failure], ...] = (
        ("timeout", TimeoutFailure()),
        ("connection reset", ResetFailure()),
    )
    for what, failure in cases:
        _, result = _read_with(subject, schema, failure, 2)
        if not result.ok:
            reason = subject.describe(result.error) if result.error else "it never stopped"
            problems.append(
                f"two {what}s in a row failed the read of {schema!r} ({reason}); network"
                " failures are transient and must be retried"
            )
            continue
        different = _same_rows(subject, schema, result)
        if different:
            problems.append(f"after retried {what}s the read returned other rows: {different}")
    fail_if(problems)
