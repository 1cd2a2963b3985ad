"""Credentials: ``validate_credentials`` answers ``(ok, message)`` and never raises.

A user checks a config before saving it. Whatever the API does (accepts, refuses with 401 or
403, or cannot be reached), the answer is a tuple the UI can show: ``(True, None)`` or
``(False, "what to fix")``. An exception there is a crash in the user's face.

.. versionadded:: 0.1
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from headwater.emulator import (
    Failure,
    ResetFailure,
    StatusFailure,
    TimeoutFailure,
)
from headwater_contract.checks._common import fail, fail_if
from headwater_contract.observe import REQUEST_LIMIT

if TYPE_CHECKING:
    from headwater_contract.subject import Subject

__all__ = [
    "network_failures_return_a_message",
    "rejected_credentials_return_a_message",
    "valid_credentials_are_accepted",
]

_REJECTIONS: tuple[tuple[str, Failure], ...] = (
    ("HTTP 401", StatusFailure(status=401, json={"message": "Bad credentials"})),
    ("HTTP 403", StatusFailure(status=403, json={"message": "Resource not accessible"})),
)
_NETWORK: tuple[tuple[str, Failure], ...] = (
    ("a connection reset", ResetFailure()),
    ("a timeout", TimeoutFailure()),
)


def _validate(subject: Subject, failure: Failure | None) -> tuple[Any, BaseException | None]:
    """Call ``validate_credentials`` against a fresh emulator answering with ``failure``."""
    config = subject.need(subject.config)
    api = subject.api()
    if failure is not None:
        api.emulator.inject(failure, times=REQUEST_LIMIT)
    try:
        result = subject.source.validate_credentials(config, subject.runtime(api))
    except BaseException as error:
        if api.exceeded:
            fail(
                f"validate_credentials kept sending requests (more than {REQUEST_LIMIT});"
                " bound its retries"
            )
        if not isinstance(error, Exception):
            raise
        subject.describe(error)  # notes a secret in the error for the leak guard
        return None, error
    if api.exceeded:
        fail(f"validate_credentials sent more than {REQUEST_LIMIT} requests; bound its retries")
    return result, None


def _shape_problem(result: Any) -> str | None:
    if not (isinstance(result, tuple) and len(result) == 2):
        return f"returned {type(result).__name__} {result!r}, not a tuple (ok, message)"
    ok, message = result
    if not isinstance(ok, bool):
        return f"returned ok={ok!r}; it must be True or False"
    if message is not None and not isinstance(message, str):
        return f"returned a {type(message).__name__} message; it must be a str or None"
    return None


def valid_credentials_are_accepted(subject: Subject) -> None:
    """The kit's valid config is accepted: ``(True, None)``.

    .. versionadded:: 0.1
    """
    result, error = _validate(subject, None)
    if error is not None:
        fail(f"validate_credentials raised {subject.describe(error)} for the valid config")
    problem = _shape_problem(result)
    if problem is not None:
        fail(f"validate_credentials {subject.leaks.scrub(problem)}")
    if result != (True, None):
        fail(
            "validate_credentials refused the kit's valid config against the emulator:"
            f" {subject.leaks.scrub(repr(result))}; it must return (True, None)"
        )


def _refused(subject: Subject, cases: tuple[tuple[str, Failure], ...]) -> None:
    problems = []
    for what, failure in cases:
        result, error = _validate(subject, failure)
        if error is not None:
            problems.append(
                f"on {what}, validate_credentials raised {subject.describe(error)}; it must"
                " return (False, message) instead"
            )
            continue
        problem = _shape_problem(result)
        if problem is not None:
            problems.append(f"on {what}, validate_credentials {subject.leaks.scrub(problem)}")
            continue
        ok, message = result
        if ok:
            problems.append(f"on {what}, validate_credentials returned ok=True")
        elif not (message and message.strip()):
            problems.append(f"on {what}, validate_credentials returned no message; say what to fix")
        elif subject.leaks.find(message):
            problems.append(f"on {what}, the message of validate_credentials contains a secret")
    fail_if(problems)


def rejected_credentials_return_a_message(subject: Subject) -> None:
    """A 401 or 403 from the API gives ``(False, message)``.

    .. versionadded:: 0.1
    """
    _refused(subject, _REJECTIONS)


def network_failures_return_a_message(subject: Subject) -> None:
    """An API that cannot be reached (reset, timeout) gives ``(False, message)``.

    .. versionadded:: 0.1
    """
    _refused(subject, _NETWORK)
