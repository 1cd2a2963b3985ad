"""Retrying failed requests: what is retried, how long to wait, and when to give up.

Retried: 429 (and 403s the API marks as rate limits), 500/502/503/504, timeouts and resets,
and 2xx bodies that are truncated or not JSON. Not retried: other 4xx, which say the request
itself (or its credentials) is wrong. Waits honour the API: ``Retry-After`` in seconds or as
an HTTP date (``0`` retries at once), else a rate-limit reset header in epoch seconds
(``X-RateLimit-Reset``, ``X-Sentry-Rate-Limit-Reset``), each capped at ``max_server_wait``;
otherwise exponential backoff with jitter. Attempts are bounded, and so is the total time
spent waiting (``max_total_wait``, larger than the cap, so one capped wait always fits).

**How stamina is used.** stamina runs the attempt loop (:func:`stamina.retry_context`): it
bounds the attempts, asks our backoff hook (``on=``) whether an error is retried, computes the
exponential backoff bound (:attr:`stamina.Attempt.next_wait`, from the policy's
``wait_initial``, ``wait_exp_base`` and ``wait_max``), feeds stamina's retry instrumentation
(logging, Prometheus, structlog hooks), and honours stamina's global switches
(``stamina.set_active(False)``, ``stamina.set_testing(...)``). It does *not* sleep, and the
hook does not hand it the real wait; it returns ``0.0`` and the wait is taken before the next
attempt through the Runtime's ``sleep`` and ``clock``. Why, as checked against stamina 26.1.0
(``stamina>=25.2`` is required: ``next_wait`` is off by one attempt before it):

- stamina's hook may return the wait as a float or timedelta (a server-named wait, such as
  ``Retry-After``), but stamina then sleeps it itself: its synchronous ``retry_context``
  builds ``tenacity.Retrying`` without a ``sleep`` argument, so tenacity's default
  :func:`time.sleep` runs, and stamina offers no parameter, setting or testing helper to
  replace it (only its async loop sleeps differently, through ``asyncio``/``trio``). Handing
  it the wait would make every test and every emulated run really sleep, take waits off the
  Runtime's clock (a :class:`~headwater.ManualClock` could no longer record them) and lose
  the contract suite's check that connectors never sleep outside ``runtime.sleep``.
- ``stamina.set_testing`` is process-global and turns every wait into ``0`` (a hook's float
  included): tests could no longer see which wait was chosen, and a test switching it would
  change other threads' requests.
- stamina's jitter is additive (``min(wait_max, wait_initial * base ** (n - 1) +
  uniform(0, wait_jitter))``); our default is full jitter, ``uniform(0, bound)``, which an
  additive jitter cannot express. So the bound comes from stamina and the draw from us.
- A server-named wait also holds the API's
  :class:`~headwater.rest._rate_limit.RateLimitGate`, which every fan-out worker passes;
  stamina's per-call sleep would pause only the one request.

The cost: stamina's instrumentation reports ``wait_for=0``; our progress events and log lines
carry the real waits. Should stamina accept a sleep function (or a clock) for synchronous
retries, the hook can return the wait and this module stop sleeping itself.

.. versionadded:: 0.1
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import attrs
import stamina

from headwater.errors import (
    HTTPStatusError,
    NetworkError,
    RateLimitedError,
    ResponseFormatError,
    SourceError,
)
from headwater.runtime import ProgressEvent, ProgressKind, Runtime

if TYPE_CHECKING:
    import httpx

    from headwater.rest._rate_limit import RateLimitGate

__all__ = [
    "RetryPolicy",
    "call_with_retries",
    "is_retryable",
    "looks_like_rate_limit",
    "parse_retry_after",
    "server_wait",
]

T = TypeVar("T")

# Below this, an X-RateLimit-Reset value is a number of seconds, not an epoch timestamp; no
# epoch second we will ever see is this small (it is 2001-09-09).
_EPOCH_THRESHOLD = 1_000_000_000


def looks_like_rate_limit(response: httpx.Response) -> bool:
    """Whether a 403 is really a rate limit, as GitHub sends them.

    GitHub answers an exhausted primary rate limit with 403 and ``X-RateLimit-Remaining: 0``,
    and a secondary rate limit with 403, a ``Retry-After`` header and a message saying so
    (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).

    .. versionadded:: 0.1
    """
    headers = response.headers
    if "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0":
        return True
    return "rate limit" in response.text[:2000].casefold()


def _statuses(value: Iterable[int]) -> frozenset[int]:
    return frozenset(value)


def _header_names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a client retries. The defaults suit SaaS APIs; connectors rarely change them.

    ``attempts`` counts every try (first included). Backoff after attempt *n* is exponential
    with full jitter: ``uniform(0, min(wait_max, wait_initial * wait_exp_base ** (n - 1)))``,
    so an isolated fault costs a fraction of a second on average, and a fleet of clients that
    failed together does not come back together. ``full_jitter=False`` waits the upper bound
    itself (deterministic); ``wait_jitter`` adds ``uniform(0, wait_jitter)`` on top (capped at
    ``wait_max`` too).
    A wait the API asks for is capped at ``max_server_wait``; all waits of one request
    together at ``max_total_wait``, past which it gives up rather than wait more.
    ``rate_limit_403`` decides whether a 403 is a rate limit (retried) or a permission error.
    ``rate_limit_min_wait`` is the least a rate limit waits when the API names no wait
    (no ``Retry-After``, no reset header): GitHub asks for at least a minute after a
    secondary limit, where the backoff's first waits would be a second or two.

    .. versionadded:: 0.1
    """

    attempts: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    statuses: frozenset[int] = attrs.field(
        default=frozenset({429, 500, 502, 503, 504}), converter=_statuses
    )
    wait_initial: float = attrs.field(default=0.25, validator=attrs.validators.ge(0))
    wait_max: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    wait_jitter: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))
    wait_exp_base: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    max_server_wait: float = attrs.field(default=120.0, validator=attrs.validators.ge(0))
    max_total_wait: float = attrs.field(default=900.0, validator=attrs.validators.ge(0))
    reset_headers: tuple[str, ...] = attrs.field(
        default=("X-RateLimit-Reset", "X-Sentry-Rate-Limit-Reset"), converter=_header_names
    )
    rate_limit_403: Callable[[httpx.Response], bool] = attrs.field(
        default=looks_like_rate_limit, eq=False
    )
    rate_limit_min_wait: float = attrs.field(default=0.0, validator=attrs.validators.ge(0))
    """.. versionadded:: 0.1"""
    full_jitter: bool = True
    """.. versionadded:: 0.2"""

    def __attrs_post_init__(self) -> None:
        if self.max_total_wait < self.max_server_wait:
            raise ValueError(
                f"max_total_wait ({self.max_total_wait}) must be at least max_server_wait"
                f" ({self.max_server_wait}), or one capped Retry-After would already exceed it"
            )
        if self.max_total_wait < self.rate_limit_min_wait:
            raise ValueError(
                f"max_total_wait ({self.max_total_wait}) must be at least rate_limit_min_wait"
                f" ({self.rate_limit_min_wait}), or the first rate limit would give up"
            )


def parse_retry_after(value: str, now: dt.datetime) -> float | None:
    """Seconds to wait for a ``Retry-After`` value: delay-seconds or an HTTP date (RFC 9110).

    A date in the past, like ``0``, means "now". ``None`` if the value is neither.

    .. versionadded:: 0.1
    """
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is no answer
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - now).total_seconds(), 0.0)


def server_wait(response: httpx.Response, policy: RetryPolicy, now: dt.datetime) -> float | None:
    """The wait the API asked for, uncapped: ``Retry-After``, else a reset header.

    Reset headers count only on a rate-limit answer (they are sent on every response, and
    mean nothing while requests still succeed). Values are epoch seconds; a small value is
    read as seconds from now, as a few APIs send it.

    .. versionadded:: 0.1
    """
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        parsed = parse_retry_after(retry_after, now)
        if parsed is not None:
            return parsed
    if response.status_code not in (403, 429):
        return None
    for name in policy.reset_headers:
        raw = response.headers.get(name)
        if raw is None:
            continue
        try:
            reset = float(raw.strip())
        except ValueError:
            continue
        if reset >= _EPOCH_THRESHOLD:
            return max(reset - now.timestamp(), 0.0)
        return max(reset, 0.0)
    return None


def is_retryable(error: BaseException, policy: RetryPolicy) -> bool:
    """Whether a failed request is worth another attempt under ``policy``.

    .. versionadded:: 0.1
    """
    if isinstance(error, RateLimitedError | NetworkError | ResponseFormatError):
        return True
    return isinstance(error, HTTPStatusError) and error.status in policy.statuses


def call_with_retries(
    send: Callable[[], T],
    *,
    policy: RetryPolicy,
    runtime: Runtime,
    gate: RateLimitGate,
    label: object,
    schema: str | None = None,
) -> T:
    """Call ``send`` until it returns, retrying retryable :class:`SourceError` s.

    ``send`` makes one attempt and must pass ``gate`` before its request (the client does).
    ``label`` (the method and the redacted URL) names the request in events and errors; it
    may be any object whose ``str()`` gives that, so it is only built when needed.
    The error of the last attempt is raised; when the request was retried, or gave up, its
    message says what was requested, how many attempts were made, and why it stopped.

    .. versionadded:: 0.1
    """
    try:
        # Most requests succeed at once, and building a retry context costs more than a
        # tenth of a page read against a fast server; so the retry loop starts at the first
        # failure, which stamina then sees as its own first attempt (below).
        return send()
    except SourceError as error:
        if not is_retryable(error, policy):
            raise
        first: SourceError | None = error
    run = _RetryRun(policy=policy, runtime=runtime, gate=gate, label=label, schema=schema)
    try:
        for attempt in stamina.retry_context(
            on=run.decide,
            attempts=policy.attempts,
            timeout=None,  # bounded by attempts and max_total_wait, on the Runtime's clock
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=0.0,  # next_wait stays the bound; jitter is drawn in _backoff()
            wait_exp_base=policy.wait_exp_base,
        ):
            run.before(attempt)
            with attempt:
                if first is not None:
                    # Attempt 1 already ran: hand its failure to stamina, so attempts,
                    # instrumentation and stamina's switches count it like any other.
                    failed, first = first, None
                    raise failed
                return send()
    except SourceError as error:
        run.final(error)
        raise
    raise AssertionError("unreachable: stamina either returns or raises")


class _RetryRun:
    """The state of one request's retries: attempt number, pending wait, waited so far."""

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        runtime: Runtime,
        gate: RateLimitGate,
        label: object,
        schema: str | None,
    ) -> None:
        self.policy = policy
        self.runtime = runtime
        self.gate = gate
        self.label = label
        self.schema = schema
        self.number = 0
        self.attempt: stamina.Attempt | None = None
        self.pending = 0.0
        self.waited = 0.0
        self.reason = ""
        self.gave_up: str | None = None

    def before(self, attempt: stamina.Attempt) -> None:
        self.number = attempt.num
        self.attempt = attempt
        if self.number > 1:
            detail = f"{self.label}: attempt {self.number} of {self.policy.attempts}"
            detail += f" after {self.reason}"
            self.runtime.logger.info("retrying %s", detail)
            self.runtime.progress.emit(
                ProgressEvent(
                    kind=ProgressKind.RETRY, schema=self.schema, count=self.number, detail=detail
                )
            )
        if self.pending > 0:
            wait, self.pending = self.pending, 0.0
            self.runtime.progress.emit(
                ProgressEvent(
                    kind=ProgressKind.WAIT,
                    schema=self.schema,
                    seconds=wait,
                    detail=f"backing off before retrying {self.label}",
                )
            )
            self.runtime.sleep(wait)

    def decide(self, error: Exception) -> bool | float:
        """stamina's hook: ``False`` to give up, else ``0.0`` (we take the wait ourselves)."""
        if not is_retryable(error, self.policy):
            return False
        self.reason = _short(error)
        asked = getattr(error, "retry_after", None)
        if stamina.is_testing():
            wait = 0.0
        elif asked is not None:
            wait = min(float(asked), self.policy.max_server_wait)
        else:
            wait = self._backoff()
            if isinstance(error, RateLimitedError):
                wait = max(wait, self.policy.rate_limit_min_wait)
        if self.waited + wait > self.policy.max_total_wait:
            self.gave_up = (
                f"waiting {wait:.1f} s more would exceed the {self.policy.max_total_wait:.0f} s"
                f" retry budget ({self.waited:.1f} s waited already)"
            )
            return False
        self.waited += wait
        if asked is not None or isinstance(error, RateLimitedError):
            # Every request to this API waits, not only this one: see _rate_limit.py.
            if wait > 0:
                self.gate.hold(wait, self.runtime.clock)
        else:
            self.pending = wait
        return 0.0

    def _backoff(self) -> float:
        # stamina's exponential bound for this attempt, min(wait_max, wait_initial *
        # wait_exp_base ** (n - 1)), drawn from with full jitter (AWS's "full jitter"): the
        # policy's wait_jitter is not passed to stamina, so next_wait is the bound itself.
        policy = self.policy
        bound = self.attempt.next_wait if self.attempt is not None else policy.wait_initial
        wait = random.uniform(0, bound) if policy.full_jitter and bound else bound
        if policy.wait_jitter:
            wait += random.uniform(0, policy.wait_jitter)
        return min(policy.wait_max, wait)

    def final(self, error: SourceError) -> SourceError:
        exhausted = is_retryable(error, self.policy)
        if self.number <= 1 and not exhausted:
            return error
        label = str(self.label)
        last = str(error)
        if last.startswith(label):
            last = last[len(label) :].lstrip(": ")
        plural = "s" if self.number != 1 else ""
        message = f"{label} failed after {self.number} attempt{plural}; last error: {last}"
        if self.gave_up:
            message += f"; gave up because {self.gave_up}"
        elif exhausted:
            message += "; the API kept failing: try again later"
        error.args = (message,)
        error.attempts = self.number
        return error


def _short(error: Exception) -> str:
    status = getattr(error, "status", None)
    if status is not None:
        return f"HTTP {status}"
    return type(error).__name__
