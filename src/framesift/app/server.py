"""The FastAPI application: pages, static files, media and the JSON API of one workspace."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from framesift import __version__
from framesift.app import api_concepts, api_explore
from framesift.app.media import MediaCache
from framesift.app.security import Guard
from framesift.app.state import AppState, ClipOptions
from framesift.errors import FramesiftError
from framesift.loop.annotator import TrainingError
from framesift.loop.concepts import NotFound
from framesift.workspace import Workspace

PAGES = {"/": "index.html", "/search": "search.html", "/annotate": "annotate.html", "/review": "review.html",
         "/bulk": "bulk.html"}
MEDIA_CACHE = "private, max-age=86400"


def static_dir() -> Path:
    return Path(str(resources.files("framesift.app") / "static"))


def create_app(
    workspace: str | Path | Workspace,
    *,
    token: str | None = None,
    allowed_hosts: tuple[str, ...] | None = None,
    embedder: str | None = None,
    clip: ClipOptions | None = None,
    projection: str = "pca",
) -> FastAPI:
    """The app for one workspace. ``allowed_hosts`` limits the Host header (None: any)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace, create=False)
    state = AppState(ws, embedder=embedder, clip=clip or ClipOptions(), projection=projection)
    if embedder is not None and embedder not in state.embedding_keys():
        have = ", ".join(state.embedding_keys()) or "none"
        raise FramesiftError(f"--embedder {embedder}: no finished embeddings of that key in {ws.root} (it has: {have}); "
                             f"run `framesift embed --embedder {embedder}` or pick one of those")
    app = FastAPI(title="framesift", version=__version__, docs_url=None, redoc_url=None,  # Swagger UI needs a CDN
                  openapi_url="/api/openapi.json")
    app.state.fs = state
    app.state.media = MediaCache(ws)
    app.middleware("http")(Guard(token, allowed_hosts))

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, err: NotFound) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=404)

    @app.exception_handler(TrainingError)
    async def _training(_: Request, err: TrainingError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=400)

    @app.exception_handler(FramesiftError)
    async def _user_error(_: Request, err: FramesiftError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=400)

    static = static_dir()
    app.mount("/static", StaticFiles(directory=static), name="static")
    for route, page in PAGES.items():
        app.add_api_route(route, _page(static / page), methods=["GET"], include_in_schema=False)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/media/thumb/{frame_id:int}.jpg", include_in_schema=False)
    def thumb(frame_id: int, request: Request, w: int = Query(160, ge=1, le=4096)) -> FileResponse:
        path = request.app.state.media.frame_jpeg(frame_id, w)
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": MEDIA_CACHE})

    @app.get("/media/frame/{frame_id:int}.jpg", include_in_schema=False)
    def frame(frame_id: int, request: Request) -> FileResponse:
        path = request.app.state.media.frame_jpeg(frame_id, None)
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": MEDIA_CACHE})

    @app.get("/media/crop/{box_id:int}.jpg", include_in_schema=False)
    def crop(box_id: int, request: Request, w: int = Query(160, ge=1, le=4096)) -> FileResponse:
        path = request.app.state.media.crop_jpeg(box_id, w)
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": MEDIA_CACHE})

    app.include_router(api_explore.router)
    app.include_router(api_concepts.router)
    return app


def _page(path: Path):  # type: ignore[no-untyped-def]
    def serve_page() -> FileResponse:
        return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})

    return serve_page
