"""What each request of the page does, independent of the HTTP server that carries it.

:class:`App` takes a :class:`Request` and returns a :class:`Response`; :mod:`.server` only
translates between HTTP and these. Connectors are loaded from the registry as the CLI loads
them, configs are read with the CLI's loader, and syncs call the CLI's sync callable.

.. versionadded:: 0.2
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import attrs

from headwater.errors import ConfigError, HeadwaterError, LoadProblem, PluginError
from headwater.serve import pages
from headwater.serve.config_files import ConnectionFiles, render_toml
from headwater.serve.forms import Submission, read_fields, secret_paths
from headwater.serve.runs import RunBoard, SyncJob, schemas_to_sync
from headwater.serve.secret_files import SecretFiles, is_reference
from headwater.serve.security import CSRF_FIELD, CSRF_HEADER, Guard

if TYPE_CHECKING:
    from headwater.config import UserConfig
    from headwater.discovery import Connector, Registry
    from headwater.runtime import Runtime
    from headwater.sources import Source, SourceConfig

__all__ = ["RUN_HISTORY", "App", "Request", "Response"]

_log = logging.getLogger("headwater.serve")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_SHOWN_ROWS = 500
RUN_HISTORY = ".headwater-runs.jsonl"
"""The file in the connections folder that keeps the list of runs across restarts."""


@attrs.frozen(kw_only=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str] = attrs.field(factory=dict)
    headers: Mapping[str, str] = attrs.field(factory=dict)
    """Header names in lower case."""
    form: Submission = attrs.field(factory=Submission)


@attrs.frozen(kw_only=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    stream: Iterator[bytes] | None = None
    """Server-sent events: chunks written and flushed one by one."""


def _html(text: str, status: int = 200) -> Response:
    return Response(status=status, body=text.encode("utf-8"))


def _json(data: object, status: int = 200) -> Response:
    return Response(status=status, body=json.dumps(data).encode(), content_type="application/json")


def _redirect(location: str) -> Response:
    return Response(status=303, headers=(("Location", location),))


class App:
    """The page's behaviour. ``runtime_factory`` builds the runtime a connector's checks,
    schema lists and syncs run with (``Runtime()`` by default; tests point it at an emulator).
    """

    def __init__(
        self,
        *,
        registry: Registry,
        configs_dir: Path,
        secrets_dir: Path,
        warehouse: str,
        guard: Guard,
        runtime_factory: Callable[[Connector], Runtime] | None = None,
    ) -> None:
        self.registry = registry
        self.files = ConnectionFiles(configs_dir)
        self.secrets = SecretFiles(secrets_dir)
        self.warehouse = warehouse
        self.guard = guard
        self.runs = RunBoard(configs_dir / RUN_HISTORY)
        self._runtime_factory = runtime_factory

    # --- plumbing ------------------------------------------------------------------------------

    def runtime(self, connector: Connector) -> Runtime:
        if self._runtime_factory is not None:
            return self._runtime_factory(connector)
        from headwater.runtime import Runtime

        return Runtime()

    def handle(self, request: Request) -> Response:
        if request.method == "POST" and not self.guard.csrf_ok(
            submitted=request.form.values.get(CSRF_FIELD)
            or request.headers.get(CSRF_HEADER.lower()),
            origin=request.headers.get("origin"),
            host_header=request.headers.get("host"),
        ):
            return _html(
                self._error(
                    "Refused",
                    "This form is out of date or came from another site (CSRF check failed)."
                    " Reload the page and try again.",
                ),
                403,
            )
        for method, pattern, action in self._routes():
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                try:
                    return action(request, *match.groups())
                except HeadwaterError as error:
                    # Headwater's errors never quote secrets (ConfigProblem holds no values).
                    return _html(self._error("Something is wrong", str(error)), 400)
        return _html(self._error("Not found", "There is no such page."), 404)

    def _routes(self) -> list[tuple[str, str, Callable[..., Response]]]:
        name = r"([A-Za-z0-9_-]{1,100})"
        return [
            ("GET", r"/", self.catalog),
            ("GET", r"/static/([a-z]+\.(?:css|js))", self.static),
            ("GET", rf"/icons/{name}\.svg", self.icon),
            ("GET", rf"/connect/{name}", self.connect_form),
            ("POST", rf"/connect/{name}/check", self.check),
            ("POST", rf"/connect/{name}", self.save),
            ("GET", rf"/connections/{name}/{name}", self.connection),
            ("GET", rf"/connections/{name}/{name}/tables", self.schemas_form),
            ("POST", rf"/connections/{name}/{name}/tables", self.save_schemas),
            ("POST", rf"/connections/{name}/{name}/sync", self.start_sync),
            ("GET", r"/runs", self.run_list),
            ("GET", r"/runs/(\d+)", self.run),
            ("GET", r"/runs/(\d+)/events", self.run_events),
            ("GET", r"/tables", self.tables),
            ("POST", r"/query", self.query),
            ("POST", r"/query\.csv", self.query_csv),
        ]

    def _error(self, title: str, message: str) -> str:
        return pages.error_page(title, message, csrf=self.guard.csrf_token)

    def _open(self, name: str) -> tuple[Connector, Source[Any], SourceConfig]:
        connector = self.registry.connector(name)
        source = connector.load_source()
        return connector, source, source.get_source_config()

    # --- catalog -------------------------------------------------------------------------------

    def catalog(self, request: Request) -> Response:
        cards = []
        connectors = self.registry.connectors()  # loads every plugin, so problems are known
        problems = list(self.registry.problems)
        for connector in connectors:
            try:
                meta = connector.load_source().get_source_config()
            except Exception as error:  # shown on the page with the others, never fatal
                problems.append(
                    LoadProblem(
                        plugin=connector.plugin,
                        distribution=connector.distribution,
                        version=connector.version,
                        reason=f"{type(error).__name__}: {error}",
                    )
                )
                continue
            cards.append(
                {
                    "name": connector.source_type,
                    "label": meta.label,
                    "caption": meta.caption,
                    "category": meta.category,
                    "release_status": meta.release_status.value,
                    "unreleased": meta.unreleased,
                    "docs_url": meta.docs_url,
                    "icon": meta.icon,
                    "version": connector.version,
                }
            )
        cards.sort(key=lambda card: (card["category"], card["label"]))
        connections = list(self.files.list())
        return _html(pages.catalog_page(cards, problems, connections, csrf=self.guard.csrf_token))

    def static(self, request: Request, file: str) -> Response:
        resource = importlib.resources.files("headwater.serve").joinpath("static", file)
        if not resource.is_file():
            return _html(self._error("Not found", "There is no such file."), 404)
        return Response(body=resource.read_bytes(), content_type=_STATIC_TYPES[Path(file).suffix])

    def icon(self, request: Request, name: str) -> Response:
        connector, _, meta = self._open(name)
        try:
            icon = connector.icon(meta)
        except PluginError:
            return _html(self._error("Not found", "This connector's icon is missing."), 404)
        if icon is None:
            return _html(self._error("Not found", "This connector has no icon."), 404)
        return Response(body=icon, content_type="image/svg+xml")

    # --- connect -------------------------------------------------------------------------------

    def connect_form(self, request: Request, name: str) -> Response:
        _, _, meta = self._open(name)
        connection = request.query.get("connection", "")
        stored = self.files.read(name, connection) if _NAME.match(connection) else None
        if stored is None:
            return _html(
                pages.connect_page(
                    name=name,
                    meta=meta,
                    values={},
                    connection=name,
                    start_date="",
                    editing=False,
                    problems={},
                    csrf=self.guard.csrf_token,
                )
            )
        source = stored.get("source", {})
        start = stored.get("start_date")
        return _html(
            pages.connect_page(
                name=name,
                meta=meta,
                values=source if isinstance(source, Mapping) else {},
                connection=connection,
                start_date=start.isoformat()[:10] if isinstance(start, dt.date) else "",
                editing=True,
                problems={},
                csrf=self.guard.csrf_token,
            )
        )

    def _submitted(
        self, name: str, meta: SourceConfig, form: Submission
    ) -> tuple[str, str, bool, dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
        """Connection, start date, editing?, the stored [source], the typed [source], problems."""
        connection = form.text("connection").strip()
        start_date = form.text("start_date").strip()
        editing = bool(form.text("editing"))
        problems: list[tuple[str, str]] = []
        if not _NAME.match(connection):
            problems.append(
                (
                    "$.connection",
                    "expected a folder name of letters, digits, '_' and '-'"
                    " (at most 100 characters)",
                )
            )
        elif not editing and self.files.path(name, connection).exists():
            # A new connection must not overwrite a saved one (and its choice of tables).
            problems.append(
                ("$.connection", f"a connection named {connection!r} exists; choose another name")
            )
        if start_date:
            try:
                dt.date.fromisoformat(start_date)
            except ValueError:
                problems.append(("$.start_date", "expected a date such as 2024-01-01"))
        stored_data = (
            self.files.read(name, connection) if editing and _NAME.match(connection) else None
        )
        stored_source = stored_data.get("source", {}) if stored_data else {}
        if not isinstance(stored_source, Mapping):
            stored_source = {}
        raw, read_problems = read_fields(meta.fields, form, stored_source)
        return (
            connection,
            start_date,
            editing,
            dict(stored_data or {}),
            raw,
            problems + read_problems,
        )

    def _structure(
        self, connector: Connector, meta: SourceConfig, raw: Mapping[str, Any]
    ) -> tuple[Any, list[tuple[str, str]]]:
        from headwater.config import load_config_class, structure_source_config

        try:
            config = structure_source_config(
                load_config_class(connector.spec),
                meta,
                raw,
                resolvers=self.registry.secret_resolvers(),
                path="$.source",
            )
        except ConfigError as error:
            return None, [(p.path, p.message) for p in error.problems]
        return config, []

    def check(self, request: Request, name: str) -> Response:
        from headwater.display import Redactor

        connector, source, meta = self._open(name)
        *_, raw, problems = self._submitted(name, meta, request.form)
        config, structure_problems = self._structure(connector, meta, raw)
        problems += structure_problems
        if problems or config is None:
            return _json(
                {
                    "ok": False,
                    "message": "Fix the marked fields first.",
                    "problems": [{"path": p, "message": m} for p, m in problems],
                }
            )
        ok, message = source.validate_credentials(config, self.runtime(connector))
        text = Redactor.of(config)(
            message or ("The credentials work." if ok else "The credentials were rejected.")
        )
        return _json({"ok": ok, "message": text, "problems": []})

    def save(self, request: Request, name: str) -> Response:
        connector, _, meta = self._open(name)
        connection, start_date, editing, stored, raw, problems = self._submitted(
            name, meta, request.form
        )
        _, structure_problems = self._structure(connector, meta, raw)
        problems += structure_problems
        if problems:
            by_path: dict[str, list[str]] = {}
            for path, message in problems:
                by_path.setdefault(path, []).append(message)
            # Typed values come back so they need not be typed again; secrets never do.
            shown = _without_secrets(raw, meta)
            page = pages.connect_page(
                name=name,
                meta=meta,
                values=shown,
                connection=connection,
                start_date=start_date,
                editing=editing,
                problems=by_path,
                csrf=self.guard.csrf_token,
            )
            return _html(page, 400)
        prefixes = self.registry.secret_resolvers()
        for path in secret_paths(meta.fields):
            keys = path.removeprefix("$.").split(".")
            holder = _holder(raw, keys[:-1])
            value = holder.get(keys[-1]) if holder is not None else None
            if (
                holder is not None
                and isinstance(value, str)
                and value
                and not is_reference(value, prefixes)
            ):
                holder[keys[-1]] = self.secrets.store(name, connection, path, value)
        data: dict[str, Any] = {"connection": connection}
        if start_date:
            data["start_date"] = dt.date.fromisoformat(start_date)
        data["source"] = raw
        if isinstance(stored.get("schemas"), Mapping):
            data["schemas"] = stored["schemas"]
        self._write(connector, meta, connection, data)
        _log.info("saved %s/%s", name, connection)
        return _redirect(f"/connections/{name}/{connection}/tables")

    def _write(
        self, connector: Connector, meta: SourceConfig, connection: str, data: Mapping[str, Any]
    ) -> None:
        from headwater.config import load_config_class, load_user_config

        path = self.files.path(connector.source_type, connection)
        header = (
            "Written by `headwater serve`. Use it with:\n"
            f"  headwater sync {connector.source_type} --config {path}"
        )
        # The CLI's own loader reads the file before it takes the place of the saved one:
        # what the page saves, the CLI runs.
        candidate = path.with_name(f".candidate-{path.name}")
        self.files.write(candidate, render_toml(data, header=header))
        try:
            load_user_config(
                candidate,
                config_class=load_config_class(connector.spec),
                source_config=meta,
                resolvers=self.registry.secret_resolvers(),
            )
            candidate.replace(path)
        finally:
            candidate.unlink(missing_ok=True)

    def _load(
        self, name: str, connection: str
    ) -> tuple[Connector, Source[Any], SourceConfig, UserConfig, Path]:
        from headwater.config import load_config_class, load_user_config

        connector, source, meta = self._open(name)
        path = self.files.path(name, connection)
        config = load_user_config(
            path,
            config_class=load_config_class(connector.spec),
            source_config=meta,
            resolvers=self.registry.secret_resolvers(),
        )
        return connector, source, meta, config, path

    # --- a connection --------------------------------------------------------------------------

    def connection(self, request: Request, name: str, connection: str) -> Response:
        path = self.files.path(name, connection)
        if not path.is_file():
            return _html(
                self._error("Not found", f"There is no connection {connection} of {name}."), 404
            )
        return _html(
            pages.connection_page(
                name=name,
                connection=connection,
                path=str(path),
                warehouse=self.warehouse,
                runs=self.runs.history(name, connection),
                csrf=self.guard.csrf_token,
            )
        )

    def _offered(self, connector: Connector, source: Source[Any], config: UserConfig) -> list[Any]:
        catalog = source.get_catalog_schemas()
        if catalog is not None:
            return list(catalog)
        return list(source.get_schemas(config.source, self.runtime(connector)))

    def schemas_form(
        self,
        request: Request,
        name: str,
        connection: str,
        *,
        problems: list[str] | None = None,
        message: str = "",
    ) -> Response:
        connector, source, _, config, _ = self._load(name, connection)
        offered = self._offered(connector, source, config)
        page = pages.schemas_page(
            name=name,
            connection=connection,
            schemas=offered,
            choices=config.schemas,
            problems=problems or [],
            message=message,
            csrf=self.guard.csrf_token,
        )
        return _html(page, 400 if problems else 200)

    def save_schemas(self, request: Request, name: str, connection: str) -> Response:
        from headwater.config import SchemaChoice, check_schema_choices
        from headwater.config.converter import config_converter

        connector, source, meta, config, _ = self._load(name, connection)
        offered = self._offered(connector, source, config)
        form = request.form
        chosen: dict[str, dict[str, Any]] = {}
        for schema in offered:
            key = f"schemas.{schema.name}"
            if not form.text(f"{key}.listed"):
                continue
            entry: dict[str, Any] = {"enabled": form.text(f"{key}.enabled") == "on"}
            mode = form.text(f"{key}.sync_mode")
            if mode:
                entry["sync_mode"] = mode
            field = form.text(f"{key}.incremental_field")
            if field and mode in ("incremental", "append"):
                entry["incremental_field"] = field
            chosen[schema.name] = entry
        try:
            choices = config_converter().structure(chosen, dict[str, SchemaChoice])
        except Exception:
            return self.schemas_form(
                request,
                name,
                connection,
                problems=[
                    "a sync mode is not one of incremental, append, full_refresh @ $.schemas"
                ],
            )
        problems = check_schema_choices(choices, offered)
        if problems:
            return self.schemas_form(request, name, connection, problems=[str(p) for p in problems])
        data = dict(self.files.read(name, connection) or {})
        data["schemas"] = chosen
        self._write(connector, meta, connection, data)
        return _redirect(f"/connections/{name}/{connection}")

    def start_sync(self, request: Request, name: str, connection: str) -> Response:
        from headwater.config import check_schema_choices

        running = self.runs.running(name, connection)
        if running is not None:
            return _redirect(f"/runs/{running.id}")
        connector, source, _, config, path = self._load(name, connection)
        runtime = self.runtime(connector)
        offered = list(source.get_schemas(config.source, runtime))
        problems = check_schema_choices(config.schemas, offered)
        if problems:
            raise ConfigError(problems, context=str(path))
        schemas = schemas_to_sync(config, offered)
        if not schemas:
            return _html(
                self._error(
                    "Nothing to sync", f"No table of {connection} is enabled: choose tables first."
                ),
                400,
            )
        job = SyncJob(
            connector=connector,
            source=source,
            config=config,
            schemas=schemas,
            warehouse=self.warehouse,
            runtime=runtime,
        )
        run = self.runs.start(job, connection=connection)
        return _redirect(f"/runs/{run.id}")

    # --- runs ----------------------------------------------------------------------------------

    def run_list(self, request: Request) -> Response:
        return _html(pages.runs_page(self.runs.history(), csrf=self.guard.csrf_token))

    def run(self, request: Request, run_id: str) -> Response:
        run = self.runs.get(int(run_id))
        if run is None:
            return _html(self._error("Not found", "There is no such run."), 404)
        return _html(pages.run_page(run, csrf=self.guard.csrf_token))

    def run_events(self, request: Request, run_id: str) -> Response:
        run = self.runs.get(int(run_id))
        if run is None:
            return _html(self._error("Not found", "There is no such run."), 404)

        def events() -> Iterator[bytes]:
            while True:
                done = run.done
                kind = "end" if done else "progress"
                yield f"event: {kind}\ndata: {json.dumps(run.snapshot())}\n\n".encode()
                if done:
                    return
                time.sleep(0.25)

        return Response(
            content_type="text/event-stream",
            headers=(("X-Accel-Buffering", "no"),),
            stream=events(),
        )

    # --- tables and queries --------------------------------------------------------------------

    def _tables(self) -> list[Any]:
        from headwater.warehouse.inventory import find_tables, summarize_table

        try:
            found = find_tables(self.warehouse)
        except (OSError, ValueError):
            return []
        return [
            summarize_table(connection, schema, location) for connection, schema, location in found
        ]

    def tables(
        self,
        request: Request,
        *,
        sql: str = "",
        result: Any = None,
        error: str = "",
        status: int = 200,
    ) -> Response:
        tables = self._tables()
        if not sql and tables:
            from headwater.warehouse.query import quote_identifier

            first = tables[0]
            table = f"{quote_identifier(first.connection)}.{quote_identifier(first.schema)}"
            sql = f"select * from {table} limit 20"
        return _html(
            pages.tables_page(
                tables,
                warehouse=self.warehouse,
                sql=sql,
                result=result,
                error=error,
                csrf=self.guard.csrf_token,
            ),
            status,
        )

    def _run_query(self, sql: str) -> tuple[Any, str]:
        import duckdb

        from headwater.warehouse.query import query_warehouse

        if not sql.strip():
            return None, "Type a query first."
        try:
            return query_warehouse(self.warehouse, sql), ""
        except (duckdb.Error, OSError, ValueError) as error:
            return None, str(error).splitlines()[0] if str(error) else type(error).__name__

    def query(self, request: Request) -> Response:
        sql = request.form.text("sql")
        table, error = self._run_query(sql)
        if error:
            return self.tables(request, sql=sql, error=error, status=400)
        rows = table.slice(0, _SHOWN_ROWS).to_pylist()
        columns = table.column_names
        values = [[row[c] for c in columns] for row in rows]
        return self.tables(request, sql=sql, result=(columns, values, table.num_rows))

    def query_csv(self, request: Request) -> Response:
        import io

        import pyarrow.csv

        sql = request.form.text("sql")
        table, error = self._run_query(sql)
        if error:
            return self.tables(request, sql=sql, error=error, status=400)
        buffer = io.BytesIO()
        pyarrow.csv.write_csv(table, buffer)
        return Response(
            body=buffer.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers=(("Content-Disposition", f'attachment; filename="{quote("query.csv")}"'),),
        )


def _holder(raw: dict[str, Any], keys: list[str]) -> dict[str, Any] | None:
    current: Any = raw
    for key in keys:
        current = current.get(key) if isinstance(current, dict) else None
    return current if isinstance(current, dict) else None


def _without_secrets(raw: Mapping[str, Any], meta: SourceConfig) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(json.dumps(raw, default=str))
    for path in secret_paths(meta.fields):
        keys = path.removeprefix("$.").split(".")
        holder = _holder(shown, keys[:-1])
        if holder is not None:
            holder.pop(keys[-1], None)
    return shown
