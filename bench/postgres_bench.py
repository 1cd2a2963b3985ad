"""The database figures: ``headwater sync postgres`` beside the bare floor and dlt, into Delta.

A real PostgreSQL server (``connector_postgres.server``, on 127.0.0.1) holds a table of 20
mixed columns (integers, numeric(12, 2), text, bool, timestamptz, date, uuid, jsonb, float8),
made by the server with ``generate_series``. Each contender runs as its own process, reads
the whole table and writes one Delta table; the parent measures wall time and peak RSS
(``wait4``) and checks the row count and a checksum of the table written.

- **floor**: the ADBC driver's record-batch reader handed to ``write_deltalake`` (a few
  lines: driver -> Arrow -> Delta, streamed).
- **headwater**: ``headwater sync postgres --config pg.toml`` (full refresh: staged, resumable
  batches, one replacing commit).
- **dlt**: dlt's ``sql_database`` source (pyarrow backend) into Delta on the local
  filesystem, in its own virtualenv under ``.nox/bench-dlt-sql`` created on first use.

Targets: headwater within 1.3x of the floor; at least 5x faster than dlt; peak RSS flat as
rows grow 10x (``ROWS // 10`` then ``ROWS``). ``HEADWATER_BENCH_PG_ROWS`` sets ``ROWS``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from statistics import median

from harness import ApiServer, Figure
from sync_bench import _measured

__all__ = ["ROWS", "run"]

ROWS = int(os.environ.get("HEADWATER_BENCH_PG_ROWS") or 2_000_000)
ROUNDS = 2
DLT_VENV = Path(__file__).resolve().parent.parent / ".nox" / "bench-dlt-sql"
PASSWORD_ENV = "HW_BENCH_PG_PASSWORD"

TABLE = """
create table wide as
select g::bigint as id,
       (g % 1000)::int as small_int,
       g * 31 as big_int,
       ((g * 7.31) % 100000)::numeric(12, 2) as amount,
       ((g * 3.7) % 1000)::float8 as score,
       md5(g::text) as hash,
       'customer ' || (g % 50000) as customer,
       (array['placed', 'paid', 'shipped', 'delivered'])[1 + g % 4] as status,
       g % 2 = 0 as active,
       g % 3 = 0 as flagged,
       timestamptz '2024-01-01 00:00Z' + g * interval '1 second' as created_at,
       timestamptz '2024-01-01 00:00Z' + g * interval '1 second' + interval '1 hour' as updated_at,
       date '2024-01-01' + (g % 700) as ship_date,
       md5('u' || g)::uuid as ref,
       jsonb_build_object('n', g % 10, 'tag', 't' || (g % 7)) as attributes,
       'EUR' as currency,
       (g % 97)::int2 as quantity,
       g::float8 / 3 as ratio,
       repeat('x', (g % 16)::int) as note,
       g % 5 = 0 as archived
from generate_series(1, {rows}) g
"""

FLOOR = """
import sys
import adbc_driver_postgresql.dbapi as dbapi
import pyarrow as pa
from deltalake import write_deltalake
uri, table, target = sys.argv[1:4]

def plain(batch):  # Delta has no Arrow extension types (uuid, json, numeric): their storage
    columns = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)

with dbapi.connect(uri) as connection, connection.cursor() as cursor:
    cursor.execute(f"select * from {table}")
    reader = cursor.fetch_record_batch()
    first = plain(reader.read_next_batch())
    batches = pa.RecordBatchReader.from_batches(
        first.schema, (first, *(plain(b) for b in reader))
    )
    write_deltalake(target, batches, mode="overwrite")
"""

DLT = """
import sys
import dlt
from dlt.sources.sql_database import sql_table
uri, table, bucket = sys.argv[1:4]
source = sql_table(credentials=uri, table=table, backend="pyarrow", chunk_size=100_000)
pipeline = dlt.pipeline(
    pipeline_name="headwater_pg_bench",
    destination=dlt.destinations.filesystem(bucket_url=bucket),
    dataset_name="dlt",
    pipelines_dir=f"{bucket}/.pipelines",
)
pipeline.run(source, table_format="delta", write_disposition="replace")
"""

HEADWATER = "from headwater.cli import main; main()"


def _dlt_python() -> Path:
    python = DLT_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "dlt[deltalake,sql_database]",
             "sqlalchemy>=2", "psycopg2-binary"],
            check=True,
        )  # fmt: skip
    return python


def _count(table_uri: str) -> tuple[int, int]:
    from deltalake import DeltaTable

    table = DeltaTable(table_uri).to_pyarrow_table(columns=["id"])
    return table.num_rows, sum(table.column("id").to_pylist())


def _verdict(ok: bool, target: str) -> str:
    return "met" if ok else f"MISSED ({target})"


def run(api: ApiServer | None = None) -> list[Figure]:
    from connector_postgres.server import local_server
    from connector_postgres.testing import execute, superuser_uri

    figures: list[Figure] = []
    with local_server() as server, tempfile.TemporaryDirectory(prefix="hw-pg-bench-") as tmp:
        work = Path(tmp)
        uri = superuser_uri(server)
        small = max(ROWS // 10, 1)
        execute(uri, [TABLE.format(rows=ROWS), "alter table wide add primary key (id)",
                      TABLE.replace("wide", "wide_small").format(rows=small),
                      "alter table wide_small add primary key (id)", "vacuum analyze"])  # fmt: skip
        env = {PASSWORD_ENV: server.password, "PYTHONUNBUFFERED": "1"}
        config = work / "pg.toml"
        config.write_text(
            textwrap.dedent(f"""
            connection = "bench"
            [source]
            host = "{server.host}"
            port = {server.port}
            database = "postgres"
            user = "{server.user}"
            password = "env:{PASSWORD_ENV}"
            ssl_mode = "disable"

            """)
        )
        modes = {
            "full_refresh": 'sync_mode = "full_refresh"',
            "append": 'sync_mode = "append"\nincremental_field = "id"',
        }

        def configured(mode: str) -> Path:
            path = work / f"pg-{mode}.toml"
            chosen = "".join(
                f"\n[schemas.{table}]\n{modes[mode]}\n" for table in ("wide", "wide_small")
            )
            path.write_text(config.read_text() + chosen)
            return path

        def headwater(table: str, n: int, mode: str = "full_refresh") -> tuple[float, float]:
            warehouse = work / f"hw-{table}-{n}-{mode}"
            result = _measured(
                [sys.executable, "-c", HEADWATER, "sync", "postgres", "--config",
                 str(configured(mode)),
                 "--warehouse", str(warehouse), "--schema", table, "--quiet"],
                env=env,
            )  # fmt: skip
            rows = ROWS if table == "wide" else small
            assert _count(str(warehouse / "bench" / table)) == (rows, rows * (rows + 1) // 2)
            return result

        def floor(table: str, n: int) -> tuple[float, float]:
            target = work / f"floor-{table}-{n}"
            result = _measured([sys.executable, "-c", FLOOR, uri, table, str(target)])
            rows = ROWS if table == "wide" else small
            assert _count(str(target)) == (rows, rows * (rows + 1) // 2)
            return result

        def dlt(table: str, n: int) -> tuple[float, float]:
            bucket = work / f"dlt-{table}-{n}"
            dsn = uri.replace("postgresql://", "postgresql+psycopg2://")
            result = _measured([str(_dlt_python()), "-c", DLT, dsn, table, str(bucket)],
                               env={"RUNTIME__DLTHUB_TELEMETRY": "false"})  # fmt: skip
            rows = ROWS if table == "wide" else small
            assert _count(str(bucket / "dlt" / table)) == (rows, rows * (rows + 1) // 2)
            return result

        ours, theirs = "headwater full_refresh", "headwater append (first sync)"
        runs: dict[str, list[tuple[float, float]]] = {"floor": [], ours: [], theirs: []}
        for n in range(ROUNDS):  # alternating, so all see the same machine
            runs["floor"].append(floor("wide", n))
            runs[ours].append(headwater("wide", n))
            runs[theirs].append(headwater("wide", n, "append"))
        small_hw = headwater("wide_small", 0)
        small_append = headwater("wide_small", 0, "append")
        try:
            runs["dlt"] = [dlt("wide", 0)]
        except Exception as error:  # dlt is measured when it installs and runs here
            figures.append(Figure("dlt sql_database", f"not measured: {error}", "MISSED"))

        def show(name: str) -> tuple[float, float]:
            wall = median(w for w, _ in runs[name])
            rss = max(r for _, r in runs[name])
            figures.append(
                Figure(
                    name, f"{ROWS / wall:>10,.0f} rows/s  {wall:6.2f} s  peak RSS {rss:5.0f} MiB"
                )
            )
            return wall, rss

        floor_wall, _ = show("floor")
        ours_wall, ours_rss = show(ours)
        append_wall, _ = show(theirs)
        for name, wall in ((ours, ours_wall), (theirs, append_wall)):
            ratio = wall / floor_wall
            figures.append(
                Figure(f"{name} / floor", f"{ratio:.2f}x", _verdict(ratio <= 1.3, "<= 1.3x"))
            )
        if "dlt" in runs:
            dlt_wall, _ = show("dlt")
            speed = dlt_wall / min(ours_wall, append_wall)
            verdict = _verdict(speed >= 5, ">= 5x")
            figures.append(Figure("dlt / headwater", f"{speed:.1f}x", verdict))
        append_rss = max(r for _, r in runs[theirs])
        for name, small_rss, big_rss in (
            ("full_refresh", small_hw[1], ours_rss),
            ("append", small_append[1], append_rss),
        ):
            growth = big_rss / small_rss
            figures.append(
                Figure(
                    f"{name} peak RSS, rows x10",
                    f"{small_rss:.0f} -> {big_rss:.0f} MiB ({growth:.2f}x)",
                    _verdict(growth <= 1.25, "flat: <= 1.25x"),
                )
            )
    return figures


if __name__ == "__main__":
    from harness import print_figures

    print_figures("postgres_bench", run())
