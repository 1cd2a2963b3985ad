"""A table's sync state, carried by the Delta commits that write its data.

State and data must never disagree: a watermark ahead of the data loses rows, one behind it
repeats them. So the state is not kept in a side file that a crash could leave out of step;
every Headwater commit carries it, atomically with the data it describes:

- ``commitInfo["headwater.state"]``: the whole state document (JSON), readable from the
  table's history by any Delta tool;
- an application transaction (``txn``) with app id ``headwater`` whose version is the state's
  ``sequence``: Delta keeps it in checkpoints, so it survives log cleanup, and Delta refuses
  two concurrent commits that claim the same version (the fence against a second writer);
- at the end of every sync, the table property ``headwater.state`` mirrors the latest state,
  so the state also survives ``OPTIMIZE``/``VACUUM`` (commits that carry none) and the cleanup
  of old log files, and is read without walking the history.

Reading takes the mirror when its sequence equals the transaction version, else walks the
history back to the commit that carries that sequence. If log cleanup removed that commit
before a mirror was written (a crashed sync, then no sync for the whole log retention), the
state is reported lost rather than guessed.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from headwater.errors import StateError, TableLockedError

if TYPE_CHECKING:
    from deltalake import CommitProperties, DeltaTable

__all__ = [
    "APP_ID",
    "STATE_KEY",
    "check_sequence",
    "commit_properties",
    "mirrored_sequence",
    "read_state_document",
    "state_sequence",
]

APP_ID = "headwater"
"""The Delta application-transaction id whose version is the state's sequence."""

STATE_KEY = "headwater.state"
"""The commit-info key (and table property) holding the state document."""

_FIRST_HISTORY_PAGE = 16


def state_sequence(table: DeltaTable) -> int:
    """The sequence of the table's latest state, ``0`` for a table Headwater never wrote.

    .. versionadded:: 0.1
    """
    version = table.transaction_version(APP_ID)
    return 0 if version is None else int(version)


def mirrored_sequence(table: DeltaTable) -> int | None:
    """The sequence of the state mirrored in the table properties, if any.

    .. versionadded:: 0.1
    """
    mirror = table.metadata().configuration.get(STATE_KEY)
    if not mirror:
        return None
    try:
        sequence = orjson.loads(mirror).get("sequence")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return sequence if isinstance(sequence, int) else None


def _decode(text: object, where: str) -> dict[str, Any]:
    try:
        document = orjson.loads(text) if isinstance(text, str | bytes) else None
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("sequence"), int):
        raise StateError(f"the sync state in {where} is not a Headwater state document")
    return document


def read_state_document(table: DeltaTable) -> dict[str, Any] | None:
    """The latest state document of ``table``, or ``None`` if Headwater never wrote one.

    :raises StateError: when the commit carrying the latest state is gone (log cleanup after
        a crashed sync) or its document is unreadable.

    .. versionadded:: 0.1
    """
    sequence = state_sequence(table)
    if sequence == 0:
        return None
    where = f"table {table.table_uri}"
    mirror = table.metadata().configuration.get(STATE_KEY)
    if mirror:
        document = _decode(mirror, f"the {STATE_KEY} property of {where}")
        if document["sequence"] == sequence:
            return document
    limit = _FIRST_HISTORY_PAGE
    while True:
        commits = table.history(limit)
        for commit in commits:  # newest first
            text = commit.get(STATE_KEY)
            if text is None:
                continue  # OPTIMIZE, VACUUM and other commits carry no state
            document = _decode(text, f"commit {commit.get('version')} of {where}")
            if document["sequence"] == sequence:
                return document
            if document["sequence"] < sequence:
                break  # older than the latest state: the latest one's commit is gone
        else:
            if len(commits) >= limit:
                limit *= 4
                continue
        raise StateError(
            f"the sync state of {where} (sequence {sequence}) is lost: the commit carrying it"
            " was removed by log cleanup before the state was mirrored. Run the sync with"
            " --full-refresh to rewrite the table and start a new state"
        )


def commit_properties(document: Mapping[str, Any]) -> CommitProperties:
    """Commit properties that carry ``document`` (and its sequence as the app transaction).

    .. versionadded:: 0.1
    """
    from deltalake import CommitProperties, Transaction

    return CommitProperties(
        custom_metadata={STATE_KEY: orjson.dumps(document).decode()},
        app_transactions=[Transaction(APP_ID, int(document["sequence"]))],
    )


def check_sequence(table: DeltaTable | None, document: Mapping[str, Any]) -> None:
    """Refuse to commit ``document`` unless it directly follows the table's latest state.

    A mismatch means another writer committed since this sync read the state.

    :raises TableLockedError: naming both sequences.

    .. versionadded:: 0.1
    """
    current = 0 if table is None else state_sequence(table)
    expected = int(document["sequence"]) - 1
    if current != expected:
        uri = "the table" if table is None else table.table_uri
        raise TableLockedError(
            f"another writer committed to {uri} while this sync ran (state sequence {current},"
            f" expected {expected}); nothing was committed by this sync's last step: run it again"
        )
