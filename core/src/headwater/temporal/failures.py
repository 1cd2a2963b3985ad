"""Headwater's errors as Temporal application errors: permanent ones are not retried.

A schema's activity ends in one of two ways when it fails:

- **permanent** (bad credentials, a missing permission, a config that cannot work, a link to
  another origin, a pagination loop, a lost state or a changed layout, or any error a
  connector's ``get_non_retryable_errors()`` rules match): a non-retryable
  ``ApplicationError`` carrying the user's message, so Temporal stops at once;
- **transient** (5xx, network, rate limits, a table another sync is writing, anything
  unexpected): a retryable ``ApplicationError``; a rate limit's ``Retry-After`` becomes the
  next retry's delay.

The message is the error's own (Headwater's messages never carry secrets), or the matching
rule's advice followed by it. The original exception is never chained: Temporal would store
its message and traceback in the history.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from temporalio.exceptions import ApplicationError

from headwater.errors import (
    ConfigError,
    ErrorKind,
    ErrorRule,
    HeadwaterError,
    LayoutChangedError,
    PluginError,
    RateLimitedError,
    RowError,
    SourceError,
    StateError,
    classify,
    user_message,
)

__all__ = [
    "PERMANENT_KINDS",
    "PERMANENT_TYPE",
    "TRANSIENT_TYPE",
    "is_permanent",
    "to_application_error",
]

PERMANENT_TYPE = "HeadwaterPermanentError"
"""The ``type`` of a non-retryable application error raised by a Headwater activity."""
TRANSIENT_TYPE = "HeadwaterTransientError"
"""The ``type`` of a retryable application error raised by a Headwater activity."""

PERMANENT_KINDS: Final = frozenset(
    {
        ErrorKind.AUTHENTICATION,
        ErrorKind.PERMISSION,
        ErrorKind.CONFIGURATION,
        ErrorKind.FOREIGN_ORIGIN,
        ErrorKind.PAGINATION,
    }
)
"""Source error kinds no retry can fix."""

_PERMANENT_TYPES = (ConfigError, PluginError, StateError, LayoutChangedError, RowError)


def is_permanent(error: BaseException, rules: Iterable[ErrorRule] = ()) -> bool:
    """Whether retrying ``error`` cannot help (see the module's docstring).

    .. versionadded:: 0.2
    """
    if classify(error, rules) is not None:
        return True
    if isinstance(error, _PERMANENT_TYPES):
        return True
    return isinstance(error, SourceError) and error.kind in PERMANENT_KINDS


def to_application_error(
    error: BaseException, rules: Iterable[ErrorRule] = (), *, attempt: int = 1
) -> ApplicationError:
    """The application error an activity raises for ``error`` (raise it ``from None``).

    Its details are ``(attempt, permanent)``, so the workflow can report how many attempts a
    schema took.

    .. versionadded:: 0.2
    """
    rules = list(rules)
    permanent = is_permanent(error, rules)
    if isinstance(error, HeadwaterError):
        message = user_message(error, rules)
    else:
        # Not one of ours: its message could hold anything, a secret included.
        message = f"unexpected {type(error).__name__} (see the worker's log)"
    delay = None
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        delay = dt.timedelta(seconds=max(error.retry_after, 0.0))
    return ApplicationError(
        message,
        attempt,
        permanent,
        type=PERMANENT_TYPE if permanent else TRANSIENT_TYPE,
        non_retryable=permanent,
        next_retry_delay=None if permanent else delay,
    )
