"""YamlSource: validation errors of a model become ``file:line: where: message``, in one place."""

from __future__ import annotations

from typing import Annotated, Any, Self

import pytest
from pydantic import AfterValidator, model_validator

from stations.errors import ConfigError
from stations.schema import Problems, Spec, Switch, Text, Version, invalid, within
from stations.yamlsource import Loc, YamlSource, dotted, value_at


class Part(Spec):
    size: Annotated[int, within(1, 9)]
    label: Text | None = None


def _known(key: str) -> str:
    if key.startswith("x"):
        raise invalid(f"unknown part {key!r}", hides=True)
    return key


class Machine(Spec):
    version: Version
    name: Text
    parts: tuple[Part, ...] = ()
    named: dict[Annotated[str, AfterValidator(_known)], Part] = {}  # noqa: RUF012
    spare: Switch[Part] = False

    @model_validator(mode="after")
    def _sizes_differ(self) -> Self:
        found = Problems()
        first: dict[int, int] = {}
        for index, part in enumerate(self.parts):
            if part.size in first:
                at, earlier = ("parts", index, "size"), ("parts", first[part.size], "size")
                found.add(f"size {part.size} twice", at=at, first=earlier)
            first.setdefault(part.size, index)
        if len(self.parts) > 3:
            found.add("at most 3 parts", loc=("parts",), key_line=True)
        if self.name == "bare":
            found.add("a bare problem", prefix=False)
        found.raise_any()
        return self


def problems(text: str, where: Any = None) -> list[tuple[int | None, str]]:
    source = YamlSource("m.yaml", text, name="machine", where=where)
    assert source.load(Machine) is None
    with pytest.raises(ConfigError) as caught:
        source.raise_if_problems(ConfigError)
    assert all(problem.path == "m.yaml" for problem in caught.value.problems)
    return [(problem.line, problem.message) for problem in caught.value.problems]


def test_a_valid_file_loads_into_the_model() -> None:
    text = "version: 1\nname: m\nparts:\n  - {size: 2}\n  - size: 0x3\nspare: false\n"
    source = YamlSource("m.yaml", text)
    machine = source.load(Machine)
    assert machine is not None and not source.problems
    assert [part.size for part in machine.parts] == [2, 3]  # YAML 1.1 integers, as PyYAML reads
    assert machine.spare is False
    assert source.line_at(("parts", 1)) == 5
    assert source.line_at(("parts", 1, "size")) == 5


def test_type_errors_name_what_the_file_has() -> None:
    text = 'version: "1"\nname: 12:30\nparts: {size: 1}\nspare: [1]\n'
    assert problems(text) == [
        (1, "version: expected an integer, got a string '1'"),
        (2, "name: expected a string, got an integer '12:30' (quote it)"),
        (3, "parts: expected a list, got a mapping"),
        (4, "spare: expected a mapping, got a list"),  # the union's tag is passed over
    ]


def test_unknown_and_missing_keys() -> None:
    text = "version: 1\ncolour: red\nparts:\n  - label: a\n    weight: 3\n"
    assert problems(text) == [
        (1, "machine: missing required key 'name'"),
        (2, "machine: unknown key 'colour' (allowed: name, named, parts, spare, version)"),
        (4, "parts[0]: missing required key 'size'"),
        (5, "parts[0]: unknown key 'weight' (allowed: label, size)"),
    ]


def test_a_wrong_key_is_reported_at_its_line_and_hides_its_value() -> None:
    text = "version: 1\nname: m\nnamed:\n  xy: {size: 99}\n  ok: {size: 99}\n"
    assert problems(text) == [
        (4, "named: unknown part 'xy'"),
        (5, "named.ok.size: 99 is outside 1..9"),
    ]


def test_problems_of_a_validator_point_at_values_and_earlier_lines() -> None:
    text = (
        "version: 1\n"
        "name: bare\n"
        "parts:\n"
        "  - {size: 1}\n"
        "  - {size: 2}\n"
        "  - {size: 1}\n"
        "  - {size: 3}\n"
    )
    assert problems(text) == [
        (1, "a bare problem"),  # no place: the model's own line, no prefix
        (3, "parts: at most 3 parts"),  # at the key's line, not the list's first item
        (6, "machine: size 1 twice (first at line 4)"),
    ]


def test_the_file_names_its_places() -> None:
    def where(path: Loc, data: Any) -> str | None:
        if path[:1] == ("parts",) and len(path) > 1:
            return dotted(path[2:], f"part {value_at(data, (*path[:2], 'label'))}")
        return None

    text = "version: 1\nname: m\nparts:\n  - {label: big, size: 10}\n"
    assert problems(text, where) == [(4, "part big.size: 10 is outside 1..9")]


def test_keys_given_twice_or_not_plain_and_validation_goes_on() -> None:
    text = "version: 1\nname: m\nname: n\n? [a]\n: 1\nparts: [{size: 0}]\n"
    assert problems(text) == [
        (3, "machine: duplicate key 'name'"),
        (4, "machine: keys must be plain names"),
        (6, "parts[0].size: 0 is outside 1..9"),
    ]


def test_unusual_yaml() -> None:
    assert problems("version: 1\nname: !custom m\n") == [
        (2, "name: expected a string, got !custom 'm' (quote it)")
    ]
    assert problems("version: 1\nname: &n [*n]\n") == [
        (2, "name: expected a string, got a list"),
        (2, "name[0]: an alias refers to itself"),
    ]
    assert problems("version: 1\nname: ~\n") == [(2, "name: expected a string, got nothing (null)")]
    # an optional key is left out, not given as null (unless the model says it may be)
    assert problems("version: 1\nname: m\nparts: [{size: 1, label: ~}]\n") == [
        (3, "parts[0].label: expected a string, got nothing (null)")
    ]


def test_a_file_that_cannot_be_read_or_parsed(tmp_path: Any) -> None:
    missing = YamlSource(tmp_path / "none.yaml")
    assert missing.load(Machine) is None
    assert "cannot read the file" in missing.problems[0].message
    broken = YamlSource("b.yaml", "version: 1\nname: [m\n")
    assert broken.load(Machine) is None
    ((line, message),) = [(p.line, p.message) for p in broken.problems]
    assert line is not None and message.startswith("not valid YAML")
    assert [p.message for p in YamlSource("e.yaml", "").problems] == ["the file is empty"]
