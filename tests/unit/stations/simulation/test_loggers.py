"""The simulated logger's conversation, without I/O: what it sends, re-sends until the 9014 comes,
how it answers the platform's 1012 and 2061, and its faults."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from stations.errors import SimulationError
from stations.formats import hj212
from stations.formats.hj212 import BEIJING, Hj212Error
from stations.formats.hj212_session import (
    data_answer,
    data_request,
    notification_answer,
    set_time_request,
)
from stations.registry import Registry
from stations.simulation.faults import hj212_items
from stations.simulation.loggers import Logger, LoggerFaults, frame, make_loggers

START = datetime(2021, 4, 1, 0, 0, tzinfo=BEIJING)
PASSWORD = "654321"


def one_logger(registry: Registry, faults: LoggerFaults | None = None, **kw: object) -> Logger:
    stations = [s for s in registry if s.hj212 is not None and s.interval_minutes == 240]
    loggers = make_loggers(
        stations[:1],
        {stations[0].id: PASSWORD},
        seed=3,
        faults=faults,
        **kw,  # type: ignore[arg-type]
    )
    return loggers[0]


def history_request(logger: Logger, begin: datetime, end: datetime) -> hj212.Packet:
    qn = datetime(2021, 4, 2, 12, tzinfo=BEIJING)
    return hj212.parse(data_request(logger.mn, PASSWORD, "21", "2061", begin, end, qn))


def answer(packet: hj212.Packet) -> hj212.Packet:
    """The platform's 9014 to an upload (the session layer's)."""
    return hj212.parse(data_answer(packet))


def test_an_upload_is_a_2011_packet_of_the_models_values_that_asks_for_an_answer(
    registry: Registry,
) -> None:
    logger = one_logger(registry)
    [raw] = logger.measure(START, START + timedelta(minutes=5))
    packet = hj212.parse(raw)
    assert (packet.cn, packet.st, packet.header["Flag"], packet.password, packet.mn) == (
        "2011",
        "21",
        "5",
        PASSWORD,
        logger.mn,
    )
    assert packet.data_time == START
    assert packet.header["QN"] == "20210401000500000"
    report = logger.history[START]
    assert set(packet.items) and all(set(f) == {"Rtd", "Flag"} for f in packet.items.values())
    assert len(packet.items) == len([k for k in report.readings])
    assert logger.unanswered == 1


def test_an_unanswered_upload_is_resent_every_interval_until_its_9014_arrives(
    registry: Registry,
) -> None:
    logger = one_logger(registry, resend_after=10.0)
    now = START
    [raw] = logger.measure(START, now)
    assert logger.due(now + timedelta(seconds=9.9)) == []
    assert logger.due(now + timedelta(seconds=10)) == [raw]
    assert logger.due(now + timedelta(seconds=15)) == []
    assert logger.due(now + timedelta(seconds=20)) == [raw]
    assert logger.receive(answer(hj212.parse(raw)), now + timedelta(seconds=21)) == []
    assert logger.due(now + timedelta(seconds=60)) == []
    assert logger.next_due() is None
    c = logger.counts
    assert (c.reports, c.uploads, c.resent, c.answered, c.sent) == (1, 1, 2, 1, 3)
    # a second 9014 of the same QN is a stray, not a second answer
    logger.receive(answer(hj212.parse(raw)), now + timedelta(seconds=22))
    assert (c.answered, c.stray_answers) == (1, 1)


def test_each_upload_is_matched_by_its_own_qn(registry: Registry) -> None:
    logger = one_logger(registry)
    first = logger.measure(START, START)[0]
    second = logger.measure(START + timedelta(hours=4), START)[0]  # same clock: QN + 1 ms
    qns = [hj212.parse(r).header["QN"] for r in (first, second)]
    assert qns == ["20210401000000000", "20210401000000001"]
    logger.receive(answer(hj212.parse(second)), START)
    assert logger.due(START + timedelta(seconds=10)) == [first]


def test_split_reports_are_subpackets_each_with_its_qn_pnum_pno_and_answer(
    registry: Registry,
) -> None:
    logger = one_logger(registry, LoggerFaults(split=1.0))
    frames = logger.measure(START, START)
    packets = [hj212.parse(r) for r in frames]
    assert len(packets) > 1
    assert [p.header["PNO"] for p in packets] == [str(i) for i in range(1, len(packets) + 1)]
    assert {p.header["PNUM"] for p in packets} == {str(len(packets))}
    assert {p.header["Flag"] for p in packets} == {"7"}
    assert len({p.header["QN"] for p in packets}) == len(packets)
    merged = {code: f for p in packets for code, f in p.items.items()}
    assert len(merged) == sum(len(p.items) for p in packets)
    assert logger.counts.split_reports == 1 and logger.unanswered == len(packets)
    for p in packets[:-1]:
        logger.receive(answer(p), START)
    assert logger.due(START + timedelta(seconds=10)) == [frames[-1]]


def test_set_time_is_answered_9011_then_9012_and_sets_the_clock(registry: Registry) -> None:
    logger = one_logger(registry)
    logger.drift = timedelta(minutes=-7)
    now = START + timedelta(hours=12)
    noon = datetime(2021, 4, 1, 12, tzinfo=BEIJING)
    request = hj212.parse(set_time_request(logger.mn, PASSWORD, "21", noon, noon))
    ready, done = (hj212.unframe(r).decode() for r in logger.receive(request, now))
    head = f"QN=20210401120000000;ST=91;CN=9011;PW={PASSWORD};MN={logger.mn};Flag=4;CP=&&"
    assert ready == head + "QnRtn=1&&"
    assert done == head.replace("9011", "9012") + "ExeRtn=1&&"
    assert logger.clock(now) == now
    [raw] = logger.measure(START, now)
    assert hj212.parse(raw).header["QN"] == "20210401120000000"


def test_a_history_request_gets_9011_the_requested_hours_and_9012(registry: Registry) -> None:
    logger = one_logger(registry)
    slots = [START + timedelta(hours=4 * i) for i in range(6)]  # 00, 04, ..., 20 h
    for slot in slots:
        logger.measure(slot, slot, send=False)  # offline: measured, not sent
    assert logger.counts.reports == 0 and logger.unanswered == 0
    request = history_request(logger, slots[1], slots[4])
    frames = [hj212.parse(r) for r in logger.receive(request, START + timedelta(days=1))]
    assert [p.cn for p in frames] == ["9011", "2061", "2061", "2061", "2061", "9012"]
    assert [p.data_time for p in frames[1:5]] == slots[1:5]  # BeginTime..EndTime, both included
    assert frames[0].extra == {"QnRtn": "1"} and frames[-1].extra == {"ExeRtn": "1"}
    first = frames[1]
    rtd = {c: f["Rtd"] for c, f in hj212_items(logger.history[slots[1]]).items()}
    assert {c: f["Avg"] for c, f in first.items.items()} == rtd
    assert all(set(f) == {"Avg", "Min", "Max", "Flag"} for f in first.items.values())
    assert all(f["Avg"] == f["Min"] == f["Max"] for f in first.items.values())  # one value/hour
    assert {p.header["Flag"] for p in frames[1:5]} == {"5"}
    assert logger.unanswered == 4 and logger.counts.history == 4


def test_a_history_request_with_nothing_in_range_ends_with_no_data(registry: Registry) -> None:
    logger = one_logger(registry)
    logger.measure(START, START, send=False)
    request = history_request(logger, START - timedelta(days=400), START - timedelta(days=399))
    frames = [hj212.parse(r) for r in logger.receive(request, START)]
    assert [(p.cn, {**p.extra}) for p in frames] == [
        ("9011", {"QnRtn": "1"}),
        ("9012", {"ExeRtn": "100"}),
    ]


@pytest.mark.parametrize(
    ("cn", "pw", "mn", "rtn"),
    [("1012", "000000", None, "3"), ("1012", PASSWORD, "XX", "4"), ("3020", PASSWORD, None, "100")],
)
def test_refused_requests_get_their_qnrtn(
    registry: Registry, cn: str, pw: str, mn: str | None, rtn: str
) -> None:
    logger = one_logger(registry)
    header = {"QN": "1", "ST": "21", "CN": cn, "PW": pw, "MN": mn or logger.mn, "Flag": "5"}
    [reply] = logger.receive(hj212.parse(frame(header, "SystemTime=20210401120000")), START)
    packet = hj212.parse(reply)
    assert (packet.cn, packet.extra["QnRtn"]) == ("9011", rtn)
    assert logger.drift == timedelta(0)


def test_a_wrong_password_on_the_first_send_is_fixed_in_the_resend(registry: Registry) -> None:
    logger = one_logger(registry, LoggerFaults(wrong_password=1.0))
    [bad] = logger.measure(START, START)
    [good] = logger.due(START + timedelta(seconds=10))
    assert hj212.parse(bad).password != PASSWORD
    assert hj212.parse(good).password == PASSWORD
    assert hj212.parse(bad).header["QN"] == hj212.parse(good).header["QN"]
    assert logger.counts.wrong_password == 1


def test_a_corrupted_byte_breaks_the_crc_and_the_resend_is_good(registry: Registry) -> None:
    logger = one_logger(registry, LoggerFaults(corrupt=1.0))
    for i in range(20):
        [bad] = logger.measure(START + timedelta(hours=4 * i), START)
        with pytest.raises(Hj212Error, match="CRC mismatch"):
            hj212.unframe(bad)
        assert bad[:6] == bad[:2] + b"%04d" % (len(bad) - 12)
    good = logger.due(START + timedelta(seconds=10))
    assert len(good) == 20 and all(hj212.parse(r) for r in good)
    assert logger.counts.corrupt == 20


def test_the_same_seed_gives_the_same_frames(registry: Registry) -> None:
    a, b = (
        one_logger(registry, LoggerFaults(split=0.5)),
        one_logger(registry, LoggerFaults(split=0.5)),
    )
    slots = [START + timedelta(hours=4 * i) for i in range(10)]
    assert [a.measure(s, s) for s in slots] == [b.measure(s, s) for s in slots]


def test_fault_rates_are_checked() -> None:
    with pytest.raises(SimulationError, match="between 0 and 1"):
        LoggerFaults(corrupt=1.5)


def test_fault_specs_parse_and_bad_ones_are_named() -> None:
    assert LoggerFaults.parse("corrupt=0.1, split=0.5") == LoggerFaults(corrupt=0.1, split=0.5)
    assert LoggerFaults.parse("none") == LoggerFaults()
    for bad in ("corrupt", "nope=0.1", "corrupt=x", "corrupt=0.1,corrupt=0.2"):
        with pytest.raises(SimulationError, match="logger fault"):
            LoggerFaults.parse(bad)


def test_the_first_connection_asks_for_the_time_and_a_1012_sets_it(registry: Registry) -> None:
    stations = [s for s in registry if s.hj212 is not None][:5]
    loggers = make_loggers(stations, {s.id: PASSWORD for s in stations}, seed=1, max_drift=600)
    assert all(timedelta(0) < abs(lg.drift) <= timedelta(minutes=10) for lg in loggers)
    logger = loggers[0]
    [hello] = logger.connected(START)
    packet = hj212.parse(hello)
    assert (packet.cn, packet.st, packet.password, packet.mn) == ("1013", "21", PASSWORD, logger.mn)
    assert logger.connected(START) == []  # only on the first connection
    assert logger.receive(hj212.parse(notification_answer(packet)), START) == []
    request = hj212.parse(set_time_request(logger.mn, PASSWORD, "21", START, START))
    assert [hj212.parse(r).cn for r in logger.receive(request, START)] == ["9011", "9012"]
    assert logger.drift == timedelta(0)
