"""``basin sharing apply``: the party views made to match a sharing list, idempotently.

For each party: its view bucket (:func:`~streams.store.views.view_bucket`, with the main
bucket's retention) and one read authorization scoped by InfluxDB to that bucket alone. Then the
views' contents are brought to the list, without a leak and without a loss:

1. **Leaks.** Every series a view holds (measurement, station, parameter, ``agg``, field) that the
   list no longer gives the party on those terms is stale: its whole series (measurement, station,
   parameter, every ``agg``) is deleted from the view (DeleteApi, a predicate on tags; InfluxDB
   cannot delete one field).
2. **Changes.** The selections applied last time are kept beside the tokens
   (``<bucket>.applied.json``); every series whose selections changed (new, gone, or other terms)
   is deleted from the view too, and
3. **re-derived** from the main bucket, its whole history, on the new terms (real time included).
   Without a record of the last apply (the first one, or after it was lost) the views are
   rebuilt: every series they hold is deleted and every selection re-derived.

A second run finds nothing stale and nothing changed, and says so. Stop the store workers while
the list changes (they route with the list they loaded at start): docs/sharing.md.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stations.jurisdictions import Jurisdiction
from stations.sharing.grants import Granularity
from streams.store import points as m
from streams.store.derive import EPOCH, Deriver, flux_string
from streams.store.views import PER_PARAMETER, Selection, view_bucket

log = logging.getLogger(__name__)

#: Far enough ahead for a delete to take everything.
FOREVER = datetime(2200, 1, 1, tzinfo=UTC)
Series = tuple[Jurisdiction, str, str, str | None]
#: What a view holds: (party, measurement, station, parameter, agg, field).
Held = tuple[Jurisdiction, str, str, str | None, str | None, str]


def token_variable(party: Jurisdiction) -> str:
    """The environment variable Grafana's provisioning reads a party's token from."""
    return f"BASIN_VIEW_TOKEN_{Jurisdiction(party).value}"


def token_description(bucket: str, party: Jurisdiction) -> str:
    view = view_bucket(bucket, party)
    return f"basinwatch view {Jurisdiction(party).value}: read {view}"


def allows(selection: Selection, agg: str | None, field: str) -> bool:
    """Whether a selection puts this field of its series, with this ``agg`` tag, in the view."""
    if selection.agg != agg:
        return False
    if agg is not None and selection.measurement == m.ASSESSMENT:
        return field in ("class", "target_class")
    return selection.fields is None or field in selection.fields


def stale(held: Iterable[Held], selected: Iterable[Selection]) -> set[Series]:
    """The series of which a view holds something no selection gives it."""
    by_series: dict[Series, list[Selection]] = {}
    for sel in selected:
        by_series.setdefault(sel.series, []).append(sel)
    out = set()
    for party, measurement, station, parameter, agg, name in held:
        series = (party, measurement, station, parameter)
        if not any(allows(sel, agg, name) for sel in by_series.get(series, ())):
            out.add(series)
    return out


def changed(old: Iterable[Selection], new: Iterable[Selection]) -> set[Series]:
    """The series whose selections differ between two applies."""
    return {sel.series for sel in set(old) ^ set(new)}


def delete_predicate(series: Series) -> str:
    """The DeleteApi predicate of one series of a view (every ``agg``, every field)."""
    _, measurement, station, parameter = series
    parts = [f"_measurement={flux_string(measurement)}", f"station={flux_string(station)}"]
    if parameter is not None:
        parts.append(f"parameter={flux_string(parameter)}")
    return " AND ".join(parts)


def to_json(selected: Sequence[Selection]) -> str:
    rows = [asdict(sel) | {"fields": sel.fields and list(sel.fields)} for sel in selected]
    return json.dumps({"version": 1, "selections": rows}, ensure_ascii=False)


def from_json(text: str) -> list[Selection]:
    rows = json.loads(text)["selections"]
    return [
        Selection(
            Jurisdiction(r["party"]),
            r["measurement"],
            r["station"],
            r["parameter"],
            None if r["fields"] is None else tuple(r["fields"]),
            Granularity(r["granularity"]),
            int(r["delay_hours"]),
        )
        for r in rows
    ]


HELD = """
from(bucket: {bucket})
  |> range(start: 0)
  |> first()
  |> keep(columns: ["_measurement", "_field", "station", "parameter", "agg"])
"""


@dataclass
class Report:
    """What an apply did, line by line (never a token)."""

    done: list[str] = field(default_factory=list)
    tokens: dict[Jurisdiction, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.done)


class Applier:
    """Applies a list's selections to the views of ``bucket`` with a sync influxdb-client."""

    def __init__(self, client: Any, bucket: str, org: str, state_dir: Path) -> None:
        self.client, self.bucket, self.org = client, bucket, org
        self.directory = state_dir / "views"

    @property
    def token_file(self) -> Path:
        return self.directory / f"{self.bucket}.tokens.env"

    @property
    def applied_file(self) -> Path:
        return self.directory / f"{self.bucket}.applied.json"

    def apply(
        self,
        selected: Sequence[Selection],
        now: datetime | None = None,
        rederive: bool = False,
        since: datetime | None = None,
    ) -> Report:
        now = now or datetime.now(UTC)
        report = Report()
        buckets = self._buckets(report)
        self._tokens(buckets, report)
        previous = self._previous()
        held = self._held()
        gone = stale(held, selected)
        if previous is None:  # what was applied is unknown: rebuild whatever the views hold
            redo = gone | {
                (party, meas, station, param) for party, meas, station, param, *_ in held
            }
        else:
            redo = gone | changed(previous, selected)
        for series in sorted(redo, key=str):
            party, measurement, station, parameter = series
            self.client.delete_api().delete(
                EPOCH, FOREVER, delete_predicate(series), view_bucket(self.bucket, party), self.org
            )
            what = " ".join(x for x in (measurement, station, parameter) if x)
            why = "no longer shared as held" if series in gone else "changed or unrecorded"
            report.done.append(f"deleted from {view_bucket(self.bucket, party)}: {what} ({why})")
        if rederive or previous is None:
            again = list(selected)
        else:
            again = [sel for sel in selected if sel.series in redo]
        if again:
            rows = Deriver(again, self.bucket, self.org).run(
                self.client.query_api(), now, since if rederive else None, everything=True
            )
            report.done.append(
                f"re-derived {len(again)} selections from {self.bucket}: {rows} rows"
            )
        if previous is None or set(previous) != set(selected):
            self._write(self.applied_file, to_json(selected))
            report.done.append(f"recorded the applied list in {self.applied_file}")
        return report

    def _buckets(self, report: Report) -> dict[Jurisdiction, Any]:
        api = self.client.buckets_api()
        main = api.find_bucket_by_name(self.bucket)
        if main is None:
            raise LookupError(f"the main bucket {self.bucket!r} does not exist in {self.org!r}")
        out = {}
        for party in Jurisdiction:
            name = view_bucket(self.bucket, party)
            found = api.find_bucket_by_name(name)
            if found is None:
                found = api.create_bucket(
                    bucket_name=name,
                    org=main.org_id,
                    retention_rules=main.retention_rules,
                    description=f"basinwatch: what {party.value} sees under the sharing list",
                )
                report.done.append(f"created bucket {name}")
            out[party] = found
        return out

    def _tokens(self, buckets: Mapping[Jurisdiction, Any], report: Report) -> None:
        from influxdb_client import Authorization, Permission, PermissionResource

        api = self.client.authorizations_api()
        known = self._read_tokens()
        for party, bucket in buckets.items():
            description = token_description(self.bucket, party)
            found = api.find_authorizations(org_id=bucket.org_id)
            mine = [a for a in found if a.description == description]
            scoped = [a for a in mine if _scoped_read(a, bucket.id)]
            keep = next((a for a in scoped if a.token or known.get(party)), None)
            for auth in mine:
                if auth is not keep:
                    api.delete_authorization(auth)
                    report.done.append(f"deleted a token of {party.value} not scoped as it must")
            if keep is None:
                resource = PermissionResource(org_id=bucket.org_id, type="buckets", id=bucket.id)
                keep = api.create_authorization(
                    authorization=Authorization(
                        org_id=bucket.org_id,
                        permissions=[Permission(action="read", resource=resource)],
                        description=description,
                    )
                )
                report.done.append(f"created a read token for {party.value} on {bucket.name}")
            report.tokens[party] = keep.token or known[party]
        text = "".join(f"{token_variable(p)}={t}\n" for p, t in report.tokens.items())
        if not self.token_file.is_file() or self.token_file.read_text("utf-8") != text:
            self._write(self.token_file, text)
            report.done.append(f"wrote the tokens to {self.token_file} (mode 600)")

    def _read_tokens(self) -> dict[Jurisdiction, str]:
        if not self.token_file.is_file():
            return {}
        out = {}
        for line in self.token_file.read_text("utf-8").splitlines():
            name, _, value = line.partition("=")
            for party in Jurisdiction:
                if name.strip() == token_variable(party) and value.strip():
                    out[party] = value.strip()
        return out

    def _previous(self) -> list[Selection] | None:
        if not self.applied_file.is_file():
            return None
        return from_json(self.applied_file.read_text("utf-8"))

    def _held(self) -> list[Held]:
        out: list[Held] = []
        for party in Jurisdiction:
            flux = HELD.format(bucket=flux_string(view_bucket(self.bucket, party)))
            for table in self.client.query_api().query(flux, org=self.org):
                for row in table:
                    v = row.values
                    measurement = v["_measurement"]
                    parameter = v.get("parameter") if measurement in PER_PARAMETER else None
                    held = (party, measurement, v.get("station") or "", parameter)
                    out.append((*held, v.get("agg") or None, v["_field"]))
        return out

    def _write(self, path: Path, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        path.chmod(0o600)


def _scoped_read(auth: Any, bucket_id: str) -> bool:
    """Active, and only the right to read this one bucket."""
    permissions = auth.permissions or []
    return (
        auth.status == "active"
        and len(permissions) == 1
        and permissions[0].action == "read"
        and permissions[0].resource.type == "buckets"
        and permissions[0].resource.id == bucket_id
    )
