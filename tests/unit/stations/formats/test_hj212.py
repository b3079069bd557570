from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from stations.formats.hj212 import BEIJING, Hj212Error, build, crc16, parse

PACKETS = Path(__file__).parents[3] / "data" / "hj212" / "public_packets.txt"


def real_packets() -> list[bytes]:
    return [line + b"\n" for line in PACKETS.read_bytes().split(b"\n") if line.strip()]


def test_real_surface_water_packet_decodes() -> None:
    packet = parse(real_packets()[0])
    assert packet.mn == "ZLDSZ20210127"
    assert (packet.st, packet.cn, packet.password) == ("21", "2011", "123456")
    assert packet.data_time == datetime(2021, 3, 1, 11, 11, 0, tzinfo=BEIJING)
    assert packet.items["w01001"] == {"Rtd": "8.33", "Flag": "N"}  # pH
    assert packet.items["w21003"]["Rtd"] == "0.09055002"  # NH3-N
    assert len(packet.items) == 11


def test_real_packet_without_qn_and_flag_and_with_lowercase_crc() -> None:
    packet = parse(real_packets()[1])
    assert "QN" not in packet.header and "Flag" not in packet.header
    assert packet.mn == "NJGDKYYC202101q0001w0001"
    assert packet.data_time == datetime(2021, 3, 5, 0, 38, 17, tzinfo=BEIJING)


def test_crc_is_the_hj212_algorithm_not_modbus() -> None:
    # The shift-first register of HJ 212; CRC-16/MODBUS of b"123456789" would be 0x4B37.
    assert crc16(b"123456789") != 0x4B37
    segment = real_packets()[0][6:-6]
    assert crc16(segment) == 0x7D00


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda p: p.replace(b"w01001-Rtd=8.33", b"w01001-Rtd=8.34"), "CRC mismatch"),
        (lambda p: p[1:], "does not start with '##'"),
        (lambda p: p[:2] + b"04x5" + p[6:], "4-digit data length"),
        (lambda p: p[:2] + b"0436" + p[6:], "4 CRC hex digits"),
        (lambda p: p[:-6] + b"zz00\r\n", "not 4 hex digits"),
    ],
)
def test_damaged_packets_say_what_is_wrong(mutate: object, words: str) -> None:
    with pytest.raises(Hj212Error, match=words):
        parse(mutate(real_packets()[0]))  # type: ignore[operator]


def test_missing_mn_and_bad_time_are_refused() -> None:
    when = datetime(2021, 4, 1, 4, tzinfo=BEIJING)
    with pytest.raises(Hj212Error, match="no MN"):
        parse(build({"ST": "21", "CN": "2011"}, when, {}))
    bad_time = build({"ST": "21", "CN": "2011", "MN": "X"}, when, {}).replace(
        b"DataTime=20210401040000", b"DataTime=20211301040000"
    )
    data = bad_time[6:-6]
    bad_time = b"##%04d%s%04X\r\n" % (len(data), data, crc16(data))
    with pytest.raises(Hj212Error, match="not a valid time"):
        parse(bad_time)


def test_build_then_parse_round_trip_in_beijing_time() -> None:
    from datetime import UTC

    when = datetime(2021, 4, 1, 20, 0, tzinfo=UTC)  # 04:00 next day in Beijing
    raw = build(
        {"QN": "20210402040000000", "ST": "21", "CN": "2011", "PW": "123456", "MN": "JS0001"},
        when,
        {"w21011": {"Rtd": "0.048", "Flag": "N"}, "w01009": {"Rtd": "9.32", "Flag": "M"}},
    )
    assert raw.startswith(b"##") and raw.endswith(b"\r\n")
    assert b"DataTime=20210402040000" in raw
    packet = parse(raw)
    assert packet.data_time == when
    assert packet.items["w01009"] == {"Rtd": "9.32", "Flag": "M"}
