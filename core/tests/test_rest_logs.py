"""httpx's request log lines: credentials hidden, and no logging changed by an import."""

from __future__ import annotations

import logging
import subprocess
import sys

import httpx

from headwater import ManualClock, Runtime, Secret
from headwater.emulator import emulator_transport, json_response
from headwater.rest import ApiKeyAuth, ClientConfig, RestClient, redact_httpx_log

KEY = "sk_live_0123456789"


def test_importing_the_rest_machinery_changes_no_logging_configuration():
    code = (
        "import logging, headwater.rest, headwater.rest._client, headwater.rest._logs;"
        "print(len(logging.getLogger('httpx').filters), len(logging.getLogger().filters))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert out.split() == ["0", "0"]


def test_redact_httpx_log_attaches_one_filter_however_often_it_is_called():
    logger = logging.getLogger("httpx")
    first = redact_httpx_log(["a"])
    second = redact_httpx_log(["b"])

    assert first is second
    assert logger.filters.count(first) == 1


def test_httpx_request_lines_hide_the_key_of_a_client_built_after_logging_was_set_up(caplog):
    caplog.set_level(logging.INFO, logger="httpx")
    clock = ManualClock()
    runtime = Runtime(
        transport=emulator_transport(lambda request: json_response(200, {"ok": True})),
        clock=clock,
        sleep=clock.sleep,
    )
    auth = ApiKeyAuth(key=Secret(KEY), name="api_token", location="query")
    with RestClient(ClientConfig(base_url="https://api.example.com", auth=auth), runtime) as client:
        client.get_json("/items", params={"page": "2"})

    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines
    assert all(KEY not in line for line in lines)
    assert any("api_token=***" in line and "page=2" in line for line in lines)


def test_the_filter_rewrites_only_url_arguments():
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "%s %s %d",
        ("GET", httpx.URL("https://x/?key=1"), 3),
        None,
    )

    redact_httpx_log(["key"]).filter(record)

    assert record.getMessage() == "GET https://x/?key=*** 3"
