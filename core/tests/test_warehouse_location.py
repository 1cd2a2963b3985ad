"""Where a warehouse and its tables are, and object-store errors as one safe line."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.warehouse.location import (
    describe_store_error,
    is_object_store,
    table_location,
    warehouse_root,
)

ARROW = "\n          \x1b[31m↳\x1b[0m "


@pytest.mark.parametrize(
    ("warehouse", "root", "table"),
    [
        ("s3://bucket/wh", "s3://bucket/wh", "s3://bucket/wh/shop/orders"),
        ("s3://bucket/wh/", "s3://bucket/wh", "s3://bucket/wh/shop/orders"),
        ("s3://bucket", "s3://bucket", "s3://bucket/shop/orders"),
        ("az://container/wh", "az://container/wh", "az://container/wh/shop/orders"),
        ("file:///srv/wh", "/srv/wh", "/srv/wh/shop/orders"),
        ("/srv/wh/", "/srv/wh", "/srv/wh/shop/orders"),
    ],
)
def test_a_warehouse_root_and_its_tables(warehouse, root, table):
    assert warehouse_root(warehouse) == root
    assert table_location(warehouse, "shop", "orders").uri == table
    assert is_object_store(root) == ("://" in root)


def test_a_relative_warehouse_is_resolved_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert warehouse_root("wh") == str(tmp_path.resolve() / "wh")
    assert Path(table_location("wh", "shop", "orders").uri).parent.parent == tmp_path / "wh"


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="has the scheme 'ftp'"):
        warehouse_root("ftp://host/wh")


@pytest.mark.parametrize(
    ("message", "described"),
    [
        (
            "Generic S3 error"
            + ARROW
            + "Error performing list request"
            + ARROW
            + "Error performing GET http://127.0.0.1:9000/nobucket?delimiter=%2F&list-type=2 in"
            " 2.1ms - Server returned non-2xx status code"
            + ARROW
            + "404 Not Found"
            + ARROW
            + '<?xml version="1.0" encoding="utf-8"?>\n<Error><Code>NoSuchBucket</Code>'
            "<Message>The specified bucket does not exist</Message><RequestId>x1</RequestId>"
            "</Error>",
            "Generic S3 error: Error performing list request: Error performing GET"
            " http://127.0.0.1:9000/nobucket in 2.1ms - Server returned non-2xx status code:"
            " 404 Not Found: NoSuchBucket: The specified bucket does not exist",
        ),
        (
            "Generic MicrosoftAzure error"
            + ARROW
            + "GET https://acct.blob.core.windows.net/c/wh?sv=2024&sig=S3CRET%2Bsig failed",
            "Generic MicrosoftAzure error: GET https://acct.blob.core.windows.net/c/wh failed",
        ),
        (
            "proxy http://user:pa55word@proxy.test:8080/x refused",
            "proxy http://proxy.test:8080/x refused",
        ),
        ("Generic S3 error" + ARROW + "<html>bad gateway</html>", "Generic S3 error"),
        ("", "OSError"),
        ("x" * 2000, "x" * 597 + "..."),
        (
            # Delta Lake's kernel appends the native backtrace to the message.
            "Kernel error: Json error: Encountered unexpected 'g' whilst parsing object\n"
            "   0: <unknown>\n   1: <unknown>\n  12: start_thread\n"
            "             at ./nptl/pthread_create.c:442:8\n  13: clone3",
            "Kernel error: Json error: Encountered unexpected 'g' whilst parsing object",
        ),
    ],
    ids=["s3-xml-error", "sas-token", "user-info", "unknown-body", "empty", "long", "backtrace"],
)
def test_an_object_store_error_is_one_line_without_credentials(message, described):
    assert describe_store_error(OSError(message)) == described


@pytest.mark.parametrize(
    ("message", "storage"),
    [
        (
            "Failed to parse parquet: External: Generic LocalFileSystem error: Unable to copy data"
            " to file: No space left on device (os error 28)",
            True,
        ),
        ("Generic S3 error: Error performing PUT http://127.0.0.1:9000/b/t - 403 Forbidden", True),
        (
            "Generic error: Partition column(s) not found in write schema: _headwater_partition",
            False,
        ),
        ("Schema error: Invalid data type for Delta Lake: Null", False),
    ],
    ids=["full-disk", "store-refuses", "partition-mismatch", "schema"],
)
def test_a_delta_refusal_is_not_blamed_on_the_disk(message, storage):
    from deltalake.exceptions import DeltaError

    from headwater.warehouse import warehouse_error

    error = warehouse_error(DeltaError(message), "/wh/c/t", "write")

    assert ("check that the warehouse folder exists" in str(error)) is storage
    assert ("Delta Lake refused to write the table /wh/c/t" in str(error)) is not storage
    assert "Nothing was committed by this step" in str(error)
