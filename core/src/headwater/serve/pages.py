"""The page's HTML, one function per screen; every value is escaped on its way in.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import string
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from headwater.serve.forms import render_fields
from headwater.serve.html import attributes, escape
from headwater.serve.security import CSRF_FIELD

if TYPE_CHECKING:
    from headwater.config import SchemaChoice
    from headwater.errors import LoadProblem
    from headwater.serve.config_files import ConnectionFile
    from headwater.serve.runs import Run
    from headwater.sources import SourceConfig, SourceSchema
    from headwater.warehouse.inventory import TableSummary

__all__ = [
    "catalog_page",
    "connect_page",
    "connection_page",
    "error_page",
    "layout",
    "run_page",
    "runs_page",
    "schemas_page",
    "tables_page",
]


@functools.cache
def _layout_template() -> string.Template:
    text = importlib.resources.files("headwater.serve").joinpath("templates/layout.html")
    return string.Template(text.read_text(encoding="utf-8"))


def layout(title: str, body: str, *, csrf: str) -> str:
    return _layout_template().substitute(title=escape(title), body=body, csrf=escape(csrf))


def _csrf_input(csrf: str) -> str:
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf)}">'


def _when(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    attrs_: str = "",
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if index in numeric else f"<td>{cell}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<table class="data"{attrs_}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


# --- catalog -----------------------------------------------------------------------------------


def catalog_page(
    cards: Sequence[Mapping[str, Any]],
    problems: Sequence[LoadProblem],
    connections: Sequence[ConnectionFile],
    *,
    csrf: str,
) -> str:
    parts = ["<h1>Connect a source</h1>"]
    if connections:
        rows = [
            (
                f'<a href="/connections/{escape(c.source_type)}/{escape(c.connection)}">'
                f"{escape(c.connection)}</a>",
                escape(c.source_type),
                f"<code>{escape(c.path)}</code>",
            )
            for c in connections
        ]
        parts += [
            "<h2>Your connections</h2>",
            _table(("connection", "connector", "config file"), rows),
        ]
        parts.append("<h2>Add another</h2>")
    items = []
    for card in cards:
        icon = f'<img src="/icons/{escape(card["name"])}.svg" alt="">' if card.get("icon") else ""
        docs = (
            f'<a href="{escape(card["docs_url"])}" rel="noreferrer" target="_blank">API docs</a>'
            if card.get("docs_url")
            else ""
        )
        status = str(card["release_status"])
        unreleased = ' <span class="badge">unreleased</span>' if card.get("unreleased") else ""
        items.append(
            f'<div class="card" data-connector="{escape(card["name"])}">{icon}'
            f"<strong>{escape(card['label'])}</strong>"
            f'<span class="category">{escape(card["category"])} · '
            f"<code>{escape(card['name'])}</code>"
            f" {escape(card.get('version') or '')}</span>"
            f'<span><span class="badge {escape(status)}">{escape(status)}</span>{unreleased}</span>'
            f'<span class="muted">{escape(card.get("caption") or "")}</span>'
            f'<span class="actions"><a class="button" href="/connect/{escape(card["name"])}">'
            f"Connect</a>{docs}</span>"
            "</div>"
        )
    if items:
        parts.append(f'<div class="cards">{"".join(items)}</div>')
    else:
        parts.append(
            '<p class="notice">No connectors installed. Install one with'
            " <code>pip install connector-NAME</code>.</p>"
        )
    if problems:
        listed = "".join(f"<li>{escape(problem)}</li>" for problem in problems)
        parts.append(
            "<h2>Plugins that could not be loaded</h2>"
            f'<ul class="problems-list" id="load-problems">{listed}</ul>'
        )
    return layout("Sources", "\n".join(parts), csrf=csrf)


# --- connect -----------------------------------------------------------------------------------


def connect_page(
    *,
    name: str,
    meta: SourceConfig,
    values: Mapping[str, Any],
    connection: str,
    start_date: str,
    editing: bool,
    problems: Mapping[str, Sequence[str]],
    general: Sequence[str] = (),
    csrf: str,
) -> str:
    fields = render_fields(meta.fields, values, problems=problems)
    connection_attrs: dict[str, str | bool | None] = {
        "type": "text",
        "id": "connection",
        "name": "connection",
        "value": connection,
        "readonly": editing,
        "aria-required": "true",
    }
    top_problems = {
        path: "".join(f"<li>{escape(m)} @ {escape(path)}</li>" for m in problems.get(path, ()))
        for path in ("$.connection", "$.start_date")
    }
    notice = ""
    if general or problems:
        items = "".join(f"<li>{escape(line)}</li>" for line in general)
        notice = (
            '<div class="notice bad" id="save-problems">Not saved: fix the marked fields.'
            f"<ul>{items}</ul></div>"
        )
    docs = (
        f' <a href="{escape(meta.docs_url)}" rel="noreferrer" target="_blank">API docs</a>'
        if meta.docs_url
        else ""
    )
    body = f"""
<h1>Connect {escape(meta.label)}</h1>
<p class="muted">{escape(meta.caption)}{docs}</p>
{notice}
<form class="panel connect" method="post" action="/connect/{escape(name)}"
enctype="multipart/form-data" novalidate>
{_csrf_input(csrf)}
<input type="hidden" name="editing" value="{"1" if editing else ""}">
<div class="field" data-path="$.connection">
<label for="connection">Connection name <span class="required" title="required">*</span></label>
<input{attributes(connection_attrs)}>
<p class="caption">The folder of this connection's tables in the warehouse, and the name of its
config file.</p>
<ul class="problems" data-for="$.connection">{top_problems["$.connection"]}</ul>
</div>
{fields}
<div class="field" data-path="$.start_date">
<label for="start_date">Start date</label>
<input type="date" id="start_date" name="start_date" value="{escape(start_date)}">
<p class="caption">Optional: the first sync of incremental tables reads from this day on.</p>
<ul class="problems" data-for="$.start_date">{top_problems["$.start_date"]}</ul>
</div>
<p class="caption">Secrets are stored in files only you can read, outside the config file, which
refers to them. You can also type a reference such as <code>env:GITHUB_TOKEN</code>.</p>
<div id="check-result" class="notice" hidden role="status"></div>
<div class="actions">
<button type="button" class="secondary" id="check"
data-check="/connect/{escape(name)}/check">Check</button>
<button type="submit" id="save">Save and choose tables</button>
</div>
</form>
"""
    return layout(f"Connect {meta.label}", body, csrf=csrf)


# --- a connection ------------------------------------------------------------------------------


def _history(runs: Sequence[Run]) -> str:
    if not runs:
        return '<p class="muted">No runs yet.</p>'
    rows = [
        (
            f'<a href="/runs/{run.id}">#{run.id}</a>',
            f"{escape(run.source_type)} / {escape(run.connection)}",
            _when(run.started),
            f'<span class="status-{escape(run.status)}">{escape(run.status)}</span>',
            str(sum(result.rows_written for result in run.results)),
        )
        for run in runs
    ]
    return _table(
        ("run", "connection", "started", "status", "rows written"),
        rows,
        numeric=(4,),
        attrs_=' id="history"',
    )


def connection_page(
    *,
    name: str,
    connection: str,
    path: str,
    warehouse: str,
    runs: Sequence[Run],
    csrf: str,
) -> str:
    body = f"""
<h1>{escape(connection)} <span class="muted">({escape(name)})</span></h1>
<div class="panel">
<p>Config file: <code>{escape(path)}</code>. The same file works from a terminal:</p>
<pre>headwater check {escape(name)} --config {escape(path)}
headwater sync {escape(name)} --config {escape(path)} --warehouse {escape(warehouse)}</pre>
<div class="actions">
<form method="post"
action="/connections/{escape(name)}/{escape(connection)}/sync">{_csrf_input(csrf)}<button
type="submit" id="sync">Sync now</button></form>
<a class="button secondary"
href="/connections/{escape(name)}/{escape(connection)}/tables">Choose tables</a>
<a class="button secondary" href="/connect/{escape(name)}?connection={escape(connection)}">Edit
settings</a>
</div>
</div>
<h2>Runs</h2>
{_history(runs)}
"""
    return layout(connection, body, csrf=csrf)


def schemas_page(
    *,
    name: str,
    connection: str,
    schemas: Sequence[SourceSchema],
    choices: Mapping[str, SchemaChoice],
    problems: Sequence[str],
    message: str = "",
    csrf: str,
) -> str:
    rows = []
    for schema in schemas:
        choice = choices.get(schema.name)
        enabled = choice.enabled if choice is not None else True
        mode = (
            choice.sync_mode
            if choice is not None and choice.sync_mode
            else schema.effective_default_sync_mode
        )
        key = f"schemas.{schema.name}"
        modes = "".join(
            f"<option{attributes({'value': str(m), 'selected': m == mode})}>"
            f"{escape(str(m).replace('_', ' '))}</option>"
            for m in schema.sync_modes
        )
        if schema.incremental_fields:
            chosen_field = choice.incremental_field if choice is not None else None
            chosen_field = chosen_field or schema.incremental_fields[0].field
            fields = "".join(
                f"<option{attributes({'value': f.field, 'selected': f.field == chosen_field})}>"
                f"{escape(f.label)} ({escape(f.field)}, {escape(str(f.type))})</option>"
                for f in schema.incremental_fields
            )
            incremental = (
                f'<select name="{escape(key)}.incremental_field"'
                f' aria-label="incremental field of {escape(schema.name)}">{fields}</select>'
            )
        else:
            incremental = '<span class="muted">-</span>'
        box = attributes(
            {
                "type": "checkbox",
                "name": f"{key}.enabled",
                "value": "on",
                "checked": enabled,
                "aria-label": f"sync {schema.name}",
            }
        )
        rows.append(
            (
                f'<input type="hidden" name="{escape(key)}.listed" value="1"><input{box}>',
                f"<strong>{escape(schema.name)}</strong><br>"
                f'<span class="muted">{escape(schema.description)}</span>',
                f'<select name="{escape(key)}.sync_mode"'
                f' aria-label="sync mode of {escape(schema.name)}">{modes}</select>',
                incremental,
            )
        )
    listed = "".join(f"<li>{escape(p)}</li>" for p in problems)
    notice = (
        f'<div class="notice bad" id="schema-problems"><ul>{listed}</ul></div>' if problems else ""
    )
    if message:
        notice += f'<div class="notice good" id="schema-saved">{escape(message)}</div>'
    body = f"""
<h1>Choose tables: {escape(connection)}</h1>
{notice}
<form class="panel" method="post" action="/connections/{escape(name)}/{escape(connection)}/tables">
{_csrf_input(csrf)}
{_table(("sync", "table", "sync mode", "incremental field"), rows, attrs_=' id="schemas"')}
<p class="caption">Incremental tables continue from the state saved in the table; full refresh
reads everything and replaces the table in one commit.</p>
<div class="actions"><button type="submit" id="save-tables">Save tables</button>
<a class="button secondary" href="/connections/{escape(name)}/{escape(connection)}">Back to the
connection</a></div>
</form>
"""
    return layout(f"Tables of {connection}", body, csrf=csrf)


# --- runs --------------------------------------------------------------------------------------


def runs_page(runs: Sequence[Run], *, csrf: str) -> str:
    return layout("Runs", f"<h1>Runs</h1>{_history(runs)}", csrf=csrf)


def run_page(run: Run, *, csrf: str) -> str:
    snapshot = run.snapshot()
    rows = [
        (
            escape(row["schema"]),
            f'<span class="status-{escape(row["status"])}">{escape(row["status"])}</span>',
            str(row["pages"]),
            str(row["rows_read"]),
            str(row["rows_written"]),
            str(row["retries"]),
            f"{row['elapsed']}s",
        )
        for row in snapshot["schemas"]
    ]
    events = "" if run.done else f' data-events="/runs/{run.id}/events"'
    progress = _table(
        ("table", "status", "pages", "rows read", "rows written", "retries", "time"),
        rows,
        numeric=(2, 3, 4, 5, 6),
        attrs_=f' id="progress"{events}',
    )
    summary = ""
    if run.done:
        failures = [r for r in run.results if not r.ok]
        results = [
            (
                escape(r.schema),
                _outcome("done" if r.ok else "failed"),
                str(r.rows_written) if r.ok else "",
                escape(r.mode),
                f"{r.duration}s" if r.ok else "",
                escape(r.watermark) if r.ok else escape(r.error),
            )
            for r in run.results
        ]
        total = sum(r.rows_written for r in run.results)
        summary = (
            f'<h2>Summary</h2><p id="summary">{len(run.results) - len(failures)} of'
            f" {len(run.schemas)} tables synced, {total} rows written.</p>"
            + _table(
                ("table", "outcome", "rows written", "mode", "time", "watermark or error"),
                results,
                numeric=(2,),
                attrs_=' id="results"',
            )
        )
        if run.error:
            summary += f'<div class="notice bad" id="run-error">{escape(run.error)}</div>'
    body = f"""
<h1>Sync #{run.id}: {escape(run.connection)} <span
class="muted">({escape(run.source_type)})</span></h1>
<p>Status: <span id="run-status"
class="status-{escape(run.status)}">{escape(run.status)}</span>, started {_when(run.started)}</p>
{progress}
{summary}
<div class="actions"><a class="button secondary"
href="/connections/{escape(run.source_type)}/{escape(run.connection)}">Back to the connection</a>
<a class="button secondary" href="/tables">Tables</a></div>
"""
    return layout(f"Sync #{run.id}", body, csrf=csrf)


# --- tables and queries ------------------------------------------------------------------------


def tables_page(
    tables: Sequence[TableSummary],
    *,
    warehouse: str,
    sql: str,
    result: tuple[Sequence[str], Sequence[Sequence[object]], int] | None,
    error: str,
    csrf: str,
) -> str:
    rows = [
        (
            f"<code>{escape(t.connection)}.{escape(t.schema)}</code>",
            str(t.rows),
            _size(t.size_bytes),
            _when(t.last_sync),
            escape(t.sync_mode or ""),
            escape("" if t.watermark is None else t.watermark),
            "complete"
            if t.complete
            else (
                "resumes mid-read"
                if t.resumes_mid_read
                else ("never synced" if t.state is None else "incomplete")
            ),
        )
        for t in tables
    ]
    listing = (
        _table(
            ("table", "rows", "size", "last sync", "mode", "watermark", "state"),
            rows,
            numeric=(1, 2),
            attrs_=' id="tables"',
        )
        if rows
        else '<p class="muted">No tables yet: sync a connection first.</p>'
    )
    outcome = ""
    if error:
        outcome = f'<div class="notice bad" id="query-error">{escape(error)}</div>'
    elif result is not None:
        columns, values, total = result
        shown = [[escape("" if v is None else v) for v in row] for row in values]
        more = (
            f'<p class="muted">Showing {len(values)} of {total} rows; the CSV has them all.</p>'
            if total > len(values)
            else f'<p class="muted">{total} rows.</p>'
        )
        outcome = more + _table(columns, shown, attrs_=' id="query-result"')
    body = f"""
<h1>Tables</h1>
<p class="muted">Warehouse: <code>{escape(warehouse)}</code></p>
{listing}
<h2>Query</h2>
<form class="panel" method="post" action="/query">
{_csrf_input(csrf)}
<textarea class="sql" name="sql" id="sql" aria-label="SQL"
spellcheck="false">{escape(sql)}</textarea>
<p class="caption">DuckDB SQL. Name a table as <code>connection.table</code>.</p>
<div class="actions"><button type="submit" id="run-query">Run query</button>
<button type="submit" class="secondary" formaction="/query.csv" id="download-csv">Download
CSV</button></div>
</form>
{outcome}
"""
    return layout("Tables", body, csrf=csrf)


def _outcome(word: str) -> str:
    return f'<span class="status-{word}">{word}</span>'


def error_page(title: str, message: str, *, csrf: str) -> str:
    return layout(
        title, f'<h1>{escape(title)}</h1><div class="notice bad">{escape(message)}</div>', csrf=csrf
    )
