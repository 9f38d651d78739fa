"""Part 3: frame classification in the Video-Annotator setting, with a simulated annotator.

Collections: the 20 ASL clips (one word per clip; concept "<word>" = the frames of that clip)
and the synthetic concepts of the stress video (``bus``, ``bike``, ``dark``, ``empty``). Both are
ingested and embedded by the framesift pipeline; the classifier, feeds and AP are framesift's
own (``framesift.loop.annotator`` / ``framesift.loop.feeds``). The annotator answers from ground
truth (no label noise).

Per concept and seed, 30 % of the frames (stratified per video) are held out for AP; labels are
drawn from the rest. Methods, evaluated at the same label counts:

* ``random``: labels in random order;
* ``diversity``: labels in framesift's k-center (DIVERSITY) pick order, concept-agnostic;
* ``similarity``: one positive example frame is known (search by example); frames are labeled
  in order of cosine similarity to it, no model in the loop;
* ``loop (random seed)`` / ``loop (similarity seed)``: the four-feed Video-Annotator loop. The
  first ``seed_labels`` labels come from random order / the similarity ranking; then each round
  trains the classifier on all labels and labels ``per_feed`` frames from each of the positive,
  negative, borderline and random feeds (``build_feeds``). While the labels hold one class only
  there is no model, and the round labels from the seed order instead.

Zero-shot text search (CLIP) is not run: no CLIP weights are available offline here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from framesift.loop.annotator import TrainingError, average_precision, train_classifier
from framesift.loop.feeds import FEEDS, build_feeds
from framesift.select import kcenter_greedy
from framesift.workspace import Workspace

METHODS = ("random", "diversity", "similarity", "loop (random seed)", "loop (similarity seed)")


@dataclass
class Collection:
    """Embeddings of every indexed frame, the video of each, and frame-level truths per concept."""

    name: str
    vectors: np.ndarray  # (N, d) float32, L2-normalised
    video: np.ndarray  # (N,) int
    concepts: dict[str, np.ndarray] = field(default_factory=dict)  # concept -> (N,) bool


def collection_from_workspace(name: str, workspace: Workspace, embedding_key: str,
                              concepts: Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]) -> Collection:
    """Embeddings + per-frame video names/indices of a framesift workspace; ``concepts(names, frame_index)``."""
    from framesift.pipeline.frames import load_frame_table
    from framesift.store.embeddings import EmbeddingStore

    table = load_frame_table(workspace.catalog)
    matrix = EmbeddingStore(workspace, embedding_key).load(table.frame_id)
    keep = table.positions(matrix.frame_ids)
    names = np.array([table.video_names[int(v)] for v in table.video_id[keep]], dtype=object)
    return Collection(name, np.asarray(matrix.vectors, np.float32), table.video_id[keep],
                      concepts(names, table.frame_index[keep]))


@dataclass
class Curve:
    collection: str
    concept: str
    method: str
    seed: int
    labels: list[int]
    ap: list[float]


def holdout_split(video: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of held-out frames: ``fraction`` of each video's frames, at random."""
    held = np.zeros(len(video), bool)
    for v in np.unique(video):
        members = np.flatnonzero(video == v)
        take = round(fraction * len(members))
        held[rng.choice(members, size=take, replace=False)] = True
    return held


def fit_ap(x: np.ndarray, y: np.ndarray, labeled: np.ndarray, eval_x: np.ndarray, eval_y: np.ndarray) -> float:
    """Held-out AP of framesift's concept classifier trained on the labeled rows (prevalence with one class)."""
    try:
        model = train_classifier(x[labeled], y[labeled])
    except TrainingError:
        return float(eval_y.mean())  # no model yet: a random ranking's expected AP
    return average_precision(eval_y, model.score(eval_x))


def _ordered_curve(order: np.ndarray, x: np.ndarray, y: np.ndarray, eval_x: np.ndarray, eval_y: np.ndarray,
                   steps: Sequence[int]) -> list[float]:
    return [fit_ap(x, y, order[:n], eval_x, eval_y) for n in steps]


def loop_curve(seed_order: np.ndarray, x: np.ndarray, y: np.ndarray, eval_x: np.ndarray, eval_y: np.ndarray,
               steps: Sequence[int], *, seed_labels: int, per_feed: int, seed: int) -> list[float]:
    """AP at each label count of ``steps`` along the four-feed loop.

    Label counts go ``seed_labels``, then + 4 * ``per_feed`` per round; a step between two rounds
    is evaluated on the first ``step`` labels. The model trained on a round's labels both gives
    the AP at that count and builds the feeds of the next round.
    """
    labeled: list[int] = list(seed_order[:seed_labels])
    used = np.zeros(len(x), bool)
    used[labeled] = True
    ap: dict[int, float] = {}
    round_no = 0
    while True:
        idx = np.array(labeled)
        try:
            model = train_classifier(x[idx], y[idx])
        except TrainingError:
            model = None
        for n in steps:
            if n not in ap and n <= len(labeled):
                if n == len(labeled):
                    ap[n] = float(eval_y.mean()) if model is None else average_precision(eval_y, model.score(eval_x))
                else:
                    ap[n] = fit_ap(x, y, idx[:n], eval_x, eval_y)
        if len(labeled) >= max(steps):
            break
        picks = _next_round(model, x, labeled, used, seed_order, per_feed, seed + round_no)
        if not picks:
            break
        labeled += picks
        used[picks] = True
        round_no += 1
    return [ap.get(n, float("nan")) for n in steps]


def _next_round(model, x: np.ndarray, labeled: list[int], used: np.ndarray,  # type: ignore[no-untyped-def]
                seed_order: np.ndarray, per_feed: int, seed: int) -> list[int]:
    """``per_feed`` unlabeled frames from each feed (positive, negative, borderline, random), no repeats.

    Without a model (labels of one class only) the next frames of ``seed_order`` instead.
    """
    if model is None:
        return [int(i) for i in seed_order if not used[i]][: len(FEEDS) * per_feed]
    feeds = build_feeds(model.score(x), used, n=len(x), seed=seed)
    picks: list[int] = []
    for name in FEEDS:
        fresh = [int(i) for i in feeds[name].tolist() if int(i) not in picks]
        picks += fresh[:per_feed]
    return picks


def concept_curves(collection: Collection, concept: str, seed: int, steps: Sequence[int], *, seed_labels: int = 8,
                   per_feed: int = 2, holdout: float = 0.3, methods: Sequence[str] = METHODS,
                   cache: dict | None = None) -> list[Curve]:
    """AP-vs-labels curves of every method for one concept and seed (the split depends on the seed only)."""
    cache = {} if cache is None else cache
    rng = np.random.default_rng(seed)
    truth = collection.concepts[concept].astype(np.int64)
    held = holdout_split(collection.video, holdout, rng)
    pool = np.flatnonzero(~held)
    x, y = np.asarray(collection.vectors[pool], np.float32), truth[pool]
    eval_x, eval_y = np.asarray(collection.vectors[held], np.float32), truth[held]
    if eval_y.sum() == 0 or y.sum() == 0:
        return []
    random_order = rng.permutation(len(pool))
    example = int(rng.choice(np.flatnonzero(y == 1)))
    similar = np.argsort(-(x @ x[example]), kind="stable")  # the example first
    orders: dict[str, Callable[[], list[float]]] = {
        "random": lambda: _ordered_curve(random_order, x, y, eval_x, eval_y, steps),
        "diversity": lambda: _ordered_curve(_cached(cache, (collection.name, seed), lambda: _kcenter_order(x, max(steps))),
                                            x, y, eval_x, eval_y, steps),
        "similarity": lambda: _ordered_curve(similar, x, y, eval_x, eval_y, steps),
        "loop (random seed)": lambda: loop_curve(random_order, x, y, eval_x, eval_y, steps, seed_labels=seed_labels,
                                                 per_feed=per_feed, seed=seed),
        "loop (similarity seed)": lambda: loop_curve(similar, x, y, eval_x, eval_y, steps, seed_labels=seed_labels,
                                                     per_feed=per_feed, seed=seed),
    }
    return [Curve(collection.name, concept, name, seed, list(steps), orders[name]()) for name in methods]


def _cached(cache: dict, key: object, make: Callable[[], np.ndarray]) -> np.ndarray:
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _kcenter_order(x: np.ndarray, k: int) -> np.ndarray:
    return np.asarray(kcenter_greedy(x, min(k, len(x))), np.int64)
