"""QC limits from YAML: layering, validation against the check signatures, lines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from stations.errors import QCConfigError
from stations.jurisdictions import Jurisdiction
from stations.quality.limits import CheckConfig, check_arguments, load_qc_limits
from stations.registry import Registry, Station

LAYERED = """\
version: 1
parameters:
  do:
    spike_test: {suspect_threshold: 2, fail_threshold: 4}
    flat_line_test: {tolerance: 0.001, suspect_threshold: 86400, fail_threshold: 172800}
jurisdictions:
  JS:
    do:
      spike_test: {fail_threshold: 6}
stations:
  JS-TH-900:
    do:
      flat_line_test: false
      gross_range_test: {suspect_span: [1, 15]}
"""


def kwargs(checks: tuple[CheckConfig, ...]) -> dict[str, dict[str, object]]:
    return {check.name: dict(check.kwargs) for check in checks}


def test_layers_override_key_by_key(station_factory: Callable[..., Station]) -> None:
    limits = load_qc_limits("layered.yaml", text=LAYERED)
    own = station_factory(station_id="JS-TH-900")
    neighbour = station_factory(station_id="JS-TH-901")
    elsewhere = station_factory(station_id="ZJ-TH-900", jurisdiction=Jurisdiction.ZJ)
    # the factory's sensors span 0..100; DO's plausible range is 0..20
    assert kwargs(limits.checks_for(own, "do")) == {
        "gross_range_test": {"fail_span": (0.0, 100.0), "suspect_span": (1.0, 15.0)},
        "spike_test": {"suspect_threshold": 2.0, "fail_threshold": 6.0},
    }
    assert kwargs(limits.checks_for(neighbour, "do")) == {
        "gross_range_test": {"fail_span": (0.0, 100.0), "suspect_span": (0.0, 20.0)},
        "spike_test": {"suspect_threshold": 2.0, "fail_threshold": 6.0},
        "flat_line_test": {
            "tolerance": 0.001,
            "suspect_threshold": 86400.0,
            "fail_threshold": 172800.0,
        },
    }
    assert kwargs(limits.checks_for(elsewhere, "do"))["spike_test"] == {
        "suspect_threshold": 2.0,
        "fail_threshold": 4.0,
    }
    # a parameter the file does not mention still gets the gross range check
    assert [c.name for c in limits.checks_for(own, "tp")] == ["gross_range_test"]


def test_check_configs_run(station_factory: Callable[..., Station]) -> None:
    limits = load_qc_limits("layered.yaml", text=LAYERED)
    gross, spike = limits.checks_for(station_factory(station_id="JS-TH-900"), "do")
    values = np.array([8.0, 16.0, 8.0, 120.0])
    times = np.arange(4) * 14400.0
    assert gross.run(values, times).tolist() == [1, 3, 1, 4]
    # spike refs: |16 - 8| = 8 > 6 fail; |8 - 68| = 60 fail
    assert spike.run(values, times).tolist() == [2, 4, 4, 2]
    assert spike.describe() == "spike_test(suspect_threshold=2, fail_threshold=6)"


def test_arguments_come_from_the_signatures() -> None:
    flat = check_arguments("flat_line_test")
    assert set(flat) == {"tolerance", "suspect_threshold", "fail_threshold"}
    assert all(arg.required and not arg.span for arg in flat.values())
    gross = check_arguments("gross_range_test")
    assert gross["fail_span"].required and gross["fail_span"].span
    assert not gross["suspect_span"].required and gross["suspect_span"].span


def test_shipped_limits_load_against_the_shipped_registry(shipped_registry: Registry) -> None:
    limits = load_qc_limits(registry=shipped_registry)
    shanghai = shipped_registry.by_name("吴淞口")
    cond = kwargs(limits.checks_for(shanghai, "cond"))
    assert cond["spike_test"] == {"suspect_threshold": 300.0, "fail_threshold": 1000.0}
    assert "flat_line_test" in cond
    lake_level = shipped_registry.by_name("太湖平均水位")
    assert "flat_line_test" not in kwargs(limits.checks_for(lake_level, "level"))


def line_of(text: str, marker: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if marker in line)


BAD = [
    ("    spikes_test: {suspect_threshold: 1, fail_threshold: 2}\n", "spikes_test", "unknown key"),
    ("    spike_test: {suspect: 1, fail_threshold: 2}\n", "suspect:", "unknown key 'suspect'"),
    ("    spike_test: {suspect_threshold: 1}\n", "spike_test", "missing fail_threshold"),
    ("    spike_test: {suspect_threshold: 3, fail_threshold: 1}\n", "spike_test", "below suspect"),
    ("    spike_test: {suspect_threshold: -1, fail_threshold: 1}\n", "spike_test", "outside"),
    (
        "    spike_test: {suspect_threshold: high, fail_threshold: 1}\n",
        "high",
        "expected a finite number",
    ),
    ("    gross_range_test: {suspect_span: [1]}\n", "suspect_span", "expected [low, high]"),
    ("    rate_of_change_test: {threshold: 0}\n", "threshold: 0", "greater than 0"),
]


@pytest.mark.parametrize(("line", "marker", "message"), BAD)
def test_bad_limits_fail_loudly_with_the_line(line: str, marker: str, message: str) -> None:
    text = "version: 1\nparameters:\n  do:\n" + line
    with pytest.raises(QCConfigError) as caught:
        load_qc_limits("qc.yaml", text=text)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == ("qc.yaml", line_of(text, marker))
    assert message in problem.message


def test_unknown_parameter_jurisdiction_and_station(shipped_registry: Registry) -> None:
    text = (
        "version: 1\n"
        "parameters:\n"
        "  zinc: {}\n"
        "jurisdictions:\n"
        "  HK: {}\n"
        "stations:\n"
        "  JS-TH-999: {}\n"
    )
    with pytest.raises(QCConfigError) as caught:
        load_qc_limits("qc.yaml", text=text, registry=shipped_registry)
    found = [(p.line, p.message) for p in caught.value.problems]
    assert [line for line, _ in found] == [3, 5, 7]
    assert "unknown parameter 'zinc'" in found[0][1]
    assert "unknown jurisdiction 'HK'" in found[1][1]
    assert "'JS-TH-999' is not in the registry" in found[2][1]


def test_station_override_is_checked_merged_with_its_jurisdiction(
    shipped_registry: Registry,
) -> None:
    # ZJ raises spike fail to 6; a ZJ station lowering suspect to 5 is fine, 7 is not
    station = shipped_registry.by_name("乌镇北").id
    base = (
        "version: 1\n"
        "parameters:\n"
        "  do:\n"
        "    spike_test: {suspect_threshold: 2, fail_threshold: 4}\n"
        "jurisdictions:\n"
        "  ZJ:\n"
        "    do:\n"
        "      spike_test: {fail_threshold: 6}\n"
        "stations:\n"
        f"  {station}:\n"
        "    do:\n"
    )
    load_qc_limits(
        "qc.yaml",
        text=base + "      spike_test: {suspect_threshold: 5}\n",
        registry=shipped_registry,
    )
    with pytest.raises(QCConfigError, match=r"qc\.yaml:12: .*below suspect"):
        load_qc_limits(
            "qc.yaml",
            text=base + "      spike_test: {suspect_threshold: 7}\n",
            registry=shipped_registry,
        )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(QCConfigError, match="cannot read"):
        load_qc_limits(tmp_path / "missing.yaml")
