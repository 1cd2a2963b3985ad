"""`RestSource`: a source whose schemas and error rules come from its endpoint catalog.

The declarations that make up the rest of a source: test_rest_declared_source.py.
"""

from __future__ import annotations

import pytest

from headwater import (
    ErrorKind,
    ErrorRule,
    IncrementalField,
    Runtime,
    SourceConfig,
    SyncMode,
    TextField,
)
from headwater.rest import Endpoint, IncrementalParams, RestSource

UPDATED = IncrementalField(field="updated_at", label="Updated", type="datetime")

ISSUES = Endpoint(
    name="issues",
    path="/issues",
    primary_keys=("id",),
    incremental=IncrementalParams(start_param="since"),
    incremental_fields=[UPDATED],
    description="Issues, oldest change first.",
)
INVOICES = Endpoint(
    name="invoices",
    path="/invoices",
    primary_keys=("id",),
    incremental=IncrementalParams(start_param="created[gte]"),
    incremental_fields=[UPDATED],
    default_sync_mode=SyncMode.FULL_REFRESH,
)
LABELS = Endpoint(name="labels", path="/labels", primary_keys=("name",))
CATALOG = {endpoint.name: endpoint for endpoint in (ISSUES, INVOICES, LABELS)}
RULES = (ErrorRule(kind=ErrorKind.AUTHENTICATION, message="Acme rejected the token"),)


class AcmeSource(RestSource[object]):
    source_type = "acme"
    endpoints = CATALOG
    non_retryable_errors = RULES

    def get_source_config(self):
        return SourceConfig(label="Acme", fields=[TextField(name="org", label="Org")])

    def validate_credentials(self, config, runtime):
        return True, None

    def source_for_pipeline(self, config, inputs, runtime):
        raise AssertionError("not read here")


def test_the_schemas_are_the_endpoints_in_their_order_without_a_request():
    source = AcmeSource()

    listed = source.get_schemas(object(), Runtime(base_url="http://unreachable.invalid"))

    assert [schema.name for schema in listed] == ["issues", "invoices", "labels"]
    assert list(source.get_catalog_schemas()) == list(listed)
    issues, invoices, labels = listed
    assert issues.supports_incremental
    assert issues.incremental_fields == (UPDATED,)
    assert issues.description == "Issues, oldest change first."
    assert issues.effective_default_sync_mode is SyncMode.INCREMENTAL
    assert invoices.effective_default_sync_mode is SyncMode.FULL_REFRESH
    assert SyncMode.INCREMENTAL in invoices.sync_modes  # still an opt-in
    assert labels.sync_modes == (SyncMode.FULL_REFRESH,)


def test_the_error_rules_are_the_declared_ones():
    assert list(AcmeSource().get_non_retryable_errors()) == list(RULES)


def test_a_source_that_writes_its_own_form_needs_no_spec():
    # Connectors whose form is not declared (an older shape, or a database source built on
    # the catalog alone) keep working: only the declared parts are derived.
    assert AcmeSource.source_type == "acme"
    assert AcmeSource().get_source_config().label == "Acme"


@pytest.mark.parametrize(
    ("mode", "incremental", "error"),
    [
        (None, False, None),
        (SyncMode.FULL_REFRESH, False, None),
        (SyncMode.FULL_REFRESH, True, None),
        ("full_refresh", True, None),
        (SyncMode.INCREMENTAL, True, None),
        (SyncMode.APPEND, True, None),
        (SyncMode.INCREMENTAL, False, "default_sync_mode incremental needs incremental reads"),
        (SyncMode.APPEND, False, "default_sync_mode append needs incremental reads"),
        ("sideways", True, "'sideways' is not a valid SyncMode"),
    ],
)
def test_an_endpoint_default_sync_mode_must_be_one_it_supports(mode, incremental, error):
    fields = (
        {"incremental": IncrementalParams(start_param="since"), "incremental_fields": [UPDATED]}
        if incremental
        else {}
    )

    def make():
        return Endpoint(name="x", path="/x", primary_keys=("id",), default_sync_mode=mode, **fields)

    if error is None:
        endpoint = make()
        expected = SyncMode(mode) if mode is not None else None
        assert endpoint.schema().default_sync_mode == expected
    else:
        with pytest.raises(ValueError, match=error):
            make()
