"""The alert and notify handlers with recording transports: no Kafka, no Faust, no network."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from alerts.records import (
    AckCommand,
    AlertChanges,
    AlertState,
    ReceiverDelivery,
    SilenceCommand,
    TickCommand,
    Transition,
    What,
    decode_alerts,
    encode,
)
from streams.agents.alert_handlers import AlertHandler, DeliveredLog, NotifyHandler
from tests.unit.streams.alerting import (
    REGISTRY,
    START,
    TP_ALERT,
    TPQ,
    Delivered,
    Flushes,
    Input,
    Sent,
    assessed,
    config,
)

ASSESSED, COMMANDS = "wq.reports.assessed", "wq.alerts.commands"
T1 = (START + timedelta(hours=1, minutes=5)).timestamp()  # the breach reaches the alert agent
OTHER = "JS-TH-028"


def handler(states: dict[bytes, bytes] | None = None) -> tuple[AlertHandler, Sent, Sent]:
    sent, rejected = Sent(), Sent()
    alerts = AlertHandler(
        REGISTRY,
        config(),
        {} if states is None else states,
        send=sent,
        reject=rejected,
        assessed_topic=ASSESSED,
        by_partition={0: (TPQ, OTHER), 1: ("SH-CJ-011",)},
    )
    return alerts, sent, rejected


def changes_of(sent: Sent) -> list[AlertChanges]:
    docs = [decode_alerts(value) for _, value in sent.messages]
    assert all(isinstance(doc, AlertChanges) for doc in docs)
    return [doc for doc in docs if isinstance(doc, AlertChanges)]


async def firing(alerts: AlertHandler) -> None:
    """太浦河桥: TP 0.30 then 0.31, the second breaching tpq-tp (two in a row)."""
    first, second = assessed(TPQ, [0.30, 0.31])
    await alerts.handle(Input(ASSESSED, first, timestamp=T1 - 3600))
    await alerts.handle(Input(ASSESSED, second, timestamp=T1))


@pytest.mark.asyncio
async def test_a_breaching_report_sends_one_changes_record_then_stores_the_state() -> None:
    states: dict[bytes, bytes] = {}
    alerts, sent, rejected = handler(states)
    await firing(alerts)
    pending, fired = changes_of(sent)
    assert [(c.what, c.tiers) for c in pending.changes] == [(What(Transition.PENDING), ())]
    assert [(c.what, c.tiers) for c in fired.changes] == [(What(Transition.FIRING), (1,))]
    assert fired.changes[0].alert.state is AlertState.FIRING
    assert fired.group == f"{TPQ}@{(START + timedelta(hours=1)).isoformat()}"
    assert [key for key, _ in sent.messages] == [TPQ.encode()] * 2
    assert alerts.load(TPQ).alerts[TP_ALERT].state is AlertState.FIRING
    assert list(states) == [TPQ.encode()] and rejected.messages == []
    # the same report again (a redelivery): nothing more is sent
    _, second = assessed(TPQ, [0.30, 0.31])
    assert await alerts.handle(Input(ASSESSED, second, timestamp=T1)) == []
    assert len(sent.messages) == 2


@pytest.mark.asyncio
async def test_an_ack_command_sends_the_acknowledged_change() -> None:
    alerts, sent, _ = handler()
    await firing(alerts)
    ack = AckCommand(station=TPQ, alert=TP_ALERT, by="张三", note="已通知现场", at=T1 + 600)
    (doc,) = await alerts.handle(Input(COMMANDS, encode(ack), key=TPQ.encode()))
    (change,) = doc.changes
    assert change.what == What(Transition.ACKNOWLEDGED) and change.tiers == (1,)
    assert change.alert.acked_by == "张三" and change.alert.state is AlertState.ACKNOWLEDGED
    assert changes_of(sent)[-1] == doc


@pytest.mark.asyncio
async def test_a_silence_changes_the_state_and_sends_nothing() -> None:
    states: dict[bytes, bytes] = {}
    alerts, sent, _ = handler(states)
    silence = SilenceCommand(
        station=TPQ, id="s1", start=T1 - 7200, end=T1 + 7200, author="王五", reason="更换试剂",
        at=T1 - 7200,
    )  # fmt: skip
    assert await alerts.handle(Input(COMMANDS, encode(silence))) == []
    assert sent.messages == [] and [s.id for s in alerts.load(TPQ).silences] == ["s1"]
    await firing(alerts)
    fired = changes_of(sent)[-1].changes[0]
    assert fired.what == What(Transition.FIRING) and fired.tiers == ()
    assert "王五" in (fired.suppressed or "")


@pytest.mark.asyncio
async def test_a_tick_visits_the_stations_of_its_partition_that_reported() -> None:
    alerts, sent, _ = handler()
    await firing(alerts)
    tick = encode(TickCommand(at=T1 + 31 * 60))
    assert await alerts.handle(Input(COMMANDS, tick, partition=1)) == []  # not its partition
    (doc,) = await alerts.handle(Input(COMMANDS, tick, partition=0))
    (escalated,) = doc.changes
    assert escalated.what == What(Transition.ESCALATED, tier=2) and escalated.tiers == (2,)
    assert doc.group.startswith(f"{TPQ}@tick:")
    assert OTHER.encode() not in alerts.states  # never reported: not visited, nothing stored
    assert len(sent.messages) == 3


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "value, detail",
    [
        (b"\xff{", "alert command: JSON is malformed"),
        (b'{"kind":"snooze","at":1}', "alert command: Invalid value 'snooze'"),
        (b'{"kind":"ack","station":"SH-CJ-009","alert":"x","by":"a","note":""}', "`at`"),
        (encode(AckCommand(TPQ, TP_ALERT, "张三", "", T1)), f"no alert {TP_ALERT}"),
        (encode(AckCommand("XX-0", "XX-0:r:p", "张三", "", T1)), "XX-0"),
    ],
)
async def test_invalid_or_refused_inputs_become_dead_letters(value: bytes, detail: str) -> None:
    alerts, sent, rejected = handler()
    message = Input(COMMANDS, value, partition=2, offset=7, key=b"k")
    assert await alerts.handle(message) == []
    ((key, letter),) = rejected.messages
    doc = json.loads(letter)
    assert key == b"k" and doc["reason"] == "alert_input" and detail in doc["detail"]
    assert doc["source"] == {"topic": COMMANDS, "partition": 2, "offset": 7}
    assert base64.b64decode(doc["original_b64"]) == value
    assert sent.messages == []


@pytest.mark.asyncio
async def test_an_assessed_report_that_breaks_its_record_is_a_dead_letter() -> None:
    alerts, sent, rejected = handler()
    (report,) = assessed(TPQ, [0.30])
    broken = json.loads(report)
    broken["observed_at"] = "yesterday"
    value = json.dumps(broken).encode()
    assert await alerts.handle(Input(ASSESSED, value, timestamp=T1)) == []
    ((_, letter),) = rejected.messages
    assert "observed_at" in json.loads(letter)["detail"] and sent.messages == []
    assert alerts.states == {}


@pytest.mark.asyncio
async def test_a_bug_is_not_a_dead_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    alerts, _, rejected = handler()

    def broken(station: str) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(alerts, "load", broken)
    ack = encode(AckCommand(TPQ, TP_ALERT, "张三", "", T1))
    with pytest.raises(TypeError, match="a bug"):
        await alerts.handle(Input(COMMANDS, ack))
    assert rejected.messages == []


async def changes_doc() -> bytes:
    alerts, sent, _ = handler()
    await firing(alerts)
    return sent.messages[-1][1]


def notifier(
    failing: set[str] | None = None, table: dict[bytes, bytes] | None = None
) -> tuple[NotifyHandler, Delivered, Sent, Flushes]:
    delivered, recorded, flushes = Delivered(failing or set()), Sent(), Flushes()
    log = DeliveredLog({} if table is None else table, flushes)
    return (
        NotifyHandler(config(), delivered, log, recorded, clock=lambda: T1),
        delivered,
        recorded,
        flushes,
    )


@pytest.mark.asyncio
async def test_a_delivery_is_recorded_once_per_receiver() -> None:
    notify, delivered, recorded, flushes = notifier()
    doc = await changes_doc()
    fired = decode_alerts(doc)
    assert isinstance(fired, AlertChanges)
    records = await notify.handle(doc)
    assert sorted(delivered.receivers) == ["js-t1", "sh-t1", "tba-t1"]
    assert sorted(r.receiver for r in records) == ["js-t1", "sh-t1", "tba-t1"]
    assert all(r.ok and r.changes == (fired.changes[0].id,) for r in records)
    assert all(r.group == fired.group and r.station == TPQ for r in records)
    docs = [decode_alerts(value) for _, value in recorded.messages]
    assert docs == records and all(isinstance(d, ReceiverDelivery) for d in docs)
    assert {key for key, _ in recorded.messages} == {TPQ.encode()}
    assert flushes.count == 3  # each remembered before the next receiver is tried
    message = delivered.calls[0][2]
    assert (
        message.title.startswith("【告警】太浦河桥")
        and message.data["changes"][0]["what"] == "firing"
    )


@pytest.mark.asyncio
async def test_a_replayed_changes_doc_sends_nothing() -> None:
    table: dict[bytes, bytes] = {}
    doc = await changes_doc()
    first, _, _, _ = notifier(table=table)
    await first.handle(doc)
    again, delivered, recorded, flushes = notifier(table=table)  # after a restart
    assert await again.handle(doc) == []
    assert delivered.calls == [] and recorded.messages == [] and flushes.count == 0


@pytest.mark.asyncio
async def test_a_failed_delivery_is_recorded_and_tried_again_on_replay() -> None:
    table: dict[bytes, bytes] = {}
    doc = await changes_doc()
    first, _, _, _ = notifier({"sh-t1"}, table)
    records = {r.receiver: r for r in await first.handle(doc)}
    failed = records["sh-t1"]
    assert not failed.ok and failed.deliveries[0].error is not None
    assert "HTTP 503" in failed.deliveries[0].error
    again, delivered, _, _ = notifier(table=table)
    assert [r.receiver for r in await again.handle(doc)] == ["sh-t1"]
    assert delivered.receivers == ["sh-t1"]


@pytest.mark.asyncio
async def test_notify_skips_delivery_documents_and_invalid_ones() -> None:
    notify, delivered, recorded, _ = notifier()
    records = await notify.handle(await changes_doc())
    assert await notify.handle(encode(records[0])) == []
    assert await notify.handle(b'{"kind":"changes"}') == []
    assert await notify.handle(None) == []
    assert len(delivered.calls) == 3 and len(recorded.messages) == 3


@pytest.mark.asyncio
async def test_the_delivered_log_forgets_the_oldest_beyond_its_size() -> None:
    table: dict[bytes, bytes] = {}
    flushes = Flushes()
    log = DeliveredLog(table, flushes, keep=3)
    await log.remember(TPQ, ["a", "b"])
    await log.remember(TPQ, ["b", "c", "d"])
    assert log.keys_of(TPQ) == ["b", "c", "d"] and flushes.count == 2
    assert log.keys_of(OTHER) == []
    assert DeliveredLog.key("c1", "sh-t1") == "c1>sh-t1"
