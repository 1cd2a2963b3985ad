"""A folder of wheels made from the distributions installed here, for installs without a network.

`headwater contract` installs into a new virtualenv with pip; the tests give it
`--no-index --find-links WHEELHOUSE`, so pip finds every dependency here or fails. Each wheel
is the installed distribution packed again from the files its RECORD lists (compiled files
and scripts left out: pip writes those again on install).
"""

from __future__ import annotations

import csv
import io
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["closure", "write_wheelhouse"]

# Files pip writes itself when it installs a wheel.
_INSTALLER_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def closure(roots: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``roots`` name, with everything they need, extras included."""
    seen: dict[str, metadata.Distribution] = {}
    pending = [Requirement(root) for root in roots]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in seen and not extras:
            continue
        distribution = seen.get(name) or metadata.distribution(name)
        seen[name] = distribution
        for text in distribution.requires or []:
            needed = Requirement(text)
            if needed.marker is None or any(
                needed.marker.evaluate({**default_environment(), "extra": extra})
                for extra in extras | {""}
            ):
                pending.append(needed)
    return sorted(seen.values(), key=lambda d: canonicalize_name(d.metadata["Name"]))


def _tags(distribution: metadata.Distribution) -> str:
    wheel = distribution.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    parts = [t.split("-") for t in tags] or [["py3", "none", "any"]]
    return "-".join(".".join(sorted({p[i] for p in parts})) for i in range(3))


def write_wheelhouse(distributions: list[metadata.Distribution], directory: Path) -> None:
    """Write a wheel of each installed distribution into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for distribution in distributions:
        name = canonicalize_name(distribution.metadata["Name"]).replace("-", "_")
        path = directory / f"{name}-{distribution.version}-{_tags(distribution)}.whl"
        record = io.StringIO()
        writer = csv.writer(record, lineterminator="\n")
        record_name = None
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as wheel:
            for file in distribution.files or []:
                if file.parts[0] == ".." or "__pycache__" in file.parts:
                    continue
                if file.parent.name.endswith(".dist-info"):
                    if file.name == "RECORD":
                        record_name = file.as_posix()
                    if file.name in _INSTALLER_FILES:
                        continue
                source = Path(str(distribution.locate_file(file)))
                if not source.is_file():
                    continue
                wheel.write(source, file.as_posix())
                writer.writerow([file.as_posix(), "", ""])
            assert record_name is not None, f"{name} has no RECORD"
            writer.writerow([record_name, "", ""])
            wheel.writestr(record_name, record.getvalue())
