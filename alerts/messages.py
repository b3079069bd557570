"""Notifications in Chinese: what on-call staff read in a robot group or an e-mail.

Pure: renders the changes of one evaluation (grouped) for one receiver as a
:class:`~alerts.channels.Message` in markdown, plain text and JSON.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from alerts.channels import Message
from alerts.lifecycle import SILENT_RULE
from alerts.records import AlertSnapshot, Change, Transition, What, to_builtins
from stations import parameters
from stations.jurisdictions import Jurisdiction
from stations.rules.engine import CLASS_PARAMETER
from stations.standard.gb3838 import CLASS_NAMES

BEIJING = ZoneInfo("Asia/Shanghai")

#: What happened, as the head of a message and of each line (pending changes page nobody).
HEADS = {
    Transition.FIRING: "告警",
    Transition.FIRING_UNSUPPRESSED: "告警",
    Transition.REPEAT: "重复提醒",
    Transition.ESCALATED: "告警升级",
    Transition.ACKNOWLEDGED: "已确认",
    Transition.RESOLVED: "恢复",
}
SEVERITY_NAMES = {"info": "提示", "warning": "警告", "critical": "严重"}


def head(what: What) -> str:
    return HEADS[what.transition]


def jurisdiction_name(code: str) -> str:
    try:
        return Jurisdiction(code).name_zh
    except ValueError:
        return code


def beijing(moment: datetime | None) -> str:
    """A time as Beijing time, to the minute."""
    if moment is None:
        return "-"
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def parameter_label(parameter: str) -> tuple[str, str]:
    """(Chinese name, unit) of an alert's parameter."""
    if parameter == CLASS_PARAMETER:
        return "水质类别", ""
    if parameter == "report":
        return "数据上报", "分钟"
    try:
        known = parameters.get(parameter)
    except (KeyError, ValueError):
        return parameter, ""
    return known.name_zh, known.unit


def _value(alert: AlertSnapshot, value: float | None) -> str:
    if value is None:
        return "-"
    if alert.parameter == CLASS_PARAMETER:
        return CLASS_NAMES.get(round(value), str(value))
    return f"{value:g}"


def board_link(board_url: str | None, station: str) -> str | None:
    if not board_url:
        return None
    return f"{board_url}{'&' if '?' in board_url else '?'}{urlencode({'var-station': station})}"


def describe_change(change: Change) -> list[str]:
    """The lines about one change (without markup)."""
    alert = change.alert
    name, unit = parameter_label(alert.parameter)
    owner = jurisdiction_name(alert.jurisdiction)
    others = [jurisdiction_name(p) for p in alert.parties if p != alert.jurisdiction]
    what = change.what
    title = f"{head(what)}: {alert.station_name} ({owner}) {name}"
    if alert.rule == SILENT_RULE:
        title = f"{head(what)}: {alert.station_name} ({owner}) 站点无数据上报"
    if what.transition is Transition.ESCALATED:
        title += f", 已升级至第 {alert.tier} 级"
    lines = [title, f"站点: {alert.station_name} {alert.station}, 辖区 {owner}"]
    if others:
        lines.append(f"通报: {'、'.join(others)}")
    observed, limit = _value(alert, alert.observed), _value(alert, alert.limit)
    if alert.rule == SILENT_RULE:
        lines.append(f"已 {observed} 分钟无数据 (限 {limit} 分钟)")
        lines.append(f"最后上报: {beijing(alert.since)}")
    else:
        severity = SEVERITY_NAMES.get(alert.severity, alert.severity)
        lines.append(
            f"{name}: 观测值 {observed} {unit}, 限值 {limit} {unit} ({alert.rule}, {severity})"
        )
        lines.append(f"说明: {alert.message}")
        lines.append(f"自 {beijing(alert.since)} 起, 最新数据 {beijing(alert.observed_at)}")
    if what.transition is Transition.ACKNOWLEDGED:
        note = f": {alert.ack_note}" if alert.ack_note else ""
        lines.append(f"已由 {alert.acked_by} 于 {beijing(alert.acked_at)} 确认{note}")
    elif what.transition is Transition.RESOLVED:
        lines.append(f"已于 {beijing(alert.resolved_at)} 恢复正常")
    else:
        lines.append(f"状态: {alert.state_name}, 第 {alert.tier} 级, 请及时确认")
    return lines


def render(changes: Sequence[Change], receiver: str, board_url: str | None = None) -> Message:
    """One message for one receiver with every change of one evaluation."""
    if not changes:
        raise ValueError("nothing to render")
    blocks = [describe_change(change) for change in changes]
    first = changes[0].alert
    if len(changes) == 1:
        title = f"【{blocks[0][0].split(':', 1)[0]}】{blocks[0][0].split(': ', 1)[1]}"
    else:
        heads = "、".join(dict.fromkeys(head(c.what) for c in changes))
        title = f"【{heads}】{first.station_name} 等 {len(changes)} 项"
    link = board_link(board_url, first.station)
    markdown_parts = [f"### {title}"]
    text_parts = [title, ""]
    for lines in blocks:
        markdown_parts.append(f"**{lines[0]}**\n" + "\n".join(f"> {line}" for line in lines[1:]))
        text_parts.append("\n".join(lines))
        text_parts.append("")
    if link:
        markdown_parts.append(f"[查看看板 Board]({link})")
        text_parts.append(f"查看看板 Board: {link}")
    ids = sorted(c.id for c in changes)
    digest = hashlib.sha1("|".join(ids).encode()).hexdigest()[:16]
    return Message(
        key=f"{receiver}:{digest}",
        title=title,
        markdown="\n\n".join(markdown_parts),
        text="\n".join(text_parts).rstrip() + "\n",
        data={"receiver": receiver, "changes": to_builtins(list(changes)), "board": link},
    )
