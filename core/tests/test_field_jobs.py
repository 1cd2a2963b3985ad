"""Every job that differs by field type handles every field type."""

from __future__ import annotations

import importlib
from typing import get_args

import pytest

import headwater.sources.fields as fields_module
from headwater.sources import (
    Field,
    FileUploadField,
    NumberField,
    OAuthField,
    SecretField,
    SelectField,
    SelectOption,
    SwitchGroupField,
    TextField,
    TextKind,
    field_job,
    field_jobs,
)

# The modules whose jobs switch on field types; importing them registers their jobs.
JOB_MODULES = [
    "headwater.config.checks",
    "headwater.config.codegen",
    "headwater.config.json_schema",
    "headwater.serve.forms",
]

EXPECTED_JOBS = {
    "headwater.config.checks._check",
    "headwater.config.codegen._typed",
    "headwater.config.json_schema._describe",
    "headwater.serve.forms._control",
    "headwater.serve.forms._read",
}


@pytest.fixture(scope="module")
def jobs() -> dict[str, tuple[type, ...]]:
    for name in JOB_MODULES:
        importlib.import_module(name)
    return field_jobs()


def test_every_job_is_known(jobs):
    assert set(jobs) >= EXPECTED_JOBS


def test_every_job_handles_every_field_type(jobs):
    assert {name: missing for name, missing in jobs.items() if missing} == {}


def test_a_job_that_forgets_a_type_is_named(monkeypatch):
    monkeypatch.setattr(fields_module, "_JOBS", [])

    @field_job
    def describe(field: Field) -> str:
        raise TypeError(type(field).__name__)

    @describe.register
    def _(field: TextField | SecretField | NumberField | SelectField | SwitchGroupField) -> str:
        return "handled"

    name = f"{__name__}.test_a_job_that_forgets_a_type_is_named.<locals>.describe"
    assert field_jobs() == {name: (FileUploadField, OAuthField)}
    with pytest.raises(TypeError, match="OAuthField"):
        describe(OAuthField(name="oauth", label="OAuth", provider="github"))


def test_field_is_the_union_of_the_field_types():
    assert set(get_args(Field)) == {
        TextField,
        SecretField,
        NumberField,
        SelectField,
        SwitchGroupField,
        FileUploadField,
        OAuthField,
    }


@pytest.mark.parametrize(
    ("field", "kind", "secret", "must_be_given"),
    [
        (TextField(name="a", label="A"), "text", False, True),
        (TextField(name="a", label="A", kind=TextKind.EMAIL), "email", False, True),
        (TextField(name="a", label="A", default="x"), "text", False, False),
        (SecretField(name="a", label="A"), "secret", True, True),
        (NumberField(name="a", label="A", default=3), "number", False, False),
        (
            SelectField(
                name="a",
                label="A",
                default="x",
                options=[
                    SelectOption(value="x", label="X", fields=[TextField(name="b", label="B")])
                ],
            ),
            "select",
            False,
            True,
        ),
        (
            SelectField(
                name="a", label="A", default="x", options=[SelectOption(value="x", label="X")]
            ),
            "select",
            False,
            False,
        ),
        (
            SwitchGroupField(name="a", label="A", fields=[], required=True),
            "switchgroup",
            False,
            False,
        ),
        (FileUploadField(name="a", label="A"), "fileupload", True, True),
        (FileUploadField(name="a", label="A", secret=False), "fileupload", False, True),
        (OAuthField(name="a", label="A", provider="p"), "oauth", False, True),
    ],
)
def test_what_every_job_asks_of_a_field(field, kind, secret, must_be_given):
    assert (field.kind_name, field.holds_secret, field.must_be_given) == (
        kind,
        secret,
        must_be_given,
    )
