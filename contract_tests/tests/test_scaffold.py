"""`headwater new`: the generated connector passes the contract suite and its own tests.

That it is lint clean and type checks: core/tests/test_scaffold.py.
"""

from __future__ import annotations

import sys

import pytest

from headwater.scaffold import scaffold_connector

from conftest import write_dist


@pytest.fixture
def scaffolded(harness):
    run = harness()
    target = run.pytester.path / "plugins" / "connector-acme-books"
    scaffold_connector("acme_books", target)
    run.pytester.syspathinsert(target / "src")
    write_dist(run.site, "connector-acme-books", {"acme_books": "connector_acme_books"})
    yield run, target
    for module in [m for m in sys.modules if m.startswith("connector_acme_books")]:
        del sys.modules[module]


def test_a_new_connector_passes_the_contract_suite_as_generated(scaffolded):
    run, _ = scaffolded

    outcome = run.run("--connector", "acme_books", "-rs")

    assert outcome.failed == set(), outcome.messages
    assert len(outcome.passed) == 34
    # Nothing of it is skipped but what it has none of: a desc schema and a fan-out schema.
    assert {name for name, result in outcome.outcomes.items() if result == "skipped"} == {
        "test_desc_reads_resume_below_the_earliest_value[acme_books::-]",
        "test_child_rows_carry_parent_fields[acme_books::-]",
        "test_auth_failures_on_children_fail_the_read[acme_books::-]",
    }


def test_a_new_connector_passes_its_own_tests(scaffolded):
    run, target = scaffolded

    result = run.pytester.runpytest(str(target / "tests"), "-p", "no:headwater_contract")

    result.assert_outcomes(passed=11)
