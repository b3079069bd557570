"""The HJ 212 session layer: framing a byte stream, kinds, sub-packets, answers per Annex C."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from stations.assessment import Assessor
from stations.formats import hj212
from stations.formats.hj212 import BEIJING, Hj212Error, build, crc16, parse
from stations.formats.hj212_session import (
    BadFrame,
    Frame,
    Framer,
    Kind,
    Outcome,
    Reassembler,
    Version,
    data_answer,
    data_request,
    heartbeat_answer,
    kind_of,
    notification_answer,
    request_answer,
    set_time_request,
    version_of,
    wants_answer,
)
from stations.quality.limits import load_qc_limits
from stations.registry import load_registry
from stations.rules.config import load_rules

PACKETS = Path(__file__).parents[3] / "data" / "hj212" / "public_packets.txt"
# Annex C's example station: MN and QN as in the standard's examples.
MN = "010000A8900016F000169DC0"
QN = "20160801085857223"


def public_packets() -> list[bytes]:
    """The real packets, each with the CRLF that ends a frame on the wire."""
    return [line.rstrip() + b"\r\n" for line in PACKETS.read_bytes().splitlines() if line.strip()]


def frame(data: bytes, crc: str | None = None) -> bytes:
    crc_text = crc.encode() if crc else b"%04X" % crc16(data)
    return b"##%04d%s%s\r\n" % (len(data), data, crc_text)


def upload(flag: str | None = "5", qn: str = QN, **extra: str) -> bytes:
    header = {"QN": qn, "ST": "21", "CN": "2011", "PW": "123456", "MN": MN, **extra}
    if flag is not None:
        header["Flag"] = flag
    when = datetime(2016, 8, 1, 8, 0, tzinfo=BEIJING)
    return build(header, when, {"w21011": {"Rtd": "0.048", "Flag": "N"}})


def accounted(framer: Framer, fed: int, outcomes: list[Frame | BadFrame]) -> bool:
    return sum(len(o.raw) for o in outcomes) + framer.skipped + framer.pending == fed


# --- The standard's own examples ------------------------------------------------------------


def test_annex_a_crc_example() -> None:
    # HJ 212-2017 Annex A: the CRC of this data segment is 1C80; its length 0101.
    data = (
        b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
        b"Flag=5;CP=&&RtdInterval=30&&"
    )
    assert len(data) == 101 and crc16(data) == 0x1C80
    [out] = Framer().feed(b"##0101" + data + b"1C80\r\n")
    assert isinstance(out, Frame) and out.packet.extra == {"RtdInterval": "30"}
    assert out.version is Version.V2017 and wants_answer(out.packet)


def test_public_packets_frame_and_tolerate_their_deviations() -> None:
    first, second = public_packets()
    outs = Framer().feed(first + second)
    assert [type(o) for o in outs] == [Frame, Frame]
    assert [o.raw for o in outs] == [first, second]
    # Flag=8: version bits 2, a later revision than 2017, read by the 2017 rules; no answer wanted.
    assert outs[0].version is Version.V2017 and not wants_answer(outs[0].packet)
    # No QN, no Flag, 17-digit DataTime, lowercase CRC, 24-character MN.
    assert "Flag" not in outs[1].packet.header and outs[1].version is Version.V2017
    assert kind_of(outs[1].packet) is Kind.UPLOAD and not wants_answer(outs[1].packet)


# --- Answers, byte-exact (Annex C's data segments; lengths counted and CRCs computed by hand) -


def test_data_answer_9014_matches_an_independently_published_vector() -> None:
    # 9014 for QN=20160801085000001 as published by an open-source HJ 212 library: CRC C241.
    published = (
        b"##0087QN=20160801085000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;"
        b"Flag=4;CP=&&&&C241\r\n"
    )
    assert data_answer(parse(upload(qn="20160801085000001"))) == published


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        # 21 (QN=...;) + 6 (ST=91;) + 8 (CN=9014;) + 10 (PW=...;) + 28 (MN=...;) + 7 + 7 = 87
        (data_answer, f"##0087QN={QN};ST=91;CN=9014;PW=123456;MN={MN};Flag=4;CP=&&&&3240\r\n"),
        (
            notification_answer,
            f"##0087QN={QN};ST=91;CN=9013;PW=123456;MN={MN};Flag=4;CP=&&&&2A80\r\n",
        ),
    ],
)
def test_answers_echo_qn_pw_mn_with_st_91_and_flag_4(answer: object, expected: str) -> None:
    assert callable(answer)
    assert answer(parse(upload())) == expected.encode()


@pytest.mark.parametrize(("qn_rtn", "crc"), [(1, "1B00"), (3, "7700"), (4, "DBC1"), (9, "E681")])
def test_request_answer_9011_carries_qnrtn(qn_rtn: int, crc: str) -> None:
    # CP=&&QnRtn=N&& is 7 bytes longer than CP=&&&&: 94.
    expected = (
        f"##0094QN={QN};ST=91;CN=9011;PW=123456;MN={MN};Flag=4;CP=&&QnRtn={qn_rtn}&&{crc}\r\n"
    )
    assert request_answer(parse(upload()), qn_rtn) == expected.encode()


def test_answers_to_packets_without_qn_or_flag_leave_them_out() -> None:
    packet = parse(public_packets()[1])
    answer = data_answer(packet)
    assert answer.startswith(b"##0066ST=91;CN=9014;PW=123456;MN=NJGDKYYC202101q0001w0001;Flag=4;")
    assert parse(answer).cn == "9014"


def test_heartbeats_vendor_8013_and_9015_are_answered_with_9013() -> None:
    for cn in ("8013", "9015"):
        data = f"QN={QN};ST=21;CN={cn};PW=123456;MN={MN};Flag=5;CP=&&&&".encode()
        [beat] = Framer().feed(frame(data))
        assert isinstance(beat, Frame) and kind_of(beat.packet) is Kind.HEARTBEAT
        answer = heartbeat_answer(beat.packet)
        assert answer == notification_answer(beat.packet) and parse(answer).cn == "9013"


def test_platform_requests_set_time_1012_and_hourly_data_2061() -> None:
    qn = datetime(2016, 8, 1, 8, 58, 57, 223000, tzinfo=BEIJING)
    at = datetime(2016, 8, 1, 0, 58, 57, tzinfo=UTC)  # 08:58:57 in Beijing
    # 112 = 21 + 6 (ST=32;) + 8 + 10 + 28 + 7 (Flag=5;) + 32 (CP=&&SystemTime=<14>&&)
    assert (
        set_time_request(MN, "123456", "32", at, qn)
        == (
            f"##0112QN={QN};ST=32;CN=1012;PW=123456;MN={MN};Flag=5;"
            "CP=&&SystemTime=20160801085857&&6C00\r\n"
        ).encode()
    )
    begin = datetime(2016, 8, 1, 0, 0, tzinfo=BEIJING)
    end = datetime(2016, 8, 1, 23, 59, 59, tzinfo=BEIJING)
    assert (
        data_request(MN, "123456", "32", "2061", begin, end, qn)
        == (
            f"##0134QN={QN};ST=32;CN=2061;PW=123456;MN={MN};Flag=5;"
            "CP=&&BeginTime=20160801000000,EndTime=20160801235959&&AD81\r\n"
        ).encode()
    )
    # Times given in another zone are written in Beijing time.
    utc_begin = begin.astimezone(UTC)
    assert b"BeginTime=20160801000000," in data_request(MN, "1", "32", "2061", utc_begin, end, qn)
    assert parse(data_request(MN, "1", "32", "2061", begin, end, qn)).extra == {
        "BeginTime": "20160801000000",
        "EndTime": "20160801235959",
    }


# --- Kinds, flags and versions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cn", "kind"),
    [
        ("2011", Kind.UPLOAD),
        ("2061", Kind.UPLOAD),
        ("2031", Kind.UPLOAD),
        ("8013", Kind.HEARTBEAT),
        ("9015", Kind.HEARTBEAT),
        ("1013", Kind.NOTIFICATION),
        ("9011", Kind.ANSWER),
        ("9012", Kind.ANSWER),
        ("9014", Kind.ANSWER),
        ("1011", Kind.REPLY),
        ("3020", Kind.REPLY),
        ("7777", Kind.UNKNOWN),
    ],
)
def test_kind_of(cn: str, kind: Kind) -> None:
    assert kind_of(parse(frame(f"ST=21;CN={cn};MN={MN};CP=&&&&".encode()))) is kind


@pytest.mark.parametrize(
    ("flag", "version", "answer"),
    [
        ("0", 2005, False),
        ("1", 2005, True),
        ("3", 2005, True),
        ("4", 2017, False),
        ("5", 2017, True),
        ("7", 2017, True),
        ("8", 2017, False),
        (None, 2017, False),
    ],
)
def test_flag_bits_give_version_and_answer(flag: str | None, version: int, answer: bool) -> None:
    packet = parse(upload(flag=flag))
    assert version_of(packet) == version and wants_answer(packet) is answer


def test_2005_packet_with_its_field_lengths_is_framed() -> None:
    # 2005: MN of 14 characters, PW 6, Flag V bits 0 (Flag=1: answer wanted).
    data = (
        b"ST=32;CN=2011;PW=123456;MN=88888880000001;Flag=1;CP=&&DataTime=20160801085857;011-Rtd=3&&"
    )
    [out] = Framer().feed(frame(data))
    assert isinstance(out, Frame) and out.version is Version.V2005
    assert out.packet.items == {"011": {"Rtd": "3"}} and wants_answer(out.packet)


# --- Framing ----------------------------------------------------------------------------------


def test_every_split_point_of_a_frame() -> None:
    raw = public_packets()[0]
    for cut in range(len(raw)):
        framer = Framer()
        assert framer.feed(raw[:cut]) == [] and framer.pending == cut
        outs = framer.feed(raw[cut:])
        assert [o.raw for o in outs] == [raw] and isinstance(outs[0], Frame), cut
        assert framer.pending == 0 and framer.skipped == 0


def test_every_split_point_into_three_reads() -> None:
    raw = upload()
    for a in range(len(raw)):
        for b in range(a, len(raw), 7):
            framer = Framer()
            outs = framer.feed(raw[:a]) + framer.feed(raw[a:b]) + framer.feed(raw[b:])
            assert [o.raw for o in outs] == [raw], (a, b)


def test_two_and_three_frames_in_one_write() -> None:
    first, second = public_packets()
    third = upload()
    for stream in ([first, second], [first, second, third], [third, third]):
        framer = Framer()
        outs = framer.feed(b"".join(stream))
        assert [o.raw for o in outs] == stream and all(isinstance(o, Frame) for o in outs)


def test_garbage_between_frames_is_one_malformed_attempt_and_the_stream_resyncs() -> None:
    a, b = public_packets()
    framer = Framer()
    stream = b"\x00\xffnoise" + a + b"#x\r\n" + b + b"tail#"
    outs = framer.feed(stream)
    kinds = [(type(o).__name__, getattr(o, "reason", None)) for o in outs]
    assert kinds == [
        ("BadFrame", Outcome.MALFORMED),
        ("Frame", None),
        ("BadFrame", Outcome.MALFORMED),
        ("Frame", None),
        ("BadFrame", Outcome.MALFORMED),
    ]
    assert framer.pending == 1  # the trailing "#" may begin a "##"
    assert accounted(framer, len(stream), outs)


def test_garbage_run_over_several_reads_is_reported_once_and_counted() -> None:
    framer = Framer()
    outs = framer.feed(b"abc") + framer.feed(b"def") + framer.feed(b"gh" + upload())
    assert [type(o) for o in outs] == [BadFrame, Frame]
    assert outs[0].raw == b"abc" and framer.skipped == 5


def test_bad_crc_either_case_and_the_packet_kept_for_qnrtn_9() -> None:
    data = upload()[6:-6]
    good = crc16(data)
    assert isinstance(Framer().feed(frame(data, f"{good:04x}"))[0], Frame)  # lowercase hex
    [bad] = Framer().feed(frame(data, f"{good ^ 1:04X}"))
    assert isinstance(bad, BadFrame) and bad.reason is Outcome.BAD_CRC
    assert bad.packet is not None and bad.packet.mn == MN
    assert parse(request_answer(bad.packet, 9)).extra == {"QnRtn": "9"}


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"##01x0ST=21&&abcd\r\n", "not 4 digits"),
        (b"##2000" + b"A" * 10, "exceeds the maximum 1024"),
        (b"##0010ST=21;CN=2011;CP=&&&&ABCD\r\n", "no CRC and CRLF"),  # length too short
        (b"##0010ST=21;CN\r\n" + b"ABCDEFGHIJKLM\n", "no CRC and CRLF"),  # no CRLF where due
        (b"##0010ST=21;CN=AGHIJ\r\n", "no CRC and CRLF"),  # CRC not hex
        (b"##0090ST=21;CN=2011;CP=&&&&ABCD\r\n", "inside the 90-byte frame"),  # "##" inside
    ],
)
def test_bad_length(raw: bytes, detail: str) -> None:
    framer = Framer()
    stream = raw + upload()
    outs = framer.feed(stream)
    assert isinstance(outs[0], BadFrame) and outs[0].reason is Outcome.BAD_LENGTH
    assert detail in outs[0].detail
    assert isinstance(outs[-1], Frame) and outs[-1].raw == upload()  # resynced
    assert accounted(framer, len(stream), outs)


def test_max_data_is_configurable_for_vendors_that_exceed_1024() -> None:
    items = {f"w{n:05d}": {"Rtd": "1.000", "Flag": "N"} for n in range(80)}
    big = build({"ST": "21", "CN": "2011", "MN": MN}, datetime(2021, 1, 1, tzinfo=BEIJING), items)
    assert int(big[2:6]) > 1024
    assert Framer().feed(big)[0].reason is Outcome.BAD_LENGTH  # type: ignore[union-attr]
    assert isinstance(Framer(max_data=4096).feed(big)[0], Frame)


@pytest.mark.parametrize(
    "data",
    [
        b"ST=21;CN=2011;CP=&&&&",  # no MN
        b"ST=21;CN=2011;MN=X;CP=&&DataTime=2021&&",  # bad DataTime
        b"ST=21;CN=2011;MN=X;Flag=five;CP=&&&&",  # Flag not a number
        b"ST=21;CN=2011;MN=X;Flag=7;PNUM=2;PNO=3;CP=&&&&",  # PNO beyond PNUM
        b"ST=21;CN=2011;MN=X;Flag=7;CP=&&&&",  # split without PNUM/PNO
        b"ST=21;CN=2011;MN=\xff;CP=&&&&",  # not ASCII
    ],
)
def test_malformed_frames(data: bytes) -> None:
    [out] = Framer().feed(frame(data))
    assert isinstance(out, BadFrame) and out.reason is Outcome.MALFORMED


# --- Sub-packets ------------------------------------------------------------------------------


def parts(count: int = 3, mn: str = MN) -> list[bytes]:
    when = datetime(2016, 8, 1, 8, tzinfo=BEIJING)
    return [
        build(
            {
                "QN": f"2016080108000000{n}",
                "ST": "21",
                "CN": "2061",
                "PW": "123456",
                "MN": mn,
                "Flag": "7",
                "PNUM": str(count),
                "PNO": str(n),
            },
            when,
            {f"w0100{n}": {"Avg": f"{n}.5", "Flag": "N"}},
        )
        for n in range(1, count + 1)
    ]


def test_sub_packets_are_joined_in_pno_order_and_each_part_is_answered() -> None:
    raws = parts()
    frames = [
        o for o in Framer().feed(raws[2] + raws[0] + raws[0] + raws[1]) if isinstance(o, Frame)
    ]
    answers = [data_answer(f.packet) for f in frames]
    assert [parse(a).header["QN"] for a in answers] == [
        "20160801080000003",
        "20160801080000001",
        "20160801080000001",
        "20160801080000002",
    ]  # one 9014 per sub-packet received, each echoing that part's QN
    reassembler = Reassembler()
    results = [reassembler.add(f, now=10.0) for f in frames]
    assert results[:3] == [None, None, None] and reassembler.pending == 0
    report = results[3]
    assert report is not None and report.raw == b"".join(raws)  # the re-sent part 1 once
    assert set(report.packet.items) == {"w01001", "w01002", "w01003"}
    assert "PNO" not in report.packet.header and report.packet.header["PNUM"] == "3"


def test_unsplit_frames_pass_through_the_reassembler() -> None:
    [f] = Framer().feed(upload())
    assert isinstance(f, Frame) and Reassembler().add(f, now=0.0) is f


def test_incomplete_reports_expire_to_dead_letters() -> None:
    reassembler = Reassembler()
    frames = [o for o in Framer().feed(parts()[0] + parts(mn="OTHER")[1]) if isinstance(o, Frame)]
    assert reassembler.add(frames[0], now=0.0) is None
    assert reassembler.add(frames[1], now=50.0) is None
    assert reassembler.expire(now=59.0, timeout=60.0) == []
    assert reassembler.expire(now=60.0, timeout=60.0) == [[frames[0]]]
    assert reassembler.pending == 1
    assert reassembler.expire(now=200.0, timeout=60.0) == [[frames[1]]]


def test_joined_report_is_decoded_by_the_check_path() -> None:
    registry = load_registry()
    mn = registry.get("JS-TH-028").hj212.mn  # type: ignore[union-attr]
    assessor = Assessor(registry, load_qc_limits(registry=registry), load_rules(registry=registry))
    when = datetime(2021, 4, 1, 4, tzinfo=BEIJING)
    head = {"QN": "20210401040000001", "ST": "21", "CN": "2011", "PW": "123456", "MN": mn}
    raws = [
        build({**head, "Flag": "7", "PNUM": "2", "PNO": "1"}, when, {"w21011": {"Rtd": "0.048"}}),
        build({**head, "Flag": "7", "PNUM": "2", "PNO": "2"}, when, {"w01009": {"Rtd": "9.32"}}),
    ]
    reassembler = Reassembler()
    results = [reassembler.add(f, 0.0) for f in Framer().feed(b"".join(raws))]  # type: ignore[arg-type]
    report = results[-1]
    assert report is not None
    checked = assessor.check(report.raw, when)
    assert checked.station == "JS-TH-028"
    assert checked.readings["tp"].value == 0.048 and checked.readings["do"].value == 9.32


def test_joined_frames_must_be_the_parts_of_one_packet() -> None:
    with pytest.raises(Hj212Error, match="PNUM"):
        hj212.parse(upload() + upload())
    one, two = parts(2)
    with pytest.raises(Hj212Error, match="PNUM"):
        hj212.parse(two + one)
    with pytest.raises(Hj212Error, match="MN="):
        hj212.parse(one + parts(2, mn="OTHER")[1])
