"""``headwater serve``: forms from fields, secrets kept write-only, CSRF, the access token,
and configs saved by the page read back by ``headwater check`` and ``sync``."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
import tomllib

import httpx
import pytest
from serve_support import serve_github, write_github_dist

from headwater.serve.config_files import render_toml
from headwater.serve.forms import Submission, read_fields, render_fields
from headwater.serve.security import Guard
from headwater.sources import (
    FileUploadField,
    NumberField,
    SecretField,
    SelectField,
    SelectOption,
    SwitchGroupField,
    TextField,
)

TOKEN = "ghp_contractToken0001"
WRONG = "ghp_wrongWrongWrong99"
REPOSITORY = "octo-org/octo-repo"
CLI = (sys.executable, "-c", "from headwater.cli import main; main()")

FIELDS = (
    TextField(name="account", label="Account", caption="Your account's name.", placeholder="acme"),
    TextField(name="notes", label="Notes", kind="textarea", required=False),
    SecretField(name="api_key", label="API key"),
    NumberField(name="page_size", label="Page size", minimum=1, maximum=100, default=50),
    SelectField(
        name="region",
        label="Region",
        options=[SelectOption(value="us", label="US"), SelectOption(value="eu", label="EU")],
    ),
    SelectField(
        name="auth",
        label="Sign in with",
        options=[
            SelectOption(value="key", label="A key", fields=[SecretField(name="key", label="Key")]),
            SelectOption(
                value="basic", label="User", fields=[TextField(name="user", label="User")]
            ),
        ],
    ),
    SwitchGroupField(
        name="proxy",
        label="Use a proxy",
        fields=[TextField(name="url", label="Proxy URL", kind="url")],
    ),
    FileUploadField(name="service_account", label="Service account", accept=".json"),
)


# --- forms -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("$.source.account", 'type="text"'),
        ("$.source.account", 'placeholder="acme"'),
        ("$.source.account", "Your account&#x27;s name."),
        ("$.source.notes", "<textarea"),
        ("$.source.api_key", 'type="password"'),
        ("$.source.page_size", 'type="number"'),
        ("$.source.page_size", 'min="1"'),
        ("$.source.page_size", 'max="100"'),
        ("$.source.page_size", 'value="50"'),
        ("$.source.region", '<option value="eu">EU</option>'),
        ("$.source.auth", 'name="source.auth.selection"'),
        ("$.source.auth", 'data-option="key">'),
        ("$.source.proxy", 'type="checkbox"'),
        ("$.source.service_account", 'type="file"'),
        ("$.source.service_account", 'accept=".json"'),
    ],
)
def test_every_field_kind_renders_its_input(path, fragment):
    html = render_fields(FIELDS, {})
    block = _block(html, path)

    assert fragment in block


def _block(html: str, path: str) -> str:
    start = html.index(f'data-path="{path}"')
    return html[start : html.index('<ul class="problems"', start)]


def test_only_the_chosen_options_sub_fields_show():
    html = render_fields(FIELDS, {"auth": {"selection": "basic", "user": "ana"}})

    assert 'data-option="key" hidden' in html
    assert 'data-option="basic">' in html
    assert 'value="ana"' in html


def test_required_fields_are_marked_and_optional_ones_not():
    html = render_fields(FIELDS, {})

    assert 'class="required"' in _block(html, "$.source.account")
    assert 'class="required"' not in _block(html, "$.source.notes")
    assert 'class="required"' not in _block(html, "$.source.page_size")  # it has a default


def test_problems_show_at_their_path():
    html = render_fields(FIELDS, {}, problems={"$.source.account": ["must not be empty"]})

    assert "must not be empty @ $.source.account" in html
    assert 'aria-invalid="true"' in _block(html, "$.source.account")


def test_a_stored_secret_is_never_rendered_only_announced():
    html = render_fields(
        FIELDS, {"api_key": "s3cr3t-value", "auth": {"selection": "key", "key": "other-secret"}}
    )

    assert "s3cr3t-value" not in html
    assert "other-secret" not in html
    assert "A value is stored" in _block(html, "$.source.api_key")


def test_values_are_escaped():
    html = render_fields(FIELDS, {"account": '"><script>alert(1)</script>'})

    assert "<script>" not in html


def test_a_submission_reads_back_into_the_config_tables():
    submission = Submission(
        values={
            "source.account": "acme",
            "source.api_key": "",
            "source.page_size": "20",
            "source.region": "eu",
            "source.auth.selection": "basic",
            "source.auth.user": "ana",
            "source.proxy": "on",
            "source.proxy.url": "https://proxy.example",
        },
        files={"source.service_account": b'{"k": 1}'},
    )

    raw, problems = read_fields(FIELDS, submission, {"api_key": "env:KEY"})

    assert problems == []
    assert raw == {
        "account": "acme",
        "api_key": "env:KEY",  # left empty: the stored reference is kept
        "page_size": 20,
        "region": "eu",
        "auth": {"selection": "basic", "user": "ana"},
        "proxy": {"url": "https://proxy.example"},
        "service_account": '{"k": 1}',
    }


def test_an_unreadable_number_goes_to_the_loader_as_text():
    raw, _ = read_fields(FIELDS, Submission(values={"source.page_size": "many"}), {})

    assert raw["page_size"] == "many"


def test_toml_round_trips_strings_that_need_escaping():
    data = {
        "connection": "c",
        "source": {
            "a": 'quote " back \\ new\nline \x7f tab\t',
            "n": 3,
            "b": True,
            "nested": {"x": "y"},
        },
    }

    assert tomllib.loads(render_toml(data, header="a\nb")) == data


# --- security ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8765", True),
        ("localhost:8765", True),
        ("[::1]:8765", True),
        ("evil.example:8765", False),
        (None, False),
    ],
)
def test_on_loopback_only_loopback_host_headers_are_answered(host, allowed):
    assert Guard.for_bind("127.0.0.1", 8765).host_allowed(host) is allowed


def test_bound_elsewhere_the_access_token_is_needed():
    guard = Guard.for_bind("0.0.0.0", 8765)

    assert guard.access_token
    assert not guard.access_granted(query_token=None, cookies={}, authorization=None)
    assert not guard.access_granted(query_token="nope", cookies={}, authorization=None)
    assert guard.access_granted(
        query_token=None, cookies={"headwater_access": guard.access_token}, authorization=None
    )
    assert guard.access_granted(
        query_token=None, cookies={}, authorization=f"Bearer {guard.access_token}"
    )


def test_the_cli_prints_the_token_link_when_bound_elsewhere(tmp_path):
    # Bound to all addresses on a free port; the first lines carry the link, then it is stopped.
    process = subprocess.Popen(
        [*CLI, "serve", "--host", "0.0.0.0", "--port", "0",
         "--configs-dir", str(tmp_path / "c"), "--secrets-dir", str(tmp_path / "s")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
    finally:
        process.terminate()
        process.communicate(timeout=10)
    match = re.search(r"http://0\.0\.0\.0:(\d+)/\?token=(\S+)", line)
    assert match, line
    assert len(match.group(2)) >= 30


def test_an_address_in_use_is_an_input_error(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "serve", "--port", str(port), "--configs-dir", str(tmp_path / "c")],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip

    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_page_bound_elsewhere_refuses_requests_without_the_token(tmp_path):
    with serve_github(tmp_path, host="0.0.0.0") as page:
        token = page.app.guard.access_token
        assert httpx.get(page.url + "/").status_code == 401
        with httpx.Client(base_url=page.url) as client:
            first = client.get(f"/?token={token}")
            assert first.status_code == 303
            assert first.headers["location"] == "/"
            assert "HttpOnly" in first.headers["set-cookie"]
            assert client.get("/").status_code == 200  # the cookie now carries it


def test_dns_rebinding_is_refused(tmp_path):
    with serve_github(tmp_path) as page:
        response = httpx.get(page.url + "/", headers={"Host": "attacker.example"})

    assert response.status_code == 421


@pytest.mark.parametrize(
    "path",
    ["/connect/github", "/connect/github/check", "/query", "/connections/github/github/sync"],
)
@pytest.mark.parametrize("token", [None, "forged"])
def test_state_changing_requests_without_the_csrf_token_are_refused(tmp_path, path, token):
    data = {
        "connection": "github",
        "source.repository": REPOSITORY,
        "source.token": TOKEN,
        "sql": "select 1",
    }
    if token:
        data["_csrf"] = token
    with serve_github(tmp_path) as page:
        response = httpx.post(page.url + path, data=data)
        files = list(page.configs.rglob("*")) if page.configs.exists() else []

    assert response.status_code == 403
    assert "CSRF" in response.text
    assert files == []


def test_a_post_from_another_origin_is_refused_even_with_the_token(tmp_path):
    with serve_github(tmp_path) as page:
        csrf = page.app.guard.csrf_token
        response = httpx.post(
            page.url + "/query",
            data={"_csrf": csrf, "sql": "select 1"},
            headers={"Origin": "http://evil.example"},
        )

    assert response.status_code == 403


# --- the catalog, check, save, sync ------------------------------------------------------------


def _client(page):
    return httpx.Client(
        base_url=page.url,
        headers={"X-CSRF-Token": page.app.guard.csrf_token},
        follow_redirects=False,
    )


def test_the_catalog_lists_connectors_and_load_problems(tmp_path):
    with serve_github(tmp_path) as page:
        html = httpx.get(page.url + "/").text
        icon = httpx.get(page.url + "/icons/github.svg")

    assert 'data-connector="github"' in html
    assert "GitHub" in html
    assert "Engineering" in html
    assert "alpha" in html
    assert "docs.github.com" in html
    problems = html[html.index('id="load-problems"') :]
    assert "broken" in problems
    assert "connector_that_is_not_there" in problems
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"


def test_check_reports_problems_at_the_cli_paths_and_the_connectors_message(tmp_path):
    with serve_github(tmp_path) as page, _client(page) as client:
        invalid = client.post(
            "/connect/github/check",
            data={"connection": "github", "source.repository": "not a repo", "source.token": ""},
        ).json()
        wrong = client.post(
            "/connect/github/check",
            data={"connection": "github", "source.repository": REPOSITORY, "source.token": WRONG},
        ).json()
        right = client.post(
            "/connect/github/check",
            data={"connection": "github", "source.repository": REPOSITORY, "source.token": TOKEN},
        ).json()

    paths = {problem["path"] for problem in invalid["problems"]}
    assert {"$.source.repository", "$.source.token"} <= paths
    assert wrong["ok"] is False
    assert wrong["message"]
    assert WRONG not in str(wrong)
    assert right["ok"] is True


def test_a_secret_never_reaches_a_response_a_log_or_the_saved_toml(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    bodies = []
    with serve_github(tmp_path) as page, _client(page) as client:
        form = {"connection": "gh", "source.repository": REPOSITORY, "source.token": TOKEN}
        bad = client.post("/connect/github", data={**form, "source.repository": "bad"})
        bodies.append(bad.text)
        saved = client.post("/connect/github", data=form)
        bodies.append(saved.text)
        for path in (
            "/",
            "/connect/github?connection=gh",
            "/connections/github/gh",
            "/connections/github/gh/tables",
        ):
            bodies.append(client.get(path).text)
        toml_text = (page.configs / "github" / "gh.toml").read_text()
        secret_file = next(page.secrets.rglob("token"))

    assert bad.status_code == 400
    assert "expected owner/repo" in bad.text
    assert saved.status_code == 303
    assert all(TOKEN not in body for body in bodies)
    assert TOKEN not in caplog.text
    assert TOKEN not in toml_text
    assert f'token = "file:{secret_file}"' in toml_text
    assert secret_file.read_text() == TOKEN + "\n"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret_file.parent.stat().st_mode) == 0o700


def test_a_reference_typed_as_the_secret_is_stored_as_written(tmp_path):
    with serve_github(tmp_path) as page, _client(page) as client:
        os.environ["HW_SERVE_TEST_TOKEN"] = TOKEN
        try:
            response = client.post(
                "/connect/github",
                data={
                    "connection": "gh",
                    "source.repository": REPOSITORY,
                    "source.token": "env:HW_SERVE_TEST_TOKEN",
                },
            )
        finally:
            del os.environ["HW_SERVE_TEST_TOKEN"]
        text = (page.configs / "github" / "gh.toml").read_text()

    assert response.status_code == 303
    assert 'token = "env:HW_SERVE_TEST_TOKEN"' in text
    assert not page.secrets.exists()


def test_a_saved_config_is_read_by_the_cli(tmp_path):
    with serve_github(tmp_path) as page, _client(page) as client:
        client.post(
            "/connect/github",
            data={"connection": "gh", "source.repository": REPOSITORY, "source.token": TOKEN},
        )
        tables = {
            "schemas.stargazers.listed": "1",
            "schemas.stargazers.enabled": "on",
            "schemas.stargazers.sync_mode": "full_refresh",
        }
        for name in (
            "issues",
            "pull_requests",
            "commits",
            "releases",
            "workflow_runs",
            "reviews",
            "pull_request_reviews",
        ):
            tables[f"schemas.{name}.listed"] = "1"  # listed, switched off
        assert client.post("/connections/github/gh/tables", data=tables).status_code == 303
        config = page.configs / "github" / "gh.toml"
        saved = tomllib.loads(config.read_text())
        env = {**os.environ, **write_github_dist(tmp_path / "site")}
        # A user's CLI has no way to point GitHub at the emulator, so `schemas` (which needs
        # no request for GitHub) reads the file here; a config error would exit 2. The page's
        # own syncs load the file with the same loader (see the sync test below).
        schemas = subprocess.run(
            [*CLI, "schemas", "github", "--config", str(config), "--json"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip

    assert saved["schemas"]["stargazers"] == {"enabled": True, "sync_mode": "full_refresh"}
    assert saved["schemas"]["issues"]["enabled"] is False
    assert schemas.returncode == 0, schemas.stderr
    assert TOKEN not in schemas.stdout + schemas.stderr


def _connect_with_stargazers_only(client: httpx.Client) -> None:
    """Save connection gh of GitHub's emulator, with only its stargazers table enabled."""
    client.post(
        "/connect/github",
        data={"connection": "gh", "source.repository": REPOSITORY, "source.token": TOKEN},
    )
    tables = {
        "schemas.stargazers.listed": "1",
        "schemas.stargazers.enabled": "on",
        "schemas.stargazers.sync_mode": "full_refresh",
    }
    for name in (
        "issues",
        "pull_requests",
        "commits",
        "releases",
        "workflow_runs",
        "reviews",
        "pull_request_reviews",
    ):
        tables[f"schemas.{name}.listed"] = "1"
    client.post("/connections/github/gh/tables", data=tables)


def test_a_sync_runs_in_the_background_and_the_tables_answer_queries(tmp_path):
    with serve_github(tmp_path) as page, _client(page) as client:
        _connect_with_stargazers_only(client)
        started = client.post("/connections/github/gh/sync")
        location = started.headers["location"]
        with client.stream("GET", location + "/events", timeout=60) as events:
            lines = [line for line in events.iter_lines() if line.startswith("event:")]
        run_page = client.get(location).text
        query = client.post("/query", data={"sql": "select count(*) as n from gh.stargazers"}).text
        csv = client.post("/query.csv", data={"sql": "select count(*) as n from gh.stargazers"})
        listing = client.get("/tables").text
        bad_sql = client.post("/query", data={"sql": "select * from nowhere"})

    assert started.status_code == 303
    assert lines[-1] == "event: end"
    assert "succeeded" in run_page
    assert 'id="results"' in run_page
    assert "gh.stargazers" in listing
    assert re.search(r"<td>\d+</td>", query)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith('"n"')
    assert bad_sql.status_code == 400
    assert "nowhere" in bad_sql.text


def test_a_failed_sync_shows_the_connectors_message_and_never_the_secret(tmp_path):
    with serve_github(tmp_path) as page, _client(page) as client:
        _connect_with_stargazers_only(client)
        # The token is revoked after it was saved: the stored file now holds a wrong one.
        next(page.secrets.rglob("token")).write_text(WRONG + "\n")
        location = client.post("/connections/github/gh/sync").headers["location"]
        with client.stream("GET", location + "/events", timeout=60) as events:
            for _ in events.iter_lines():
                pass
        run_page = client.get(location).text

    assert "failed" in run_page
    assert "GitHub rejected the token" in run_page
    assert WRONG not in run_page
    assert TOKEN not in run_page


def test_editing_keeps_a_stored_secret_left_empty(tmp_path):
    with serve_github(tmp_path) as page, _client(page) as client:
        form = {"connection": "gh", "source.repository": REPOSITORY, "source.token": TOKEN}
        client.post("/connect/github", data=form)
        before = (page.configs / "github" / "gh.toml").read_text()
        edit_page = client.get("/connect/github?connection=gh").text
        edited = client.post(
            "/connect/github",
            data={
                **form,
                "editing": "1",
                "source.token": "",
                "source.repository": "octo-org/other",
            },
        )
        after = tomllib.loads((page.configs / "github" / "gh.toml").read_text())

    assert "A value is stored" in edit_page
    assert TOKEN not in edit_page
    assert edited.status_code == 303
    assert after["source"]["repository"] == "octo-org/other"
    assert after["source"]["token"] == tomllib.loads(before)["source"]["token"]


def test_the_cli_imports_the_server_only_when_serving():
    code = (
        "import sys, click; from headwater.cli import cli\n"
        "import headwater.cli.commands\n"
        "print(sorted(m for m in sys.modules if m.startswith('headwater.serve')))\n"
        "cli.get_command(click.Context(cli), 'serve')\n"
        "print(sorted(m for m in sys.modules if m.startswith('headwater.serve')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert result.stdout.splitlines() == ["[]", "['headwater.serve', 'headwater.serve.command']"]


def _synced_stargazers(client: httpx.Client) -> str:
    """Save a GitHub connection `gh` syncing stargazers only, sync it; the run's page path."""
    form = {"connection": "gh", "source.repository": REPOSITORY, "source.token": TOKEN}
    client.post("/connect/github", data=form)
    client.post(
        "/connections/github/gh/tables",
        data={
            "schemas.stargazers.listed": "1",
            "schemas.stargazers.enabled": "on",
            "schemas.stargazers.sync_mode": "full_refresh",
            "schemas.issues.listed": "1",
            "schemas.pull_requests.listed": "1",
            "schemas.commits.listed": "1",
            "schemas.releases.listed": "1",
            "schemas.workflow_runs.listed": "1",
            "schemas.pull_request_reviews.listed": "1",
        },
    )
    location = client.post("/connections/github/gh/sync").headers["location"]
    with client.stream("GET", location + "/events", timeout=60) as events:
        for _ in events.iter_lines():
            pass
    return str(location)


def test_the_list_of_runs_survives_a_restart(tmp_path):
    with serve_github(tmp_path) as page, _client(page) as client:
        first = _synced_stargazers(client)
        history = page.configs / ".headwater-runs.jsonl"
    with history.open("a") as file:
        file.write('{"id": 7, "cut short\n')  # a line a crash left half written
    with serve_github(tmp_path) as page, _client(page) as client:
        runs = client.get("/runs").text
        shown = client.get(first).text
        second = client.post("/connections/github/gh/sync").headers["location"]

    assert first == "/runs/1"
    assert 'href="/runs/1"' in runs
    assert "succeeded" in runs
    assert "1 of 1 tables synced, 150 rows written" in shown
    assert second == "/runs/2"
    assert TOKEN not in history.read_text()


def test_a_new_connection_does_not_overwrite_a_saved_one(tmp_path):
    with serve_github(tmp_path) as page, _client(page) as client:
        form = {"connection": "gh", "source.repository": REPOSITORY, "source.token": TOKEN}
        client.post("/connect/github", data=form)
        before = (page.configs / "github" / "gh.toml").read_text()
        again = client.post("/connect/github", data={**form, "source.repository": "octo-org/b"})
        after = (page.configs / "github" / "gh.toml").read_text()
        leftovers = [p.name for p in (page.configs / "github").iterdir()]

    assert again.status_code == 400
    assert "a connection named &#x27;gh&#x27; exists" in again.text
    assert after == before
    assert leftovers == ["gh.toml"]
