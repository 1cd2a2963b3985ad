"""An emulator's documented parameter rules: checked before its handler, answered with the API's
own error, and the request still recorded."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from headwater.emulator import (
    Choice,
    Emulator,
    EndpointRules,
    Exclusive,
    IntegerRange,
    KnownParams,
    Matches,
    ParamProblem,
    ParamRule,
    Required,
    StatusFailure,
    Together,
    TruncatedBodyFailure,
    check_params,
    emulator_transport,
    json_response,
)

ISO_SECOND = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"


class Events(Emulator):
    """An API whose /events list documents one rule per test, with a {"detail": ...} envelope."""

    def __init__(self, *rules: ParamRule) -> None:
        super().__init__()
        if rules:
            self.param_rules = (EndpointRules(path="/api/{org}/events/", rules=rules),)
        self.handled: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.handled.append(request)
        return json_response(200, [{"id": 1}])

    def param_error(self, request: httpx.Request, problem: ParamProblem) -> httpx.Response:
        assert check_params(self.param_rules, request) == problem
        return json_response(400, {"detail": problem.message, "param": problem.param})


def get(api: Emulator, query: str, path: str = "/api/acme/events/") -> httpx.Response:
    with httpx.Client(transport=emulator_transport(api)) as client:
        return client.get(f"https://api.test{path}?{query}".rstrip("?"))


# --- every kind, accepted and rejected ----------------------------------------------------------

RULES: list[tuple[str, ParamRule, str, dict[str, Any] | None]] = [
    # (id, rule, query, the error body expected, or None when the request is accepted)
    ("together-none", Together(names=("start", "end")), "", None),
    ("together-both", Together(names=("start", "end")), "start=a&end=b", None),
    (
        "together-start-only",
        Together(names=("start", "end")),
        "start=a",
        {"detail": "start and end must be given together: end is missing", "param": "end"},
    ),
    (
        "together-end-only-api-words",
        Together(names=("start", "end"), message="start and end are both required"),
        "end=b",
        {"detail": "start and end are both required", "param": "start"},
    ),
    (
        "together-unless-given",
        Together(names=("start", "end"), unless=("statsPeriod",)),
        "start=a&statsPeriod=14d",
        None,
    ),
    (
        "together-three",
        Together(names=("a", "b", "c")),
        "a=1&c=3",
        {"detail": "a, b and c must be given together: b is missing", "param": "b"},
    ),
    ("required-given", Required(name="filter"), "filter=x", None),
    ("required-empty-is-given", Required(name="filter"), "filter=", None),
    (
        "required-missing",
        Required(name="filter"),
        "sort=id",
        {"detail": "filter is required", "param": "filter"},
    ),
    ("exclusive-one", Exclusive(names=("after", "before")), "after=x", None),
    ("exclusive-none", Exclusive(names=("after", "before")), "", None),
    (
        "exclusive-both",
        Exclusive(names=("after", "before")),
        "before=y&after=x",
        {"detail": "after and before cannot be given together", "param": "before"},
    ),
    ("choice-allowed", Choice(name="sort", values={"date", "new"}), "sort=new", None),
    ("choice-absent", Choice(name="sort", values={"date", "new"}), "", None),
    (
        "choice-other",
        Choice(name="sort", values={"date", "new"}),
        "sort=old",
        {"detail": "sort must be one of date, new, not 'old'", "param": "sort"},
    ),
    (
        "choice-every-value-of-a-repeated-param",
        Choice(name="sort", values={"date", "new"}),
        "sort=date&sort=old",
        {"detail": "sort must be one of date, new, not 'old'", "param": "sort"},
    ),
    (
        "matches-whole",
        Matches(name="since", pattern=ISO_SECOND),
        "since=2025-03-01T08:00:00Z",
        None,
    ),
    (
        "matches-only-a-prefix",
        Matches(name="since", pattern=ISO_SECOND),
        "since=2025-03-01T08:00:00Zjunk",
        {"detail": "since is malformed: '2025-03-01T08:00:00Zjunk'", "param": "since"},
    ),
    (
        "matches-compiled-with-api-words",
        Matches(
            name="since",
            pattern=re.compile(ISO_SECOND),
            message="The {param} parameter needs to be in ISO 8601 format, not {value}",
        ),
        "since=yesterday",
        {
            "detail": "The since parameter needs to be in ISO 8601 format, not yesterday",
            "param": "since",
        },
    ),
    ("integer-in-range", IntegerRange(name="limit", minimum=1, maximum=100), "limit=100", None),
    ("integer-lowest", IntegerRange(name="limit", minimum=1, maximum=100), "limit=1", None),
    (
        "integer-above",
        IntegerRange(name="limit", minimum=1, maximum=100),
        "limit=101",
        {"detail": "limit must be an integer from 1 to 100, not '101'", "param": "limit"},
    ),
    (
        "integer-below",
        IntegerRange(name="limit", minimum=1, maximum=100),
        "limit=0",
        {"detail": "limit must be an integer from 1 to 100, not '0'", "param": "limit"},
    ),
    (
        "integer-not-a-number",
        IntegerRange(name="limit", minimum=1),
        "limit=ten",
        {"detail": "limit must be an integer of at least 1, not 'ten'", "param": "limit"},
    ),
    (
        "integer-a-fraction",
        IntegerRange(name="created[gte]"),
        "created%5Bgte%5D=1.5",
        {"detail": "created[gte] must be an integer, not '1.5'", "param": "created[gte]"},
    ),
    ("integer-unbounded", IntegerRange(name="created[gte]"), "created%5Bgte%5D=-12", None),
    (
        "integer-at-most",
        IntegerRange(name="page_size", maximum=1000),
        "page_size=1001",
        {
            "detail": "page_size must be an integer of at most 1000, not '1001'",
            "param": "page_size",
        },
    ),
    ("known-only", KnownParams(names={"limit", "cursor"}), "limit=5&cursor=x", None),
    (
        "known-other",
        KnownParams(names={"limit"}, message="Received unknown parameter: {param}"),
        "limit=5&sort=asc",
        {"detail": "Received unknown parameter: sort", "param": "sort"},
    ),
    (
        "message-keeps-braces-of-its-own",
        Required(name="q", message='{param} is required, like {"q": "x"}'),
        "",
        {"detail": 'q is required, like {"q": "x"}', "param": "q"},
    ),
]


@pytest.mark.parametrize(
    ("rule", "query", "error"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_a_request_breaking_a_rule_gets_the_apis_error_and_others_reach_the_handler(
    rule: ParamRule, query: str, error: dict[str, Any] | None
) -> None:
    api = Events(rule)

    answer = get(api, query)

    if error is None:
        assert answer.status_code == 200
        assert len(api.handled) == 1
    else:
        assert answer.status_code == 400
        assert answer.json() == error
        assert api.handled == []
    assert len(api.requests) == 1  # a rejected request is recorded too


# --- where rules apply -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "applies"),
    [
        ("/api/acme/events/", True),
        ("/api/acme/events", True),  # slashes at either end do not matter
        ("/api/a%2Fb/events/", True),  # an encoded slash stays inside its segment
        ("/api/acme/events/1/", False),
        ("/api/events/", False),
        ("/api//events/", False),  # a placeholder matches a non-empty segment only
        ("/api/acme/issues/", False),
    ],
)
def test_rules_apply_to_their_path_pattern_only(path: str, applies: bool) -> None:
    api = Events(Required(name="start"))

    answer = get(api, "", path=path)

    assert answer.status_code == (400 if applies else 200)


def test_every_matching_endpoint_applies_in_the_order_declared() -> None:
    class Lists(Events):
        param_rules = (
            EndpointRules(path="/v1/{objects}", rules=[IntegerRange(name="limit", maximum=100)]),
            EndpointRules(path="/v1/charges", rules=[Required(name="customer")]),
        )

    api = Lists()

    assert get(api, "limit=500", path="/v1/charges").json()["param"] == "limit"
    assert get(api, "limit=5", path="/v1/charges").json()["param"] == "customer"
    assert get(api, "limit=5", path="/v1/refunds").status_code == 200


def test_the_first_broken_rule_of_an_endpoint_is_the_answer() -> None:
    api = Events(Together(names=("start", "end")), Matches(name="start", pattern=ISO_SECOND))

    assert get(api, "start=junk").json()["param"] == "end"
    assert get(api, "start=junk&end=2025-03-01T08:00:00Z").json()["param"] == "start"


def test_check_params_serves_a_plain_handler() -> None:
    rules = [EndpointRules(path="/items", rules=[Exclusive(names=("a", "b"))])]

    problem = check_params(rules, httpx.Request("GET", "https://api.test/items?a=1&b=2"))

    assert problem is not None
    assert (problem.param, problem.value, problem.rule) == ("b", "2", rules[0].rules[0])
    assert check_params(rules, httpx.Request("GET", "https://api.test/items?a=1")) is None


# --- rules and injected failures -----------------------------------------------------------------


def test_an_injected_failure_comes_before_the_rules() -> None:
    api = Events(Required(name="start"))
    api.inject(StatusFailure(status=503))

    assert get(api, "").status_code == 503
    assert get(api, "").status_code == 400
    assert len(api.requests) == 2


def test_a_truncated_answer_is_the_rules_error_cut_short() -> None:
    api = Events(Required(name="start"))
    api.inject(TruncatedBodyFailure(keep_bytes=3))

    with httpx.Client(transport=emulator_transport(api)) as client:
        response = client.send(
            client.build_request("GET", "https://api.test/api/acme/events/"), stream=True
        )
        assert response.status_code == 400
        with pytest.raises(httpx.RemoteProtocolError):
            response.read()
    assert api.handled == []


# --- declaring rules -----------------------------------------------------------------------------


def test_an_emulator_that_declares_rules_must_say_how_the_api_answers() -> None:
    with pytest.raises(TypeError, match="param_error"):

        class Silent(Emulator):
            param_rules = (EndpointRules(path="/x", rules=[Required(name="a")]),)

            def handle(self, request: httpx.Request) -> httpx.Response:
                return json_response(200, [])


def test_an_emulator_with_instance_rules_and_no_error_answer_fails_loudly() -> None:
    class Forgetful(Emulator):
        def __init__(self) -> None:
            super().__init__()
            self.param_rules = (EndpointRules(path="/x", rules=[Required(name="a")]),)

        def handle(self, request: httpx.Request) -> httpx.Response:
            return json_response(200, [])

    with pytest.raises(NotImplementedError, match="param_error"):
        Forgetful()(httpx.Request("GET", "https://api.test/x"))


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: Together(names=("start",)), "at least two different"),
        (lambda: Together(names=("start", "start")), "at least two different"),
        (lambda: Exclusive(names=()), "at least two different"),
        (
            lambda: IntegerRange(name="limit", minimum=10, maximum=1),
            "minimum 10 is above maximum 1",
        ),
        (
            lambda: EndpointRules(path="v1/charges", rules=[Required(name="a")]),
            "must start with '/'",
        ),
        (lambda: EndpointRules(path="/v1/charges", rules=[]), "at least one rule"),
    ],
)
def test_a_rule_that_cannot_be_right_is_refused_when_declared(make: Any, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        make()


def test_rules_are_frozen_data() -> None:
    rule = Choice(name="sort", values=["date", "new"])

    assert rule == Choice(name="sort", values={"new", "date"})
    assert hash(rule) == hash(Choice(name="sort", values={"new", "date"}))
    with pytest.raises(AttributeError):
        rule.name = "order"  # type: ignore[misc]
