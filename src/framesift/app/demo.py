"""A small synthetic workspace with a known concept, for tests, the benchmark and trying the app.

The ``parking`` clip shows a red square in known frames (the concept "red square"); the
``street`` clip has hard cuts and no red square. Frames are ingested and embedded with the
``pixels`` embedder, so nothing needs PyTorch or a download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from framesift.embed.pixels import PixelEmbedder
from framesift.pipeline.embed import embed_videos
from framesift.pipeline.ingest import ingest_videos
from framesift.store.videos import SamplingKey, register_videos
from framesift.video import synthetic
from framesift.video.discover import discover_videos
from framesift.workspace import Workspace

RED_FRAMES = (*range(30, 50), *range(90, 100))


@dataclass
class DemoWorkspace:
    workspace: Workspace
    positive_frame_ids: set[int]  # frames showing the red square
    negative_frame_ids: set[int]


def build_demo_workspace(
    root: str | Path, *, n_frames: int = 120, shot_lengths: tuple[int, ...] = (30, 30, 40), seed: int = 0
) -> DemoWorkspace:
    """Write the videos under ``root/videos`` and a workspace at ``root/ws``; idempotent."""
    root = Path(root)
    videos = root / "videos"
    red = tuple(f for f in RED_FRAMES if f < n_frames)
    if not (videos / "parking.mp4").exists():
        synthetic.static_scene_with_rare_object(videos / "parking.mp4", n_frames=n_frames, rare_frames=red,
                                                size=(160, 120), fps=10, seed=seed)
        synthetic.multi_shot_video(videos / "street.mp4", shot_lengths=shot_lengths, size=(160, 120), fps=10,
                                   seed=seed + 1)
    workspace = Workspace.open(root / "ws")
    ids, _ = register_videos(workspace.catalog, discover_videos(str(videos)), SamplingKey(None, None))
    ingest_videos(workspace.catalog, ids)
    embed_videos(workspace, PixelEmbedder(), batch_size=64)
    rows = workspace.catalog.query(
        "SELECT f.id, f.frame_index, v.name FROM frames f JOIN videos v ON v.id = f.video_id"
    )
    positive = {int(r["id"]) for r in rows if r["name"] == "parking" and r["frame_index"] in red}
    negative = {int(r["id"]) for r in rows} - positive
    return DemoWorkspace(workspace, positive, negative)
