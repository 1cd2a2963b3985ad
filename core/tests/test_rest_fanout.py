"""Fan-out: children per parent row, parent fields on child rows, hostile slugs, workers."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import time
from urllib.parse import unquote

import attrs
import httpx
import pytest

from headwater import ManualClock, ProgressKind, RequestBudget, Runtime, SourceInputs
from headwater.emulator import Emulator, StatusFailure, emulator_transport, json_response
from headwater.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ServerError
from headwater.rest import (
    ClientConfig,
    CursorPaginator,
    DependentEndpoint,
    Endpoint,
    EndpointOverrides,
    IncrementalParams,
    LinkHeaderPaginator,
    PageReader,
    ParentErrorPolicy,
    RestClient,
    RetryPolicy,
    dependent_response,
    endpoint_response,
    fill_path,
    parallel_chain,
    parent_columns,
    read_dependent,
)
from headwater.rest._origin import origin_of
from headwater.rest._rate_limit import shared_gate

BASE = "https://forge.example.com"
HOSTILE = ["a/b", "..", ".", "../../admin", "%2e%2e", "{org}", "x?y=1#z", "ünï cødé"]


class Forge(Emulator):
    """A code forge: organizations, their repositories, and issues per repository.

    Repositories are listed a page of 2 at a time with Link headers (GitHub style); issues
    are listed with a cursor in an ``items`` wrapper. Paths are matched on decoded segments,
    so a request reaches the repository whose slug it encoded, or none.
    """

    def __init__(self, slugs: list[str], *, issues_per_repo: int = 3) -> None:
        super().__init__()
        self.repos = [
            {"id": 100 + i, "slug": slug, "name": f"Repo {i}", "owner": {"login": "acme"}}
            for i, slug in enumerate(slugs)
        ]
        self.issues_per_repo = issues_per_repo
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        raw = request.url.raw_path.split(b"?")[0].decode()
        segments = [unquote(part) for part in raw.strip("/").split("/")]
        params = request.url.params
        match segments:
            case ["orgs", "acme", "repos"]:
                page = int(params.get("page", "1"))
                rows = self.repos[(page - 1) * 2 : page * 2]
                headers = {}
                if page * 2 < len(self.repos):
                    headers["Link"] = f'<{BASE}/orgs/acme/repos?page={page + 1}>; rel="next"'
                return json_response(200, {"repositories": rows}, headers)
            case ["orgs", "acme", "repos", slug, "issues"]:
                return self.issues(slug, params)
            case ["issues"]:
                return self.issues(params["repo"], params)
            case ["repos", "acme", slug]:
                repo = self.repo(slug)
                if repo is None:
                    return json_response(404, {"message": "Not Found"})
                return json_response(200, {**repo, "stars": len(slug)})
        return json_response(404, {"message": f"no route {raw}"})

    def repo(self, slug: str) -> dict | None:
        return next((repo for repo in self.repos if repo["slug"] == slug), None)

    def issues(self, slug: str, params: httpx.QueryParams) -> httpx.Response:
        repo = self.repo(slug)
        if repo is None:
            return json_response(404, {"message": "Not Found"})
        start = int(params.get("cursor", "0"))
        size = int(params.get("limit", "2"))
        issues = [
            {"number": n, "title": f"issue {n} of {slug}", "since": params.get("since")}
            for n in range(start, min(start + size, self.issues_per_repo))
        ]
        more = start + size < self.issues_per_repo
        return json_response(200, {"items": issues, "next": str(start + size) if more else None})


REPOS = Endpoint(
    name="repos",
    path="/orgs/{org}/repos",
    path_values={"org": "acme"},
    primary_keys="id",
    data_selector="repositories",
    paginator=LinkHeaderPaginator(),
)
ISSUES = Endpoint(
    name="issues",
    path="/orgs/{org}/repos/{repo}/issues",
    path_values={"org": "acme"},
    primary_keys=["repo_id", "number"],
    data_selector="items",
    paginator=CursorPaginator(cursor_path="next"),
    page_size=2,
)
DEPENDENT = DependentEndpoint(
    parent_name="repos",
    resolve_param="repo",
    resolve_field="slug",
    include_from_parent=["id", "name"],
    renames={"id": "repo_id"},
)


def make(api: Emulator, **runtime_fields) -> RestClient:
    clock = ManualClock()
    runtime = Runtime(
        transport=emulator_transport(api), clock=clock, sleep=clock.sleep, **runtime_fields
    )
    return RestClient(
        ClientConfig(base_url=BASE, retry=RetryPolicy(wait_initial=1, full_jitter=False)), runtime
    )


def rows_of(pages) -> list[dict]:
    return [row for page in pages for row in page]


def by_key(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: (row["repo_id"], row["number"]))


def test_child_rows_carry_parent_fields_with_renames_applied():
    api = Forge(["alpha", "beta", "gamma"])

    rows = by_key(rows_of(read_dependent(make(api), REPOS, ISSUES, DEPENDENT)))

    assert len(rows) == 9
    assert rows[0] == {
        "number": 0,
        "title": "issue 0 of alpha",
        "since": None,
        "repo_id": 100,
        "_repos_name": "Repo 0",
    }
    assert {row["repo_id"] for row in rows} == {100, 101, 102}
    assert all("_repos_id" not in row for row in rows)


def test_parent_fields_without_renames_land_as_underscore_parent_field():
    api = Forge(["alpha"])
    dependent = DependentEndpoint(
        parent_name="repos",
        resolve_param="repo",
        resolve_field="slug",
        include_from_parent=["id", "slug"],
    )

    row = rows_of(read_dependent(make(api), REPOS, ISSUES, dependent))[0]

    assert row["_repos_id"] == 100
    assert row["_repos_slug"] == "alpha"


@pytest.mark.parametrize("slug", HOSTILE)
def test_hostile_slugs_stay_one_path_segment(slug):
    api = Forge(["safe", slug])

    rows = rows_of(read_dependent(make(api), REPOS, ISSUES, DEPENDENT))

    assert sorted({row["title"].split(" of ", 1)[1] for row in rows}) == sorted({"safe", slug})
    for request in api.requests:
        path = request.url.raw_path.split(b"?")[0].decode()
        assert path.startswith("/orgs/acme/repos")
        assert len(path.strip("/").split("/")) in (3, 5)


def test_static_placeholders_are_filled_first_and_encoded():
    api = Forge(["alpha"])
    # A static value that looks like the resolved placeholder must not be filled again.
    child = ISSUES.evolve(path_values={"org": "{repo}"})

    with pytest.raises(NotFoundError):
        list(read_dependent(make(api), REPOS, child, DEPENDENT))
    assert api.requests[-1].url.raw_path.startswith(b"/orgs/%7Brepo%7D/repos/alpha/issues")


def test_the_resolved_value_goes_to_the_query_when_the_path_has_no_placeholder():
    api = Forge(["a/b", "c"])
    child = Endpoint(
        name="issues",
        path="/issues",
        primary_keys="number",
        data_selector="items",
        page_size=2,
        paginator=CursorPaginator(cursor_path="next"),
    )

    rows = rows_of(read_dependent(make(api), REPOS, child, DEPENDENT))

    assert len(rows) == 6
    assert {r.url.params.get("repo") for r in api.requests if r.url.path == "/issues"} == {
        "a/b",
        "c",
    }


def test_overrides_give_parent_and_child_their_own_shapes():
    api = Forge(["alpha", "beta"], issues_per_repo=5)
    parent = REPOS.evolve(data_selector="wrong", paginator=CursorPaginator())
    child = ISSUES.evolve(data_selector="wrong", page_size_param="per_page")
    dependent = DependentEndpoint(
        parent_name="repos",
        resolve_param="repo",
        resolve_field="slug",
        include_from_parent=["id"],
        renames={"id": "repo_id"},
        parent_overrides=EndpointOverrides(
            data_selector="repositories", paginator=LinkHeaderPaginator()
        ),
        child_overrides=EndpointOverrides(data_selector="items", page_size=3),
        page_size_param="limit",
    )

    rows = rows_of(read_dependent(make(api), parent, child, dependent))

    assert len(rows) == 10
    child_requests = [r for r in api.requests if r.url.path.endswith("/issues")]
    assert {r.url.params["limit"] for r in child_requests} == {"3"}


def test_children_are_bounded_by_the_incremental_filter():
    api = Forge(["alpha", "beta"])
    child = ISSUES.evolve(incremental=IncrementalParams(start_param="since"))
    # A first incremental read: the start date is its lower bound (a full read has none).
    inputs = SourceInputs(
        schema_name="issues",
        should_use_incremental_field=True,
        incremental_field="updated_at",
        incremental_field_type="datetime",
        start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )

    rows = rows_of(read_dependent(make(api), REPOS, child, DEPENDENT, inputs=inputs))

    assert {row["since"] for row in rows} == {"2026-01-01T00:00:00Z"}
    parent_requests = [r for r in api.requests if r.url.path == "/orgs/acme/repos"]
    assert all("since" not in r.url.params for r in parent_requests)


@pytest.mark.parametrize(
    ("failure", "policy"),
    [
        (StatusFailure(status=404), ParentErrorPolicy(skip_statuses=[403, 404])),
        (StatusFailure(status=403), ParentErrorPolicy(skip_statuses=[403, 404])),
        (StatusFailure(status=503), ParentErrorPolicy(skip_server_errors=True)),
    ],
    ids=["404", "403", "persistent-503"],
)
def test_a_parent_can_be_skipped_and_reported(failure, policy, caplog):
    api = Forge(["alpha", "gone", "gamma"])
    api.inject(failure, times=10, path="/orgs/acme/repos/gone")
    events = []

    class Sink:
        def emit(self, event):
            events.append(event)

    skipped = []
    dependent = DependentEndpoint(
        parent_name="repos",
        resolve_param="repo",
        resolve_field="slug",
        include_from_parent=["id"],
        renames={"id": "repo_id"},
        parent_errors=policy,
    )
    client = make(api, progress=Sink())
    client = RestClient(
        ClientConfig(
            base_url=BASE, retry=RetryPolicy(attempts=2, wait_initial=1, full_jitter=False)
        ),
        client.runtime,
    )

    with caplog.at_level(logging.WARNING):
        rows = rows_of(read_dependent(client, REPOS, ISSUES, dependent, on_skip=skipped.append))

    assert {row["repo_id"] for row in rows} == {100, 102}
    assert [(s.parent, s.value, s.status) for s in skipped] == [("repos", "gone", failure.status)]
    assert "skipped repos 'gone'" in caplog.text
    messages = [e.detail for e in events if e.kind is ProgressKind.NOTICE]
    assert messages == [f"skipped repos 'gone' (HTTP {failure.status})"]


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, PermissionDeniedError), (401, AuthenticationError)],
    ids=["403", "401"],
)
def test_a_skippable_auth_failure_on_every_parent_fails_the_read(status, error):
    # A token without the scope for the children: every parent answers 403, and skipping
    # them all would write an empty table without a word.
    api = Forge(["alpha", "beta", "gamma"])
    api.inject(StatusFailure(status=status), times=10, path="/orgs/acme/repos/alpha")
    api.inject(StatusFailure(status=status), times=10, path="/orgs/acme/repos/beta")
    api.inject(StatusFailure(status=status), times=10, path="/orgs/acme/repos/gamma")
    dependent = attrs.evolve(
        DEPENDENT, parent_errors=ParentErrorPolicy(skip_statuses=[401, 403, 404])
    )
    skipped = []

    with pytest.raises(error) as raised:
        rows_of(read_dependent(make(api), REPOS, ISSUES, dependent, on_skip=skipped.append))

    message = str(raised.value)
    assert f"every one of the 3 repos answered HTTP {status} for its issues" in message
    assert "check the credentials' access (scopes, roles) to issues" in message
    assert len(skipped) == 3


def test_an_auth_failure_on_some_parents_still_skips_them():
    api = Forge(["alpha", "hidden", "gamma"])
    api.inject(StatusFailure(status=403), times=10, path="/orgs/acme/repos/hidden")
    dependent = attrs.evolve(DEPENDENT, parent_errors=ParentErrorPolicy(skip_statuses=[403]))

    rows = rows_of(read_dependent(make(api), REPOS, ISSUES, dependent))

    assert {row["repo_id"] for row in rows} == {100, 102}


def test_not_found_on_every_parent_is_still_skipped():
    # 404: each parent gone (deleted meanwhile), not a missing permission.
    api = Forge(["alpha", "beta"])
    api.inject(StatusFailure(status=404), times=10, path="/orgs/acme/repos/alpha")
    api.inject(StatusFailure(status=404), times=10, path="/orgs/acme/repos/beta")
    dependent = attrs.evolve(DEPENDENT, parent_errors=ParentErrorPolicy(skip_statuses=[404]))

    assert rows_of(read_dependent(make(api), REPOS, ISSUES, dependent)) == []


@pytest.mark.parametrize(
    ("failure", "error"), [(404, NotFoundError), (503, ServerError)], ids=["404", "503"]
)
def test_by_default_a_failing_parent_fails_the_read(failure, error):
    api = Forge(["alpha", "gone", "gamma"])
    api.inject(StatusFailure(status=failure), times=10, path="/orgs/acme/repos/gone")
    client = make(api)
    client = RestClient(
        ClientConfig(
            base_url=BASE, retry=RetryPolicy(attempts=2, wait_initial=1, full_jitter=False)
        ),
        client.runtime,
    )

    with pytest.raises(error):
        list(read_dependent(client, REPOS, ISSUES, DEPENDENT))


class Gated(Forge):
    """Holds each issues request at a barrier, so only truly concurrent requests pass."""

    def __init__(self, slugs, workers):
        super().__init__(slugs, issues_per_repo=1)
        self.barrier = threading.Barrier(workers, timeout=10)
        self.active = 0
        self.peak = 0
        self.threads = set()

    def issues(self, slug, params):
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            self.barrier.wait()
        finally:
            with self.lock:
                self.active -= 1
        return super().issues(slug, params)


def test_children_are_read_by_bounded_worker_threads():
    api = Gated([f"r{i}" for i in range(12)], workers=4)
    dependent = DependentEndpoint(
        parent_name="repos",
        resolve_param="repo",
        resolve_field="slug",
        include_from_parent=["id"],
        renames={"id": "repo_id"},
        max_workers=4,
    )

    rows = rows_of(read_dependent(make(api), REPOS, ISSUES, dependent))

    assert len(rows) == 12
    assert api.peak == 4
    assert all(name.startswith("headwater-fanout") for name in api.threads)


def test_a_rate_limit_seen_by_one_worker_pauses_the_others():
    """Worker A gets 429 "retry after 30 s" while worker B is mid-read. B's next request waits
    for the same pause instead of running into a 429 of its own.

    The API is a real limiter (429 to anything before the pause ends), and A's sleep is held
    until B's next request has either waited or reached the API, so the order is fixed.
    """
    clock = ManualClock()
    budget = RequestBudget()
    gate = shared_gate(budget, origin_of(httpx.URL(BASE)))
    worker: dict[str, str] = {}
    b_moved_on = threading.Event()
    both_started = threading.Barrier(2, timeout=10)
    limited_until = [0.0]
    answers: list[tuple[str, int, float]] = []
    sleeps: list[tuple[str, float]] = []

    class Limited(Forge):
        def issues(self, slug, params):
            name = threading.current_thread().name
            now = clock.monotonic()
            with self.lock:
                first = slug not in worker
                worker.setdefault(slug, name)
            if first:
                both_started.wait()
                if slug == "r0":
                    limited_until[0] = now + 30
                    answers.append((slug, 429, now))
                    return json_response(429, {"message": "slow down"}, {"Retry-After": "30"})
                # B's first page was accepted before the limit; answer it once A's pause holds.
                deadline = time.monotonic() + 10
                while gate.remaining(clock) == 0 and time.monotonic() < deadline:
                    time.sleep(0.001)
                answers.append((slug, 200, now))
                return super().issues(slug, params)
            if slug == "r1":
                b_moved_on.set()
            if now < limited_until[0]:
                answers.append((slug, 429, now))
                wait = str(int(limited_until[0] - now))
                return json_response(429, {"message": "slow down"}, {"Retry-After": wait})
            answers.append((slug, 200, now))
            return super().issues(slug, params)

    def sleep(seconds: float) -> None:
        name = threading.current_thread().name
        sleeps.append((name, seconds))
        if name == worker.get("r1"):
            b_moved_on.set()
        elif name == worker.get("r0"):
            b_moved_on.wait(timeout=10)
        clock.advance(seconds)

    api = Limited(["r0", "r1"], issues_per_repo=4)
    runtime = Runtime(transport=emulator_transport(api), clock=clock, sleep=sleep, budget=budget)
    client = RestClient(
        ClientConfig(base_url=BASE, retry=RetryPolicy(wait_initial=1, full_jitter=False)), runtime
    )
    dependent = DependentEndpoint(
        parent_name="repos", resolve_param="repo", resolve_field="slug", max_workers=2
    )

    rows = rows_of(read_dependent(client, REPOS, ISSUES, dependent))

    assert len(rows) == 8
    assert [answer for answer in answers if answer[1] == 429] == [("r0", 429, 0.0)]
    assert (worker["r1"], 30.0) in sleeps  # B waited out A's pause


def test_stopping_early_stops_the_workers():
    api = Forge([f"r{i}" for i in range(40)], issues_per_repo=6)
    dependent = DependentEndpoint(
        parent_name="repos", resolve_param="repo", resolve_field="slug", max_workers=4
    )
    before = threading.active_count()

    pages = read_dependent(make(api), REPOS, ISSUES, dependent)
    next(pages)
    pages.close()
    seen = len(api.requests)

    assert threading.active_count() <= before  # every worker has ended
    assert len(api.requests) == seen
    assert seen < 40


def test_parallel_chain_raises_the_first_worker_error_and_stops():
    def work(item):
        if item == 3:
            raise RuntimeError("item 3 failed")
        yield item

    with pytest.raises(RuntimeError, match="item 3 failed"):
        list(parallel_chain(range(100), work, max_workers=4))


def test_parallel_chain_with_one_worker_runs_in_order_in_the_callers_thread():
    names = []

    def work(item):
        names.append(threading.current_thread().name)
        yield from (item, item)

    assert list(parallel_chain(range(3), work, max_workers=1)) == [0, 0, 1, 1, 2, 2]
    assert set(names) == {threading.current_thread().name}


def test_a_two_level_fan_out_as_a_custom_iterator():
    """Organizations -> repositories -> one detail call per repository.

    The intermediate list decides the URLs of the detail calls, which a single-hop
    DependentEndpoint cannot express; the building blocks compose into a short iterator.
    """

    class Orgs(Forge):
        def handle(self, request):
            if request.url.path == "/user/orgs":
                return json_response(200, [{"login": "acme", "id": 1}])
            return super().handle(request)

    api = Orgs(["alpha", "a/b", "gamma"])
    orgs = Endpoint(name="orgs", path="/user/orgs", primary_keys="id")
    repos = REPOS.evolve(path_values={})
    org_link = DependentEndpoint(
        parent_name="orgs",
        resolve_param="org",
        resolve_field="login",
        include_from_parent=["id"],
        renames={"id": "org_id"},
    )
    detail_path = "/repos/{owner}/{repo}"

    def repo_details(client: RestClient):
        def per_org(org):
            org_columns = parent_columns(org, org_link)
            repo_pages = PageReader(client, repos, path_values={"org": org["login"]})
            for repo in itertools.chain.from_iterable(repo_pages):
                owner = repo["owner"]["login"]
                path = fill_path(detail_path, {"owner": owner, "repo": repo["slug"]})
                detail = client.get_json(path)
                yield [{"id": detail["id"], "stars": detail["stars"], **org_columns}]

        org_rows = itertools.chain.from_iterable(PageReader(client, orgs))
        return parallel_chain(org_rows, per_org, max_workers=4)

    rows = sorted(rows_of(repo_details(make(api))), key=lambda row: row["id"])

    assert rows == [
        {"id": 100, "stars": 5, "org_id": 1},
        {"id": 101, "stars": 3, "org_id": 1},
        {"id": 102, "stars": 5, "org_id": 1},
    ]
    assert b"/repos/acme/a%2Fb" in [r.url.raw_path for r in api.requests]


def test_dependent_response_describes_the_child_table():
    api = Forge(["alpha", "beta"])
    clock = ManualClock()
    runtime = Runtime(transport=emulator_transport(api), clock=clock, sleep=clock.sleep)
    child = ISSUES.evolve(partition_key="created_at")

    response = dependent_response(
        ClientConfig(base_url=BASE),
        REPOS,
        child,
        DEPENDENT,
        SourceInputs(schema_name="issues"),
        runtime,
    )

    assert api.requests == []
    assert response.name == "issues"
    assert response.primary_keys == ("repo_id", "number")
    assert response.partition_keys == ("created_at",)
    assert len(rows_of(response.items())) == 6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"renames": {"slug": "x"}}, "not in include_from_parent"),
        ({"include_from_parent": ["id", "x"], "renames": {"id": "_repos_x"}}, "same column"),
        ({"max_workers": 0}, "max_workers"),
    ],
)
def test_a_dependent_endpoint_refuses_contradictions(kwargs, message):
    fields = {"parent_name": "repos", "resolve_param": "repo", "resolve_field": "slug"}
    fields.setdefault("include_from_parent", ["id"])
    with pytest.raises(ValueError, match=message):
        DependentEndpoint(**{**fields, **kwargs})


def test_the_parent_must_be_the_one_named():
    with pytest.raises(ValueError, match="depends on parent 'repositories'"):
        list(
            read_dependent(
                make(Forge([])),
                REPOS,
                ISSUES,
                DEPENDENT.__class__(
                    parent_name="repositories", resolve_param="repo", resolve_field="slug"
                ),
            )
        )


def test_a_child_placeholder_without_a_value_is_an_error_up_front():
    child = ISSUES.evolve(path="/orgs/{org}/teams/{team}/repos/{repo}/issues")
    api = Forge(["alpha"])
    with pytest.raises(ValueError, match=r"placeholders \['team'\]"):
        list(read_dependent(make(api), REPOS, child, DEPENDENT))
    assert api.requests == []


class _Pages:
    """Collects the schemas named by page events."""

    def __init__(self) -> None:
        self.schemas: list[str | None] = []

    def emit(self, event) -> None:
        if event.kind is ProgressKind.PAGE:
            self.schemas.append(event.schema)


def test_progress_names_the_schema_the_host_asked_for_not_the_endpoint():
    # A schema may be served by an endpoint named otherwise; progress rows are per schema.
    pages = _Pages()
    client = make(Forge(["alpha", "beta"]), progress=pages)
    inputs = SourceInputs(schema_name="repo_issues")

    rows = rows_of(read_dependent(client, REPOS, ISSUES, DEPENDENT, inputs=inputs))
    top = rows_of(
        endpoint_response(
            client.config, REPOS, SourceInputs(schema_name="repositories"), client.runtime
        ).items()
    )

    assert len(rows) == 6
    assert len(top) == 2
    assert set(pages.schemas) == {"repo_issues", "repositories"}
