"""The contract suite as one test class: every standard check, parametrized per connector.

``pytest --connector github`` runs the standard class (:mod:`headwater_contract.standard`).
A connector's own test suite may subclass :class:`ContractSuite` instead, naming its connector::

    from headwater_contract import ContractSuite

    class TestGithubContract(ContractSuite):
        connectors = ("github",)

        @pytest.mark.xfail(reason="the API sends no Retry-After; reported upstream as #123")
        def test_rate_limits_honour_retry_after(self): ...

A subclass may add its own tests. It may override a standard check only to mark it ``xfail``
with a reason: the standard check still runs (its body cannot be replaced), strictly, so the
mark must go once the check passes. Anything else is refused when the class is defined.

.. versionadded:: 0.1
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from headwater.sources import SortMode
from headwater_contract.checks import (
    config,
    credentials,
    errors,
    fanout,
    incremental,
    loading,
    pagination,
    resume,
    schemas,
    transient,
)
from headwater_contract.guard import Guard, debug_logs, install
from headwater_contract.session import state
from headwater_contract.targets import Target, parameters, per_connector, per_schema, scope_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from headwater_contract.subject import SchemaFacts, Subject

__all__ = ["ContractSuite", "STANDARD_CHECKS"]


def _incremental(facts: SchemaFacts) -> bool:
    return facts.schema.supports_incremental and bool(facts.schema.incremental_fields)


def _desc(facts: SchemaFacts) -> bool:
    return _incremental(facts) and facts.response.sort_mode is SortMode.DESC


def _paginated(facts: SchemaFacts) -> bool:
    return not facts.is_fan_out and not facts.kit.single_page


def _partitioned(facts: SchemaFacts) -> bool:
    return facts.response.partition_mode is not None


def _has_incremental_fields(facts: SchemaFacts) -> bool:
    return bool(facts.schema.incremental_fields)


class ContractSuite:
    """Every standard contract check. Subclass it to run the suite from a connector's tests.

    ``connectors`` names the connectors a subclass checks; empty means those given with
    ``--connector``.

    .. versionadded:: 0.1
    """

    connectors: ClassVar[tuple[str, ...]] = ()

    # --- plumbing -----------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize each standard check over the selected connectors (and schemas)."""
        scope = scope_of(metafunc.function)
        if scope is None or "target" not in metafunc.fixturenames:
            return  # a subclass's own test
        session = state(metafunc.config)
        if not session.registered:
            raise pytest.UsageError(
                f"{type(self).__name__} is a headwater contract suite, but the"
                " headwater_contract plugin is not active; install headwater-contract or run"
                " pytest with -p headwater_contract"
            )
        names = list(self.connectors) or session.selected
        cls = type(self).__name__
        if not names:
            session.usage_problems.append(
                f"{cls} checks no connector: set {cls}.connectors = ('NAME',) or run pytest"
                " with --connector NAME"
            )
            return
        problem = session.unknown_problem(names)
        if problem is not None:
            session.usage_problems.append(f"{cls}: {problem}")
            return
        session.activate()
        with debug_logs() as capture:
            params = parameters(scope, names, session.subjects)
        for name in names:
            session.subjects.get(name).loading_logs.extend(capture.texts)
        metafunc.parametrize("target", params)

    @pytest.fixture
    def subject(self, request: pytest.FixtureRequest, target: Target) -> Subject:
        """The connector under test."""
        return state(request.config).subjects.get(target.connector)

    @pytest.fixture(autouse=True)
    def _headwater_leak_guard(self, request: pytest.FixtureRequest) -> Iterator[None]:
        """Watch the check for leaked secrets (see :mod:`headwater_contract.guard`)."""
        callspec = getattr(request.node, "callspec", None)
        target = callspec.params.get("target") if callspec is not None else None
        if not isinstance(target, Target):
            yield
            return
        subject = state(request.config).subjects.get(target.connector)
        with debug_logs(subject.packages) as capture:
            install(request.node, Guard(subject.leaks, capture, subject.leak_sites))
            yield

    # --- loading ------------------------------------------------------------------------------

    @per_connector
    def test_entry_point_name_is_source_type(self, target: Target) -> None:
        loading.entry_point_name_is_source_type(target.connector)

    @per_connector
    def test_contract_major_is_supported(self, target: Target) -> None:
        loading.contract_major_is_supported(target.connector)

    @per_connector
    def test_hooks_are_valid(self, target: Target) -> None:
        loading.hooks_are_valid(target.connector)

    @per_connector
    def test_loads_strictly(self, subject: Subject) -> None:
        loading.loads_strictly(subject)

    @per_connector
    def test_contract_kit_is_consistent(self, subject: Subject) -> None:
        loading.kit_is_consistent(subject)

    # --- config -------------------------------------------------------------------------------

    @per_connector
    def test_field_names_are_unique_and_labelled(self, subject: Subject) -> None:
        config.field_names_are_unique_and_labelled(subject)

    @per_connector
    def test_secret_fields_are_marked(self, subject: Subject) -> None:
        config.secret_fields_are_marked(subject)

    @per_connector
    def test_generated_config_class_is_current(self, subject: Subject) -> None:
        config.generated_config_class_is_current(subject)

    @per_connector
    def test_json_schema_is_valid(self, subject: Subject) -> None:
        config.json_schema_is_valid(subject)

    @per_connector
    def test_valid_config_is_accepted(self, subject: Subject) -> None:
        config.valid_config_is_accepted(subject)

    @per_connector
    def test_invalid_configs_are_rejected(self, subject: Subject) -> None:
        config.invalid_configs_are_rejected(subject)

    @per_connector
    def test_secrets_are_absent_from_reprs(self, subject: Subject) -> None:
        config.secrets_are_absent_from_reprs(subject)
        leaked = [text for text in subject.loading_logs if subject.leaks.find(text)]
        if leaked:
            pytest.fail(
                f"a secret of {subject.name} appeared in {len(leaked)} log records while it was"
                " loaded and its schemas listed; never log credentials",
                pytrace=False,
            )

    # --- credentials --------------------------------------------------------------------------

    @per_connector
    def test_valid_credentials_are_accepted(self, subject: Subject) -> None:
        credentials.valid_credentials_are_accepted(subject)

    @per_connector
    def test_rejected_credentials_return_a_message(self, subject: Subject) -> None:
        credentials.rejected_credentials_return_a_message(subject)

    @per_connector
    def test_network_failures_return_a_message(self, subject: Subject) -> None:
        credentials.network_failures_return_a_message(subject)

    # --- schemas ------------------------------------------------------------------------------

    @per_connector
    def test_schemas_are_listed_with_unique_names(self, subject: Subject) -> None:
        schemas.schemas_are_listed_with_unique_names(subject)

    @per_schema()
    def test_primary_keys_are_present_and_not_null(self, subject: Subject, target: Target) -> None:
        schemas.primary_keys_are_present_and_not_null(subject, target.schema_name)

    @per_schema(_has_incremental_fields, none="declares no incremental fields")
    def test_incremental_fields_are_present_and_typed(
        self, subject: Subject, target: Target
    ) -> None:
        schemas.incremental_fields_are_present_and_typed(subject, target.schema_name)

    @per_schema(_partitioned, none="partitions no schema")
    def test_partition_keys_are_present_and_stable(self, subject: Subject, target: Target) -> None:
        schemas.partition_keys_are_present_and_stable(subject, target.schema_name)

    # --- pagination ---------------------------------------------------------------------------

    @per_schema()
    def test_full_read_returns_every_row_once(self, subject: Subject, target: Target) -> None:
        pagination.full_read_returns_every_row_once(subject, target.schema_name)

    @per_schema()
    def test_no_duplicate_query_params(self, subject: Subject, target: Target) -> None:
        pagination.no_duplicate_query_params(subject, target.schema_name)

    @per_schema()
    def test_full_read_works_over_a_socket(self, subject: Subject, target: Target) -> None:
        pagination.full_read_works_over_a_socket(subject, target.schema_name)

    @per_schema(_paginated, none="has no paginated top-level schema")
    def test_a_repeating_api_is_stopped(self, subject: Subject, target: Target) -> None:
        pagination.a_repeating_api_is_stopped(subject, target.schema_name)

    @per_schema()
    def test_a_read_resumes_from_its_resume_points(self, subject: Subject, target: Target) -> None:
        resume.a_read_resumes_from_its_resume_points(subject, target.schema_name)

    # --- errors -------------------------------------------------------------------------------

    @per_connector
    def test_auth_failures_fail_at_once_with_a_message(self, subject: Subject) -> None:
        errors.auth_failures_fail_at_once_with_a_message(subject)

    @per_connector
    def test_rate_limits_honour_retry_after(self, subject: Subject) -> None:
        errors.rate_limits_honour_retry_after(subject)

    @per_connector
    def test_server_errors_are_retried_then_fail_clearly(self, subject: Subject) -> None:
        errors.server_errors_are_retried_then_fail_clearly(subject)

    @per_connector
    def test_timeouts_are_retried(self, subject: Subject) -> None:
        errors.timeouts_are_retried(subject)

    @per_schema(_paginated, none="has no paginated top-level schema")
    def test_a_failure_on_a_later_page_is_retried_in_place(
        self, subject: Subject, target: Target
    ) -> None:
        transient.a_failure_on_a_later_page_is_retried_in_place(subject, target.schema_name)

    @per_connector
    def test_waits_go_through_runtime_sleep(self, subject: Subject) -> None:
        transient.waits_go_through_runtime_sleep(subject)

    # --- incremental --------------------------------------------------------------------------

    @per_schema(_incremental, none="supports incremental syncs on no schema")
    def test_incremental_reads_return_new_rows_only(self, subject: Subject, target: Target) -> None:
        incremental.incremental_reads_return_new_rows_only(subject, target.schema_name)

    @per_schema(_incremental, none="supports incremental syncs on no schema")
    def test_sort_mode_matches_the_data(self, subject: Subject, target: Target) -> None:
        incremental.sort_mode_matches_the_data(subject, target.schema_name)

    @per_schema(_incremental, none="supports incremental syncs on no schema")
    def test_incremental_bounds_reach_every_page(self, subject: Subject, target: Target) -> None:
        incremental.incremental_bounds_reach_every_page(subject, target.schema_name)

    @per_schema(_incremental, none="supports incremental syncs on no schema")
    def test_lower_bounds_are_inclusive(self, subject: Subject, target: Target) -> None:
        incremental.lower_bounds_are_inclusive(subject, target.schema_name)

    @per_schema(_desc, none="has no desc (newest first) incremental schema")
    def test_desc_reads_resume_below_the_earliest_value(
        self, subject: Subject, target: Target
    ) -> None:
        incremental.desc_reads_resume_below_the_earliest_value(subject, target.schema_name)

    # --- fan-out ------------------------------------------------------------------------------

    @per_schema(lambda facts: facts.is_fan_out, none="declares no fan-out schema in its kit")
    def test_child_rows_carry_parent_fields(self, subject: Subject, target: Target) -> None:
        fanout.child_rows_carry_parent_fields(subject, target.schema_name)

    @per_schema(lambda facts: facts.is_fan_out, none="declares no fan-out schema in its kit")
    def test_auth_failures_on_children_fail_the_read(
        self, subject: Subject, target: Target
    ) -> None:
        fanout.auth_failures_on_children_fail_the_read(subject, target.schema_name)

    # --- subclasses ---------------------------------------------------------------------------

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name in STANDARD_CHECKS and value is not STANDARD_CHECKS[name]:
                setattr(cls, name, _expected_failure(cls, name, value))


STANDARD_CHECKS: dict[str, Callable[..., Any]] = {
    name: value
    for name, value in vars(ContractSuite).items()
    if name.startswith("test_") and callable(value)
}
"""Every standard check of the suite, by name.

.. versionadded:: 0.1
"""


def _xfail_reason(override: Any) -> str | None:
    for mark in getattr(override, "pytestmark", ()):
        if mark.name != "xfail":
            continue
        reason = mark.kwargs.get("reason") or (mark.args[1] if len(mark.args) > 1 else "")
        if isinstance(reason, str) and reason.strip():
            return reason
    return None


def _expected_failure(cls: type, name: str, override: Any) -> Callable[..., Any]:
    reason = _xfail_reason(override)
    if reason is None:
        raise TypeError(
            f"{cls.__qualname__}.{name} overrides a standard contract check. A connector may"
            " only mark one as a known failure: decorate the override with"
            " @pytest.mark.xfail(reason='why, and where it is tracked') and leave its body"
            " empty; the standard check still runs"
        )
    standard = STANDARD_CHECKS[name]

    @functools.wraps(standard)
    def check(*args: Any, **kwargs: Any) -> Any:
        return standard(*args, **kwargs)

    # strict: once the check passes, the mark must go.
    marked: Callable[..., Any] = pytest.mark.xfail(reason=reason, strict=True)(check)
    return marked
