"""Encord hand-off: one image group per video, uploaded as a video sequence (``create_video=True``).

The plan written to encord_upload.json is exactly what ``upload_encord`` sends through the SDK,
so a user without credentials (or a reviewer) can see every call and its arguments. Predictions
are listed per frame in Encord's normalised box form for use with the project's ontology.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from framesift.export.model import ExportFrame, ExportSet, px_to_norm
from framesift.util.atomic import write_json

PLAN = "encord_upload.json"


def group_title(video: str, ext: str) -> str:
    """Encord titles must not carry a file extension; keep the video's folders readable."""
    return f"{video.replace('/', '__')}-{ext}"


def encord_plan(export: ExportSet, images_dir: Path, dataset_title: str | None = None) -> dict[str, Any]:
    by_video: dict[tuple[str, str], list[ExportFrame]] = defaultdict(list)
    for frame in export.frames:
        by_video[(frame.video, frame.video_ext)].append(frame)
    groups = []
    for (video, ext), frames in sorted(by_video.items()):
        frames.sort(key=lambda f: f.frame_index)  # the order of the sequence is the order of frames in the video
        groups.append(
            {
                "title": group_title(video, ext),
                "create_video": True,
                "file_paths": [str((images_dir / f.file_name).resolve()) for f in frames],
                "frames": [
                    {
                        "sequence_index": i,
                        "file_name": f.file_name,
                        **f.identity(),
                        "predictions": [
                            {
                                "name": b.category,
                                "confidence": b.score,
                                "boundingBox": {
                                    "x": px_to_norm(b.x, f.width),
                                    "y": px_to_norm(b.y, f.height),
                                    "w": px_to_norm(b.w, f.width),
                                    "h": px_to_norm(b.h, f.height),
                                },
                            }
                            for b in f.boxes
                        ],
                    }
                    for i, f in enumerate(frames)
                ],
            }
        )
    return {
        "create_dataset": {
            "dataset_title": dataset_title or f"framesift {export.run_name}",
            "dataset_type": "CORD_STORAGE",
            "dataset_description": f"frames selected by framesift run {export.run_name}",
        },
        "image_groups": groups,
    }


def write_encord(export: ExportSet, out_dir: Path, images_dir: Path, dataset_title: str | None = None) -> Path:
    path = out_dir / PLAN
    write_json(path, encord_plan(export, images_dir, dataset_title))
    return path
