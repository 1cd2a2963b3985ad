"""The reference connector passes every check, and each check runs where it should."""

from __future__ import annotations

from headwater_contract import STANDARD_CHECKS


def test_the_reference_connector_passes_every_check(harness):
    run = harness()
    run.install_forge()

    outcome = run.run("--connector", "forge")

    failures = {name: outcome.messages.get(name, "") for name in outcome.failed}
    assert failures == {}, "\n\n".join(f"{n}:\n{m}" for n, m in failures.items())
    assert outcome.ret == 0
    checked = {name.partition("[")[0] for name in outcome.passed}
    assert checked == set(STANDARD_CHECKS)
