"""`framesift serve WORKSPACE`: the local web app (explorer, search, annotator, bulk labeler)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from framesift.errors import FramesiftError


def _clip_options(config: Path | None, model: str | None, pretrained: str | None, model_config: str | None):  # type: ignore[no-untyped-def]
    from framesift.app.state import ClipOptions

    options: dict[str, object] = {}
    if config is not None:
        from framesift.config.loader import read_config_file

        section = read_config_file(config).get("framesift") or {}
        raw = section.get("embedder_options") or {}
        if not isinstance(raw, dict):
            raise FramesiftError(f"{config}: framesift.embedder_options must be a mapping")
        options.update({k: raw[k] for k in ("model", "pretrained", "model_config", "cache_dir", "quick_gelu")
                        if k in raw})
    for key, value in (("model", model), ("pretrained", pretrained), ("model_config", model_config)):
        if value is not None:
            options[key] = value
    return ClipOptions(**options)  # type: ignore[arg-type]


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        workspace: Annotated[Path, typer.Argument(help="Workspace folder (from `framesift run` / `ingest`).")],
        host: Annotated[str, typer.Option(help="Interface to bind; anything but loopback needs --token.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
        token: Annotated[str | None, typer.Option(envvar="FRAMESIFT_TOKEN",
                                                  help="Access token (env FRAMESIFT_TOKEN); required off loopback.")] = None,
        embedder: Annotated[str | None, typer.Option(help="Embedding key to use (default: CLIP if stored, "
                                                          "else EfficientNet, else pixels).")] = None,
        config: Annotated[Path | None, typer.Option("--config", "-c",
                                                    help="Config whose framesift.embedder_options name the CLIP weights.")] = None,
        clip_model: Annotated[str | None, typer.Option(help="open_clip model of the stored CLIP embeddings.")] = None,
        clip_pretrained: Annotated[str | None, typer.Option(help="CLIP weights file (or a cached tag).")] = None,
        clip_model_config: Annotated[str | None, typer.Option(help="open_clip model config JSON (custom models).")] = None,
        projection: Annotated[str, typer.Option(help="Embedding map: pca (fast) or umap (if installed).")] = "pca",
    ) -> None:
        """Start the web app for a workspace (explorer, search, Video-Annotator loop, bulk labeler)."""
        import uvicorn

        from framesift.app.security import LOOPBACK_HOSTS
        from framesift.app.server import create_app

        if projection not in ("pca", "umap"):
            raise FramesiftError(f"--projection {projection!r}: use pca or umap")
        if not is_loopback(host) and not token:
            raise FramesiftError(f"--host {host} exposes the app to the network: also pass --token SECRET "
                                 "(or set FRAMESIFT_TOKEN)")
        allowed = LOOPBACK_HOSTS if is_loopback(host) and not token else None
        clip = _clip_options(config, clip_model, clip_pretrained, clip_model_config)
        web = create_app(workspace, token=token, allowed_hosts=allowed, embedder=embedder, clip=clip,
                         projection=projection)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        url = f"http://{shown}:{port}/"
        typer.echo(f"framesift app for {web.state.fs.workspace.root}")
        typer.echo(f"open {url}?token={token}" if token else f"open {url}")
        uvicorn.run(web, host=host, port=port, log_level="warning")
