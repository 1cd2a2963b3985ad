"""A griffe extension: Headwater's reST-flavoured docstrings, readable on the Markdown site.

The docstrings are written for readers of the source and for ``help()``: Sphinx roles
(``:class:`Endpoint```, ``:func:`~headwater.rest.endpoint_response```), version notes
(``.. versionadded:: 0.1``) and literal blocks introduced by ``::``. mkdocstrings renders
docstrings as Markdown, where all three would show as raw markup. Once a package is loaded,
this extension rewrites each docstring:

- a role becomes an optional cross-reference, resolved the way Python resolves the name in
  the docstring's module (imports included): a link where the site documents the object, plain
  code where it does not (``httpx.Request``). A bare name that does not resolve is a mistake in
  the docstring and is reported as a warning, which fails ``mkdocs build --strict``;
- ``.. versionadded:: V``, ``.. versionchanged:: V`` and ``.. deprecated:: V`` (with their
  indented text) become a sentence in italics, as Sphinx renders them;
- ``text::`` before a literal block becomes ``text:`` (the indented block stays a code block).

``:raises X:`` fields are left to griffe's sphinx docstring parser (``docstring_style:
sphinx`` in ``mkdocs.yml``).
"""

from __future__ import annotations

import builtins
import html
import re
import sys
from collections.abc import Callable
from typing import Any

import griffe

__all__ = ["RstDocstrings", "rewrite"]

_ROLE = re.compile(
    r":(?:py:)?(?P<role>class|func|meth|attr|mod|data|exc|obj|const):"
    r"`(?P<body>[^`]+)`"
)
_DIRECTIVE = re.compile(
    r"^(?P<indent>\s*)\.\. (?P<name>versionadded|versionchanged|deprecated)::"
    r"\s*(?P<version>\S+)\s*(?P<text>.*)$"
)
_VERSION_WORDS = {
    "versionadded": "Added in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
}

Resolver = Callable[[str], "str | None"]


def _reference(match: re.Match[str], resolve: Resolver) -> str:
    body = match["body"].strip()
    explicit = re.fullmatch(r"(?P<title>.+?)\s*<(?P<target>[^>]+)>", body)
    if explicit:
        title, target = explicit["title"], explicit["target"]
    else:
        short = body.startswith("~")
        target = body.lstrip("~.")
        title = target.rsplit(".", 1)[-1] if short else target
    identifier = resolve(target.lstrip("~."))
    code = f"<code>{html.escape(title)}</code>"
    if identifier is None:
        return code
    return f'<autoref identifier="{html.escape(identifier)}" optional>{code}</autoref>'


def _version_notes(lines: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index])
        if not match:
            out.append(lines[index])
            index += 1
            continue
        indent = match["indent"]
        words = [match["text"]] if match["text"] else []
        index += 1
        # The directive's content: the lines indented deeper than the directive itself.
        while index < len(lines) and (
            lines[index].startswith(indent + " ") and lines[index].strip()
        ):
            words.append(lines[index].strip())
            index += 1
        label = f"{_VERSION_WORDS[match['name']]} {match['version']}"
        text = " ".join(words)
        out.append(f"{indent}*{label}:* {text}" if text else f"{indent}*{label}.*")
    return out


def _literal_blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        stripped = line.rstrip()
        if stripped.endswith("::") and not stripped.lstrip().startswith(".."):
            if stripped.strip() == "::":
                continue
            line = stripped[:-1]
        out.append(line)
    return out


def rewrite(text: str, resolve: Resolver) -> str:
    """``text`` (a docstring) with its roles, version notes and ``::`` made Markdown.

    ``resolve`` maps a role's target to the identifier to link, or ``None`` for plain code.
    """
    lines = _literal_blocks(_version_notes(text.splitlines()))
    return _ROLE.sub(lambda m: _reference(m, resolve), "\n".join(lines))


def _resolver(obj: griffe.Object) -> Resolver:
    def resolve(target: str) -> str | None:
        first, dot, rest = target.partition(".")
        try:
            return obj.resolve(first) + dot + rest
        except griffe.NameResolutionError:
            pass
        if dot or target in obj.modules_collection:
            return target  # a dotted path or a package: linked if the site documents it
        if hasattr(builtins, target) or target in sys.stdlib_module_names:
            return None  # LookupError, signal: plain code
        griffe.logger.warning(
            "%s: the docstring refers to %r, which does not resolve there", obj.path, target
        )
        return None

    return resolve


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring of each loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._visit(pkg)

    def _visit(self, obj: griffe.Object) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value, _resolver(obj))
        for member in obj.members.values():
            if not member.is_alias:
                self._visit(member)  # type: ignore[arg-type]
