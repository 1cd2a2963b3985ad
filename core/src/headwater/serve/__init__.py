"""``headwater serve``: the catalog, the source forms, syncs and tables in a browser.

A page served by the host, so that a person can connect a source without writing TOML. It
uses what the CLI uses: the registry for the catalog, each connector's fields for its form,
the CLI's config loader for validation (same messages, same JSON paths), the same TOML files,
the same sync callable, the warehouse inventory and DuckDB queries.

- :mod:`.app`: what each request does; :mod:`.server`: HTTP (standard library, threaded);
- :mod:`.pages` and :mod:`.forms`: the HTML, the forms rendered from fields and read back;
- :mod:`.config_files` and :mod:`.secret_files`: the config files saved, and where secrets go;
- :mod:`.runs`: syncs in background threads with live progress;
- :mod:`.security`: the Host check, the access token and CSRF tokens.

Importing this package is light; the command imports the server when it runs. See
``docs/web.md``.

Internal to the host: not part of the documented API (``docs/reference/``), so it may
change without notice.

.. versionadded:: 0.2
"""

from __future__ import annotations

__all__: list[str] = []
