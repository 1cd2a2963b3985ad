"""The sync benchmark's contenders, each run as its own process by ``bench/sync_bench.py``.

``python bench/contenders.py bare BASE_URL TABLE_URI TOTAL`` is the bare loop: httpx +
orjson, ``pyarrow.Table.from_pylist`` per page, one Delta write at the end (so it holds every
page in memory: the floor for speed, not for memory). ``dlt`` is dlt's ``rest_api`` source
into Delta, run by the interpreter of dlt's own virtualenv. Headwater's contender is the
``headwater sync`` command itself, so it needs no entry here.

Each prints nothing on success: the parent measures wall time and peak RSS of the process,
then verifies the table it wrote.
"""

from __future__ import annotations

import sys

__all__ = ["bare", "dlt_rest_api"]


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
    {"bare": bare, "dlt": dlt_rest_api}[name](base, target, int(count))
