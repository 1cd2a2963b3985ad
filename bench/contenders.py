"""The sync benchmark's contenders, each run as its own process by ``bench/sync_bench.py``.

``python bench/contenders.py bare BASE_URL TABLE_URI TOTAL`` is the bare loop: httpx +
orjson, ``pyarrow.Table.from_pylist`` per page, one Delta write at the end (so it holds every
page in memory: the floor for speed, not for memory). ``dlt`` is dlt's ``rest_api`` source
into Delta, run by the interpreter of dlt's own virtualenv. Headwater's contender is the
``headwater sync`` command itself, so it needs no entry here.

For the second incremental sync (``bench/floor_bench.py``): ``bare_base`` writes the first
TOTAL records into a Delta table partitioned by month of ``created_at``, 10,000 rows a commit
(the layout ``headwater sync`` gives its table; not timed), and ``bare_merge BASE_URL
TABLE_URI TOTAL SINCE`` is the timed part: it reads the records from id SINCE on (``min_id``;
the watermark the loop saved) and MERGEs them on id and month, as a hand-written loop would.

Each prints nothing on success: the parent measures wall time and peak RSS of the process,
then verifies the table it wrote.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["bare", "bare_base", "bare_merge", "dlt_rest_api"]

MONTH = "_month"


def bare(base_url: str, table_uri: str, total: int) -> None:
    """The least code that reads every page and writes one Delta table."""
    import httpx
    import orjson
    import pyarrow as pa
    from deltalake import write_deltalake

    tables = []
    with httpx.Client(base_url=base_url) as client:
        params = {"limit": "100", "total": str(total)}
        while True:
            response = client.get("/wide/items", params=params)
            response.raise_for_status()
            body = orjson.loads(response.content)
            tables.append(pa.Table.from_pylist(body["data"]))
            cursor = body["next_cursor"]
            if not cursor:
                break
            params = {**params, "cursor": cursor}
    # Pages infer their own types (a page whose `score`s are all null types it as null), so
    # they are unified before the one write.
    table = pa.concat_tables(tables, promote_options="permissive")
    write_deltalake(table_uri, table, mode="append")


def _pages(base_url: str, params: dict[str, str]) -> Iterator[list[dict[str, object]]]:
    import httpx
    import orjson

    with httpx.Client(base_url=base_url) as client:
        while True:
            response = client.get("/wide/items", params=params)
            response.raise_for_status()
            body = orjson.loads(response.content)
            yield body["data"]
            cursor = body["next_cursor"]
            if not cursor:
                return
            params = {key: value for key, value in params.items() if key != "min_id"}
            params["cursor"] = cursor


def _with_month(table: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    created = pc.strptime(table["created_at"], format="%Y-%m-%dT%H:%M:%SZ", unit="s")
    return table.append_column(MONTH, pc.strftime(created, format="%Y-%m"))


def bare_base(base_url: str, table_uri: str, total: int) -> None:
    """The table a second sync merges into: ``total`` records, by month, 10,000 a commit."""
    import pyarrow as pa
    from deltalake import write_deltalake

    rows: list[dict[str, object]] = []
    schema = None
    for page in _pages(base_url, {"limit": "100", "total": str(total)}):
        rows.extend(page)
        if len(rows) >= 10_000:
            table = _with_month(pa.Table.from_pylist(rows, schema=schema))
            schema = schema or table.schema.remove(table.schema.get_field_index(MONTH))
            write_deltalake(table_uri, table, mode="append", partition_by=[MONTH])
            rows = []
    if rows:
        write_deltalake(
            table_uri,
            _with_month(pa.Table.from_pylist(rows, schema=schema)),
            mode="append",
            partition_by=[MONTH],
        )


def bare_merge(base_url: str, table_uri: str, total: int, since: int) -> None:
    """Read what is new since id ``since`` (the loop's saved watermark, given to it: reading
    it back from 2,000,000 rows would cost the loop seconds) and MERGE it in, on id and
    month."""
    import pyarrow as pa
    from deltalake import DeltaTable

    target = DeltaTable(table_uri)
    schema = pa.schema(target.schema().to_arrow())
    schema = schema.remove(schema.get_field_index(MONTH))
    params = {"limit": "100", "total": str(total), "min_id": str(since)}
    rows = [row for page in _pages(base_url, params) for row in page]
    source = _with_month(pa.Table.from_pylist(rows, schema=schema))
    (
        target.merge(
            source,
            predicate="t.id = s.id AND t._month = s._month",
            source_alias="s",
            target_alias="t",
            streamed_exec=False,
        )
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )


def dlt_rest_api(base_url: str, bucket_url: str, total: int) -> None:
    """dlt's declarative REST source, cursor-paginated, into Delta on the local filesystem."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {
                "base_url": base_url,
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "next_cursor",
                    "cursor_param": "cursor",
                },
            },
            "resources": [
                {
                    "name": "items",
                    "write_disposition": "append",
                    "endpoint": {
                        "path": "wide/items",
                        "params": {"limit": 100, "total": total},
                        "data_selector": "data",
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="headwater_bench",
        destination=dlt.destinations.filesystem(bucket_url=bucket_url),
        dataset_name="dlt",
        pipelines_dir=f"{bucket_url}/.pipelines",
    )
    pipeline.run(source, table_format="delta")


if __name__ == "__main__":
    name, base, target, count = sys.argv[1:5]
    if name == "bare_merge":
        bare_merge(base, target, int(count), int(sys.argv[5]))
    else:
        {"bare": bare, "bare_base": bare_base, "dlt": dlt_rest_api}[name](base, target, int(count))
