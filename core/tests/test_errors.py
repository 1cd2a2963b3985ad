"""Typed errors, rule classification and URL redaction."""

from __future__ import annotations

import pytest

from headwater import ErrorKind, ErrorRule
from headwater.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConfigProblem,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    SourceError,
    classify,
    error_for_status,
    redact_url,
    user_message,
)


@pytest.mark.parametrize(
    ("status", "cls", "kind"),
    [
        (400, BadRequestError, ErrorKind.BAD_REQUEST),
        (401, AuthenticationError, ErrorKind.AUTHENTICATION),
        (403, PermissionDeniedError, ErrorKind.PERMISSION),
        (404, NotFoundError, ErrorKind.NOT_FOUND),
        (409, BadRequestError, ErrorKind.BAD_REQUEST),
        (422, BadRequestError, ErrorKind.BAD_REQUEST),
        (429, RateLimitedError, ErrorKind.RATE_LIMITED),
        (500, ServerError, ErrorKind.TRANSIENT),
        (503, ServerError, ErrorKind.TRANSIENT),
    ],
)
def test_error_for_status_types_the_failure(status, cls, kind):
    error = error_for_status(
        status, url="https://api.example.com/x", body_excerpt='{"message":"x"}'
    )

    assert type(error) is cls
    assert isinstance(error, SourceError)
    assert error.kind is kind
    assert error.status == status
    assert f"HTTP {status} for https://api.example.com/x" in str(error)


def test_rate_limited_error_carries_retry_after():
    error = error_for_status(429, retry_after=12.5)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 12.5


def test_not_found_is_a_lookup_error_and_config_error_a_value_error():
    assert isinstance(error_for_status(404), LookupError)
    assert isinstance(ConfigError([ConfigProblem(path="$.x", message="bad")]), ValueError)


RULES = [
    ErrorRule(text="bad credentials", message="text rule"),
    ErrorRule(kind=ErrorKind.AUTHENTICATION, message="typed auth rule"),
    ErrorRule(status=403, message="typed 403 rule"),
    ErrorRule(status=403, text="resource not accessible", message="403 with text"),
]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (error_for_status(401, body_excerpt="Bad credentials"), "typed auth rule"),
        (error_for_status(403, body_excerpt="Resource not accessible"), "typed 403 rule"),
        (error_for_status(400, body_excerpt="bad credentials given"), "text rule"),
        (RuntimeError("Bad Credentials from a library"), "text rule"),
        (error_for_status(500), None),
        (error_for_status(404), None),
    ],
)
def test_classify_prefers_typed_rules_and_first_match_wins(error, expected):
    rule = classify(error, RULES)
    assert (rule.message if rule else None) == expected


def test_classify_is_deterministic_across_calls():
    error = error_for_status(403)
    assert {classify(error, RULES) for _ in range(5)} == {RULES[2]}


def test_a_rule_without_criteria_is_refused():
    with pytest.raises(ValueError, match="at least one of kind, status or text"):
        ErrorRule(message="matches everything")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.example.com/v1/items?page=2", "https://api.example.com/v1/items?page=2"),
        (
            "https://api.example.com/v1/items?api_key=abc123&page=2",
            "https://api.example.com/v1/items?api_key=***&page=2",
        ),
        ("https://user:pw@api.example.com/x", "https://***@api.example.com/x"),
        (
            "https://api.example.com/x?access_token=t&sig=s",
            "https://api.example.com/x?access_token=***&sig=***",
        ),
        ("https://api.example.com/x?Password=p", "https://api.example.com/x?Password=***"),
    ],
)
def test_redact_url_removes_credentials(url, expected):
    assert redact_url(url) == expected


def test_redact_url_takes_extra_parameter_names():
    assert redact_url("https://a.example/x?code=1&page=2", extra_params=["code"]) == (
        "https://a.example/x?code=***&page=2"
    )


def test_config_error_lists_every_problem():
    error = ConfigError(
        [
            ConfigProblem(
                path="$.source.repository", message="missing required field 'repository'"
            ),
            ConfigProblem(path="$.source.page_size", message="expected int"),
        ],
        context="github.toml",
    )
    assert str(error) == (
        "github.toml: 2 problems\n"
        "  - missing required field 'repository' @ $.source.repository\n"
        "  - expected int @ $.source.page_size"
    )


# --- additions for the REST machinery (OAuth2 token endpoints, foreign links, retries) -----


def test_a_refusing_token_endpoint_is_a_configuration_error_rules_can_match():
    from headwater.errors import TokenEndpointError

    error = TokenEndpointError("refused: invalid_grant", status=400, oauth_error="invalid_grant")
    rules = [
        ErrorRule(kind=ErrorKind.CONFIGURATION, message="reconnect the account"),
        ErrorRule(status=400, message="bad request"),
    ]

    assert isinstance(error, SourceError)
    assert error.kind is ErrorKind.CONFIGURATION
    assert (error.status, error.oauth_error) == (400, "invalid_grant")
    assert classify(error, rules) is rules[0]


def test_a_foreign_link_error_has_its_own_kind():
    from headwater.errors import ForeignOriginError

    error = ForeignOriginError("not followed", url="https://evil.example/x")

    assert error.kind is ErrorKind.FOREIGN_ORIGIN
    assert error.url == "https://evil.example/x"
    assert error.status is None


def test_source_errors_count_one_attempt_unless_retried():
    assert error_for_status(503).attempts == 1
    assert error_for_status(503).retry_after is None


REVOKED = ErrorRule(kind=ErrorKind.AUTHENTICATION, message="The token was revoked: make a new one")


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            AuthenticationError("HTTP 401 for https://x.test/a", status=401),
            "The token was revoked: make a new one (HTTP 401 for https://x.test/a)",
        ),
        (ServerError("HTTP 503 for https://x.test/a", status=503), "HTTP 503 for https://x.test/a"),
        (
            AuthenticationError("The token was revoked: make a new one", status=401),
            "The token was revoked: make a new one",  # said once
        ),
    ],
)
def test_a_user_reads_the_connector_s_message_then_the_error_s(error, shown):
    assert user_message(error, [REVOKED]) == shown
