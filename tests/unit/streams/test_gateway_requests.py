"""The platform's requests to a logger: followed to their 9012, re-sent after 10 s, 3 times."""

from __future__ import annotations

from datetime import UTC, datetime

from stations.formats.hj212 import Packet, crc16, parse
from stations.formats.hj212_session import data_request, request_answer
from streams.gateway.requests import Requests

AT = datetime(2026, 4, 1, 12, tzinfo=UTC)


def _request() -> bytes:
    return data_request("320000TH0001", "pw0001", "21", "2061", AT, AT, AT)


def test_an_unanswered_request_is_resent_three_times_then_given_up() -> None:
    requests = Requests(timeout=10, retries=3)
    requests.sent(_request(), "backfill_2061", now=0)
    assert requests.due(9.9) == []
    assert requests.due(10) == [_request()]
    assert requests.due(20) == [_request()]
    assert requests.due(30) == [_request()]
    assert requests.due(40) == []  # 4 sends: the first and 3 retries
    assert requests.pending == 0
    assert requests.outcomes == [("backfill_2061", "no answer")]


def test_accepted_then_executed_is_done_and_a_refusal_ends_it() -> None:
    requests = Requests()
    requests.sent(_request(), "backfill_2061", now=0)
    packet = parse(_request())
    requests.answered(parse(request_answer(packet, 1)), now=5)
    assert requests.due(14) == []  # accepted at 5: the 9012 is awaited from then
    requests.answered(_exe(packet, "1"), now=6)
    assert requests.outcomes == [("backfill_2061", "done")]
    requests.sent(_request(), "backfill_2061", now=7)
    requests.answered(parse(request_answer(packet, 3)), now=8)
    assert requests.outcomes[-1] == ("backfill_2061", "refused QnRtn=3")
    assert requests.pending == 0


def _exe(packet: Packet, code: str) -> Packet:
    data = (
        f"QN={packet.header['QN']};ST=91;CN=9012;PW={packet.password};MN={packet.mn};Flag=4;"
        f"CP=&&ExeRtn={code}&&"
    ).encode()
    return parse(b"##%04d%s%04X\r\n" % (len(data), data, crc16(data)))
