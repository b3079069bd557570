"""Who sees what: the grants of the shipped list, the own-data and cross-boundary rules."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from stations.errors import UnknownStationError
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.sharing.config import load_sharing
from stations.sharing.grants import (
    Basis,
    Grant,
    Granularity,
    SharingList,
    boundary_parties,
    station_data,
)

JS, ZJ, SH, AH, TBA = (Jurisdiction(code) for code in ("JS", "ZJ", "SH", "AH", "TBA"))


@pytest.fixture(scope="module")
def shipped(shipped_registry: Registry) -> SharingList:
    return load_sharing(registry=shipped_registry)


def received(sharing: SharingList, party: Jurisdiction) -> dict[tuple[str, str], Grant]:
    return {(g.station, g.data): g for g in sharing.grants_for(party)}


def line_in_file(path: str, marker: str) -> int:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if marker in line)


def test_zj_receives_a_js_lake_sections_tp_in_real_time(
    shipped: SharingList, shipped_registry: Registry
) -> None:
    xishan = shipped_registry.by_name("西山")  # JS lake section
    grant = received(shipped, ZJ)[(xishan.id, "tp")]
    assert grant == Grant(
        owner=JS,
        party=ZJ,
        station=xishan.id,
        data="tp",
        granularity=Granularity.REALTIME,
        delay_hours=0,
        basis=Basis.LIST,
        line=line_in_file(shipped.path, "- stations: lake"),  # JS's first item
    )
    assert grant.delay == timedelta(0) and grant.granularity.window is None


def test_zj_does_not_receive_what_is_not_shared_with_it(
    shipped: SharingList, shipped_registry: Registry
) -> None:
    river = shipped_registry.by_name("五牧")  # JS river section, not cross-boundary
    assert not river.cross_boundary
    zj = received(shipped, ZJ)
    assert (river.id, "do") not in zj  # river DO goes to TBA only
    assert (river.id, "qc") not in zj
    assert ZJ not in shipped.audience(river.id, "do")
    assert set(shipped.audience(river.id, "do")) == {JS, TBA}
    inner = shipped_registry.by_name("黄渡")  # SH inner river section: TBA only
    assert set(shipped.audience(inner.id, "tp")) == {SH, TBA}


def test_a_delayed_daily_mean_item_carries_its_delay_and_granularity(
    shipped: SharingList, shipped_registry: Registry
) -> None:
    river = shipped_registry.by_name("五牧")
    grant = received(shipped, ZJ)[(river.id, "tp")]
    assert (grant.granularity, grant.delay_hours, grant.basis) == (
        Granularity.DAILY,
        24,
        Basis.LIST,
    )
    assert grant.delay == timedelta(hours=24)
    assert grant.granularity.window == timedelta(days=1)
    assert grant.terms == "daily means after 24 h"
    # the same data goes to the basin authority as measured, at once
    assert shipped.audience(river.id, "tp")[TBA].terms == "real time at once"


def test_a_party_sees_a_cross_boundary_section_it_is_party_to_in_full(
    shipped: SharingList, shipped_registry: Registry
) -> None:
    fenhu = shipped_registry.by_name("汾湖大桥(界标)")  # SH's, shared with JS and ZJ
    assert boundary_parties(fenhu) == (JS, ZJ)
    # SH's items share its cross-boundary sections with TBA only; ZJ sees it by the rule
    sh_items = [item for item in shipped.items if item.owner is SH and fenhu.id in item.stations]
    assert [item.shared_with for item in sh_items] == [(TBA,)]
    zj = received(shipped, ZJ)
    for data in station_data(fenhu):
        grant = zj[(fenhu.id, data)]
        assert (grant.basis, grant.granularity, grant.delay_hours) == (
            Basis.CROSS_BOUNDARY,
            Granularity.REALTIME,
            0,
        )
    assert set(shipped.audience(fenhu.id, "do")) == {JS, ZJ, SH, TBA}
    assert AH not in shipped.audience(fenhu.id, "do")


def test_a_party_sees_its_own_data_in_full(
    shipped: SharingList, shipped_registry: Registry
) -> None:
    zj = received(shipped, ZJ)
    for station in (s for s in shipped_registry if s.jurisdiction is ZJ):
        for data in station_data(station):
            grant = zj[(station.id, data)]
            assert (grant.owner, grant.basis, grant.terms) == (ZJ, Basis.OWN, "real time at once")
    own = [g for g in shipped.grants_for(ZJ) if g.owner is ZJ]
    assert len(own) == sum(len(station_data(s)) for s in shipped_registry if s.jurisdiction is ZJ)


def test_received_groups_by_owner_the_party_first(shipped: SharingList) -> None:
    grouped = shipped.received(ZJ)
    assert list(grouped) == [ZJ, JS, SH, AH, TBA]
    assert all(g.owner is owner for owner, grants in grouped.items() for g in grants)
    assert sum(len(grants) for grants in grouped.values()) == len(shipped.grants_for(ZJ))


def test_audience_of_an_unknown_station_or_data_the_station_does_not_give(
    shipped: SharingList,
) -> None:
    with pytest.raises(UnknownStationError):
        shipped.audience("JS-TH-999", "tp")
    assert shipped.audience("TBA-HY-001", "class") == {}  # a gauge has no class
    assert set(shipped.audience("TBA-HY-001", "level")) == set(Jurisdiction)


def test_the_cross_boundary_rule_wins_over_a_coarser_item(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = (
        "version: 1\n"
        "years:\n"
        "  2021:\n"
        "    owners:\n"
        "      SH:\n"
        "        - stations: all\n"
        "          excluding: [SH-CJ-001]\n"
        "          data: [tp, class]\n"
        "          shared_with: all\n"
        "          granularity: daily\n"
        "          delay_hours: 48\n"
    )
    path = tmp_path / "sharing.yaml"
    path.write_text(text, encoding="utf-8")
    sharing = load_sharing(path, registry=shipped_registry)
    fenhu = shipped_registry.by_name("汾湖大桥(界标)")
    audience = sharing.audience(fenhu.id, "tp")
    assert audience[ZJ].basis is Basis.CROSS_BOUNDARY and audience[ZJ].delay_hours == 0
    assert audience[AH].terms == "daily means after 48 h" and audience[AH].line == 6
    assert SH not in {g.party for g in audience.values() if g.basis is not Basis.OWN}
    assert "SH-CJ-001" not in sharing.items[0].stations  # excluded
    assert set(sharing.audience("SH-CJ-001", "tp")) == {SH}
    # besides its own, JS sees SH's item and the sections it is party to (ZJ's 乌镇北, 王江泾)
    js_sees = {g.station for g in sharing.grants_for(JS) if g.owner is not JS}
    party_to = {s.id for s in shipped_registry if JS in boundary_parties(s)}
    assert {"ZJ-TH-002", "ZJ-TH-024"} <= party_to
    assert js_sees == set(sharing.items[0].stations) | party_to
