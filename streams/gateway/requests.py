"""The platform's requests to a logger, followed until their 9012 (HJ 212-2017 §6.7, Table 1).

A request (1012 set time, 2061 history ...) is re-sent when its 9011/9012 has not come within the
timeout (10 s over mobile links), at most ``retries`` times (3); then it is given up. Every outcome
is logged. Pure: the caller passes the clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stations.formats.hj212 import Packet, parse

log = logging.getLogger(__name__)

TIMEOUT = 10.0
RETRIES = 3


@dataclass
class _Pending:
    frame: bytes
    what: str
    sent_at: float
    tries: int = 1
    accepted: bool = False


class Requests:
    """The requests sent on one connection, by QN."""

    def __init__(self, timeout: float = TIMEOUT, retries: int = RETRIES) -> None:
        self.timeout = timeout
        self.retries = retries
        self._pending: dict[str, _Pending] = {}
        self.outcomes: list[tuple[str, str]] = []  # (what, outcome), for logs and tests

    @property
    def pending(self) -> int:
        return len(self._pending)

    def sent(self, frame: bytes, what: str, now: float) -> None:
        qn = parse(frame).header["QN"]
        self._pending[qn] = _Pending(frame, what, now)

    def answered(self, packet: Packet, now: float) -> None:
        """A 9011 (QnRtn) or 9012 (ExeRtn) from the logger."""
        request = self._pending.get(packet.header.get("QN", ""))
        if request is None:
            log.info("answer %s to no pending request (QN %s)", packet.cn, packet.header.get("QN"))
            return
        if packet.cn == "9011":
            code = packet.extra.get("QnRtn", "")
            if code == "1":
                request.accepted, request.sent_at = True, now  # now waiting for its 9012
                return
            self._done(packet, request, f"refused QnRtn={code}")
        elif packet.cn == "9012":
            code = packet.extra.get("ExeRtn", "")
            self._done(packet, request, "done" if code == "1" else f"failed ExeRtn={code}")

    def _done(self, packet: Packet, request: _Pending, outcome: str) -> None:
        del self._pending[packet.header["QN"]]
        self.outcomes.append((request.what, outcome))
        log.info("request %s to MN %s: %s", request.what, packet.mn, outcome)

    def due(self, now: float) -> list[bytes]:
        """The requests to re-send now; those out of retries are given up (and logged)."""
        resend = []
        for qn, request in list(self._pending.items()):
            if now - request.sent_at < self.timeout:
                continue
            if request.tries > self.retries:
                del self._pending[qn]
                self.outcomes.append((request.what, "no answer"))
                log.warning(
                    "request %s (QN %s): no answer after %d tries", request.what, qn, request.tries
                )
                continue
            request.tries += 1
            request.sent_at = now
            resend.append(request.frame)
        return resend
