"""The PostgreSQL source: fields, schemas from the catalog, the credential check, reads.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from connector_postgres.catalog import Column, Table, read_catalog
from connector_postgres.connection import PostgresError, connect, redirected
from headwater import (
    FileUploadField,
    IncrementalField,
    NumberField,
    ReleaseStatus,
    ResumePoint,
    SecretField,
    SelectField,
    SelectOption,
    Source,
    SourceConfig,
    SourceResponse,
    SourceSchema,
    TextField,
)
from headwater.errors import ErrorKind, ErrorRule

if TYPE_CHECKING:
    import pyarrow as pa

    from connector_postgres._config import PostgresConfig
    from headwater import Runtime, SourceInputs

__all__ = ["PostgresSource", "incremental_fields", "partition_column"]

# Incremental candidates by column type, and the order a form lists them in.
_INCREMENTAL_TYPES = {
    "timestamptz": "datetime",
    "timestamp": "datetime",
    "date": "date",
    "int2": "integer",
    "int4": "integer",
    "int8": "integer",
}
_CHANGE_NAMES = ("updated", "modified", "changed")
# Columns whose name says "when the row was created": stable, so good partition keys.
_CREATION_NAMES = ("created_at", "inserted_at", "created", "created_on", "creation_time")


def incremental_fields(table: Table) -> list[IncrementalField]:
    """The columns a read can filter with ``>=``: timestamps, dates, integer sequences.

    An integer column counts when a sequence fills it (identity, ``serial``) or it is the
    whole primary key: values that only grow. Other integers (a foreign key, a quantity)
    say nothing about which rows are new. Change times (``updated_at``) come first: they are
    what an incremental sync wants.
    """

    def grows(column: Column) -> bool:
        if _INCREMENTAL_TYPES[column.type_name] != "integer":
            return True
        return column.sequence or table.primary_key == (column.name,)

    candidates = [c for c in table.columns if c.type_name in _INCREMENTAL_TYPES and grows(c)]

    def rank(column: Column) -> tuple[int, int]:
        changes = any(word in column.name.lower() for word in _CHANGE_NAMES)
        kind = _INCREMENTAL_TYPES[column.type_name]
        return (0 if changes else 1, ["datetime", "date", "integer"].index(kind))

    return [
        IncrementalField(field=c.name, label=c.name, type=_INCREMENTAL_TYPES[c.type_name])
        for c in sorted(candidates, key=rank)
    ]


def partition_column(table: Table) -> Column | None:
    """A creation timestamp that is never NULL, to partition the Delta table by month."""
    for name in _CREATION_NAMES:
        for column in table.columns:
            if (
                column.name == name
                and column.type_name in ("timestamptz", "timestamp")
                and column.not_null
            ):
                return column
    return None


def _schema(table: Table) -> SourceSchema:
    fields = incremental_fields(table)
    keyed = bool(table.primary_key)
    parts = [f"{table.kind}, {len(table.columns)} columns"]
    if keyed:
        parts.append(f"primary key ({', '.join(table.primary_key)})")
    else:
        parts.append("no primary key: append or full refresh only")
    partition = partition_column(table)
    if partition is not None:
        parts.append(f"partitioned by month of {partition.name}")
    return SourceSchema(
        name=table.name,
        description="; ".join(parts),
        supports_incremental=keyed and bool(fields),
        supports_append=bool(fields),
        incremental_fields=fields,
    )


def _allowed(config: PostgresConfig) -> list[str] | None:
    names = [name.strip() for name in (config.tables or "").split(",") if name.strip()]
    return names or None


class PostgresSource(Source["PostgresConfig"]):
    """A PostgreSQL database: the tables and views of one schema.

    .. versionadded:: 0.1
    """

    source_type = "postgres"

    def get_source_config(self) -> SourceConfig:
        return SourceConfig(
            label="PostgreSQL",
            caption=(
                "Tables and views of one schema, read in read-only sessions and streamed into"
                " Arrow; incremental reads on a timestamp, date or integer column."
            ),
            category="Database",
            icon="icon.svg",
            docs_url="https://www.postgresql.org/docs/current/",
            release_status=ReleaseStatus.ALPHA,
            unreleased=True,
            fields=[
                TextField(name="host", label="Host", placeholder="db.example.com"),
                NumberField(name="port", label="Port", default=5432, minimum=1, maximum=65535),
                TextField(name="database", label="Database", placeholder="shop"),
                TextField(name="user", label="User", caption="A role that may read the schema."),
                SecretField(name="password", label="Password"),
                TextField(
                    name="schema",
                    label="Schema",
                    default="public",
                    required=False,
                    caption="The PostgreSQL schema whose tables and views are offered.",
                ),
                SelectField(
                    name="ssl_mode",
                    label="SSL mode",
                    default="prefer",
                    options=[
                        SelectOption(value="disable", label="Disable"),
                        SelectOption(value="prefer", label="Prefer"),
                        SelectOption(value="require", label="Require"),
                        SelectOption(value="verify-full", label="Verify full"),
                    ],
                    caption=(
                        "verify-full checks the server's certificate against the CA"
                        " certificate and its host name."
                    ),
                ),
                FileUploadField(
                    name="ca_certificate",
                    label="CA certificate",
                    required=False,
                    secret=False,
                    accept=(".pem", ".crt"),
                    caption="PEM text of the CA that signed the server's certificate.",
                ),
                TextField(
                    name="tables",
                    label="Tables",
                    required=False,
                    placeholder="orders, customers",
                    caption="Comma-separated table names to offer; empty offers every one.",
                ),
                NumberField(
                    name="statement_timeout",
                    label="Statement timeout (seconds)",
                    default=3600,
                    minimum=1,
                    caption=(
                        "A read running longer is cancelled; the next sync continues it from"
                        " its last committed batch."
                    ),
                ),
            ],
        )

    def validate_credentials(
        self, config: PostgresConfig, runtime: Runtime
    ) -> tuple[bool, str | None]:
        try:
            config = redirected(config, runtime.base_url)
            with connect(config) as connection:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "select count(*) from pg_catalog.pg_namespace where nspname = $1"
                        " and has_schema_privilege(oid, 'USAGE')",
                        (config.schema,),
                    )
                    [(usable,)] = cursor.fetchall()
                if not usable:
                    return False, (
                        f"schema {config.schema!r} does not exist in database"
                        f" {config.database!r}, or user {config.user!r} may not use it"
                    )
                read_catalog(connection, config.schema, _allowed(config))
        except PostgresError as error:
            return False, str(error)
        except Exception as error:  # never raise: a message, without the driver's internals
            return False, f"PostgreSQL check failed: {type(error).__name__}"
        return True, None

    def get_schemas(self, config: PostgresConfig, runtime: Runtime) -> Sequence[SourceSchema]:
        config = redirected(config, runtime.base_url)
        with connect(config) as connection:
            tables = read_catalog(connection, config.schema, _allowed(config))
        return [_schema(table) for table in tables]

    def source_for_pipeline(
        self, config: PostgresConfig, inputs: SourceInputs, runtime: Runtime
    ) -> SourceResponse:
        from connector_postgres.reader import Read

        name = inputs.schema_name
        config = redirected(config, runtime.base_url)
        with connect(config) as connection:
            tables = read_catalog(connection, config.schema, _allowed(config))
        table = next((t for t in tables if t.name == name), None)
        if table is None:
            raise PostgresError(
                f"schema {config.schema!r} has no readable table or view {name!r}"
                " (dropped, renamed, no SELECT privilege, or not in the tables list)",
                ErrorKind.NOT_FOUND,
            )
        incremental = None
        if inputs.should_use_incremental_field and inputs.incremental_field:
            incremental = table.column(inputs.incremental_field)
        read = Read(
            table=table,
            incremental=incremental,
            lower=inputs.db_incremental_field_last_value if incremental is not None else None,
            resume=inputs.resume_state,
        )
        timeout_ms = int(config.statement_timeout) * 1000

        def items() -> Iterator[pa.RecordBatch | ResumePoint]:
            from connector_postgres.reader import read_batches

            with connect(config, statement_timeout_ms=timeout_ms) as connection:
                yield from read_batches(connection, read)

        partition = partition_column(table)
        extra: dict[str, Any] = {}
        if partition is not None:
            extra = {
                "partition_mode": "datetime",
                "partition_keys": (partition.name,),
                "partition_format": "month",
            }
        return SourceResponse(
            name=name, items=items, primary_keys=table.primary_key or None, **extra
        )

    def get_non_retryable_errors(self) -> Sequence[ErrorRule]:
        return (
            ErrorRule(
                kind=ErrorKind.AUTHENTICATION,
                message="PostgreSQL refused the user or password: check them in the config.",
            ),
            ErrorRule(
                kind=ErrorKind.NOT_FOUND,
                message="The database, schema or table does not exist: check the config.",
            ),
            ErrorRule(
                kind=ErrorKind.PERMISSION,
                message="The user may not read this table: GRANT SELECT on it.",
            ),
            ErrorRule(
                kind=ErrorKind.CONFIGURATION,
                message="The connection settings cannot work (TLS, host): check the config.",
            ),
        )
