"""The docs site's docstring extension (run by ``nox -s docs`` before the build)."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import griffe
import pytest
from rst_docstrings import RstDocstrings, rewrite


def resolve(target: str) -> str | None:
    return {"Endpoint": "pkg.endpoint.Endpoint", "nowhere": None}.get(target, target)


def test_a_role_becomes_an_optional_reference_titled_as_sphinx_shows_it():
    text = rewrite("Use :class:`Endpoint`, :func:`~pkg.read.read_all` or :mod:`pkg`.", resolve)

    assert text == (
        'Use <autoref identifier="pkg.endpoint.Endpoint" optional><code>Endpoint</code>'
        '</autoref>, <autoref identifier="pkg.read.read_all" optional><code>read_all</code>'
        '</autoref> or <autoref identifier="pkg" optional><code>pkg</code></autoref>.'
    )


def test_an_explicit_title_is_kept_and_an_unresolved_name_is_plain_code():
    text = rewrite(":meth:`the reader <pkg.Reader.read>` and :exc:`nowhere`", resolve)

    assert text == (
        '<autoref identifier="pkg.Reader.read" optional><code>the reader</code></autoref>'
        " and <code>nowhere</code>"
    )


def test_version_notes_become_sentences_with_their_text():
    text = rewrite(
        textwrap.dedent(
            """\
            Summary.

            .. versionadded:: 0.1
            .. versionchanged:: 0.2
               Reads the whole table,
               twice.
            .. deprecated:: 0.3 use the other one
            """
        ),
        resolve,
    )

    assert text.splitlines() == [
        "Summary.",
        "",
        "*Added in version 0.1.*",
        "*Changed in version 0.2:* Reads the whole table, twice.",
        "*Deprecated since version 0.3:* use the other one",
    ]


def test_a_literal_block_marker_becomes_a_colon():
    text = rewrite("The tree::\n\n    a\n    └── b\n\n::\n\n    c", resolve)

    assert text == "The tree:\n\n    a\n    └── b\n\n\n    c"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text(
        textwrap.dedent(
            '''\
            """The package: see :class:`Reader` and :func:`helper`.

            .. versionadded:: 0.2
            """

            from pkg.reader import Reader

            __all__ = ["Reader"]
            '''
        )
    )
    (root / "reader.py").write_text(
        textwrap.dedent(
            '''\
            class Reader:
                """Reads.

                :raises LookupError: when :class:`Reader` finds nothing.
                """
            '''
        )
    )
    return tmp_path


def test_loaded_docstrings_are_rewritten_in_their_scope(package, caplog):
    loaded = griffe.load(
        "pkg",
        search_paths=[str(package)],
        extensions=griffe.load_extensions(RstDocstrings),
    )

    assert loaded.docstring is not None
    assert loaded.docstring.value == (
        'The package: see <autoref identifier="pkg.reader.Reader" optional>'
        "<code>Reader</code></autoref> and <code>helper</code>.\n\n"
        "*Added in version 0.2.*"
    )
    # `helper` resolves nowhere: the docstring is wrong, and the build (strict) says so.
    assert any(
        "pkg: the docstring refers to 'helper'" in record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING
    )
    reader = loaded["reader.Reader"]
    (raises,) = [
        section
        for section in reader.docstring.parse("sphinx")
        if section.kind is griffe.DocstringSectionKind.raises
    ]
    assert raises.value[0].annotation == "LookupError"
    assert "<code>Reader</code>" in raises.value[0].description
