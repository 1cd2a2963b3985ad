"""The plugin: inert unless asked, loud when asked badly, usable from a connector's own tests."""

from __future__ import annotations

import os
import textwrap

from conftest import BASE_SOURCE, KIT_TOKEN

SUBCLASS = """
import pytest

from headwater_contract import ContractSuite


class TestForgeContract(ContractSuite):
    connectors = ("forge",)
{body}

    def test_an_authors_own_test(self):
        assert True
"""


def test_selecting_no_connector_is_a_usage_error(harness):
    run = harness()
    run.install_forge()

    result = run.pytester.runpytest("-p", "headwater_contract")

    assert result.ret == 4
    result.stderr.fnmatch_lines(["*no connector was selected; name one with --connector NAME*"])


def test_an_unknown_connector_is_a_usage_error(harness):
    run = harness()
    run.install_forge()

    result = run.pytester.runpytest("-p", "headwater_contract", "--connector", "forj")

    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*no connector named 'forj' is installed (installed: *forge*); did you mean 'forge'?*"]
    )


def test_an_empty_connector_name_is_a_usage_error(harness):
    run = harness()
    run.install_forge()

    result = run.pytester.runpytest("-p", "headwater_contract", "--connector", "")

    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--connector needs a connector name*"])


def test_installed_but_not_asked_the_plugin_changes_nothing(harness, monkeypatch):
    run = harness()
    run.install_forge()
    run.pytester.makepyfile(
        test_unrelated="""
        import logging
        import os

        def test_the_environment_is_untouched():
            assert "HEADWATER_STRICT_PLUGINS" not in os.environ
            assert logging.getLogger("headwater").level == logging.NOTSET
        """
    )
    # As a pytest11 entry point does: loaded, but not named on the command line.
    monkeypatch.setenv("PYTEST_PLUGINS", "headwater_contract")

    result = run.pytester.runpytest("-v")

    assert result.ret == 0
    result.assert_outcomes(passed=1)
    assert "headwater-contract 0.1.0: checking" not in result.stdout.str()


def test_checks_have_readable_ids(harness):
    run = harness()
    run.install_forge()

    result = run.pytester.runpytest(
        "-p", "headwater_contract", "--connector", "forge", "--co", "-q"
    )

    result.stdout.fnmatch_lines(
        [
            "headwater-contract::TestContract::test_loads_strictly[[]forge[]]",
            "headwater-contract::TestContract::test_full_read_returns_every_row_once[[]forge::issues[]]",
            "headwater-contract::TestContract::test_child_rows_carry_parent_fields[[]forge::members[]]",
        ]
    )


def test_a_run_with_paths_runs_them_too_and_one_without_runs_only_the_contract(harness):
    run = harness()
    run.install_forge()
    run.pytester.makepyfile(test_mine="def test_mine():\n    pass\n")

    with_paths = run.run("--connector", "forge", "test_mine.py")
    without = run.run("--connector", "forge")

    assert "test_mine" in with_paths.passed
    assert "test_mine" not in without.outcomes
    assert len(without.passed) == 75  # the forge connector passes every check


def test_the_strict_environment_is_restored_after_a_run(harness):
    run = harness()
    run.install_forge()

    run.run("--connector", "forge")

    assert "HEADWATER_STRICT_PLUGINS" not in os.environ


def test_a_connector_can_subclass_the_suite_and_mark_a_known_failure(harness):
    run = harness()
    run.install_variant(
        "forge_no_retry_after",
        BASE_SOURCE
        + """
from headwater.rest import RetryPolicy

class Source(ForgeSource):
    catalog = attrs.evolve(
        CATALOG, client=attrs.evolve(CATALOG.client, retry=RetryPolicy(max_server_wait=0))
    )
""",
    )
    body = """
    @pytest.mark.xfail(reason="Forge's sandbox ignores Retry-After; tracked as FORGE-12")
    def test_rate_limits_honour_retry_after(self, subject):
        pass
"""
    run.pytester.makepyfile(test_forge_contract=SUBCLASS.format(body=body))

    result = run.pytester.runpytest("-p", "headwater_contract", "-rx")

    assert result.ret == 0
    result.assert_outcomes(passed=75, xfailed=1)
    result.stdout.fnmatch_lines(["*Forge's sandbox ignores Retry-After; tracked as FORGE-12*"])


def test_an_xfail_mark_cannot_hide_a_passing_check(harness):
    run = harness()
    run.install_forge()
    body = """
    @pytest.mark.xfail(reason="we believe this fails")
    def test_loads_strictly(self, subject):
        raise AssertionError("an override's body never runs")
"""
    run.pytester.makepyfile(test_forge_contract=SUBCLASS.format(body=body))

    result = run.pytester.runpytest("-p", "headwater_contract")

    assert result.ret == 1
    result.stdout.fnmatch_lines(["*XPASS(strict)*we believe this fails*"])


def test_overriding_a_check_any_other_way_is_refused(harness):
    run = harness()
    run.install_forge()
    body = """
    def test_full_read_returns_every_row_once(self, subject, target):
        pass
"""
    run.pytester.makepyfile(test_forge_contract=SUBCLASS.format(body=body))

    result = run.pytester.runpytest("-p", "headwater_contract")

    assert result.ret == 2
    result.stdout.fnmatch_lines(
        ["*TestForgeContract.test_full_read_returns_every_row_once overrides a standard*"]
    )


def test_a_subclass_without_connectors_and_no_selection_is_a_usage_error(harness):
    run = harness()
    run.install_forge()
    run.pytester.makepyfile(
        test_forge_contract=textwrap.dedent(
            """
            from headwater_contract import ContractSuite

            class TestSomeContract(ContractSuite):
                pass
            """
        )
    )

    result = run.pytester.runpytest("-p", "headwater_contract")

    assert result.ret == 4
    result.stderr.fnmatch_lines(["*TestSomeContract checks no connector*"])


def test_a_secret_in_an_error_fails_the_check_and_never_reaches_the_report(harness):
    run = harness()
    run.install_variant(
        "forge_token_in_error",
        BASE_SOURCE
        + """
class Source(ForgeSource):
    def validate_credentials(self, config, runtime):
        raise ValueError(f"cannot check token {config.api_token.reveal()}")
""",
    )

    result = run.pytester.runpytest(
        "-p", "headwater_contract", "--connector", "forge", "-rA", "--show-capture=all"
    )

    assert result.ret == 1
    output = result.stdout.str() + result.stderr.str()
    assert KIT_TOKEN not in output
    result.stdout.fnmatch_lines(
        [
            "*the secret value of $.api_token appeared in a ValueError the connector raised*",
            "*validate_credentials raised ValueError: cannot check token [*][*][*]*",
        ]
    )
