"""Binary concept classifiers on frame embeddings (the Video-Annotator model), pure numpy/sklearn.

A concept ("establishing shot", "child smiling") is learned from a few hundred labels with a
class-balanced logistic regression on the stored embeddings: seconds to train, milliseconds to
score a whole collection, and its weights export as plain JSON. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framesift.util.threads import single_blas_thread

DEFAULT_C = 10.0  # embeddings are unit vectors: weak regularisation keeps scores spread out
MIN_PER_CLASS_FOR_AP = 2


class TrainingError(ValueError):
    """Labels that cannot train a classifier (one class only, no embeddings)."""


@dataclass
class ConceptClassifier:
    """A linear model: score = sigmoid(x @ weights + bias); 0.5 is the decision boundary."""

    weights: np.ndarray  # (d,) float32
    bias: float
    embedder: str = ""
    n_pos: int = 0
    n_neg: int = 0
    c: float = DEFAULT_C
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return len(self.weights)

    def decision(self, vectors: np.ndarray) -> np.ndarray:
        """Signed distance-like logit; 0 on the boundary."""
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected (N, {self.dim}) embeddings, got {vectors.shape}")
        out = np.empty(len(vectors), np.float32)
        step = 65536  # bounded temporary memory for float16 / memmapped matrices
        for start in range(0, len(vectors), step):
            block = np.asarray(vectors[start : start + step], np.float32)
            out[start : start + step] = block @ self.weights + self.bias
        return out

    def score(self, vectors: np.ndarray) -> np.ndarray:
        """Probability-like scores in (0, 1)."""
        return sigmoid(self.decision(vectors))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "logistic_regression",
            "embedder": self.embedder,
            "dim": self.dim,
            "weights": [float(w) for w in self.weights],
            "bias": float(self.bias),
            "threshold": 0.5,
            "score": "sigmoid(embedding @ weights + bias); embeddings are L2-normalised rows",
            "n_pos": self.n_pos,
            "n_neg": self.n_neg,
            "C": self.c,
            "class_weight": "balanced",
            **self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConceptClassifier:
        known = {"type", "embedder", "dim", "weights", "bias", "threshold", "score", "n_pos", "n_neg", "C",
                 "class_weight"}
        return cls(
            weights=np.asarray(data["weights"], np.float32),
            bias=float(data["bias"]),
            embedder=str(data.get("embedder", "")),
            n_pos=int(data.get("n_pos", 0)),
            n_neg=int(data.get("n_neg", 0)),
            c=float(data.get("C", DEFAULT_C)),
            extra={k: v for k, v in data.items() if k not in known},
        )


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)


def _check_labels(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(vectors, np.float32)
    y = np.asarray(labels).astype(np.int64)
    if x.ndim != 2 or len(x) != len(y):
        raise TrainingError(f"need one embedding per label, got {x.shape} for {len(y)} labels")
    if not np.isin(y, (0, 1)).all():
        raise TrainingError("labels must be 0 or 1")
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    if n_pos == 0 or n_neg == 0:
        raise TrainingError(
            f"need at least one positive and one negative label to build (have {n_pos} positive, {n_neg} negative)"
        )
    return x, y


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    with single_blas_thread():  # small fits: threaded BLAS only adds waiting (30x slower on a busy machine)
        model.fit(x, y)
    return model.coef_[0].astype(np.float32), float(model.intercept_[0])


def train_classifier(
    vectors: np.ndarray, labels: np.ndarray, *, c: float = DEFAULT_C, embedder: str = ""
) -> ConceptClassifier:
    """Fit a class-balanced logistic regression on labeled embeddings (rows aligned with labels)."""
    x, y = _check_labels(vectors, labels)
    weights, bias = _fit(x, y, c)
    return ConceptClassifier(weights, bias, embedder=embedder, n_pos=int(y.sum()), n_neg=int(len(y) - y.sum()), c=c)


@dataclass
class APEstimate:
    """Average precision on held-out labels, over repeated stratified k-fold splits."""

    ap: float | None  # mean over folds; None when there are too few labels
    ap_std: float | None
    n_folds: int
    prevalence: float  # AP of a random ranking, for comparison
    oof_scores: np.ndarray  # (n_labels,) mean held-out score of each label (NaN if never held out)
    reason: str = ""  # why ap is None


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """AP = mean precision at the rank of each positive (ties broken pessimistically)."""
    y = np.asarray(labels, np.int64)
    s = np.asarray(scores, np.float64)
    n_pos = int(y.sum())
    if n_pos == 0:
        return float("nan")
    # Among equal scores put negatives first, so ties never flatter the model.
    order = np.lexsort((y, -s))
    hits = y[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision_at * hits).sum() / n_pos)


def estimate_ap(
    vectors: np.ndarray, labels: np.ndarray, *, c: float = DEFAULT_C, n_splits: int = 5, n_repeats: int = 3,
    seed: int = 0,
) -> APEstimate:
    """Held-out AP: train on k-1 folds, rank the held-out fold, repeat with new shuffles."""
    x, y = _check_labels(vectors, labels)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    prevalence = n_pos / len(y)
    oof_sum = np.zeros(len(y))
    oof_count = np.zeros(len(y))
    smallest = min(n_pos, n_neg)
    if smallest < MIN_PER_CLASS_FOR_AP:
        return APEstimate(None, None, 0, prevalence, np.full(len(y), np.nan),
                          f"need at least {MIN_PER_CLASS_FOR_AP} positive and {MIN_PER_CLASS_FOR_AP} negative labels")
    folds = min(n_splits, smallest)
    rng = np.random.default_rng(seed)
    aps: list[float] = []
    for _ in range(n_repeats):
        for train, test in _stratified_folds(y, folds, rng):
            weights, bias = _fit(x[train], y[train], c)
            held = sigmoid(x[test] @ weights + bias)
            oof_sum[test] += held
            oof_count[test] += 1
            aps.append(average_precision(y[test], held))
    with np.errstate(invalid="ignore"):
        oof = np.where(oof_count > 0, oof_sum / np.maximum(oof_count, 1), np.nan)
    return APEstimate(float(np.mean(aps)), float(np.std(aps)), len(aps), prevalence, oof.astype(np.float32))


def _stratified_folds(y: np.ndarray, k: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds with every class spread evenly (each fold holds >= 1 of each class when k <= class size)."""
    fold_of = np.empty(len(y), np.int64)
    for cls in (0, 1):
        members = rng.permutation(np.flatnonzero(y == cls))
        fold_of[members] = np.arange(len(members)) % k
    everything = np.arange(len(y))
    return [(everything[fold_of != f], everything[fold_of == f]) for f in range(k)]
