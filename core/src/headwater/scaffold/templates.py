"""The files of a new connector, as :class:`string.Template` text (``$name``, ``$camel``...).

The example API the templates read is documented in the generated ``api_inventory.md``: a
workspace's records, listed with a cursor, filtered by ``updated_since``, oldest update first.
Every file works as written; the author replaces the example API with the real one.

:func:`source_config` builds the same form as the generated ``source.py`` declares, so the
scaffolder can write the generated config class without importing the new package; the
contract suite's ``test_generated_config_class_is_current`` proves the two agree.

.. versionadded:: 0.1
"""

from __future__ import annotations

from headwater.sources import Field, ReleaseStatus, SecretField, SourceConfig, TextField

__all__ = ["FILES", "source_config"]


def source_config(label: str) -> SourceConfig:
    """The form of a freshly scaffolded connector (what its ``source.py`` returns).

    .. versionadded:: 0.1
    """
    fields: list[Field] = [
        TextField(
            name="workspace",
            label="Workspace",
            caption="The workspace's id, as shown in its URL.",
            placeholder="acme",
        ),
        SecretField(
            name="api_token",
            label="API token",
            caption="Create one under Settings > API tokens, with read access.",
        ),
    ]
    return SourceConfig(
        label=label,
        caption=f"Records of one {label} workspace.",
        category="API",
        icon="icon.svg",
        docs_url="https://api.example.com/docs",
        release_status=ReleaseStatus.ALPHA,
        unreleased=True,
        # mypy's attrs plugin cannot solve the type variable of `converter=tuple`.
        fields=fields,
    )


PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "$dist"
version = "0.1.0"
description = "Headwater connector for $label: imports its API data into Delta tables."
readme = "README.md"
requires-python = ">=3.11"
license = "Apache-2.0"
dependencies = [
    # The host releases this connector is written for (source contract 1).
    "headwater>=0.1,<0.2",
]

[project.optional-dependencies]
test = ["pytest>=8", "headwater-contract>=0.1,<0.2"]

# The entry-point name is the connector's source_type; the module registers its SourceSpec.
[project.entry-points.headwater]
$name = "$package"

[tool.hatch.build.targets.wheel]
packages = ["src/$package"]
"""

README = """\
# $dist

A [Headwater](https://github.com/headwater) connector for $label: it imports the $label API's
data into Delta tables. Versioned and released on its own.

```sh
pip install $dist
headwater info $name
headwater check $name --config $name.toml
```

```toml
# $name.toml
[source]
workspace = "acme"
api_token = "env:${upper}_API_TOKEN"
```

## Schemas

| schema | primary key | incremental field | sort | partitioned by |
| --- | --- | --- | --- | --- |
| `records` | `id` | `updated_at` (datetime) | asc | month of `created_at` |

Endpoint behaviour, with references to the API documentation: `src/$package/api_inventory.md`.

## Development

```sh
headwater contract .         # the contract suite and these tests, in an isolated virtualenv
headwater generate $name     # after changing the fields in source.py
```
"""

CHANGELOG = """\
# Changelog

## 0.1.0 (unreleased)

- First version: the `records` schema (incremental on `updated_at`).
"""

INIT = '''\
"""$label connector for Headwater.

This module is imported whenever connectors are listed, so it only registers the connector's
SourceSpec; the source and its dependencies load on first use.
"""

from __future__ import annotations

from headwater import CONTRACT_MAJOR, SourceSpec, hookimpl

__all__ = ["register_sources"]


@hookimpl
def register_sources() -> list[SourceSpec]:
    return [
        SourceSpec(
            source_type="$name",
            contract_major=CONTRACT_MAJOR,
            label="$label",
            load="$package.source:${camel}Source",
            kit="$package.testing:kit",
            release_status="alpha",
            unreleased=True,
        )
    ]
'''

SOURCE = '''\
"""The source: form fields, schema list, credential check and pipeline hand-off.

Endpoint details live in settings.py; talking to the API lives in the module named after the
connector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from $package import (
    $name,
)
from $package.settings import (
    ENDPOINTS,
    NON_RETRYABLE_ERRORS,
)
from headwater import SecretField, SourceConfig, TextField
from headwater.rest import RestSource

if TYPE_CHECKING:
    from $package._config import (
        ${camel}Config,
    )
    from headwater import Runtime, SourceInputs, SourceResponse

__all__ = ["${camel}Source"]

CAPTION = "Records of one $label workspace."


class ${camel}Source(
    RestSource["${camel}Config"],
):
    """Reads one workspace. Its schemas are the endpoints in settings.py."""

    source_type = "$name"
    endpoints = ENDPOINTS
    non_retryable_errors = NON_RETRYABLE_ERRORS

    def get_source_config(self) -> SourceConfig:
        # After changing the fields, regenerate _config.py (`headwater generate NAME`); the
        # contract suite fails while it is stale.
        return SourceConfig(
            label="$label",
            caption=CAPTION,
            category="API",
            icon="icon.svg",
            docs_url="https://api.example.com/docs",
            release_status="alpha",
            unreleased=True,
            fields=[
                TextField(
                    name="workspace",
                    label="Workspace",
                    caption="The workspace's id, as shown in its URL.",
                    placeholder="acme",
                ),
                SecretField(
                    name="api_token",
                    label="API token",
                    caption="Create one under Settings > API tokens, with read access.",
                ),
            ],
        )

    def validate_credentials(
        self,
        config: ${camel}Config,
        runtime: Runtime,
    ) -> tuple[bool, str | None]:
        return $name.check_credentials(config, runtime)

    def source_for_pipeline(
        self,
        config: ${camel}Config,
        inputs: SourceInputs,
        runtime: Runtime,
    ) -> SourceResponse:
        return $name.response(config, inputs, runtime)
'''

SETTINGS = '''\
"""The endpoint catalog: every endpoint of the API, as data.

Each endpoint's behaviour (pagination, filters, order, keys) is documented, with references,
in api_inventory.md; keep the two in step.
"""

from __future__ import annotations

from headwater import ErrorKind, ErrorRule, IncrementalField
from headwater.rest import ClientConfig, CursorPaginator, Endpoint, IncrementalParams

__all__ = ["BASE_URL", "CLIENT", "ENDPOINTS", "LABEL", "NON_RETRYABLE_ERRORS", "RECORDS"]

BASE_URL = "https://api.example.com/v1"

CLIENT = ClientConfig(base_url=BASE_URL, headers={"Accept": "application/json"})

RECORDS = Endpoint(
    name="records",
    description="Every record of the workspace.",
    path="/workspaces/{workspace}/records",
    primary_keys=("id",),
    data_selector="data",
    paginator=CursorPaginator(cursor_path="next_cursor", cursor_param="cursor"),
    page_size=100,
    page_size_param="limit",
    # `updated_since` is inclusive and the list is sorted by updated_at, oldest first.
    incremental=IncrementalParams(start_param="updated_since"),
    incremental_fields=[IncrementalField(field="updated_at", label="Updated at", type="datetime")],
    # created_at never changes, so a record stays in its partition.
    partition_key="created_at",
    sort_mode="asc",
)

ENDPOINTS = {endpoint.name: endpoint for endpoint in (RECORDS,)}

LABEL = "$label"

NON_RETRYABLE_ERRORS = (
    ErrorRule(
        kind=ErrorKind.AUTHENTICATION,
        message=f"{LABEL} rejected the API token: create a new one under Settings > API tokens",
    ),
    ErrorRule(
        kind=ErrorKind.PERMISSION,
        message=f"The {LABEL} API token lacks read access to this workspace: grant it and retry",
    ),
    ErrorRule(
        kind=ErrorKind.NOT_FOUND,
        message=f"{LABEL} has no such workspace: check the workspace id in the config",
    ),
)
'''

CLIENT_MODULE = '''\
"""Talking to the API: the client and its auth, the credential check, each response.

Requests, retries, pagination and fan-out are the shared machinery's (headwater.rest); this
module only says how to reach the API and which endpoint a schema reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from $package import (
    settings,
)
from headwater.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
)
from headwater.rest import BearerAuth, RestClient, endpoint_response

if TYPE_CHECKING:
    from $package._config import (
        ${camel}Config,
    )
    from headwater import Runtime, SourceInputs, SourceResponse
    from headwater.rest import ClientConfig, Endpoint

__all__ = ["check_credentials", "client_config", "endpoint", "response"]

LABEL = settings.LABEL
REJECTED = f"{LABEL} rejected the API token: create a new one under Settings > API tokens"


def client_config(
    config: ${camel}Config,
) -> ClientConfig:
    """The API client, signing requests with the config's token."""
    return attrs.evolve(settings.CLIENT, auth=BearerAuth(token=config.api_token))


def endpoint(
    name: str,
    config: ${camel}Config,
) -> Endpoint:
    """Endpoint ``name``, its path filled in for the configured workspace."""
    return settings.ENDPOINTS[name].evolve(path_values={"workspace": config.workspace})


def check_credentials(
    config: ${camel}Config,
    runtime: Runtime,
) -> tuple[bool, str | None]:
    """Read the workspace itself: the cheapest request that needs valid credentials."""
    try:
        with RestClient(client_config(config), runtime) as client:
            client.get_json(f"/workspaces/{config.workspace}")
    except AuthenticationError:
        return False, REJECTED
    except PermissionDeniedError:
        return False, "The API token lacks read access to this workspace"
    except NotFoundError:
        return False, f"{LABEL} has no workspace {config.workspace!r}: check the workspace id"
    except SourceError as error:
        return False, f"{LABEL} could not be reached: {error}"
    return True, None


def response(
    config: ${camel}Config,
    inputs: SourceInputs,
    runtime: Runtime,
) -> SourceResponse:
    """The rows of ``inputs.schema_name``, read when the host iterates them."""
    return endpoint_response(
        client_config(config), endpoint(inputs.schema_name, config), inputs, runtime
    )
'''

TESTING = '''\
"""The API emulator, written from the API's documentation, and the contract kit.

The emulator answers as api_inventory.md says the API does; it is written from that
documentation, never from settings.py, or it would agree with the connector's mistakes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from urllib.parse import unquote

from headwater.emulator import ContractKit, Emulator, InvalidConfig, json_response

if TYPE_CHECKING:
    import httpx

__all__ = ["TOKEN", "WORKSPACE", "${camel}Api", "kit"]

WORKSPACE = "acme"
TOKEN = "$name-contract-token-0001"
_START = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
_MAX_LIMIT = 100


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ${camel}Api(Emulator):
    """The API, with one workspace holding ``records`` records (more than a page)."""

    def __init__(self, *, records: int = 230) -> None:
        super().__init__()
        self.now = _START
        for _ in range(records):
            self._new_record()

    def _tick(self) -> str:
        self.now += dt.timedelta(minutes=11)
        return _iso(self.now)

    def _new_record(self, **fields: object) -> None:
        number = len(self.store.rows("records")) + 1
        moment = self._tick()
        row = {
            "id": f"rec_{number:05d}",
            "name": f"Record {number}",
            "status": "active",
            "created_at": moment,
            "updated_at": moment,
        }
        self.store.add("records", [{**row, **fields}])

    def add_rows(self, schema: str) -> None:
        """Between two syncs: two new records arrive and an old one is updated."""
        oldest = self.store.rows("records")[0]
        self.store.add("records", [{**oldest, "status": "archived", "updated_at": self._tick()}])
        self._new_record()
        self._new_record()

    def add_row_at(self, schema: str, field: str, value: object) -> None:
        """A new record whose ``field`` holds exactly ``value``: a read from that watermark
        must include it (the API's ``updated_since`` is inclusive)."""
        self._new_record(**{field: value})

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response(401, {"error": "invalid_token"})
        path = request.url.raw_path.split(b"?")[0].decode()
        match [unquote(part) for part in path.strip("/").split("/")]:
            case ["v1", "workspaces", workspace] if workspace == WORKSPACE:
                return json_response(200, {"id": WORKSPACE, "name": "Acme"})
            case ["v1", "workspaces", workspace, "records"] if workspace == WORKSPACE:
                return self._records(request.url.params)
        return json_response(404, {"error": "not_found"})

    def _records(self, params: httpx.QueryParams) -> httpx.Response:
        rows = sorted(self.store.rows("records"), key=lambda row: (row["updated_at"], row["id"]))
        since = params.get("updated_since")
        if since is not None:
            try:
                bound = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                return json_response(400, {"error": "updated_since must be ISO-8601"})
            rows = [row for row in rows if row["updated_at"] >= _iso(bound)]
        limit = min(int(params.get("limit", "25")), _MAX_LIMIT)
        offset = int(params.get("cursor", "c0").removeprefix("c"))
        page = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        cursor = f"c{offset + limit}" if more else None
        return json_response(200, {"data": page, "next_cursor": cursor})


kit = ContractKit(
    emulator=${camel}Api,
    valid_config={"workspace": WORKSPACE, "api_token": TOKEN},
    invalid_configs=[
        InvalidConfig(config={"api_token": TOKEN}, path="$$.workspace", description="no workspace"),
        InvalidConfig(
            config={"workspace": WORKSPACE}, path="$$.api_token", description="no API token"
        ),
    ],
    add_rows=${camel}Api.add_rows,
    add_row_at=${camel}Api.add_row_at,
)
'''

API_INVENTORY = """\
# $label API inventory

What the connector relies on, endpoint by endpoint, with the documentation it comes from. The
emulator in `testing.py` is written from this page; `settings.py` declares the same facts.
Where the documentation is silent, say so and keep the connector conservative.

This is the scaffold's example API (`https://api.example.com/v1`): replace it with the real
one, endpoint by endpoint.

## Authentication

`Authorization: Bearer <API token>` on every request; a missing or wrong token is `401`, a
token without read access to the workspace is `403`, an unknown workspace `404`.
Docs: https://api.example.com/docs#authentication

## Rate limits

`429` with `Retry-After` (seconds). Docs: https://api.example.com/docs#rate-limits

## Endpoints

### `records`: `GET /workspaces/{workspace}/records`

- **Rows**: the list at `data`, each a record with `id`, `name`, `status`, `created_at`,
  `updated_at` (ISO-8601, UTC).
- **Pagination**: a cursor. The body's `next_cursor` is sent back as `cursor`; it is `null`
  on the last page. `limit` (page size) is at most 100 (default 25).
- **Filters**: `updated_since` (ISO-8601): records updated at or after it (inclusive).
- **Order**: `updated_at` ascending, ties by `id`.
- **Primary key**: `id`. **Incremental field**: `updated_at` (datetime), so `asc`.
- **Partition key**: `created_at`, which never changes for a record.
- **Errors**: `400` for a malformed `updated_since`; see Authentication.

Docs: https://api.example.com/docs#list-records

Credential check: `GET /workspaces/{workspace}` (cheap, needs a valid token and access).
"""

ICON = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="$label">
  <rect width="64" height="64" rx="12" fill="#1f6feb"/>
  <path d="M18 44 32 18l14 26" fill="none" stroke="#fff" stroke-width="6" stroke-linejoin="round"/>
</svg>
"""

TEST_SOURCE = '''\
"""The source: its form, schemas, credential check and pipeline hand-off."""

from __future__ import annotations

import pytest

from $package._config import (
    ${camel}Config,
)
from $package.source import (
    ${camel}Source,
)
from $package.testing import (
    TOKEN,
    WORKSPACE,
    ${camel}Api,
    kit,
)
from headwater import Runtime, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import StatusFailure

SOURCE = ${camel}Source()
Api = ${camel}Api


def config(**overrides: str) -> ${camel}Config:
    raw = {"workspace": WORKSPACE, "api_token": TOKEN, **overrides}
    return structure_source_config(
        ${camel}Config,
        SOURCE.get_source_config(),
        raw,
        resolvers=BUILTIN_RESOLVERS,
    )


def test_the_source_type_is_the_entry_point_name():
    assert SOURCE.source_type == "$name"


def test_the_form_asks_for_a_workspace_and_a_secret_token():
    fields = {field.name: field for field in SOURCE.get_source_config().fields}

    assert list(fields) == ["workspace", "api_token"]
    assert all(field.label for field in fields.values())
    assert type(fields["api_token"]).__name__ == "SecretField"


def test_it_offers_records_incrementally_on_updated_at():
    (records,) = SOURCE.get_schemas(config(), Runtime())

    assert records.name == "records"
    assert records.supports_incremental
    assert [f.field for f in records.incremental_fields] == ["updated_at"]


def test_valid_credentials_are_accepted():
    assert SOURCE.validate_credentials(config(), kit.runtime(Api())) == (True, None)


@pytest.mark.parametrize(
    ("status", "says"),
    [(401, "rejected the API token"), (403, "lacks read access"), (404, "has no workspace")],
)
def test_refused_credentials_say_what_to_fix(status, says):
    api = Api()
    api.inject(StatusFailure(status=status), times=10)

    ok, message = SOURCE.validate_credentials(config(), kit.runtime(api))

    assert not ok
    assert says in message


def test_records_are_merged_on_id_and_partitioned_by_creation_month():
    response = SOURCE.source_for_pipeline(
        config(), SourceInputs(schema_name="records"), kit.runtime(Api())
    )

    assert response.primary_keys == ("id",)
    assert response.partition_keys == ("created_at",)
    assert str(response.partition_format) == "month"
    assert str(response.sort_mode) == "asc"
'''

TEST_CLIENT = '''\
"""Reading the API: pagination, the incremental filter, failures."""

from __future__ import annotations

import pytest

from $package import (
    $name,
)
from $package._config import (
    ${camel}Config,
)
from $package.source import (
    ${camel}Source,
)
from $package.testing import (
    TOKEN,
    WORKSPACE,
    ${camel}Api,
    kit,
)
from headwater import ManualClock, SourceInputs
from headwater.config import BUILTIN_RESOLVERS, structure_source_config
from headwater.emulator import StatusFailure
from headwater.errors import AuthenticationError

Api = ${camel}Api
CONFIG = structure_source_config(
    ${camel}Config,
    ${camel}Source().get_source_config(),
    {"workspace": WORKSPACE, "api_token": TOKEN},
    resolvers=BUILTIN_RESOLVERS,
)


def read(api, **inputs):
    clock = ManualClock()
    runtime = kit.runtime(api, clock=clock, sleep=clock.sleep)
    inputs = SourceInputs(schema_name="records", **inputs)
    response = $name.response(CONFIG, inputs, runtime)
    return [row for page in response.items() for row in page]


def test_every_page_is_read_once():
    api = Api(records=250)

    rows = read(api)

    assert len(rows) == 250
    assert len({row["id"] for row in rows}) == 250
    assert len(api.requests) == 3  # 100 + 100 + 50


def test_a_later_sync_asks_only_for_rows_updated_since_the_watermark():
    api = Api(records=30)
    first = read(api)
    watermark = max(row["updated_at"] for row in first)
    api.add_rows("records")

    rows = read(
        api,
        should_use_incremental_field=True,
        incremental_field="updated_at",
        incremental_field_type="datetime",
        db_incremental_field_last_value=watermark,
    )

    assert api.requests[-1].url.params["updated_since"] == watermark
    assert all(row["updated_at"] >= watermark for row in rows)
    assert len(rows) == 4  # the row at the watermark, the updated row, two new ones


def test_a_rejected_token_fails_at_once():
    api = Api()
    api.inject(StatusFailure(status=401), times=10)

    with pytest.raises(AuthenticationError):
        read(api)
    assert len(api.requests) == 1


def test_a_rate_limit_is_waited_out():
    api = Api(records=10)
    api.inject(StatusFailure(status=429, headers={"Retry-After": "3"}))

    assert len(read(api)) == 10
'''

FILES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "CHANGELOG.md": CHANGELOG,
    "src/$package/__init__.py": INIT,
    "src/$package/source.py": SOURCE,
    "src/$package/settings.py": SETTINGS,
    "src/$package/$name.py": CLIENT_MODULE,
    "src/$package/testing.py": TESTING,
    "src/$package/api_inventory.md": API_INVENTORY,
    "src/$package/icon.svg": ICON,
    "tests/test_${name}_source.py": TEST_SOURCE,
    "tests/test_$name.py": TEST_CLIENT,
}
"""Every file of a new connector but its generated ``_config.py``, by relative path.

.. versionadded:: 0.1
"""
