"""Headwater on Temporal: durable, scheduled syncs on a fleet of ``headwater worker`` processes.

The optional extra ``headwater[temporal]`` installs the SDK (``temporalio``); only the
commands of :mod:`headwater.cli.temporal_commands` import this package, so the rest of the
host never loads it. One file per idea:

- :mod:`~headwater.temporal.inputs` what enters Temporal's history (never a resolved secret);
- :mod:`~headwater.temporal.names` workflow and activity names, IDs derived from the tables;
- :mod:`~headwater.temporal.configs` config files sent as text with their references;
- :mod:`~headwater.temporal.failures` Headwater's errors as (non-)retryable application errors;
- :mod:`~headwater.temporal.progress` progress counted for heartbeats;
- :mod:`~headwater.temporal.activities` the config check and ``sync_schema`` as activities;
- :mod:`~headwater.temporal.workflows` the connection and schema workflows;
- :mod:`~headwater.temporal.client` connecting to a Temporal service;
- :mod:`~headwater.temporal.worker` the worker;
- :mod:`~headwater.temporal.submit` starting a connection sync;
- :mod:`~headwater.temporal.schedules` one Temporal Schedule per connection;
- :mod:`~headwater.temporal.runs` recent runs from the visibility API.

docs/scale-out.md describes the deployment and its guarantees.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.2
"""
