"""The jurisdictions of the Taihu basin and who is involved in a station's data.

The Taihu Basin Authority (TBA, 水利部太湖流域管理局) coordinates the provinces: it sees every
station and is named on every breach; the provinces own the stations.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Jurisdiction(StrEnum):
    """A party of the basin's data-sharing arrangement."""

    JS = "JS"
    ZJ = "ZJ"
    SH = "SH"
    AH = "AH"
    TBA = "TBA"

    @property
    def name_zh(self) -> str:
        """The Chinese name, as shown to users."""
        return _NAMES[self]


_NAMES = {
    Jurisdiction.JS: "江苏省",
    Jurisdiction.ZJ: "浙江省",
    Jurisdiction.SH: "上海市",
    Jurisdiction.AH: "安徽省",
    Jurisdiction.TBA: "太湖流域管理局",
}

#: The basin authority, named on every breach.
BASIN_AUTHORITY = Jurisdiction.TBA


def involved(owner: Jurisdiction, *others: Iterable[Jurisdiction]) -> tuple[Jurisdiction, ...]:
    """The owner first, then every other party once (in the order given), then TBA."""
    result: list[Jurisdiction] = [owner]
    for group in others:
        for party in group:
            if party not in result:
                result.append(party)
    if BASIN_AUTHORITY not in result:
        result.append(BASIN_AUTHORITY)
    return tuple(result)
