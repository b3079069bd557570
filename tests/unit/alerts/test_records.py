"""The alert records decode the documents today's topics carry and write them back the same."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from alerts.errors import RecordError
from alerts.records import (
    AckCommand,
    AlertChanges,
    AlertState,
    ReceiverDelivery,
    SilenceCommand,
    TickCommand,
    Transition,
    What,
    alerts_document,
    decode_alerts,
    decode_command,
    encode,
    to_builtins,
)
from stations.jurisdictions import Jurisdiction

MESSAGES = Path(__file__).parents[2] / "data" / "messages" / "alerts"
CHANGES = sorted(MESSAGES.glob("changes-*.json"))
DELIVERIES = sorted(MESSAGES.glob("delivery-*.json"))
COMMANDS = sorted(MESSAGES.glob("command-*.json"))


def same(a: Any, b: Any) -> bool:
    """JSON values equal, ISO times compared as instants with their offset (``Z`` and
    ``+00:00`` are the same time)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str) and a != b:
        try:
            x, y = datetime.fromisoformat(a), datetime.fromisoformat(b)
        except ValueError:
            return False
        return x == y and x.utcoffset() == y.utcoffset()
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)  # numbers: 5 and 5.0 are the same value


def test_the_captured_documents_are_all_there() -> None:
    assert len(CHANGES) == 8 and len(DELIVERIES) == 2 and len(COMMANDS) == 3


@pytest.mark.parametrize("path", CHANGES + DELIVERIES, ids=lambda p: p.stem)
def test_every_alerts_document_decodes_and_encodes_back_the_same(path: Path) -> None:
    raw = path.read_bytes()
    record = decode_alerts(raw)
    assert same(json.loads(encode(record)), json.loads(raw))
    assert record == decode_alerts(encode(record))
    assert record == alerts_document(json.loads(raw))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.stem)
def test_every_command_decodes_and_encodes_back_the_same(path: Path) -> None:
    raw = path.read_bytes()
    command = decode_command(raw)
    assert same(json.loads(encode(command)), json.loads(raw))


def test_the_documents_read_as_values() -> None:
    escalated = decode_alerts((MESSAGES / "changes-escalated.json").read_bytes())
    assert isinstance(escalated, AlertChanges)
    assert [c.what for c in escalated.changes] == [What(Transition.ESCALATED, tier=2)] * 2
    assert {c.alert.state for c in escalated.changes} == {AlertState.FIRING}
    assert escalated.changes[0].alert.parties == (
        Jurisdiction.SH,
        Jurisdiction.JS,
        Jurisdiction.TBA,
    )
    repeat = decode_alerts((MESSAGES / "changes-repeat.json").read_bytes())
    assert isinstance(repeat, AlertChanges)
    assert repeat.changes[0].what.repeat == 1 and repeat.changes[0].tiers == (1, 2)
    silenced = decode_alerts((MESSAGES / "changes-silenced.json").read_bytes())
    assert isinstance(silenced, AlertChanges)
    assert silenced.changes[0].tiers == () and "王五" in (silenced.changes[0].suppressed or "")
    failed = decode_alerts((MESSAGES / "delivery-failed.json").read_bytes())
    assert isinstance(failed, ReceiverDelivery) and not failed.ok
    assert failed.deliveries[0].attempts == 2 and "connection error" in str(
        failed.deliveries[0].error
    )
    kinds = {type(decode_command(p.read_bytes())) for p in COMMANDS}
    assert kinds == {AckCommand, SilenceCommand, TickCommand}


@pytest.mark.parametrize(
    "text, what",
    [
        ("firing", What(Transition.FIRING)),
        ("pending-cleared", What(Transition.PENDING_CLEARED)),
        ("firing-unsuppressed", What(Transition.FIRING_UNSUPPRESSED)),
        ("escalated-3", What(Transition.ESCALATED, tier=3)),
        ("repeat-12", What(Transition.REPEAT, repeat=12)),
    ],
)
def test_a_transition_is_one_string_on_the_wire(text: str, what: What) -> None:
    assert What.parse(text) == what and str(what) == text
    assert hash(What.parse(text)) == hash(what)


@pytest.mark.parametrize("text", ["escalated", "repeat-x", "escalated-1", "paged", "repeat-0"])
def test_a_string_that_is_no_transition_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        What.parse(text)


def test_a_transition_value_takes_its_number_only_where_it_belongs() -> None:
    with pytest.raises(ValueError):
        What(Transition.FIRING, tier=2)
    with pytest.raises(ValueError):
        What(Transition.ESCALATED)
    with pytest.raises(AttributeError):
        What(Transition.FIRING).tier = 2  # type: ignore[misc]
    assert Transition.FIRING_UNSUPPRESSED.family is Transition.FIRING
    assert Transition.ESCALATED.family is Transition.ESCALATED


def doc(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((MESSAGES / name).read_bytes())
    return loaded


@pytest.mark.parametrize(
    "broken, field",
    [
        (lambda d: d.pop("station"), "`station`"),
        (lambda d: d["changes"][0].update(what="escalated"), "$.changes[0].what"),
        (lambda d: d["changes"][0]["alert"].update(state="burning"), "$.changes[0].alert.state"),
        (lambda d: d["changes"][0]["alert"].update(jurisdiction="XX"), "alert.jurisdiction"),
        (lambda d: d["changes"][0].update(at="2026-11-30T17:51:23"), "$.changes[0].at"),
        (lambda d: d["changes"][0].update(tiers=[0]), "$.changes[0].tiers[0]"),
        (lambda d: d.update(kind="change"), "$.kind"),
    ],
)
def test_a_bad_document_is_a_record_error_naming_the_field(broken: Any, field: str) -> None:
    changes = doc("changes-escalated.json")
    broken(changes)
    with pytest.raises(RecordError, match=f"alert document: .*{re.escape(field)}"):
        decode_alerts(json.dumps(changes).encode())
    with pytest.raises(RecordError):
        alerts_document(changes)


def test_commands_are_refused_when_malformed() -> None:
    with pytest.raises(RecordError, match=r"alert command: .*`at`"):
        decode_command(b'{"kind":"tick"}')
    with pytest.raises(RecordError, match=r"alert command: .*kind"):
        decode_command(b'{"kind":"snooze","at":1}')
    with pytest.raises(RecordError, match="alert command: JSON is malformed"):
        decode_command(b"\xff{")
    with pytest.raises(RecordError, match=r"alert command: .*`by`"):
        decode_command(b'{"kind":"ack","station":"S","alert":"S:r:p","note":"","at":1}')


def test_records_are_frozen_and_become_plain_json_values() -> None:
    ack = decode_command((MESSAGES / "command-ack.json").read_bytes())
    with pytest.raises(AttributeError):
        ack.at = 0  # type: ignore[misc]
    delivery = decode_alerts((MESSAGES / "delivery-ok.json").read_bytes())
    plain = to_builtins(delivery)
    assert plain["kind"] == "delivery" and plain["deliveries"][0]["ok"] is True
    changes = decode_alerts((MESSAGES / "changes-escalated.json").read_bytes())
    assert to_builtins(changes)["changes"][0]["what"] == "escalated-2"
    assert isinstance(msgspec.json.decode(encode(changes)), dict)
