"""A realistic connector form covering every field kind, shared by the ``test_config_*`` tests.

It is a plain module (no tests of its own): the test modules import it and wrap its helpers
in their own fixtures. The generated package lives in a temporary folder put on ``sys.path``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from headwater import (
    FileUploadField,
    NumberField,
    OAuthField,
    SecretField,
    SelectField,
    SelectOption,
    SourceConfig,
    SourceSpec,
    SwitchGroupField,
    TextField,
)
from headwater.config import load_config_class, write_config_module

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

PACKAGE = "connector_github_sample"

SPEC = SourceSpec(
    source_type="github",
    contract_major=1,
    label="GitHub",
    load=f"{PACKAGE}.source:GithubSource",
)

SECRET = "hunter2-SENTINEL-0451"
"""A secret value that must never appear in a message or a repr."""


def sample_source_config(*extra: Any) -> SourceConfig:
    """The GitHub-like form: every field kind, nested selects and a switch group."""
    return SourceConfig(
        label="GitHub",
        caption="Issues, pull requests and commits of one repository.",
        category="Source control",
        icon="icon.svg",
        docs_url="https://docs.example.com/connectors/github",
        release_status="beta",
        fields=(
            TextField(
                name="repository",
                label="Repository",
                caption="owner/name, such as posthog/posthog",
                placeholder="owner/name",
            ),
            TextField(
                name="notify_email", label="Notification email", kind="email", required=False
            ),
            TextField(
                name="base_url", label="API base URL", kind="url", default="https://api.github.com"
            ),
            TextField(name="description", label="Description", kind="textarea", required=False),
            SecretField(name="webhook_secret", label="Webhook secret", required=False),
            NumberField(name="page_size", label="Page size", default=100, minimum=1, maximum=100),
            NumberField(
                name="request_timeout",
                label="Request timeout (seconds)",
                integer=False,
                required=False,
                minimum=0.5,
            ),
            SelectField(
                name="visibility",
                label="Visibility",
                options=(
                    SelectOption(value="all", label="All"),
                    SelectOption(value="public", label="Public"),
                    SelectOption(value="private", label="Private"),
                ),
                default="all",
            ),
            SelectField(
                name="auth",
                label="Authentication",
                options=(
                    SelectOption(
                        value="token",
                        label="Personal access token",
                        fields=(SecretField(name="token", label="Token"),),
                    ),
                    SelectOption(
                        value="app",
                        label="GitHub App",
                        fields=(
                            NumberField(name="app_id", label="App ID", minimum=1),
                            FileUploadField(
                                name="private_key", label="Private key", accept=(".pem",)
                            ),
                        ),
                    ),
                ),
            ),
            SwitchGroupField(
                name="proxy",
                label="Use a proxy",
                fields=(
                    TextField(name="url", label="Proxy URL", kind="url"),
                    NumberField(name="port", label="Port", default=8080, minimum=1, maximum=65535),
                ),
            ),
            FileUploadField(
                name="ca_bundle",
                label="CA bundle",
                secret=False,
                required=False,
                accept=(".pem", ".crt"),
            ),
            OAuthField(
                name="google_drive", label="Google Drive", provider="google", required=False
            ),
            *extra,
        ),
    )


def valid_input() -> dict[str, Any]:
    """A minimal valid ``[source]`` table for :func:`sample_source_config`."""
    return {
        "repository": "posthog/posthog",
        "auth": {"selection": "token", "token": "ghp_example"},
    }


def forget_package() -> None:
    """Drop the sample package from ``sys.modules`` so the next import reads the disk."""
    for name in list(sys.modules):
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            del sys.modules[name]


def make_package(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Create an empty ``connector_github_sample`` package under ``root``, importable."""
    forget_package()
    folder = root / PACKAGE
    folder.mkdir()
    (folder / "__init__.py").write_text('"""The sample connector."""\n', encoding="utf-8")
    # Importing the source module would fail: the config machinery must never need it.
    (folder / "source.py").write_text(
        'raise ImportError("the source module must not be imported")\n', encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(root))
    return folder


def generate(
    root: Path, monkeypatch: pytest.MonkeyPatch, source_config: SourceConfig | None = None
) -> type[Any]:
    """Write the generated module into a fresh sample package and return its config class."""
    make_package(root, monkeypatch)
    write_config_module(SPEC, source_config or sample_source_config())
    return load_config_class(SPEC)
