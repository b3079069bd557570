"""The colours of the GB 3838-2002 water-quality classes, in one place: the Grafana boards'
value mappings (boards/panels.py) and the charts (boards/charts.py, the exports' too) use them."""

from __future__ import annotations

from collections.abc import Mapping

#: Classes Ⅰ..劣Ⅴ (1..6), as the Chinese bulletins draw them.
CLASS_COLOURS: Mapping[int, str] = {
    1: "#3d8fff",
    2: "#37bff0",
    3: "#56a64b",
    4: "#fade2a",
    5: "#ff9830",
    6: "#e02f44",
}
#: A station without a class.
NO_CLASS_COLOUR = "#9e9e9e"
