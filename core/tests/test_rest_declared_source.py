"""A `RestSource` built from declarations alone: form, auth, path values, check, hand-off."""

from __future__ import annotations

import json
import re

import attrs
import httpx
import pytest

from headwater import (
    ErrorKind,
    ManualClock,
    Runtime,
    Secret,
    SecretField,
    SourceInputs,
    SourceSpec,
    TextField,
)
from headwater.emulator import emulator_transport, json_response
from headwater.errors import ConfigError, ConfigProblem
from headwater.rest import (
    ApiKeyAuth,
    BaseUrlFrom,
    BasicAuth,
    BearerAuth,
    ClientConfig,
    CredentialCheck,
    DependentEndpoint,
    Endpoint,
    FanOut,
    PathValues,
    RestSource,
)

TOKEN = "tok_0123456789"
SPEC = SourceSpec(
    source_type="acme",
    contract_major=1,
    label="Acme",
    load="acme:AcmeSource",
    release_status="beta",
    unreleased=True,
)


@attrs.frozen(kw_only=True)
class AcmeConfig:
    workspace: str
    token: Secret


def workspace_values(config: AcmeConfig) -> dict[str, str]:
    if not re.fullmatch(r"[a-z]+", config.workspace.strip()):
        raise ConfigError([ConfigProblem(path="$.workspace", message="expected a slug")])
    return {"workspace": config.workspace.strip()}


PROJECTS = Endpoint(
    name="projects", path="/w/{workspace}/projects", primary_keys=("id",), data_selector="data"
)
TASKS = Endpoint(
    name="tasks",
    path="/w/{workspace}/projects/{project}/tasks",
    primary_keys=("id",),
    data_selector="data",
)

CATALOG = {endpoint.name: endpoint for endpoint in (PROJECTS, TASKS)}
TASKS_OF_PROJECTS = FanOut(
    parent=PROJECTS,
    child=TASKS,
    dependent=DependentEndpoint(
        parent_name="projects", resolve_param="project", resolve_field="id"
    ),
)


class AcmeSource(RestSource[AcmeConfig]):
    spec = SPEC
    caption = "Projects and tasks of one Acme workspace."
    category = "Engineering"
    docs_url = "https://acme.example/docs"
    fields = (
        TextField(name="workspace", label="Workspace"),
        SecretField(name="token", label="API token"),
    )
    client = ClientConfig(base_url="https://api.acme.example")
    auth = BearerAuth.from_config("token")
    path_values = PathValues(derive=workspace_values)
    credential_check = CredentialCheck(
        path="/w/{workspace}",
        messages={
            ErrorKind.AUTHENTICATION: "{label} rejected the token",
            ErrorKind.NOT_FOUND: "{label} has no workspace {workspace!r}",
        },
    )
    endpoints = CATALOG
    fanouts = (TASKS_OF_PROJECTS,)


def api(request: httpx.Request) -> httpx.Response:
    """One workspace, `acme`, with two projects of one task each."""
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return json_response(401, {"error": "bad token"})
    match request.url.path.strip("/").split("/"):
        case ["w", "acme"]:
            return json_response(200, {"id": "acme"})
        case ["w", "acme", "projects"]:
            return json_response(200, {"data": [{"id": "p1"}, {"id": "p2"}]})
        case ["w", "acme", "projects", project, "tasks"]:
            return json_response(200, {"data": [{"id": f"{project}-t1"}]})
    return json_response(404, {"error": "not found"})


def runtime(handler=api) -> Runtime:
    clock = ManualClock()
    return Runtime(transport=emulator_transport(handler), clock=clock, sleep=clock.sleep)


def config(workspace: str = "acme", token: str = TOKEN) -> AcmeConfig:
    return AcmeConfig(workspace=workspace, token=Secret(token))


def rows(schema: str, cfg: AcmeConfig | None = None) -> list[dict]:
    response = AcmeSource().source_for_pipeline(
        cfg or config(), SourceInputs(schema_name=schema), runtime()
    )
    return [row for page in response.items() if isinstance(page, list) for row in page]


def test_identity_and_form_come_from_the_spec_and_the_declared_fields():
    source = AcmeSource()
    form = source.get_source_config()

    assert source.source_type == "acme"
    assert (form.label, str(form.release_status), form.unreleased) == ("Acme", "beta", True)
    assert (form.caption, form.category, form.icon) == (
        "Projects and tasks of one Acme workspace.",
        "Engineering",
        "icon.svg",
    )
    assert [field.name for field in form.fields] == ["workspace", "token"]


@pytest.mark.parametrize(
    ("cfg", "expected"),
    [
        (config(), (True, None)),
        (config(token="wrong"), (False, "Acme rejected the token")),
        (config(workspace="other"), (False, "Acme has no workspace 'other'")),
        (config(workspace="Not A Slug"), (False, "expected a slug @ $.workspace")),
    ],
)
def test_the_credential_check_answers_the_declared_message_per_outcome(cfg, expected):
    ok, message = AcmeSource().validate_credentials(cfg, runtime())

    assert ok is expected[0]
    if expected[1] is None:
        assert message is None
    else:
        assert expected[1] in message


def test_an_outcome_without_a_message_is_could_not_be_reached():
    def broken(request: httpx.Request) -> httpx.Response:
        return json_response(403, {"error": "forbidden"})

    ok, message = AcmeSource().validate_credentials(config(), runtime(broken))

    assert not ok
    assert message.startswith("Acme could not be reached: ")
    assert TOKEN not in message


def test_the_hand_off_reads_the_endpoint_of_the_schema_with_its_path_values():
    assert rows("projects") == [{"id": "p1"}, {"id": "p2"}]


def test_a_declared_fan_out_reads_the_children_of_every_parent():
    assert sorted(row["id"] for row in rows("tasks")) == ["p1-t1", "p2-t1"]


def test_a_value_the_path_values_refuse_fails_before_any_request():
    with pytest.raises(ConfigError, match="expected a slug"):
        rows("projects", config(workspace="../etc"))


@pytest.mark.parametrize(
    ("declared", "header"),
    [
        (BearerAuth.from_config("token"), f"Bearer {TOKEN}"),
        (
            ApiKeyAuth.from_config("token", name="Authorization", prefix="Acme-Key "),
            f"Acme-Key {TOKEN}",
        ),
        (BasicAuth.from_config("token"), BasicAuth(username=Secret(TOKEN)).secrets()[1]),
    ],
)
def test_auth_is_built_from_the_config_field_it_names(declared, header):
    seen = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return json_response(200, {})

    class Signed(AcmeSource):
        auth = declared

    assert Signed().validate_credentials(config(), runtime(record)) == (True, None)
    assert seen == [header]


def test_an_api_key_auth_that_cannot_work_fails_when_declared():
    with pytest.raises(ValueError, match="location must be"):
        ApiKeyAuth.from_config("token", name="key", location="cookie")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("declarations", "error"),
    [
        ({"auth": BearerAuth.from_config("api_key")}, "auth reads config field 'api_key'"),
        ({"path_values": PathValues(fields={"workspace": "team"})}, "config field 'team'"),
        (
            {"base_url": BaseUrlFrom(field="zone", urls={"eu": "https://eu.acme.example"})},
            "base_url reads config field 'zone'",
        ),
        (
            {"credential_check": CredentialCheck(path="/", messages={"not_found": "{team}"})},
            "messages name ['team']",
        ),
        (
            {"credential_check": CredentialCheck(path="/", messages={"not_found": "{token}"})},
            "messages name ['token']",  # a secret never goes into a message
        ),
        (
            {"fanouts": (attrs.evolve(TASKS_OF_PROJECTS, child=TASKS.evolve(name="comments")),)},
            "reads ['comments']",
        ),
    ],
)
def test_declarations_naming_what_the_source_lacks_fail_at_import(declarations, error):
    with pytest.raises(TypeError, match=re.escape(error)):
        type("Broken", (AcmeSource,), {"fields": AcmeSource.fields, **declarations})


@attrs.frozen(kw_only=True)
class RegionalConfig:
    workspace: str
    token: Secret
    region: str


class RegionalSource(AcmeSource):
    fields = (*AcmeSource.fields, TextField(name="region", label="Region"))
    base_url = BaseUrlFrom(
        field="region",
        urls={"us": "https://api.acme.example", "eu": "https://eu.api.acme.example"},
    )


@pytest.mark.parametrize("region", ["us", "eu", " eu/"])
def test_the_chosen_region_receives_the_requests(region):
    hosts = []

    def record(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return api(request)

    cfg = RegionalConfig(workspace="acme", token=Secret(TOKEN), region=region)

    assert RegionalSource().validate_credentials(cfg, runtime(record)) == (True, None)
    assert hosts == ["eu.api.acme.example" if "eu" in region else "api.acme.example"]


def test_a_host_the_source_does_not_list_is_refused_before_any_request():
    hosts = []

    def record(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return api(request)

    cfg = RegionalConfig(workspace="acme", token=Secret(TOKEN), region="evil.example")

    ok, message = RegionalSource().validate_credentials(cfg, runtime(record))
    assert not ok
    assert message == (
        "invalid Acme configuration: unknown Acme API host; expected one of us, eu @ $.region"
    )
    assert hosts == []
    with pytest.raises(ConfigError, match=r"\$\.region"):
        RegionalSource().source_for_pipeline(cfg, SourceInputs(schema_name="projects"), runtime())


def _forbidden(body: str):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text=body, headers={"content-type": "application/json"})

    return handler


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"msg": "key lacks scope"}', "Acme may not read acme for team t1: key lacks scope"),
        ("{}", "Acme may not read acme for team t1: permission denied"),
    ],
)
def test_a_message_may_name_the_apis_reason_and_values_computed_from_the_config(body, says):
    class Explained(AcmeSource):
        client = ClientConfig(
            base_url="https://api.acme.example",
            error_message=lambda text: json.loads(text).get("msg"),
        )
        credential_check = CredentialCheck(
            path="/w/{workspace}",
            messages={ErrorKind.PERMISSION: "{label} may not read {workspace}{for_team}: {reason}"},
            values={"for_team": lambda config: " for team t1"},
        )

    assert Explained().validate_credentials(config(), runtime(_forbidden(body))) == (False, says)
