"""The export's tables, from the month read from InfluxDB (:mod:`exports.reading`), the period
assessment (:mod:`stations.standard.period`, :mod:`stations.standard.trophic`) and the registry
(names as published, river or lake, owner, boundary relation, target class).

:func:`assess` turns a :class:`~exports.reading.MonthData` into an :class:`Assessed` (every
section assessed for the month, the previous month and the same month a year before; the groups;
the lake), :func:`build` makes the :class:`~exports.model.Export` of it: the tables in
:data:`TABLES` order and the summary in the bulletins' style. The columns are documented in
docs/exports.md; their keys are the CSV headers and stay stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from exports.model import Column, Export, Kind, Table, Value
from exports.reading import MonthData, StationMonth
from stations.jurisdictions import Jurisdiction
from stations.parameters import PARAMETERS
from stations.registry import Registry
from stations.standard.gb3838 import WaterBody
from stations.standard.period import (
    GroupChange,
    GroupPeriod,
    SectionPeriod,
    assess_group,
    assess_section,
    class_change,
    expected_results,
    group_change,
)
from stations.standard.trophic import Trophic, lake_trophic, trophic_index
from stations.station import Station, StationKind
from streams.store.views import AGG

BEIJING = ZoneInfo("Asia/Shanghai")
#: The basin row of the jurisdictions table and the basin in the summary.
BASIN = "太湖流域"
#: The period means shown per section: parameter, digits.
MEANS: tuple[tuple[str, int], ...] = (
    ("ph", 2),
    ("do", 2),
    ("codmn", 2),
    ("nh3n", 3),
    ("tp", 3),
    ("tn", 2),
    ("chla", 4),
)
TABLES = ("sections", "jurisdictions", "lake", "cross_boundary", "alerts", "sharing")
WATER_BODY_ZH = {WaterBody.RIVER: "河流", WaterBody.LAKE: "湖库"}


def month_span(month: date) -> tuple[datetime, datetime]:
    """The calendar month in Beijing time, as aware datetimes."""
    start = datetime.combine(month.replace(day=1), time(), BEIJING)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, datetime.combine(following, time(), BEIJING)


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Assessed:
    """One month assessed: per station id the month, the previous month, the same month a year
    before; per group (jurisdiction code or :data:`BASIN`) the same three."""

    data: MonthData
    stations: tuple[Station, ...]  # the sections of the export, registry order
    now: dict[str, SectionPeriod]
    previous: dict[str, SectionPeriod]
    last_year: dict[str, SectionPeriod]
    groups: dict[str, tuple[GroupPeriod, GroupPeriod | None, GroupPeriod | None]]
    lake: Trophic | None
    lake_sections: dict[str, Trophic]


#: The ``agg`` tag of a party view's means -> the window they average (docs/schema.md).
AGG_WINDOWS = {tag: granularity.window for granularity, tag in AGG.items()}


def _assess_all(
    stations: Sequence[Station], months: dict[str, StationMonth], month: date
) -> dict[str, SectionPeriod]:
    start, stop = month_span(month)
    result: dict[str, SectionPeriod] = {}
    for station in stations:
        read = months.get(station.id)
        if read is None:
            continue
        # a party that gets the station as hourly or daily means owes one result per window
        windows = [w for agg in read.aggregated if (w := AGG_WINDOWS.get(agg)) is not None]
        expected = expected_results(station, start, stop, max(windows, default=None))
        result[station.id] = assess_section(station, read.means, read.valid, expected)
    return result


def _group(name: str, sections: list[SectionPeriod]) -> GroupPeriod | None:
    return assess_group(name, sections) if sections else None


def assess(data: MonthData, registry: Registry) -> Assessed:
    """Assess every section the export shows (the water-quality stations the read returned, and
    in a party's export its own stations too, with or without data) and their groups."""
    seen = set(data.stations) | set(data.previous) | set(data.last_year)
    stations = tuple(
        s
        for s in registry
        if s.kind is StationKind.WATER_QUALITY
        and (s.id in seen or data.party is None or s.jurisdiction.value == data.party)
    )
    now = _assess_all(stations, data.stations, data.month)
    previous = _assess_all(stations, data.previous, _shift(data.month, -1))
    last_year = _assess_all(stations, data.last_year, _shift(data.month, -12))
    groups: dict[str, tuple[GroupPeriod, GroupPeriod | None, GroupPeriod | None]] = {}
    owners = [j.value for j in Jurisdiction if any(s.jurisdiction is j for s in stations)]
    for name in [*owners, BASIN]:
        members = [s.id for s in stations if name == BASIN or s.jurisdiction.value == name]
        current = _group(name, [now[i] for i in members if i in now])
        if current is None:
            continue
        groups[name] = (
            current,
            _group(name, [previous[i] for i in members if i in previous]),
            _group(name, [last_year[i] for i in members if i in last_year]),
        )
    lakes = [s for s in stations if s.water_body is WaterBody.LAKE and s.id in data.stations]
    lake_sections = {
        s.id: t for s in lakes if (t := trophic_index(data.stations[s.id].means)) is not None
    }
    lake = lake_trophic([data.stations[s.id].means for s in lakes]) if lakes else None
    return Assessed(data, stations, now, previous, last_year, groups, lake, lake_sections)


def boundary_relation(station: Station) -> str:
    """The boundary relation as the bulletins write it: ``浙江省→上海市``, or the parties of a
    border section without a direction: ``浙江省、江苏省(交界)``; empty when none."""
    boundary = station.boundary
    if boundary is None:
        return ""
    if boundary.upstream or boundary.downstream:
        up = boundary.upstream or (station.jurisdiction,)
        down = boundary.downstream or (station.jurisdiction,)
        return "、".join(j.name_zh for j in up) + "→" + "、".join(j.name_zh for j in down)
    parties = [station.jurisdiction, *(j for j in boundary.shared if j is not station.jurisdiction)]
    return "、".join(j.name_zh for j in parties) + "(交界)"


def _pollutants(section: SectionPeriod | None) -> str:
    if section is None:
        return ""
    return "、".join(p.text() for p in section.main_pollutants)


def _class(section: SectionPeriod | None) -> int | None:
    return None if section is None else section.water_class


def _mean_columns() -> tuple[Column, ...]:
    return tuple(
        Column(key, PARAMETERS[key].name_zh, PARAMETERS[key].name_en, Kind.NUMBER,
               "" if PARAMETERS[key].unit == "dimensionless" else PARAMETERS[key].unit, digits)
        for key, digits in MEANS
    )  # fmt: skip


STATION = Column("station", "站点编码", "station id")
NAME = Column("name", "断面名称", "section name (as published)")
JURISDICTION = Column("jurisdiction", "责任方代码", "jurisdiction code")
JURISDICTION_NAME = Column("jurisdiction_name", "责任方", "jurisdiction")


def sections_table(assessed: Assessed) -> Table:
    columns = (
        STATION,
        NAME,
        Column("river_or_lake", "河流/湖库", "river or lake"),
        JURISDICTION,
        JURISDICTION_NAME,
        Column("boundary", "跨界关系", "boundary relation (A→B)"),
        Column("target", "水质目标", "target class", Kind.CLASS),
        Column("class", "本月水质类别", "class this month", Kind.CLASS),
        Column("class_previous", "上月水质类别", "class last month", Kind.CLASS),
        Column("class_last_year", "去年同期水质类别", "class same month last year", Kind.CLASS),
        Column(
            "change_previous", "环比类别变化", "class change vs last month (+ worse)", Kind.CHANGE
        ),
        Column(
            "change_last_year", "同比类别变化", "class change vs last year (+ worse)", Kind.CHANGE
        ),
        Column("target_met", "是否达标", "target met", Kind.YES_NO),
        Column(
            "main_pollutants", "主要污染指标(超标倍数)", "main pollutants (exceedance multiple)"
        ),
        Column("valid", "有效数据", "valid results", Kind.INTEGER),
        Column("expected", "应测数据", "expected results", Kind.INTEGER),
        Column("completeness", "数据完整率", "data completeness", Kind.PERCENT, "%"),
        *_mean_columns(),
    )
    rows: list[tuple[Value, ...]] = []
    for station in assessed.stations:
        now = assessed.now.get(station.id)
        before = assessed.previous.get(station.id)
        year = assessed.last_year.get(station.id)
        means = now.means if now is not None else {}
        completeness = None if now is None or now.completeness is None else now.completeness * 100
        rows.append(
            (
                station.id,
                station.name,
                WATER_BODY_ZH[station.water_body],
                station.jurisdiction.value,
                station.jurisdiction.name_zh,
                boundary_relation(station),
                station.target_class,
                _class(now),
                _class(before),
                _class(year),
                class_change(_class(now), _class(before)),
                class_change(_class(now), _class(year)),
                None if now is None else now.target_met,
                _pollutants(now),
                None if now is None else now.valid,
                None if now is None else now.expected,
                completeness,
                *(means.get(key) for key, _ in MEANS),
            )
        )
    return Table("sections", "断面水质", "Sections", columns, tuple(rows))


def _group_pollutants(group: GroupPeriod) -> str:
    """By the share of sections worse than Ⅲ: ``总磷(35.1%)``; with fewer than 5 sections, the
    pollutants of the mean concentrations with their multiples: ``总磷(0.76)``."""
    if group.status_by_means:
        return group.pollutants_text()
    return "、".join(f"{PARAMETERS[p].name_zh}({share:.1f}%)" for p, share in group.main_pollutants)


def _change(now: GroupPeriod, before: GroupPeriod | None) -> tuple[Value, Value, Value]:
    if before is None or not now.sections or not before.sections:
        return (None, None, None)
    change: GroupChange = group_change(now, before)
    return (change.d_1_3, change.d_worse_5, change.marked)


def jurisdictions_table(assessed: Assessed) -> Table:
    pp = "percentage points"
    columns = (
        Column("group", "责任方/流域", "jurisdiction or basin"),
        Column("group_name", "名称", "name"),
        Column("sections", "断面数", "sections with a class", Kind.INTEGER),
        Column("share_1_3", "Ⅰ～Ⅲ类比例", "share Ⅰ–Ⅲ", Kind.PERCENT, "%"),
        Column("share_4_5", "Ⅳ～Ⅴ类比例", "share Ⅳ–Ⅴ", Kind.PERCENT, "%"),
        Column("share_worse_5", "劣Ⅴ类比例", "share worse than Ⅴ", Kind.PERCENT, "%"),
        Column("status", "水质状况", "status"),
        Column("status_by_means", "按均值评价", "status from mean concentrations", Kind.YES_NO),
        Column("target_rate", "达标率", "share meeting the target", Kind.PERCENT, "%"),
        Column("main_pollutants", "主要污染指标(超Ⅲ类断面比例)", "main pollutants (share > Ⅲ)"),
        Column("d_1_3_previous", "Ⅰ～Ⅲ类环比", "Ⅰ–Ⅲ change vs last month", Kind.PERCENT, pp),
        Column("d_worse_5_previous", "劣Ⅴ类环比", "劣Ⅴ change vs last month", Kind.PERCENT, pp),
        Column("marked_previous", "环比明显变化", "marked change vs last month", Kind.YES_NO),
        Column("d_1_3_last_year", "Ⅰ～Ⅲ类同比", "Ⅰ–Ⅲ change vs last year", Kind.PERCENT, pp),
        Column("d_worse_5_last_year", "劣Ⅴ类同比", "劣Ⅴ change vs last year", Kind.PERCENT, pp),
        Column("marked_last_year", "同比明显变化", "marked change vs last year", Kind.YES_NO),
    )
    rows: list[tuple[Value, ...]] = []
    for name, (now, before, year) in assessed.groups.items():
        zh = BASIN if name == BASIN else Jurisdiction(name).name_zh
        rows.append(
            (
                "basin" if name == BASIN else name,
                zh,
                now.sections,
                now.share_1_3,
                now.share_4_5,
                now.share_worse_5,
                None if now.status is None else str(now.status),
                now.status_by_means,
                now.target_rate,
                _group_pollutants(now),
                *_change(now, before),
                *_change(now, year),
            )
        )
    return Table("jurisdictions", "责任方与流域", "Jurisdictions and basin", columns, tuple(rows))


def lake_table(assessed: Assessed) -> Table:
    columns = (
        STATION,
        NAME,
        JURISDICTION,
        Column("tli", "综合营养状态指数", "trophic level index TLI(Σ)", Kind.NUMBER, digits=1),
        Column("grade", "营养状态", "trophic state"),
        Column("parameters_used", "参评指标", "parameters used"),
        Column("tn", "总氮", "total nitrogen", Kind.NUMBER, "mg/L", 2),
        Column("tp", "总磷", "total phosphorus", Kind.NUMBER, "mg/L", 3),
        Column("chla", "叶绿素a", "chlorophyll-a", Kind.NUMBER, "mg/L", 4),
        Column("codmn", "高锰酸盐指数", "permanganate index", Kind.NUMBER, "mg/L", 2),
        Column("class", "水质类别", "class", Kind.CLASS),
    )
    rows: list[tuple[Value, ...]] = []
    for station in assessed.stations:
        if station.water_body is not WaterBody.LAKE or station.id not in assessed.data.stations:
            continue
        trophic = assessed.lake_sections.get(station.id)
        means = assessed.data.stations[station.id].means
        rows.append(
            (
                station.id,
                station.name,
                station.jurisdiction.value,
                None if trophic is None else trophic.tli,
                None if trophic is None else trophic.grade,
                "" if trophic is None else ",".join(trophic.used),
                means.get("tn"),
                means.get("tp"),
                means.get("chla"),
                means.get("codmn"),
                _class(assessed.now.get(station.id)),
            )
        )
    if assessed.lake is not None and rows:
        lake = assessed.lake
        points = [assessed.data.stations[str(r[0])].means for r in rows]

        def mean(key: str) -> float | None:
            values = [m[key] for m in points if key in m]
            return sum(values) / len(values) if values else None

        rows.append(
            ("lake", "太湖(全湖)", "", lake.tli, lake.grade, ",".join(lake.used),
             mean("tn"), mean("tp"), mean("chla"), mean("codmn"), None)
        )  # fmt: skip
    notes = ("全湖：先对各点位时间平均，再对点位平均 (each point over time, then the points).",)
    return Table("lake", "湖库营养状态", "Lake trophic state", columns, tuple(rows), notes)


def cross_boundary_table(assessed: Assessed) -> Table:
    columns = (
        STATION,
        NAME,
        JURISDICTION_NAME,
        Column("boundary", "跨界关系", "boundary relation (A→B)"),
        Column("target", "水质目标", "target class", Kind.CLASS),
        Column("class", "本月水质类别", "class this month", Kind.CLASS),
        Column("class_previous", "上月水质类别", "class last month", Kind.CLASS),
        Column("class_last_year", "去年同期水质类别", "class same month last year", Kind.CLASS),
        Column("target_met", "是否达标", "target met", Kind.YES_NO),
        Column(
            "main_pollutants", "主要超标指标(超标倍数)", "main pollutants (exceedance multiple)"
        ),
        Column("completeness", "数据完整率", "data completeness", Kind.PERCENT, "%"),
    )
    rows: list[tuple[Value, ...]] = []
    for station in assessed.stations:
        if station.boundary is None:
            continue
        now = assessed.now.get(station.id)
        rows.append(
            (
                station.id,
                station.name,
                station.jurisdiction.name_zh,
                boundary_relation(station),
                station.target_class,
                _class(now),
                _class(assessed.previous.get(station.id)),
                _class(assessed.last_year.get(station.id)),
                None if now is None else now.target_met,
                _pollutants(now),
                None if now is None or now.completeness is None else now.completeness * 100,
            )
        )
    return Table("cross_boundary", "跨界断面", "Cross-boundary sections", columns, tuple(rows))


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


def alerts_table(assessed: Assessed) -> Table:
    columns = (
        Column("measure", "项目代码", "measure"),
        Column("label", "项目", "item"),
        Column("value", "数值", "value", Kind.NUMBER, digits=1),
        Column("unit", "单位", "unit"),
    )
    alerts = assessed.data.alerts
    rows: list[tuple[Value, ...]] = [
        ("breaches", "超标事件", float(assessed.data.breaches), "次"),
        ("alerts", "告警", float(alerts.count), "次"),
        ("alert_stations", "告警站点", float(alerts.stations), "个"),
        ("longest_hours", "最长持续", _hours(alerts.longest), "h"),
        ("mean_ack_hours", "平均确认用时", _hours(alerts.mean_ack), "h"),
        ("mean_resolve_hours", "平均解除用时", _hours(alerts.mean_resolve), "h"),
    ]
    for code, count in sorted(alerts.by_jurisdiction.items()):
        name = Jurisdiction(code).name_zh if code in Jurisdiction.__members__ else code
        rows.append((f"alerts_{code.lower()}", f"告警：{name}", float(count), "次"))
    return Table("alerts", "超标与告警", "Exceedances and alerts", columns, tuple(rows))


def sharing_table(assessed: Assessed, registry: Registry) -> Table:
    columns = (
        Column("owner", "提供方", "owner"),
        Column("party", "接收方", "party"),
        STATION,
        NAME,
        Column("data", "共享数据", "data"),
        Column("granularity", "粒度", "granularity"),
        Column("delay_hours", "延迟", "delay", Kind.INTEGER, "h"),
        Column("expected", "应共享", "expected", Kind.INTEGER),
        Column("delivered", "已共享", "delivered", Kind.INTEGER),
        Column("completeness", "共享完整率", "completeness", Kind.PERCENT, "%"),
        Column("basis", "依据", "basis"),
    )
    rows: list[tuple[Value, ...]] = []
    for item in assessed.data.sharing:
        name = registry.get(item.station).name if item.station in registry else ""
        completeness = item.completeness
        rows.append(
            (item.owner, item.party, item.station, name, item.data, item.granularity,
             item.delay_hours, item.expected, item.delivered,
             None if completeness is None else completeness * 100, item.basis)
        )  # fmt: skip
    return Table("sharing", "数据共享", "Data sharing", columns, tuple(rows))


def summary(assessed: Assessed) -> str:
    """The month in the bulletins' style (2021年4月，太湖流域37个断面中，Ⅰ～Ⅲ类占…)."""
    month = assessed.data.month
    head = f"{month.year}年{month.month}月，"
    where = BASIN if assessed.data.party is None else f"{BASIN}（{assessed.data.party} 可见数据）"
    lake = assessed.lake
    trophic = f"太湖综合营养状态指数为{lake.tli:.1f}，处于{lake.grade}状态。" if lake else ""
    if BASIN not in assessed.groups or not assessed.groups[BASIN][0].sections:
        # no section has the means of all five assessed items (a party may receive too few)
        return head + f"{where}无可评价的断面（五项评价指标的月均值不全）。" + trophic
    now, before, year = assessed.groups[BASIN]
    text = (
        f"{head}{where}{now.sections}个断面中，Ⅰ～Ⅲ类占{now.share_1_3:.1f}%，"
        f"Ⅳ～Ⅴ类占{now.share_4_5:.1f}%，劣Ⅴ类占{now.share_worse_5:.1f}%"
    )
    if now.status is not None:
        text += f"，水质状况为{now.status}"
    text += "。"
    if now.pollutants_text():
        text += f"主要污染指标为{now.pollutants_text()}。"
    if now.target_rate is not None:
        text += f"达标率为{now.target_rate:.1f}%。"
    for label, other in (("与上月相比", before), ("与去年同期相比", year)):
        if other is None or not other.sections or not now.sections:
            continue
        change = group_change(now, other)
        text += (
            f"{label}，Ⅰ～Ⅲ类比例{_pp(change.d_1_3)}，劣Ⅴ类比例{_pp(change.d_worse_5)}，"
            f"水质{'有明显变化' if change.marked else '无明显变化'}。"
        )
    return text + trophic


def _pp(delta: float) -> str:
    if abs(delta) < 0.05:
        return "持平"
    return f"{'上升' if delta > 0 else '下降'}{abs(delta):.1f}个百分点"


def build(data: MonthData, registry: Registry) -> tuple[Export, Assessed]:
    """The export of a month: the tables in :data:`TABLES` order and the summary."""
    assessed = assess(data, registry)
    tables = (
        sections_table(assessed),
        jurisdictions_table(assessed),
        lake_table(assessed),
        cross_boundary_table(assessed),
        alerts_table(assessed),
        sharing_table(assessed, registry),
    )
    export = Export(f"{data.month:%Y-%m}", data.party, data.bucket, summary(assessed), tables)
    return export, assessed
