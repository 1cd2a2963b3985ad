"""What a person or a scheduler sees of a sync: live progress, a summary, JSON event lines.

- :mod:`~headwater.display.tally`: a progress sink that counts pages, rows, retries and waits
  per schema (cheap enough for every page event);
- :mod:`~headwater.display.live`: the rich live table drawn from a tally while a sync runs;
- :mod:`~headwater.display.summary`: the table printed when a sync ends;
- :mod:`~headwater.display.json_log`: one JSON object per line, for schedulers;
- :mod:`~headwater.display.lines`: lines for a reader that may go away (a closed pipe);
- :mod:`~headwater.display.redact`: scrubs a config's secret values from any printed text.

Importing this package is light: rich loads only when a live display or a table is drawn.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.display.json_log import JsonLog
from headwater.display.lines import LineWriter, silence
from headwater.display.live import progress_table
from headwater.display.redact import Redactor
from headwater.display.summary import SchemaOutcome, summary_lines, summary_table
from headwater.display.tally import ProgressTally

__all__ = [
    "JsonLog",
    "LineWriter",
    "ProgressTally",
    "Redactor",
    "SchemaOutcome",
    "progress_table",
    "silence",
    "summary_lines",
    "summary_table",
]
