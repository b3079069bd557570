"""A local stand-in for the parts of Grafana's HTTP API that `basin boards push` uses.

Grafana is AGPL-licensed and cannot run here, so the push tests talk to this server instead: a
threaded HTTP server on 127.0.0.1 (a free port) that keeps folders, folder permissions, teams,
datasources and dashboards in memory, answers as Grafana's HTTP API documentation gives it, and
records every request. Endpoints (all under ``/api``; docs/boards.md lists them too):

- ``GET /health`` (no token needed)
- ``GET /folders``, ``GET /folders/:uid``, ``POST /folders``, ``PUT /folders/:uid``
- ``GET /folders/:uid/permissions``, ``POST /folders/:uid/permissions`` (replaces all items)
- ``GET /teams/search?name=&query=&page=&perpage=``, ``POST /teams``
- ``GET /datasources``, ``GET /datasources/uid/:uid``, ``POST /datasources``,
  ``PUT /datasources/uid/:uid`` (secrets are write-only: answers carry ``secureJsonFields``)
- ``GET /dashboards/uid/:uid``, ``POST /dashboards/db`` (``overwrite``, ``message``,
  ``folderUid``; 412 ``version-mismatch`` when ``overwrite`` is false and the version is stale)

Knobs: ``unauthorized`` (401 for everything but the health check) and ``conflicts`` (dashboard
uids that always get a 412, as when someone else keeps saving them).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

VERSION = "11.6.0"


@dataclass(frozen=True)
class Request:
    """One request as it arrived: method, path (no query), query, JSON body, Authorization."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None

    @property
    def write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")


class _Refusal(Exception):
    def __init__(self, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.body = {"message": message, **extra}


@dataclass
class GrafanaState:
    """What the stand-in holds, as Grafana would."""

    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    teams: dict[int, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> record
    messages: dict[str, list[str]] = field(default_factory=dict)  # dashboard uid -> versions


class GrafanaServer:
    """The stand-in: ``start()`` it (or use it as a context manager), point the client at
    ``url``, then look at ``requests`` (every one) and ``state``."""

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.unauthorized = False
        self.conflicts: set[str] = set()
        self.state = GrafanaState()
        self.requests: list[Request] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> GrafanaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GrafanaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.write]

    # --- dispatch ----------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                request = Request(
                    self.command,
                    unquote(parts.path),
                    parse_qs(parts.query),
                    body,
                    self.headers.get("Authorization"),
                )
                status, answer = server.answer(request)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler

    def answer(self, request: Request) -> tuple[int, Any]:
        """Record ``request`` and answer it as Grafana would: (status, JSON body)."""
        with self._lock:
            self.requests.append(request)
            try:
                if request.path == "/api/health":
                    return 200, {"database": "ok", "version": VERSION, "commit": "stand-in"}
                if self.unauthorized or request.authorization != f"Bearer {self.token}":
                    raise _Refusal(401, "invalid API key")
                return 200, self._route(request)
            except _Refusal as refusal:
                return refusal.code, refusal.body

    def _route(self, request: Request) -> Any:
        segments = request.path.removeprefix("/api/").split("/")
        method, body = request.method, request.body or {}
        match (method, segments):
            case ("GET", ["folders"]):
                return [{k: f[k] for k in ("id", "uid", "title")} for f in self._folders()]
            case ("GET", ["folders", uid]):
                return self._folder(uid)
            case ("POST", ["folders"]):
                return self._create_folder(body)
            case ("PUT", ["folders", uid]):
                return self._update_folder(uid, body)
            case ("GET", ["folders", uid, "permissions"]):
                self._folder(uid)
                return self.state.permissions[uid]
            case ("POST", ["folders", uid, "permissions"]):
                return self._set_permissions(uid, body)
            case ("GET", ["teams", "search"]):
                return self._search_teams(request.query)
            case ("POST", ["teams"]):
                return self._create_team(body)
            case ("GET", ["datasources"]):
                return [self._datasource(uid) for uid in self.state.datasources]
            case ("GET", ["datasources", "uid", uid]):
                return self._datasource(uid)
            case ("POST", ["datasources"]):
                return self._save_datasource(None, body)
            case ("PUT", ["datasources", "uid", uid]):
                return self._save_datasource(uid, body)
            case ("GET", ["dashboards", "uid", uid]):
                return self._dashboard(uid)
            case ("POST", ["dashboards", "db"]):
                return self._save_dashboard(body)
        raise _Refusal(404, "Not found")

    # --- folders and permissions -------------------------------------------------------------

    def _folders(self) -> list[dict[str, Any]]:
        return sorted(self.state.folders.values(), key=lambda f: f["id"])

    def _folder(self, uid: str) -> dict[str, Any]:
        if uid not in self.state.folders:
            raise _Refusal(404, "folder not found", status="not-found")
        return self.state.folders[uid]

    def _create_folder(self, body: dict[str, Any]) -> dict[str, Any]:
        uid, title = body.get("uid") or f"f{next(self._ids)}", body.get("title")
        if not title:
            raise _Refusal(400, "folder title cannot be empty")
        if uid in self.state.folders:
            raise _Refusal(409, "a folder with the same uid already exists")
        folder = {"id": next(self._ids), "uid": uid, "title": title, "version": 1}
        self.state.folders[uid] = folder
        # A new folder's defaults, as Grafana sets them: Editors edit, Viewers view.
        self.state.permissions[uid] = [
            _permission(uid, role="Viewer", permission=1),
            _permission(uid, role="Editor", permission=2),
        ]
        return folder

    def _update_folder(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        folder = self._folder(uid)
        if not body.get("overwrite") and body.get("version") != folder["version"]:
            raise _Refusal(412, "the folder has been changed by someone else")
        folder.update(title=body.get("title", folder["title"]), version=folder["version"] + 1)
        return folder

    def _set_permissions(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        self._folder(uid)
        items = []
        for item in body.get("items", []):
            team_id = item.get("teamId")
            if team_id and team_id not in self.state.teams:
                raise _Refusal(400, f"team {team_id} not found")
            team = self.state.teams[team_id]["name"] if team_id else ""
            items.append(
                _permission(
                    uid,
                    role=item.get("role", ""),
                    team_id=team_id or 0,
                    team=team,
                    user_id=item.get("userId", 0),
                    permission=item["permission"],
                )
            )
        self.state.permissions[uid] = items
        return {"message": "Folder permissions updated"}

    # --- teams -------------------------------------------------------------------------------

    def _search_teams(self, query: dict[str, list[str]]) -> dict[str, Any]:
        teams = sorted(self.state.teams.values(), key=lambda t: t["id"])
        if "name" in query:
            teams = [t for t in teams if t["name"] == query["name"][0]]
        elif query.get("query"):
            teams = [t for t in teams if query["query"][0].lower() in t["name"].lower()]
        page = int((query.get("page") or ["1"])[0] or 1)
        per_page = int((query.get("perpage") or ["1000"])[0] or 1000)
        shown = teams[(page - 1) * per_page : page * per_page]
        return {"totalCount": len(teams), "teams": shown, "page": page, "perPage": per_page}

    def _create_team(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not name:
            raise _Refusal(400, "team name is required")
        if any(t["name"] == name for t in self.state.teams.values()):
            raise _Refusal(409, "Team name taken")
        team_id = next(self._ids)
        self.state.teams[team_id] = {
            "id": team_id,
            "orgId": 1,
            "name": name,
            "email": body.get("email", ""),
            "memberCount": 0,
        }
        return {"message": "Team created", "teamId": team_id}

    # --- datasources -------------------------------------------------------------------------

    def _datasource(self, uid: str) -> dict[str, Any]:
        if uid not in self.state.datasources:
            raise _Refusal(404, "Data source not found")
        fields = {key: True for key in self.state.secrets.get(uid, {})}
        return {**self.state.datasources[uid], "secureJsonFields": fields}

    def _save_datasource(self, uid: str | None, body: dict[str, Any]) -> dict[str, Any]:
        body = dict(body)
        secrets = body.pop("secureJsonData", None) or {}
        if uid is None:
            uid = body.get("uid") or f"ds{next(self._ids)}"
            if uid in self.state.datasources or any(
                d["name"] == body.get("name") for d in self.state.datasources.values()
            ):
                raise _Refusal(409, "data source with the same name already exists")
            stored: dict[str, Any] = {"id": next(self._ids), "orgId": 1, "version": 0}
            message = "Datasource added"
        else:
            stored = self.state.datasources.get(uid) or {}
            if not stored:
                raise _Refusal(404, "Data source not found")
            message = "Datasource updated"
        stored = {**stored, **body, "uid": uid, "version": stored["version"] + 1}
        self.state.datasources[uid] = stored
        self.state.secrets.setdefault(uid, {}).update(secrets)
        answer = self._datasource(uid)
        return {
            "datasource": answer,
            "id": stored["id"],
            "message": message,
            "name": stored["name"],
        }

    # --- dashboards --------------------------------------------------------------------------

    def _dashboard(self, uid: str) -> dict[str, Any]:
        if uid not in self.state.dashboards:
            raise _Refusal(404, "Dashboard not found")
        record = self.state.dashboards[uid]
        dashboard = record["dashboard"]
        meta = {
            "folderUid": record["folderUid"],
            "version": dashboard["version"],
            "slug": record["slug"],
            "url": f"/d/{uid}/{record['slug']}",
        }
        return {"dashboard": dashboard, "meta": meta}

    def _save_dashboard(self, body: dict[str, Any]) -> dict[str, Any]:
        dashboard = dict(body.get("dashboard") or {})
        uid, title = dashboard.get("uid") or f"d{next(self._ids)}", dashboard.get("title")
        if not title:
            raise _Refusal(400, "Dashboard title cannot be empty", status="empty-name")
        folder_uid = body.get("folderUid") or ""
        if folder_uid and folder_uid not in self.state.folders:
            raise _Refusal(400, "folder not found", status="folder-not-found")
        current = self.state.dashboards.get(uid)
        stale = current is not None and dashboard.get("version") != current["dashboard"]["version"]
        if uid in self.conflicts or (stale and not body.get("overwrite")):
            raise _Refusal(
                412, "The dashboard has been changed by someone else", status="version-mismatch"
            )
        version = 1 if current is None else current["dashboard"]["version"] + 1
        dashboard_id = next(self._ids) if current is None else current["dashboard"]["id"]
        dashboard.update(uid=uid, id=dashboard_id, version=version)
        slug = "-".join(str(title).lower().split())
        self.state.dashboards[uid] = {"dashboard": dashboard, "folderUid": folder_uid, "slug": slug}
        self.state.messages.setdefault(uid, []).append(str(body.get("message", "")))
        return {
            "id": dashboard_id,
            "uid": uid,
            "url": f"/d/{uid}/{slug}",
            "status": "success",
            "version": version,
            "slug": slug,
        }


def _permission(
    folder_uid: str,
    *,
    permission: int,
    role: str = "",
    team_id: int = 0,
    team: str = "",
    user_id: int = 0,
) -> dict[str, Any]:
    names = {1: "View", 2: "Edit", 4: "Admin"}
    return {
        "folderUid": folder_uid,
        "role": role,
        "teamId": team_id,
        "team": team,
        "userId": user_id,
        "userLogin": "",
        "permission": permission,
        "permissionName": names.get(permission, str(permission)),
        "inherited": False,
    }


__all__ = ["VERSION", "GrafanaServer", "GrafanaState", "Request"]
