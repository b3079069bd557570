"""`basin boards push`: bring a Grafana to the bundle: folders, teams, folder permissions,
datasources and dashboards, writing only what differs.

Three steps, the middle one pure:

1. :func:`read_state` asks Grafana what it has of the bundle's objects (GET only);
2. :func:`plan` compares the bundle with that state and returns the writes, as :class:`Action`
   values (method, path, body), in dependency order: folders, teams, permissions, datasources,
   dashboards. An empty plan means Grafana already matches;
3. :func:`execute` sends them one by one and does not stop at a refusal: each failure is kept
   with Grafana's status and message, and the next action is tried.

The transport is grafana-api's :class:`~grafana_api.grafana_face.GrafanaFace`: its folder, team,
datasource and dashboard calls where it has them, its generic ``GET``/``POST``/``PUT`` for the
rest (datasources by uid, folder permissions with team names resolved). The endpoints are listed
in docs/boards.md ("Push"); streams/testing/grafana.py implements them for the tests.

Errors: :class:`PushError` (root) with :class:`GrafanaUnreachable` (no connection, names the
URL) and :class:`GrafanaRefused` (the token is refused while reading: 401/403). A refused write
is not an exception but a :class:`Failure` in the :class:`PushReport`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests
from grafana_api.grafana_api import GrafanaException
from grafana_api.grafana_face import GrafanaFace

from boards.bundle import Bundle

#: Grafana's folder permission levels (legacy ACL API): 1 View, 2 Edit, 4 Admin.
VIEW = 1
#: The key under which a permission item of a plan names its team, resolved to ``teamId`` (an id
#: Grafana gives on creation) when the action is sent.
TEAM_REF = "team"

Kind = Literal["folder", "team", "permissions", "datasource", "dashboard"]
Principal = tuple[str, str, int]  # ("team" | "role" | "user", name, permission)


class PushError(Exception):
    """Root of the push errors; the message says what to do."""


class GrafanaUnreachable(PushError):
    """No HTTP connection to Grafana."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach Grafana at {url}: {reason}")


class GrafanaRefused(PushError):
    """Grafana refused the token while the push read its state."""


@dataclass(frozen=True)
class Action:
    """One write: what it changes (``kind``, ``target``, ``verb``) and the HTTP call doing it."""

    kind: Kind
    target: str
    verb: Literal["create", "update"]
    method: Literal["POST", "PUT"]
    path: str
    body: Any
    why: str = ""

    def __str__(self) -> str:
        why = f" ({self.why})" if self.why else ""
        return f"{self.verb} {self.kind} {self.target}{why}"


@dataclass(frozen=True)
class Failure:
    """A read or write Grafana refused, with its status (0: no answer) and message."""

    what: str
    status: int
    message: str

    def __str__(self) -> str:
        status = f"{self.status} " if self.status else ""
        return f"{self.what}: FAILED: {status}{self.message}"


@dataclass
class GrafanaState:
    """What Grafana has of the bundle's objects. Absent keys: Grafana has no such object."""

    folders: dict[str, str] = field(default_factory=dict)  # uid -> title
    teams: dict[str, int] = field(default_factory=dict)  # name -> id
    permissions: dict[str, frozenset[Principal]] = field(default_factory=dict)  # folder uid
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> model
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> {dashboard, meta}
    unreadable: set[str] = field(default_factory=set)  # "kind uid" read failures: not planned


@dataclass
class PushReport:
    """What a push did: the writes done, and every failure (reads and writes)."""

    url: str
    version: str
    done: list[Action] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing was refused."""
        return not self.failures


# --- planning (pure) -------------------------------------------------------------------------


def desired_permissions(bundle: Bundle) -> dict[str, frozenset[Principal]]:
    """Folder uid -> the teams that view it (:meth:`Bundle.permissions`: a party's team its own
    folder, every team the shared folder). Nobody else: the default role grants go."""
    return {
        uid: frozenset(("team", name, VIEW) for name in names)
        for uid, names in bundle.permissions().items()
    }


def comparable_dashboard(dashboard: Mapping[str, Any]) -> dict[str, Any]:
    """The dashboard without what Grafana assigns itself (``id``, ``version``)."""
    return {k: v for k, v in dashboard.items() if k not in ("id", "version")}


def datasource_differences(desired: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """The fields of ``desired`` that ``current`` (a GET answer) lacks or has otherwise. Secrets
    are write-only in Grafana: a token counts as different only when Grafana has none."""
    differences = [
        key
        for key, value in desired.items()
        if key != "secureJsonData" and current.get(key) != value
    ]
    stored = current.get("secureJsonFields") or {}
    differences += [
        f"secureJsonData.{key}"
        for key in (desired.get("secureJsonData") or {})
        if not stored.get(key)
    ]
    return differences


def plan(
    bundle: Bundle,
    state: GrafanaState,
    tokens: Mapping[str, str | None],
    message: str,
) -> list[Action]:
    """The writes that bring Grafana from ``state`` to ``bundle``; none when it already matches.

    ``tokens`` maps a datasource uid to its token (None: unknown, the datasource is written
    without one). Objects whose state could not be read (``state.unreadable``) are left alone."""
    actions: list[Action] = []
    for folder in bundle.folders:
        if f"folder {folder.uid}" in state.unreadable:
            continue
        title = state.folders.get(folder.uid)
        if title is None:
            created = {"uid": folder.uid, "title": folder.title}
            actions.append(Action("folder", folder.uid, "create", "POST", "/folders", created))
        elif title != folder.title:
            renamed = {"title": folder.title, "overwrite": True}
            path = f"/folders/{quote(folder.uid)}"
            actions.append(
                Action("folder", folder.uid, "update", "PUT", path, renamed, f"title was {title!r}")
            )
    for team in bundle.teams:
        if team.name not in state.teams and f"team {team.name}" not in state.unreadable:
            team_body = {"name": team.name}
            actions.append(Action("team", team.name, "create", "POST", "/teams", team_body))
    for uid, wanted in desired_permissions(bundle).items():
        if f"permissions {uid}" in state.unreadable:
            continue
        current = state.permissions.get(uid)
        if current == wanted:
            continue
        items = [{TEAM_REF: name, "permission": level} for _, name, level in sorted(wanted)]
        verb: Literal["create", "update"] = "create" if uid not in state.folders else "update"
        why = "" if current is None else "had " + ", ".join(_principal(p) for p in sorted(current))
        path = f"/folders/{quote(uid)}/permissions"
        actions.append(Action("permissions", uid, verb, "POST", path, {"items": items}, why))
    for source in bundle.datasources:
        if f"datasource {source.uid}" in state.unreadable:
            continue
        model = source.model(tokens.get(source.uid))
        current_source = state.datasources.get(source.uid)
        if current_source is None:
            actions.append(
                Action("datasource", source.uid, "create", "POST", "/datasources", model)
            )
            continue
        differences = datasource_differences(model, current_source)
        if differences:
            path = f"/datasources/uid/{quote(source.uid)}"
            why = "differs in " + ", ".join(differences)
            actions.append(Action("datasource", source.uid, "update", "PUT", path, model, why))
    for board in bundle.boards:
        uid = board.dashboard["uid"]
        if f"dashboard {uid}" in state.unreadable:
            continue
        wanted_board = comparable_dashboard(board.dashboard)
        body: dict[str, Any] = {
            "dashboard": wanted_board,
            "folderUid": board.folder_uid,
            "overwrite": True,
            "message": message,
        }
        current_board = state.dashboards.get(uid)
        if current_board is None:
            actions.append(Action("dashboard", uid, "create", "POST", "/dashboards/db", body))
            continue
        reasons = []
        if comparable_dashboard(current_board.get("dashboard", {})) != wanted_board:
            reasons.append("content differs")
        folder_uid = (current_board.get("meta") or {}).get("folderUid")
        if folder_uid != board.folder_uid:
            reasons.append(f"in folder {folder_uid!r}")
        if reasons:
            why = ", ".join(reasons)
            actions.append(Action("dashboard", uid, "update", "POST", "/dashboards/db", body, why))
    return actions


def _principal(principal: Principal) -> str:
    kind, name, level = principal
    return f"{kind} {name}: {level}"


# --- reading and writing (the thin executor) -------------------------------------------------


def connect(url: str, token: str, timeout: float = 10.0) -> GrafanaFace:
    """A grafana-api client for the Grafana at ``url`` (scheme, host, port, path prefix)."""
    parts = urlsplit(url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PushError(f"not a Grafana URL: {url!r}; give one like http://grafana.example:3000")
    prefix = parts.path.strip("/")
    return GrafanaFace(
        token,
        host=parts.hostname,
        port=parts.port,
        url_path_prefix=f"{prefix}/" if prefix else "",
        protocol=parts.scheme,
        timeout=timeout,
    )


def _guard(url: str, call: Callable[[], Any]) -> Any:
    """``call()``, with a dead connection as :class:`GrafanaUnreachable`."""
    try:
        return call()
    except requests.exceptions.RequestException as exc:
        reason = type(exc).__name__
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = "connection refused or no route (is Grafana running there?)"
        elif isinstance(exc, requests.exceptions.Timeout):
            reason = "no answer in time"
        elif isinstance(exc, requests.exceptions.JSONDecodeError):
            reason = "the answer is not JSON (is this Grafana's URL?)"
        raise GrafanaUnreachable(url, reason) from exc


def health(api: GrafanaFace, url: str) -> str:
    """Grafana's version from ``GET /api/health`` (needs no token); unreachable: an error."""
    try:
        answer = _guard(url, lambda: api.api.GET("/health"))
    except GrafanaException:
        return "?"  # behind a proxy that hides it, say: the reads will tell
    return str(answer.get("version", "?")) if isinstance(answer, dict) else "?"


def read_state(api: GrafanaFace, url: str, bundle: Bundle) -> tuple[GrafanaState, list[Failure]]:
    """What Grafana has of ``bundle``'s objects, plus the reads it refused (401 and 403 on the
    first read raise :class:`GrafanaRefused`: nothing else could work either)."""
    state = GrafanaState()
    failures: list[Failure] = []

    def read(what: str, call: Callable[[], Any], first: bool = False) -> Any:
        try:
            return _guard(url, call)
        except GrafanaException as exc:
            if exc.status_code == 404:
                return None
            if first and exc.status_code in (401, 403):
                raise GrafanaRefused(
                    f"Grafana at {url} refused the token ({exc.status_code} "
                    f"{_message(exc)}): set BASIN_GRAFANA_TOKEN to a service account token "
                    "with the Admin role"
                ) from exc
            state.unreadable.add(what)
            failures.append(Failure(f"read {what}", exc.status_code, _message(exc)))
            return None

    for folder in read("folders", api.folder.get_all_folders, first=True) or []:
        state.folders[folder["uid"]] = folder["title"]
    team_ids: dict[int, str] = {}
    for team in bundle.teams:
        found = read(f"team {team.name}", partial(api.teams.get_team_by_name, team.name)) or []
        for candidate in found:
            if candidate.get("name") == team.name:
                state.teams[team.name] = int(candidate["id"])
                team_ids[int(candidate["id"])] = team.name
    for folder in bundle.folders:
        if folder.uid not in state.folders:
            continue
        items = read(
            f"permissions {folder.uid}",
            partial(api.folder.get_folder_permissions, folder.uid),
        )
        if items is not None:
            state.permissions[folder.uid] = _principals(items, team_ids)
    for source in bundle.datasources:
        path = f"/datasources/uid/{quote(source.uid)}"
        found_source = read(f"datasource {source.uid}", partial(api.api.GET, path))
        if found_source is not None:
            state.datasources[source.uid] = found_source
    for board in bundle.boards:
        uid = board.dashboard["uid"]
        found_board = read(f"dashboard {uid}", partial(api.dashboard.get_dashboard, uid))
        if found_board is not None:
            state.dashboards[uid] = found_board
    return state, failures


def _principals(items: list[dict[str, Any]], team_names: Mapping[int, str]) -> frozenset[Principal]:
    """Grafana's permission items as (kind, name, level). The Admin role is left out: Grafana
    lists it on some versions, and admins see every folder anyway."""
    principals: set[Principal] = set()
    for item in items:
        level = int(item.get("permission", 0))
        if item.get("teamId"):
            name = team_names.get(int(item["teamId"])) or item.get("team") or f"#{item['teamId']}"
            principals.add(("team", str(name), level))
        elif item.get("userId"):
            principals.add(("user", str(item.get("userLogin") or item["userId"]), level))
        elif item.get("role") and item["role"] != "Admin":
            principals.add(("role", str(item["role"]), level))
    return frozenset(principals)


def execute(
    api: GrafanaFace, url: str, actions: list[Action], teams: Mapping[str, int], report: PushReport
) -> None:
    """Send ``actions`` in order into ``report``; a refusal is a failure, not the end. Teams
    created on the way are added to the names the permission items are resolved with."""
    team_ids = dict(teams)
    for action in actions:
        try:
            body = _resolve_teams(action.body, team_ids) if action.kind == "permissions" else None
            method = getattr(api.api, action.method)
            answer = _guard(url, partial(method, action.path, json=body or action.body))
        except GrafanaException as exc:
            report.failures.append(Failure(str(action), exc.status_code, _message(exc)))
            continue
        except _MissingTeam as exc:
            missing = f"team {exc} does not exist (its creation failed)"
            report.failures.append(Failure(str(action), 0, missing))
            continue
        if action.kind == "team" and isinstance(answer, dict) and "teamId" in answer:
            team_ids[action.target] = int(answer["teamId"])
        report.done.append(action)


class _MissingTeam(Exception):
    """A permission item names a team Grafana does not have."""


def _resolve_teams(body: dict[str, Any], team_ids: Mapping[str, int]) -> dict[str, Any]:
    resolved = copy.deepcopy(body)
    for item in resolved["items"]:
        name = item.pop(TEAM_REF)
        if name not in team_ids:
            raise _MissingTeam(name)
        item["teamId"] = team_ids[name]
    return resolved


def _message(exc: GrafanaException) -> str:
    response = exc.response
    if isinstance(response, dict):
        text = str(response.get("message") or exc.message)
        if response.get("status"):
            text += f" ({response['status']})"
        return text
    return str(response or exc.message)


def push(
    api: GrafanaFace,
    url: str,
    bundle: Bundle,
    tokens: Mapping[str, str | None],
    message: str,
    on_action: Callable[[Action], None] | None = None,
) -> PushReport:
    """Read, plan, write: the report of one push (raises :class:`PushError` when Grafana cannot
    be reached or refuses the token)."""
    report = PushReport(url=url, version=health(api, url))
    state, failures = read_state(api, url, bundle)
    report.failures.extend(failures)
    actions = plan(bundle, state, tokens, message)
    if on_action is not None:
        for action in actions:
            on_action(action)
    execute(api, url, actions, state.teams, report)
    return report
