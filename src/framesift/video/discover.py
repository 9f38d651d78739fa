"""Find the videos of an input: a folder (recursive), a single file, or an fsspec URL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from framesift.errors import FramesiftError
from framesift.video.decode import VIDEO_EXTENSIONS, is_url


@dataclass(frozen=True)
class VideoFile:
    path: str  # absolute local path or URL
    name: str  # relative path without extension ('/'-separated), the video's name in frame files
    ext: str  # extension without dot, lower case
    size_bytes: int
    mtime: float


def discover_videos(source: str) -> list[VideoFile]:
    """All video files under ``source`` sorted by name; other files are ignored."""
    if is_url(source):
        return _discover_fsspec(source)
    root = Path(source).expanduser()
    if not root.exists():
        raise FramesiftError(f"{source}: input not found; pass a folder of videos, a video file or a URL")
    if root.is_file():
        video = _local_video(root, root.parent)
        if video is None:
            raise FramesiftError(f"{source}: not a video file (extensions: {', '.join(sorted(VIDEO_EXTENSIONS))})")
        return [video]
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            video = _local_video(Path(dirpath) / filename, root)
            if video is not None:
                found.append(video)
    return sorted(found, key=lambda v: v.name)


def _local_video(path: Path, root: Path) -> VideoFile | None:
    ext = path.suffix[1:].lower()
    if ext not in VIDEO_EXTENSIONS:
        return None
    try:
        stat = path.stat()
    except OSError:  # dangling symlink or vanished file: report it at ingest time
        stat = None
    rel = path.relative_to(root).with_suffix("").as_posix()
    return VideoFile(
        path=str(path.resolve() if stat is not None else path.absolute()),
        name=rel,
        ext=ext,
        size_bytes=stat.st_size if stat else 0,
        mtime=stat.st_mtime if stat else 0.0,
    )


def _discover_fsspec(url: str) -> list[VideoFile]:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    root = root.rstrip("/")
    if fs.isfile(root):
        entries = {root: fs.info(root)}
        base = root.rsplit("/", 1)[0]
    else:
        entries = fs.find(root, detail=True)
        base = root
    videos = []
    for path, info in sorted(entries.items()):
        ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if ext not in VIDEO_EXTENSIONS:
            continue
        rel = path[len(base) :].lstrip("/")
        rel = rel[: -(len(ext) + 1)]
        mtime = info.get("mtime") or info.get("LastModified") or 0.0
        videos.append(
            VideoFile(
                path=f"{protocol}://{path}",
                name=rel,
                ext=ext,
                size_bytes=int(info.get("size") or 0),
                mtime=float(mtime.timestamp()) if hasattr(mtime, "timestamp") else float(mtime),
            )
        )
    return videos
