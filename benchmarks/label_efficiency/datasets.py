"""Clips with per-frame ground truth: COCO / MOT readers, image sequence -> video, idle composites.

A ``Clip`` is ground-truth boxes (with track ids where known) plus a way to render its frames,
so the benchmark can write it as a real video and run the framesift pipeline on it. Frame ``i``
of a clip is ``frame_index`` ``i`` of the video written from it (checked by ``verify_video``).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from framesift.video.decode import iter_frames
from framesift.video.synthetic import write_video

_NUMBER = re.compile(r"(\d+)(?!.*\d)")

DATA_ROOT = Path(__file__).resolve().parents[3] / "shared" / "data"


@dataclass
class GroundTruth:
    """Boxes of one clip as flat arrays, one entry per box."""

    n_frames: int
    categories: list[str]
    frame: np.ndarray  # (K,) int frame index
    xywh: np.ndarray  # (K, 4) float pixels, top-left + size
    cls: np.ndarray  # (K,) int index into categories
    track: np.ndarray  # (K,) int track id, -1 where unknown

    @property
    def has_tracks(self) -> bool:
        return len(self.track) > 0 and bool((self.track >= 0).all())

    def take(self, keep: np.ndarray) -> GroundTruth:
        return replace(self, frame=self.frame[keep], xywh=self.xywh[keep], cls=self.cls[keep], track=self.track[keep])


@dataclass(frozen=True)
class Event:
    """A ground-truth event: frames [start, end] inclusive (a rare object's visit, a lighting change...)."""

    kind: str
    start: int
    end: int


@dataclass
class Clip:
    """Ground truth + frames; ``render()`` yields the RGB frames in order."""

    name: str
    fps: float
    gt: GroundTruth
    render: Callable[[], Iterator[np.ndarray]]
    tracks: str = "ground truth"  # where track ids come from; starts with "none" when there are none
    idle: np.ndarray | None = None  # (n,) bool: frames of idle stretches inserted by construction
    events: list[Event] = field(default_factory=list)
    about: str = ""
    source_frames: np.ndarray | None = None  # (n,) frame of the source sequence each frame shows
    visibility: np.ndarray | None = None  # (n,) 1 = normal light; the simulated detector's confidence factor
    concepts: dict[str, np.ndarray] = field(default_factory=dict)  # frame-level truths (part 3), name -> (n,) bool
    images: list[Path] | None = None  # source image of each frame (real sequences)

    @property
    def n_frames(self) -> int:
        return self.gt.n_frames

    @property
    def has_tracks(self) -> bool:
        return not self.tracks.startswith("none") and self.gt.has_tracks

    @property
    def has_idle(self) -> bool:
        return self.idle is not None and bool(self.idle.any())


def _image_number(name: str) -> int:
    match = _NUMBER.search(Path(name).stem)
    if match is None:
        raise ValueError(f"{name}: no frame number in the image name")
    return int(match.group(1))


def _image_renderer(paths: Sequence[Path]) -> Callable[[], Iterator[np.ndarray]]:
    def render() -> Iterator[np.ndarray]:
        for path in paths:
            with Image.open(path) as image:
                yield np.asarray(image.convert("RGB"))

    return render


def read_coco(path: Path, images_dir: Path) -> tuple[GroundTruth, list[Path]]:
    """COCO detection file whose image names carry the frame number: frame i = i-th image by number."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    images = sorted(data["images"], key=lambda im: _image_number(im["file_name"]))
    position = {im["id"]: i for i, im in enumerate(images)}
    categories = sorted(data["categories"], key=lambda c: c["id"])
    cat_index = {c["id"]: i for i, c in enumerate(categories)}
    anns = [a for a in data["annotations"] if not a.get("iscrowd", 0) and a["image_id"] in position]
    frame = np.array([position[a["image_id"]] for a in anns], np.int64)
    xywh = np.array([a["bbox"] for a in anns], np.float64).reshape(-1, 4)
    cls = np.array([cat_index[a["category_id"]] for a in anns], np.int64)
    order = np.lexsort((xywh[:, 1], xywh[:, 0], frame))
    gt = GroundTruth(len(images), [c["name"] for c in categories], frame[order], xywh[order], cls[order],
                     np.full(len(anns), -1, np.int64))
    return gt, [Path(images_dir) / im["file_name"] for im in images]


def read_mot(gt_path: Path, images_dir: Path, category: str = "pedestrian") -> tuple[GroundTruth, list[Path]]:
    """MOT ground truth ``frame,id,x,y,w,h,conf[,class,visibility]`` (frames from 1); conf 0 rows are ignored."""
    paths = sorted(Path(images_dir).glob("*.jpg"), key=lambda p: _image_number(p.name))
    numbers = [_image_number(p.name) for p in paths]
    if numbers != list(range(1, len(paths) + 1)):
        raise ValueError(f"{images_dir}: MOT images must be numbered 1..N without gaps")
    rows = np.loadtxt(gt_path, delimiter=",", ndmin=2)
    keep = rows[:, 6] != 0
    if rows.shape[1] >= 9:  # MOT16+: class column, pedestrians only
        keep &= rows[:, 7] == 1
    rows = rows[keep]
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    rows = rows[order]
    gt = GroundTruth(len(paths), [category], rows[:, 0].astype(np.int64) - 1, rows[:, 2:6].astype(np.float64),
                     np.zeros(len(rows), np.int64), rows[:, 1].astype(np.int64))
    return gt, paths


# -- the real clips ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ClipSpec:
    name: str
    fps: float
    fps_note: str
    load: Callable[[Path], tuple[GroundTruth, list[Path]]]
    tracks: str  # "gt", "derived" (tracks.link_tracks) or "none"
    tracks_note: str = ""


def _ngsim(root: Path) -> tuple[GroundTruth, list[Path]]:
    folder = root / "ngsim-us101-cars" / "sequence1"
    return read_coco(folder / "GT_coco.json", folder / "images")


def _gram(root: Path) -> tuple[GroundTruth, list[Path]]:
    folder = root / "gram-m30hd-cars"
    return read_coco(folder / "GT_coco.json", folder / "images")


def _tud(root: Path) -> tuple[GroundTruth, list[Path]]:
    folder = root / "tud-campus"
    return read_mot(folder / "gt" / "gt.txt", folder / "img1")


REAL_CLIPS: dict[str, ClipSpec] = {
    "tud-campus": ClipSpec("tud-campus", 25.0, "25 fps (TUD-Campus/MOT15)", _tud, "gt", "MOT identities"),
    "ngsim-us101": ClipSpec(
        "ngsim-us101", 3.0, "3 fps ASSUMED (source: ~1 min per sequence, 2.5-3 fps, not stated exactly)", _ngsim,
        "derived", "derived by tracks.link_tracks (no identities in the COCO file)",
    ),
    "gram-m30hd": ClipSpec(
        "gram-m30hd", 30.0, "30 fps as the source states", _gram, "none",
        "none: adjacent images are not adjacent video frames (cars appear and vanish between them), so boxes "
        "cannot be linked; box metrics only",
    ),
}


def load_real_clip(name: str, root: Path = DATA_ROOT) -> Clip:
    spec = REAL_CLIPS[name]
    gt, paths = spec.load(root)
    if spec.tracks == "derived":
        from .tracks import link_tracks

        gt = replace(gt, track=link_tracks(gt.frame, gt.xywh))
    about = f"{len(paths)} real frames at {spec.fps_note}"
    return Clip(name, spec.fps, gt, _image_renderer(paths), tracks=spec.tracks_note, about=about,
                source_frames=np.arange(len(paths)), images=list(paths))


# -- composites with idle stretches ------------------------------------------------------------
def with_idle_stretches(clip: Clip, *, segments: int = 3, idle_ratio: float = 3.0, noise: float = 2.0,
                        seed: int = 0) -> Clip:
    """The clip cut into ``segments`` parts, each followed by a freeze of its last frame.

    A freeze repeats that frame ``idle_ratio * n / segments`` times with fresh Gaussian sensor
    noise (``noise`` grey levels) on every repeat, like a paused scene or a standstill: the same
    objects stay in view, nothing new happens. Boxes and track ids of a frozen frame are those of
    the frame it repeats, so ground truth stays exact.
    """
    n = clip.n_frames
    bounds = np.linspace(0, n, segments + 1).round().astype(np.int64)
    idle_len = round(idle_ratio * n / segments)
    source: list[int] = []
    idle: list[bool] = []
    for a, b in itertools.pairwise(bounds.tolist()):
        source += list(range(int(a), int(b)))
        idle += [False] * int(b - a)
        source += [int(b) - 1] * idle_len
        idle += [True] * idle_len
    src = np.array(source, np.int64)
    idle_mask = np.array(idle, bool)
    gt = expand_ground_truth(clip.gt, src)
    base_render = clip.render

    def render() -> Iterator[np.ndarray]:
        rng = np.random.default_rng(seed)
        frames = base_render()
        current = None
        pos = -1
        for i, s in enumerate(src.tolist()):
            while pos < s:
                current = next(frames)
                pos += 1
            assert current is not None
            if idle_mask[i]:
                noisy = current.astype(np.float32) + rng.normal(0.0, noise, current.shape).astype(np.float32)
                yield np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
            else:
                yield current

    about = (f"{clip.name} cut in {segments} parts, each followed by a freeze of {idle_len} frames "
             f"(last frame repeated + N(0, {noise:g}) noise): {int(idle_mask.sum())} of {len(src)} frames idle")
    events = [Event("active", int(a) + k * idle_len, int(b) - 1 + k * idle_len)
              for k, (a, b) in enumerate(itertools.pairwise(bounds.tolist()))]
    return Clip(f"{clip.name}+idle", clip.fps, gt, render, clip.tracks, idle_mask, events, about,
                source_frames=src if clip.source_frames is None else clip.source_frames[src])


def expand_ground_truth(gt: GroundTruth, source: np.ndarray) -> GroundTruth:
    """Ground truth of a clip whose frame i shows frame ``source[i]`` of ``gt``'s clip."""
    order = np.argsort(gt.frame, kind="stable")
    starts = np.searchsorted(gt.frame[order], np.arange(gt.n_frames + 1))
    pieces = [order[starts[s]:starts[s + 1]] for s in source.tolist()]
    idx = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
    frame = np.repeat(np.arange(len(source)), [len(p) for p in pieces])
    return GroundTruth(len(source), list(gt.categories), frame.astype(np.int64), gt.xywh[idx], gt.cls[idx],
                       gt.track[idx])


# -- video ------------------------------------------------------------------------------------
def write_clip_video(clip: Clip, path: Path, *, crf: int = 12) -> Path:
    """Encode the clip with libx264 at ``crf`` (12: visually lossless) at the clip's fps."""
    written = write_video(path, clip.render(), fps=clip.fps, codec="libx264", quality=crf)
    if written != clip.n_frames:
        raise RuntimeError(f"{path}: wrote {written} frames, expected {clip.n_frames}")
    return path


def verify_video(clip: Clip, path: Path, *, size: tuple[int, int] = (160, 120), max_error: float = 4.0) -> float:
    """Check that decode order = clip order and that every decoded frame is its clip frame.

    Every decoded frame must be within ``max_error`` mean absolute grey levels of clip frame i
    (at ``size``), and over all frames the decoded sequence must match the clip better at offset
    0 than shifted by one or two frames (frames whose neighbours show the same source frame, as
    in freezes, are left out of that comparison). Returns the largest per-frame error.
    """
    small = np.stack([_gray(f, size) for f in clip.render()])
    decoded = np.stack([_gray(f.to_rgb(), size) for f in iter_frames(str(path))])
    if len(decoded) != len(small):
        raise AssertionError(f"{path}: decoded {len(decoded)} frames, clip has {len(small)}")
    own = np.abs(decoded - small).mean(axis=(1, 2))
    worst = float(own.max())
    if worst > max_error:
        raise AssertionError(f"{path}: decoded frame {int(own.argmax())} differs from its clip frame by {worst:.1f}")
    src = clip.source_frames if clip.source_frames is not None else np.arange(len(small))
    for shift in (-2, -1, 1, 2):
        i = np.arange(max(0, -shift), len(small) - max(0, shift))
        moved = src[i + shift] != src[i]
        if moved.any():
            other = np.abs(decoded[i[moved]] - small[i[moved] + shift]).mean()
            if other <= own[i[moved]].mean():
                raise AssertionError(f"{path}: decoded frames match the clip shifted by {shift} as well as unshifted")
    return worst


def _gray(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(image).convert("L").resize(size, Image.BILINEAR), np.float32)
