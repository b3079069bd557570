"""The scalar class of the stream path agrees with the vectorised one, boundaries included."""

from __future__ import annotations

import numpy as np
import pytest

from stations.standard.gb3838 import ASSESSED, limits, parameter_classes, value_class

CASES = [(p, body) for body in ("lake", "river") for p in ASSESSED] + [("tn", "lake")]


@pytest.mark.parametrize(("parameter", "body"), CASES)
def test_value_class_matches_parameter_classes(parameter: str, body: str) -> None:
    rng = np.random.default_rng(7)
    edges = [6.0, 9.0] if parameter == "ph" else list(limits(parameter, body))
    near = [e * f for e in edges for f in (1 - 1e-6, 1.0, 1 + 1e-6)]
    values = np.concatenate([near, rng.uniform(0, max(edges) * 1.5, 500)])
    expected = parameter_classes(parameter, values, body)
    assert [value_class(parameter, float(v), body) for v in values] == expected.tolist()
