"""The leak guard: every contract check also fails if a secret showed up while it ran.

A connector may pass every functional check and still log its token at debug level, or put it
in an exception message. For each check, the guard turns the connector's loggers (and the
host's, and httpx's) up to debug, keeps every record, and when the check's report is made,
looks for the secret values of the sample config in the records, in the failure report and in
captured output. A secret found fails the check, even one marked ``xfail``, and is scrubbed from
the report, so the report never repeats what it found.

.. versionadded:: 0.1
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import pytest

from headwater_contract.leaks import LeakFinder, LogCapture

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Guard", "debug_logs", "guard_of", "install"]

_KEY = pytest.StashKey["Guard"]()
# Loggers a connector's I/O goes through: the host's (the Runtime's logger is
# headwater.source), httpx's request log, and the connector's own package (added per connector).
_LOGGERS = ("headwater", "httpx")


@contextlib.contextmanager
def debug_logs(packages: tuple[str, ...] = ()) -> Iterator[LogCapture]:
    """Capture every log record while inside, with the I/O loggers turned up to debug.

    .. versionadded:: 0.1
    """
    capture = LogCapture()
    levels = {}
    root = logging.getLogger()
    root.addHandler(capture)
    for name in (*_LOGGERS, *packages):
        logger = logging.getLogger(name)
        levels[name] = logger.level
        logger.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


class Guard:
    """Watches one check for leaked secrets.

    .. versionadded:: 0.1
    """

    def __init__(self, finder: LeakFinder, capture: LogCapture, sites: list[str]) -> None:
        self.finder = finder
        self.capture = capture
        self.sites = sites
        self._checked = 0
        self._sites_checked = len(sites)

    def judge(self, report: pytest.TestReport) -> None:
        """Fail ``report`` if a secret leaked since the last report; scrub it either way."""
        texts = self.capture.texts[self._checked :]
        self._checked = len(self.capture.texts)
        where = list(dict.fromkeys(self.sites[self._sites_checked :]))
        self._sites_checked = len(self.sites)
        if any(self.finder.find(text) for text in texts):
            where.append("log records")
        longrepr = report.longreprtext if report.longrepr is not None else ""
        if longrepr and self.finder.find(longrepr):
            where.append("the failure message")
            report.longrepr = self.finder.scrub(longrepr)
        sections = []
        for title, content in report.sections:
            if self.finder.find(content):
                if not title.startswith("Captured log"):
                    where.append(title.lower())
                content = self.finder.scrub(content)
            sections.append((title, content))
        report.sections = sections
        if not where:
            return
        paths = sorted({p for text in (*texts, longrepr) for p in self.finder.find(text)})
        message = (
            f"the secret value of {', '.join(paths) or _all(self.finder)} appeared in"
            f" {', '.join(where)} during this check (shown as *** here). Keep credentials as"
            " headwater.Secret, reveal them only where the request is signed, and never log or"
            " format a request's headers or a URL with credentials (redact_url)"
        )
        if report.failed and report.longrepr is not None:
            message += "\n\nThe check also failed:\n" + report.longreprtext
        report.outcome = "failed"
        report.longrepr = message
        if hasattr(report, "wasxfail"):
            del report.wasxfail  # a leak is never an expected failure


def _all(finder: LeakFinder) -> str:
    return ", ".join(sorted(secret.path for secret in finder.secrets)) or "a secret field"


def install(item: pytest.Item, guard: Guard) -> None:
    """Attach ``guard`` to ``item`` for the report hook.

    .. versionadded:: 0.1
    """
    item.stash[_KEY] = guard


def guard_of(item: pytest.Item) -> Guard | None:
    """The guard attached to ``item``, if it is a contract check.

    .. versionadded:: 0.1
    """
    return item.stash.get(_KEY, None)
