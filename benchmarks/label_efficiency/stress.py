"""Synthetic stress videos with controlled rare events, and the rare-event recall they measure.

One video is a sequence of segments (lengths scale with ``n_frames``):

* ``active``: traffic. Common objects ("car", grey boxes) cross the scene in four lanes, a new
  one every 4-10 frames, each its own track;
* ``static``: the empty scene for a long stretch, only sensor noise changes;
* ``duplicate``: the last frame of the previous active segment frozen (objects included) with
  fresh sensor noise: a near-duplicate run;
* rare objects ("bus": large yellow box, "bike": small red box) cross during a few active
  segments, each visit a short event;
* lighting changes: a gain (0.45 dusk, 1.6 glare) over the middle half of an active segment.

Ground truth: boxes with classes and track ids, the idle mask (static + duplicate frames),
events (each rare visit, each lighting change) and frame-level concepts for the classification
part (``bus``, ``bike``, ``dark``, ``empty``). Everything is seeded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from framesift.video.synthetic import textured_background

from .datasets import Clip, Event, GroundTruth

CATEGORIES = ["car", "bus", "bike"]
RARE_KINDS = ("rare:bus", "rare:bike", "lighting")
# (kind, relative length, rare class, lighting gain); 900 frames at n_frames=900
TEMPLATE: tuple[tuple[str, int, str | None, float], ...] = (
    ("active", 80, None, 1.0),
    ("static", 150, None, 1.0),
    ("active", 60, "bus", 1.0),
    ("duplicate", 100, None, 1.0),
    ("active", 60, None, 0.45),
    ("static", 150, None, 1.0),
    ("active", 60, "bike", 1.0),
    ("duplicate", 80, None, 1.0),
    ("active", 60, "bus", 1.6),
    ("static", 100, None, 1.0),
)
_SIZES = {"car": (26, 14), "bus": (64, 26), "bike": (12, 10)}
_COLORS = {"bus": (235, 200, 30), "bike": (220, 30, 30)}


@dataclass(frozen=True)
class StressSpec:
    n_frames: int = 900
    width: int = 320
    height: int = 240
    fps: float = 10.0
    seed: int = 0
    noise: float = 2.0
    rare_frames: int = 25  # frames a rare object takes to cross the scene
    speed: tuple[float, float] = (5.0, 9.0)  # car speed range, px per frame
    spawn: tuple[int, int] = (4, 11)  # frames between two cars (random in [lo, hi))
    idle_scale: float = 1.0  # multiplies the length of static and duplicate segments


def sparse_spec(n_frames: int = 600, seed: int = 0) -> StressSpec:
    """A low-frame-rate camera (2 fps): objects cross in 4-7 frames, rare visits last 4 frames, ~85 % idle."""
    return StressSpec(n_frames=n_frames, fps=2.0, seed=seed, rare_frames=4, speed=(50.0, 85.0), spawn=(2, 5),
                      idle_scale=2.5)


@dataclass
class _Obj:
    track: int
    cls: int
    color: tuple[int, int, int]
    first: int  # frame at which it is at x0 (may precede its segment: traffic already under way)
    x0: float
    y: float
    vx: float
    w: int
    h: int
    seg_start: int  # the active segment it belongs to (it exists only there)
    seg_end: int


def stress_clip(spec: StressSpec | None = None, name: str = "stress") -> Clip:
    """Build the stress clip (ground truth + renderer) described in the module docstring."""
    spec = spec or StressSpec()
    rng = np.random.default_rng(spec.seed)
    rel = [t[1] * (spec.idle_scale if t[0] != "active" else 1.0) for t in TEMPLATE]
    scale = spec.n_frames / sum(rel)
    lengths = [max(8, round(r * scale)) for r in rel]
    n = sum(lengths)
    scene = np.arange(n)  # frame whose object layout frame i shows
    gain = np.ones(n)
    kind = np.empty(n, dtype=object)
    objects: list[_Obj] = []
    events: list[Event] = []
    lanes = np.linspace(0.3, 0.85, 4) * spec.height
    start = 0
    next_track = 0
    last_active_end = -1
    for (seg_kind, _, rare, seg_gain), length in zip(TEMPLATE, lengths, strict=True):
        seg = slice(start, start + length)
        kind[seg] = seg_kind
        if seg_kind == "duplicate" and last_active_end >= 0:
            scene[seg] = last_active_end
        elif seg_kind == "active":
            t = start - int(np.ceil(spec.width / spec.speed[0]))  # traffic already under way at the start
            while t < start + length:
                lane = int(rng.integers(0, 4))
                speed = float(rng.uniform(*spec.speed)) * (1 if lane % 2 == 0 else -1)
                w, h = _SIZES["car"]
                shade = int(rng.integers(70, 200))
                x0 = -w if speed > 0 else spec.width
                objects.append(_Obj(next_track, 0, (shade, shade, shade + 10), t, x0, lanes[lane] - h / 2, speed, w, h,
                                    start, start + length - 1))
                next_track += 1
                t += int(rng.integers(*spec.spawn))
            if rare is not None:
                cls = CATEGORIES.index(rare)
                w, h = _SIZES[rare]
                t0 = start + int(rng.integers(min(5, length // 4), max(6, length - spec.rare_frames - 5)))
                speed = (spec.width + w) / spec.rare_frames
                objects.append(_Obj(next_track, cls, _COLORS[rare], t0, -w, lanes[1] - h / 2 + 6, speed, w, h,
                                    start, start + length - 1))
                next_track += 1
            if seg_gain != 1.0:
                a, b = start + length // 4, start + (3 * length) // 4
                gain[a:b] = seg_gain
                events.append(Event("lighting", a, b - 1))
            last_active_end = start + length - 1
        start += length
    f_idx, boxes, cls_l, trk = [], [], [], []
    for f in range(n):
        if kind[f] == "static":
            continue
        s = int(scene[f])
        for o in objects:
            box = _visible_box(o, s, spec) if o.seg_start <= s <= o.seg_end else None
            if box is not None:
                f_idx.append(f)
                boxes.append(box)
                cls_l.append(o.cls)
                trk.append(o.track)
    gt = GroundTruth(n, list(CATEGORIES), np.array(f_idx, np.int64), np.array(boxes, np.float64).reshape(-1, 4),
                     np.array(cls_l, np.int64), np.array(trk, np.int64))
    for o in objects:  # a rare visit spans the frames where its box is visible
        if o.cls != 0:
            on = gt.frame[gt.track == o.track]
            events.append(Event(f"rare:{CATEGORIES[o.cls]}", int(on.min()), int(on.max())))
    events.sort(key=lambda e: (e.start, e.kind))
    idle = (kind == "static") | (kind == "duplicate")
    visibility = np.where(gain < 1.0, gain, 1.0 / np.sqrt(gain))
    concepts = {
        "bus": _frames_with(gt, CATEGORIES.index("bus")),
        "bike": _frames_with(gt, CATEGORIES.index("bike")),
        "dark": gain < 0.8,
        "empty": np.bincount(gt.frame, minlength=n) == 0,
    }
    about = (f"synthetic stress video {spec.width}x{spec.height} at {spec.fps:g} fps, seed {spec.seed}: "
             f"{n} frames, {int(idle.sum())} idle (static + near-duplicate), {len(np.unique(gt.track))} tracks, "
             f"{len(events)} rare events ({', '.join(sorted({e.kind for e in events}))})")
    background = textured_background(spec.height, spec.width, spec.seed)
    render = _renderer(spec, background, gt, scene, gain, objects)
    return Clip(name, spec.fps, gt, render, "ground truth", idle, events, about, source_frames=scene.copy(),
                visibility=visibility, concepts=concepts)


def _visible_box(o: _Obj, f: int, spec: StressSpec) -> tuple[float, float, float, float] | None:
    x = o.x0 + o.vx * (f - o.first)
    x1, x2 = max(0.0, x), min(float(spec.width), x + o.w)
    if x2 - x1 < 0.3 * o.w:
        return None
    return (x1, o.y, x2 - x1, float(o.h))


def _frames_with(gt: GroundTruth, cls: int) -> np.ndarray:
    out = np.zeros(gt.n_frames, bool)
    out[gt.frame[gt.cls == cls]] = True
    return out


def _renderer(spec: StressSpec, background: np.ndarray, gt: GroundTruth, scene: np.ndarray, gain: np.ndarray,
              objects: list[_Obj]):  # type: ignore[no-untyped-def]
    color = {o.track: o.color for o in objects}
    order = np.argsort(gt.frame, kind="stable")
    starts = np.searchsorted(gt.frame[order], np.arange(gt.n_frames + 1))

    def render() -> Iterator[np.ndarray]:
        rng = np.random.default_rng(spec.seed + 1)
        for f in range(gt.n_frames):
            image = background.astype(np.float32)
            for k in order[starts[f]:starts[f + 1]]:
                x, y, w, h = (round(float(v)) for v in gt.xywh[k])
                image[max(0, y):y + h, max(0, x):x + w] = color[int(gt.track[k])]
            image = image * gain[f] + rng.normal(0.0, spec.noise, image.shape)
            yield np.clip(np.rint(image), 0, 255).astype(np.uint8)

    return render


def rare_event_recall(events: list[Event], mask: np.ndarray) -> dict[str, float]:
    """Recall of each rare-event kind and of all of them ('all') at the selected frames ``mask``."""
    from .metrics import event_recall

    out = {}
    for k in RARE_KINDS:
        spans = [(e.start, e.end) for e in events if e.kind == k]
        if spans:
            out[k] = event_recall(spans, mask)
    spans = [(e.start, e.end) for e in events if e.kind in RARE_KINDS]
    out["all"] = event_recall(spans, mask)
    return out
