"""Request guards: access token, Host header check, JSON-only writes.

- Bound to 127.0.0.1 (the default) the app checks the Host header, so a web page elsewhere
  cannot reach it through DNS rebinding.
- With a token (required for ``--host 0.0.0.0``) every request must carry it: header
  ``X-Framesift-Token`` / ``Authorization: Bearer``, or the cookie set by opening a
  ``?token=...`` login link once.
- Writes (POST/PUT/DELETE) must be ``application/json``: an HTML form on another site cannot
  send that without a CORS preflight, which this app never grants.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

COOKIE = "framesift_token"
HEADER = "x-framesift-token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves (symlinks followed) to a place under ``folder`` (also resolved).

    Media and export files are served from fixed folders of the workspace; a symlink planted there
    must not hand out a file from elsewhere. A folder that is itself a link (cache/ on a bigger
    disk) keeps working, because the folder is resolved too.
    """
    return path.resolve().is_relative_to(folder.resolve())


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _presented_token(request: Request) -> str | None:
    token = request.headers.get(HEADER)
    if token:
        return token
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.cookies.get(COOKIE)


class Guard:
    def __init__(self, token: str | None, allowed_hosts: tuple[str, ...] | None):
        self.token = token or None
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts) if allowed_hosts else None

    def _ok(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), str(self.token).encode())

    async def __call__(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if self.allowed_hosts is not None and _host_name(request.headers.get("host", "")) not in self.allowed_hosts:
            return PlainTextResponse("unexpected Host header", status_code=400)
        if self.token is not None:
            login = request.query_params.get("token")
            if login is not None and request.method == "GET":
                if not self._ok(login):
                    return PlainTextResponse("wrong token", status_code=401)
                rest = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "token"]
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(COOKIE, login, httponly=True, samesite="strict")
                return response
            if not self._ok(_presented_token(request)):
                if request.url.path.startswith("/api/"):
                    return JSONResponse({"error": "token required: open the login link printed by framesift serve"},
                                        status_code=401)
                return PlainTextResponse("token required: open the login link printed by `framesift serve`",
                                         status_code=401)
        if request.method in WRITE_METHODS:
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return JSONResponse({"error": "send JSON (Content-Type: application/json)"}, status_code=415)
        return await call_next(request)
