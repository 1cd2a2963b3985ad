"""Which template becomes which file of a new connector, and the form the templates declare.

The templates are files in ``templates/`` beside this module (package data, shipped in the
wheel): :class:`string.Template` text with ``$name``, ``$camel``, ``$package``... The example
API they read is documented in the generated ``api_inventory.md``: a workspace's records,
listed with a cursor, filtered by ``updated_since``, oldest update first. Every file works as
written; the author replaces the example API with the real one.

:func:`source_config` builds the same form as the generated ``settings.py`` declares, so the
scaffolder can write the generated config class without importing the new package; the
contract suite's ``test_generated_config_class_is_current`` proves the two agree.

.. versionadded:: 0.1
.. versionchanged:: 0.2
   The templates are package-data files; a connector is ``__init__.py`` + ``settings.py`` +
   ``_config.py`` + ``testing.py``.
"""

from __future__ import annotations

from importlib import resources

from headwater.sources import Field, ReleaseStatus, SecretField, SourceConfig, TextField

__all__ = ["FILES", "source_config", "template"]


def source_config(label: str) -> SourceConfig:
    """The form of a freshly scaffolded connector (what its ``settings.py`` declares).

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


FILES = {
    "pyproject.toml": "pyproject.toml.tmpl",
    "README.md": "README.md.tmpl",
    "CHANGELOG.md": "CHANGELOG.md.tmpl",
    "src/$package/__init__.py": "__init__.py.tmpl",
    "src/$package/settings.py": "settings.py.tmpl",
    "src/$package/testing.py": "testing.py.tmpl",
    "src/$package/api_inventory.md": "api_inventory.md.tmpl",
    "src/$package/icon.svg": "icon.svg.tmpl",
    "tests/test_${name}_source.py": "test_source.py.tmpl",
    "tests/test_$name.py": "test_reads.py.tmpl",
}
"""Every file of a new connector but its generated ``_config.py``: its path (a template
itself) and the name of its template in ``templates/``.

.. versionadded:: 0.1
.. versionchanged:: 0.2
   Values are template file names, read with :func:`template`.
"""


def template(name: str) -> str:
    """The text of template file ``name`` (``"settings.py.tmpl"``).

    .. versionadded:: 0.2
    """
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")
