"""Writing a connector package from the templates, and its generated config class.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import attrs

from headwater.config import render_config_module
from headwater.scaffold import layout
from headwater.sources import SourceSpec

__all__ = ["ConnectorNames", "scaffold_connector"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Longer names make generated lines longer than the workspace's 100 columns.
_MAX_LENGTH = 32


@attrs.frozen(kw_only=True)
class ConnectorNames:
    """Every name a connector called ``name`` goes by.

    ``name`` is the ``source_type`` and entry-point name (``google_sheets``); the
    distribution is ``connector-google-sheets``, the package ``connector_google_sheets``, the
    source class ``GoogleSheetsSource`` and the label ``Google Sheets``.

    .. versionadded:: 0.1
    """

    name: str

    def __attrs_post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"connector name {self.name!r} must be lower-case letters, digits and"
                " underscores, starting with a letter (it becomes the source_type)"
            )
        if len(self.name) > _MAX_LENGTH:
            raise ValueError(
                f"connector name {self.name!r} is longer than {_MAX_LENGTH} characters;"
                " choose a shorter one"
            )

    @property
    def distribution(self) -> str:
        return "connector-" + self.name.replace("_", "-")

    @property
    def package(self) -> str:
        return f"connector_{self.name}"

    @property
    def camel(self) -> str:
        return "".join(part.title() for part in self.name.split("_"))

    @property
    def label(self) -> str:
        return " ".join(part.title() for part in self.name.split("_"))

    def spec(self) -> SourceSpec:
        """The spec the generated plugin module registers."""
        return SourceSpec(
            source_type=self.name,
            contract_major=1,
            label=self.label,
            load=f"{self.package}.settings:{self.camel}Source",
            kit=f"{self.package}.testing:kit",
        )

    def substitutions(self) -> dict[str, str]:
        return {
            "name": self.name,
            "dist": self.distribution,
            "package": self.package,
            "camel": self.camel,
            "label": self.label,
            "upper": self.name.upper(),
        }


def scaffold_connector(name: str, directory: Path) -> list[Path]:
    """Write the connector package ``name`` into ``directory`` (new, or empty).

    Returns the files written, in order. :raises ValueError: for a bad name; :raises
    FileExistsError: when ``directory`` holds anything.

    .. versionadded:: 0.1
    """
    names = ConnectorNames(name=name)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise FileExistsError(f"{directory} already exists and is not empty; choose another")
    values = names.substitutions()
    written = []
    for relative, name in layout.FILES.items():
        path = directory / string.Template(relative).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = string.Template(layout.template(name)).substitute(values)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    config = directory / "src" / names.package / "_config.py"
    config.write_text(
        render_config_module(names.spec(), layout.source_config(names.label)),
        encoding="utf-8",
        newline="\n",
    )
    written.append(config)
    return written
