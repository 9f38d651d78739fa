"""Train and evaluate a small binary classifier on embeddings, split by group (person / video).

Frames of one person are nearly duplicates, so a random split would put the same person on
both sides and overstate accuracy; every split here is grouped (sklearn GroupShuffleSplit).
Augmented copies of an example are used only when the example is in the training part. The
model is the class-balanced logistic regression of the Video-Annotator loop
(``framesift.loop.annotator``). Pure numpy/sklearn, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from framesift.loop.annotator import DEFAULT_C, ConceptClassifier, train_classifier


class SplitError(ValueError):
    """Labels that cannot give a grouped held-out estimate (too few groups or one class)."""


@dataclass
class AucEstimate:
    auc: float
    auc_std: float
    aucs: list[float]
    n_groups: int
    test_size: float


@dataclass
class CurvePoint:
    size: int  # training examples (before augmentation)
    auc: float
    auc_std: float
    n_splits: int


def training_rows(base: np.ndarray, augmented: np.ndarray, labels: np.ndarray,
                  index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings + labels of the examples at ``index`` and of all their augmented copies."""
    index = np.asarray(index, np.int64)
    copies = augmented.shape[1] if augmented.ndim == 3 else 0
    x = [base[index]] + [augmented[index, j] for j in range(copies)]
    return np.concatenate(x), np.tile(labels[index], 1 + copies)


def fit(base: np.ndarray, augmented: np.ndarray, labels: np.ndarray, index: np.ndarray | None = None, *,
        c: float = DEFAULT_C, embedder: str = "") -> ConceptClassifier:
    index = np.arange(len(labels)) if index is None else index
    x, y = training_rows(base, augmented, np.asarray(labels, np.int64), index)
    return train_classifier(x, y, c=c, embedder=embedder)


def grouped_splits(groups: np.ndarray, labels: np.ndarray, *, test_size: float = 0.25, repeats: int = 5,
                   seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Up to ``repeats`` distinct (train, test) index pairs with no group on both sides and both classes on each."""
    from sklearn.model_selection import GroupShuffleSplit

    labels = np.asarray(labels, np.int64)
    codes = np.unique(np.asarray(groups, dtype=str), return_inverse=True)[1]
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    if n_groups < 2:
        raise SplitError(f"need labels from at least 2 groups (persons/videos) for a held-out split, have {n_groups}")
    splitter = GroupShuffleSplit(n_splits=max(20, 10 * repeats), test_size=test_size, random_state=seed)
    out, seen = [], set()
    for train, test in splitter.split(np.zeros(len(labels)), labels, codes):
        key = tuple(sorted(set(codes[test].tolist())))
        if key in seen or len(set(labels[train].tolist())) < 2 or len(set(labels[test].tolist())) < 2:
            continue
        seen.add(key)
        out.append((train, test))
        if len(out) == repeats:
            break
    if not out:
        raise SplitError("no grouped split has both classes on both sides: label positives and negatives in more "
                         "groups (persons/videos)")
    return out


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def evaluate(base: np.ndarray, augmented: np.ndarray, labels: np.ndarray, groups: np.ndarray, *,
             test_size: float = 0.25, repeats: int = 5, seed: int = 0, c: float = DEFAULT_C) -> AucEstimate:
    """ROC AUC on held-out groups, mean and spread over repeated grouped splits."""
    labels = np.asarray(labels, np.int64)
    aucs = []
    for train, test in grouped_splits(groups, labels, test_size=test_size, repeats=repeats, seed=seed):
        model = fit(base, augmented, labels, train, c=c)
        aucs.append(roc_auc(labels[test], model.decision(base[test])))
    return AucEstimate(float(np.mean(aucs)), float(np.std(aucs)), aucs, len(set(np.asarray(groups, str).tolist())),
                       test_size)


def subsample(labels: np.ndarray, index: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` of the examples at ``index``, at random but with at least one of each class."""
    index = np.asarray(index, np.int64)
    if size >= len(index):
        return index
    pos, neg = index[labels[index] == 1], index[labels[index] == 0]
    first = [int(rng.choice(pos)), int(rng.choice(neg))]
    rest = rng.permutation(np.setdiff1d(index, first))[: size - 2]
    return np.sort(np.concatenate([first, rest]).astype(np.int64))


def default_sizes(n_train: int, smallest: int = 8) -> list[int]:
    """Doubling training-set sizes from ``smallest`` up to all training examples."""
    sizes, size = [], smallest
    while size < n_train:
        sizes.append(size)
        size *= 2
    return [*sizes, n_train]


def learning_curve(base: np.ndarray, augmented: np.ndarray, labels: np.ndarray, groups: np.ndarray,
                   sizes: Sequence[int] | None = None, *, test_size: float = 0.25, repeats: int = 5, seed: int = 0,
                   c: float = DEFAULT_C) -> list[CurvePoint]:
    """Held-out AUC vs number of training examples, over repeated grouped splits."""
    labels = np.asarray(labels, np.int64)
    splits = grouped_splits(groups, labels, test_size=test_size, repeats=repeats, seed=seed)
    largest = max(len(train) for train, _ in splits)
    wanted = sorted({int(s) for s in (sizes or default_sizes(largest))})
    if wanted and wanted[0] < 2:
        raise SplitError("training-set sizes must be >= 2 (one example of each class)")
    rng = np.random.default_rng(seed)
    points = []
    for size in wanted:
        aucs = []
        for train, test in splits:
            if size > len(train):
                continue
            model = fit(base, augmented, labels, subsample(labels, train, size, rng), c=c)
            aucs.append(roc_auc(labels[test], model.decision(base[test])))
        if aucs:
            points.append(CurvePoint(size, float(np.mean(aucs)), float(np.std(aucs)), len(aucs)))
    return points
