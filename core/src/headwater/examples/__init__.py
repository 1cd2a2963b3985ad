"""A built-in example connector: an imaginary shop whose data is generated, offline.

It needs no network and no account, so ``headwater sync example --config
examples/example.toml`` works on a fresh machine and shows every sync mode: ``orders``
(incremental on ``updated_at``, partitioned by the month of ``created_at``), ``events``
(append on ``occurred_at``, md5-bucketed) and ``customers`` (full refresh, with nested data).

Rows are a pure function of the config's ``seed`` and the runtime clock: orders are placed at
a steady rate and move through their statuses as time passes, so a second sync a little later
finds new and changed rows. Tests drive it with a :class:`~headwater.ManualClock`.

The package itself stays light: the source lives in :mod:`headwater.examples.source`.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

__all__: list[str] = []
