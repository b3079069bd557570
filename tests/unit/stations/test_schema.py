"""The value types of the config files' models: what each accepts and how it words a problem."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import SecretStr, ValidationError

from stations.jurisdictions import Jurisdiction
from stations.schema import (
    PROBLEM,
    EnvSecret,
    Number,
    Span,
    Spec,
    Url,
    bounded,
    choice,
    names,
)


class Values(Spec):
    span: Span | None = None
    url: Url | None = None
    secret: EnvSecret | None = None
    level: Annotated[Number, bounded(0.0, 10.0, positive=True)] | None = None
    owner: Annotated[Jurisdiction, choice(Jurisdiction)] | None = None
    tags: Annotated[tuple[str, ...], names(choices=("a", "b", "c"))] = ()


def errors(data: dict[str, Any], environ: dict[str, str] | None = None) -> list[tuple[Any, str]]:
    with pytest.raises(ValidationError) as caught:
        Values.model_validate(data, context={"environ": environ or {}})
    return [
        (error["loc"], error["ctx"]["message"] if error["type"] == PROBLEM else error["type"])
        for error in caught.value.errors()
    ]


def test_good_values() -> None:
    values = Values.model_validate(
        {
            "span": (0, 1.5),
            "url": "https://example.org/x",
            "secret": "BASIN_X",
            "level": 3,
            "owner": "JS",
            "tags": ("a", "c"),
        },
        context={"environ": {"BASIN_X": "s3cret"}},
    )
    assert values.span == (0.0, 1.5)
    assert values.owner is Jurisdiction.JS
    assert isinstance(values.secret, SecretStr)
    assert values.secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(values)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"span": (2, 1)}, [(("span",), "low 2 must be below high 1")]),
        ({"span": (1, "x")}, [(("span",), "expected [low, high], two numbers")]),
        ({"span": (1, float("inf"))}, [(("span",), "expected [low, high], two numbers")]),
        ({"span": {"low": 1}}, [(("span",), "tuple_type")]),
        ({"url": "ftp://x"}, [(("url",), "'ftp://x' must be an http or https URL")]),
        ({"url": "http://"}, [(("url",), "'http://' has no host")]),
        ({"url": " "}, [(("url",), "must not be empty")]),
        (
            {"secret": "BASIN_Y"},
            [(("secret",), "environment variable BASIN_Y is not set (or empty)")],
        ),
        ({"secret": "1X"}, [(("secret",), "'1X' does not match [A-Za-z_][A-Za-z0-9_]*")]),
        ({"secret": 7}, [(("secret",), "string_type")]),
        ({"level": 0}, [(("level",), "must be greater than 0, got 0")]),
        ({"level": 11}, [(("level",), "11 is outside [0.0, 10.0]")]),
        ({"level": True}, [(("level",), "float_type")]),
        ({"owner": "HK"}, [(("owner",), "'HK' is not one of AH, JS, SH, TBA, ZJ")]),
        (
            {"tags": ("a", "d", 3, "a")},
            [
                (("tags", 1), "'d' is not one of a, b, c"),
                (("tags", 2), "string_type"),
            ],
        ),
        ({"tags": ("a", "b", "a")}, [(("tags",), "'a' is listed twice")]),
    ],
)
def test_bad_values_say_what_is_wrong(
    data: dict[str, Any], expected: list[tuple[Any, str]]
) -> None:
    assert errors(data) == expected


def test_a_repeated_item_is_reported_at_the_repeat() -> None:
    with pytest.raises(ValidationError) as caught:
        Values.model_validate({"tags": ("a", "b", "a")}, context={})
    (error,) = caught.value.errors()
    assert error["ctx"]["at"] == (2,)


def test_specs_are_strict_and_frozen() -> None:
    assert errors({"level": "3"}) == [(("level",), "float_type")]
    values = Values.model_validate({"level": 3}, context={})
    with pytest.raises(ValidationError):
        values.level = 4  # type: ignore[misc]
