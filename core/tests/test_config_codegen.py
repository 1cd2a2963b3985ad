"""``headwater generate``: the typed config module rendered from a connector's fields."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest
from test_config_samples import (
    PACKAGE,
    SPEC,
    forget_package,
    generate,
    make_package,
    sample_source_config,
)

from headwater import (
    NumberField,
    Secret,
    SecretField,
    SelectField,
    SelectOption,
    SourceConfig,
    SourceSpec,
    SwitchGroupField,
    TextField,
)
from headwater.config import (
    check_generated,
    config_class_name,
    config_module_name,
    config_module_path,
    load_config_class,
    render_config_module,
    write_config_module,
)
from headwater.errors import PluginError

REPO_ROOT = Path(__file__).resolve().parents[2]
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.fixture(autouse=True)
def _clean_modules() -> typing.Iterator[None]:
    yield
    forget_package()


def _annotations(source: str, class_name: str) -> dict[str, str]:
    """``attribute -> annotation`` of one class in generated source, as ast prints them."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return {
                statement.target.id: ast.unparse(statement.annotation)
                for statement in node.body
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
            }
    raise AssertionError(f"{class_name} is not defined")


def _defaults(source: str, class_name: str) -> dict[str, Any]:
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return {
                statement.target.id: ast.literal_eval(statement.value)
                for statement in node.body
                if isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and statement.value is not None
            }
    raise AssertionError(f"{class_name} is not defined")


def _class_order(source: str) -> list[str]:
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)]


def _ruff(*args: str, source: str) -> subprocess.CompletedProcess[str]:
    assert RUFF is not None
    # A connector's path, so the workspace's per-file rules for ``_config.py`` apply.
    filename = REPO_ROOT / "plugins" / "connector-github" / "src" / PACKAGE / "_config.py"
    return subprocess.run(
        [
            RUFF,
            *args,
            "--config",
            str(REPO_ROOT / "pyproject.toml"),
            "--stdin-filename",
            str(filename),
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )


# --- names and places --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_type", "expected"),
    [
        ("github", "GithubConfig"),
        ("google_ads", "GoogleAdsConfig"),
        ("s3", "S3Config"),
        ("stripe_v2_beta", "StripeV2BetaConfig"),
    ],
)
def test_config_class_name_is_the_camel_cased_source_type(source_type: str, expected: str) -> None:
    assert config_class_name(source_type) == expected


@pytest.mark.parametrize(
    ("load", "expected"),
    [
        ("connector_github.source:GithubSource", "connector_github._config"),
        ("acme.connectors.github.source:Source", "acme.connectors.github._config"),
    ],
)
def test_the_config_module_sits_in_the_package_of_the_source(load: str, expected: str) -> None:
    spec = SourceSpec(source_type="github", contract_major=1, label="GitHub", load=load)
    assert config_module_name(spec) == expected


def test_a_source_outside_any_package_is_refused_with_a_reason() -> None:
    spec = SourceSpec(source_type="github", contract_major=1, label="GitHub", load="github:Source")
    with pytest.raises(PluginError, match=r"top-level module 'github'.*package"):
        config_module_name(spec)


def test_the_module_path_is_found_without_importing_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_package(tmp_path, monkeypatch)
    assert config_module_path(SPEC) == folder / "_config.py"
    assert f"{PACKAGE}.source" not in sys.modules


def test_a_package_that_is_not_installed_cannot_be_located() -> None:
    spec = SourceSpec(
        source_type="github",
        contract_major=1,
        label="GitHub",
        load="connector_that_is_not_installed.source:Source",
    )
    with pytest.raises(PluginError, match="connector_that_is_not_installed"):
        config_module_path(spec)


# --- the rendered module -----------------------------------------------------------------------


def test_each_field_kind_gets_its_type() -> None:
    source = render_config_module(SPEC, sample_source_config())
    assert _annotations(source, "GithubConfig") == {
        "repository": "str",
        "notify_email": "str | None",
        "base_url": "str",
        "description": "str | None",
        "webhook_secret": "Secret | None",
        "page_size": "int",
        "request_timeout": "float | None",
        "visibility": "Literal['all', 'public', 'private']",
        "auth": "GithubConfigAuthToken | GithubConfigAuthApp",
        "proxy": "GithubConfigProxy | None",
        "ca_bundle": "str | None",
        "google_drive": "str | None",
    }
    assert _annotations(source, "GithubConfigAuthToken") == {
        "selection": "ClassVar[str]",
        "token": "Secret",
    }
    assert _annotations(source, "GithubConfigAuthApp") == {
        "selection": "ClassVar[str]",
        "app_id": "int",
        "private_key": "Secret",
    }
    assert _annotations(source, "GithubConfigProxy") == {"url": "str", "port": "int"}


def test_defaults_follow_required_optional_and_default() -> None:
    source = render_config_module(SPEC, sample_source_config())
    assert _defaults(source, "GithubConfig") == {
        "notify_email": None,
        "base_url": "https://api.github.com",
        "description": None,
        "webhook_secret": None,
        "page_size": 100,
        "request_timeout": None,
        "visibility": "all",
        "proxy": None,
        "ca_bundle": None,
        "google_drive": None,
    }
    assert _defaults(source, "GithubConfigAuthToken") == {"selection": "token"}
    assert _defaults(source, "GithubConfigAuthApp") == {"selection": "app"}
    assert _defaults(source, "GithubConfigProxy") == {"port": 8080}


def test_classes_are_defined_before_they_are_used() -> None:
    order = _class_order(render_config_module(SPEC, sample_source_config()))
    assert order == [
        "GithubConfigAuthToken",
        "GithubConfigAuthApp",
        "GithubConfigProxy",
        "GithubConfig",
    ]


def test_the_header_says_where_it_comes_from_and_not_to_edit_it() -> None:
    source = render_config_module(SPEC, sample_source_config())
    docstring = ast.get_docstring(ast.parse(source)) or ""
    assert "headwater generate" in docstring
    assert SPEC.load in docstring
    assert "Do not edit" in docstring
    assert "from __future__" not in source
    assert "__all__ = [" in source


def test_rendering_is_deterministic() -> None:
    assert render_config_module(SPEC, sample_source_config()) == render_config_module(
        SPEC, sample_source_config()
    )


def test_the_generated_class_is_frozen_and_keyword_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_class = generate(tmp_path, monkeypatch)
    module = sys.modules[f"{PACKAGE}._config"]
    auth = module.GithubConfigAuthToken(token=Secret("t"))
    config = config_class(repository="posthog/posthog", auth=auth)
    assert config.page_size == 100
    assert config.proxy is None
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.page_size = 5
    with pytest.raises(TypeError):
        config_class("posthog/posthog", auth)
    # Real annotations, not strings: cattrs reads them at runtime.
    hints = typing.get_type_hints(config_class)
    assert hints["auth"] == module.GithubConfigAuthToken | module.GithubConfigAuthApp
    assert module.GithubConfigAuthApp.selection == "app"


def test_select_values_round_trip_through_escaping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = ["plain", 'say "hi"', "it's", "back\\slash", "caf\u00e9 \u2013 \u6f22", "tab\there"]
    select = SelectField(
        name="odd_values",
        label="Odd \u201cvalues\u201d \u2013 don\u2019t",
        options=[SelectOption(value=value, label=value) for value in values],
    )
    config_class = generate(tmp_path, monkeypatch, sample_source_config(select))
    annotation = typing.get_type_hints(config_class)["odd_values"]
    assert list(typing.get_args(annotation)) == values


def test_colliding_class_names_get_a_numeric_suffix() -> None:
    select = SelectField(
        name="mode",
        label="Mode",
        options=[
            SelectOption(value="api-key", label="Key", fields=[TextField(name="a", label="A")]),
            SelectOption(value="api_key", label="Key", fields=[TextField(name="b", label="B")]),
        ],
    )
    source = render_config_module(SPEC, sample_source_config(select))
    assert "GithubConfigModeApiKey | GithubConfigModeApiKey2" in source


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (TextField(name="str", label="Shadow"), "'str' would shadow"),
        (
            SelectField(
                name="pick",
                label="Pick",
                options=[
                    SelectOption(
                        value="a", label="A", fields=[TextField(name="selection", label="S")]
                    )
                ],
            ),
            "'selection' is reserved",
        ),
        (NumberField(name="ratio", label="Ratio", default=2.5), "is not an integer"),
        (
            NumberField(name="ratio", label="Ratio", integer=False, default=float("inf")),
            "must be finite",
        ),
    ],
)
def test_fields_that_cannot_be_typed_are_refused(field: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_config_module(SPEC, sample_source_config(field))


# --- ruff --------------------------------------------------------------------------------------


def _long_source_config() -> SourceConfig:
    """Names and values long enough to make every layout wrap."""
    long = "a_field_name_long_enough_to_push_the_annotation_past_the_line_limit_of_ruff"
    values = [f"option-{index}-with-a-longish-value" for index in range(6)]
    return SourceConfig(
        label="A \u201clong\u201d source \u2013 with typography",
        fields=(
            TextField(name=long, label="Long", default="https://example.com/" + "x" * 70),
            SelectField(
                name=long + "_select",
                label="Select",
                options=[SelectOption(value=value, label=value) for value in values],
                default=values[0],
            ),
            SelectField(
                name=long + "_optional",
                label="Optional select",
                required=False,
                options=[SelectOption(value=value, label=value) for value in values],
            ),
            SelectField(
                name="authentication_method_chosen_by_the_user",
                label="Auth",
                options=[
                    SelectOption(
                        value="personal_access_token_with_fine_grained_scopes",
                        label="Token",
                        fields=[SecretField(name="token", label="Token")],
                    ),
                    SelectOption(
                        value="github_app_installation_with_private_key",
                        label="App",
                        fields=[
                            SecretField(name="key", label="Key"),
                            SwitchGroupField(
                                name="enterprise_server_settings_for_self_hosted",
                                label="Enterprise",
                                fields=[NumberField(name="port", label="Port", default=443)],
                            ),
                        ],
                    ),
                ],
            ),
            NumberField(name=long + "_n", label="N", required=False, integer=False),
        ),
    )


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
@pytest.mark.parametrize(
    "source_config", [sample_source_config(), _long_source_config()], ids=["sample", "long"]
)
def test_generated_code_is_ruff_formatted_and_lint_clean(source_config: SourceConfig) -> None:
    source = render_config_module(SPEC, source_config)
    formatted = _ruff("format", source=source)
    assert formatted.returncode == 0, formatted.stderr
    assert formatted.stdout == source
    checked = _ruff("check", "--no-cache", source=source)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- on disk -----------------------------------------------------------------------------------


def test_check_generated_reports_a_missing_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_package(tmp_path, monkeypatch)
    reason = check_generated(SPEC, sample_source_config())
    assert reason is not None
    assert str(folder / "_config.py") in reason
    assert "missing" in reason
    assert "headwater generate github" in reason
    assert "\n" not in reason


def test_check_generated_accepts_a_current_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_package(tmp_path, monkeypatch)
    write_config_module(SPEC, sample_source_config())
    assert check_generated(SPEC, sample_source_config()) is None


def test_check_generated_reports_a_stale_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_package(tmp_path, monkeypatch)
    write_config_module(SPEC, sample_source_config())
    changed = sample_source_config(TextField(name="branch", label="Branch", required=False))
    reason = check_generated(SPEC, changed)
    assert reason is not None
    assert "stale" in reason
    assert "headwater generate github" in reason


def test_check_generated_reports_a_hand_edited_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_package(tmp_path, monkeypatch) / "_config.py"
    write_config_module(SPEC, sample_source_config())
    path.write_text(path.read_text(encoding="utf-8") + "# tweak\n", encoding="utf-8")
    reason = check_generated(SPEC, sample_source_config())
    assert reason is not None
    assert "stale" in reason


def test_loading_without_a_generated_module_says_to_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_package(tmp_path, monkeypatch)
    with pytest.raises(PluginError, match="run `headwater generate github`"):
        load_config_class(SPEC)


def test_loading_a_module_without_the_class_says_to_generate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_package(tmp_path, monkeypatch)
    (folder / "_config.py").write_text('"""Old."""\n', encoding="utf-8")
    with pytest.raises(PluginError, match=r"does not define .*GithubConfig.*headwater generate"):
        load_config_class(SPEC)


def test_loading_returns_the_generated_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_class = generate(tmp_path, monkeypatch)
    assert config_class.__name__ == "GithubConfig"
    assert config_class.__module__ == f"{PACKAGE}._config"
    assert f"{PACKAGE}.source" not in sys.modules


def test_output_ignores_ruff_configuration_around_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = render_config_module(SPEC, _long_source_config())
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ruff]\nline-length = 60\n\n[tool.ruff.format]\nquote-style = "single"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    assert render_config_module(SPEC, _long_source_config()) == expected
