"""The rows an emulator serves, changeable while a connector reads them.

Incremental syncs are tested by reading, changing the API's data, and reading again: new rows
appear, existing rows are updated (same key, new values), some disappear. :class:`RowStore`
is that data, shared safely between the test thread and the server's threads.

.. versionadded:: 0.1
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

__all__ = ["RowStore"]


class RowStore:
    """Tables of rows by name, each keyed by one column; every method is thread-safe.

    Rows keep the order in which their key was first added: an update replaces a row in place,
    as an API listing by id or creation time would show it. Reads return copies, so an
    emulator may hand them out (or a test may change them) without touching the store.

    .. versionadded:: 0.1
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[str, dict[Hashable, dict[str, Any]]] = {}
        self._keys: dict[str, str] = {}

    def add(self, table: str, rows: Iterable[Mapping[str, Any]], *, key: str = "id") -> None:
        """Upsert ``rows`` into ``table``: a row whose ``key`` exists replaces it, others append.

        A table is keyed by the column its first ``add`` names; naming another later is an
        error, as is a row without the key. Nothing is stored unless every row is valid.
        """
        batch = [dict(row) for row in rows]
        for index, row in enumerate(batch):
            if key not in row:
                raise ValueError(f"row {index} added to table {table!r} has no key {key!r}")
        with self._lock:
            known = self._keys.get(table, key)
            if known != key:
                raise ValueError(f"table {table!r} is keyed by {known!r}, not {key!r}")
            self._keys[table] = key
            stored = self._tables.setdefault(table, {})
            for row in batch:
                stored[row[key]] = row

    def delete(self, table: str, keys: Iterable[Hashable]) -> None:
        """Remove the rows of ``table`` with these key values, as a hard delete in the API.

        Raises :class:`KeyError` naming the first key value not in the table (nothing is
        removed then): deleting a row that is not there is a mistake in the test.
        """
        wanted = list(dict.fromkeys(keys))
        with self._lock:
            stored = self._tables.get(table, {})
            for value in wanted:
                if value not in stored:
                    raise KeyError(f"table {table!r} has no row with key {value!r}")
            for value in wanted:
                del stored[value]

    def rows(self, table: str) -> list[dict[str, Any]]:
        """A snapshot of ``table`` in order; an unknown table is empty."""
        with self._lock:
            return [dict(row) for row in self._tables.get(table, {}).values()]
