"""What the web app holds in memory for one workspace: frame table, embeddings, concept scores.

Everything is loaded lazily and reloaded when the catalog says it changed (a cheap version query
per request), so ``framesift embed`` running next to the server shows up without a restart.
Labels are never cached: every read goes to the catalog, every write commits at once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framesift.loop.build import rows_of
from framesift.loop.concepts import StoredModel, latest_model
from framesift.pipeline.frames import FrameTable, load_frame_table
from framesift.store.embeddings import EmbeddingMatrix, EmbeddingStore
from framesift.workspace import Workspace

log = logging.getLogger(__name__)
KEY_PREFERENCE = ("efficientnet_lite0",)  # after CLIP keys, before anything else; 'pixels' comes last


@dataclass
class ClipOptions:
    """How to build the CLIP text encoder (framesift.embedder_options of the embed stage)."""

    model: str | None = None
    pretrained: str | None = None
    model_config: str | None = None
    cache_dir: str | None = None
    quick_gelu: bool = False


@dataclass
class _Scores:
    model: StoredModel
    version: tuple[Any, ...]
    scores: np.ndarray  # aligned with the embedding matrix rows


@dataclass
class AppState:
    workspace: Workspace
    embedder: str | None = None  # embedding key to use; None = choose
    clip: ClipOptions = field(default_factory=ClipOptions)
    projection: str = "pca"
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _frames: tuple[tuple[Any, ...], FrameTable] | None = None
    _matrix: tuple[tuple[Any, ...], EmbeddingMatrix] | None = None
    _scores: dict[int, _Scores] = field(default_factory=dict)
    _text: Any = None
    _text_reason: str = ""
    _text_state: str = "idle"  # idle | loading | ready | off

    def __post_init__(self) -> None:
        # Labels must survive power loss, not only a crash: fsync every commit of the app's connection.
        self.catalog.execute("PRAGMA synchronous = FULL")

    @property
    def catalog(self) -> Any:
        return self.workspace.catalog

    # -- embeddings ---------------------------------------------------------------------
    def embedding_keys(self) -> list[str]:
        return [r[0] for r in self.catalog.query(
            "SELECT model FROM embedding_sets WHERE status = 'done' GROUP BY model ORDER BY model")]

    def embedding_key(self) -> str | None:
        if self.embedder:
            return self.embedder
        from framesift.embed.clip import is_clip_key

        keys = self.embedding_keys()
        ranked = sorted(keys, key=lambda k: (0 if is_clip_key(k) else 1 if k in KEY_PREFERENCE else
                                             3 if k == "pixels" else 2, k))
        return ranked[0] if ranked else None

    def _matrix_version(self, key: str) -> tuple[Any, ...]:
        row = self.catalog.query_one(
            "SELECT COUNT(*), COALESCE(SUM(n_rows), 0), MAX(updated_at) FROM embedding_sets "
            "WHERE model = ? AND status = 'done'", (key,))
        return (key, *tuple(row))

    def matrix(self) -> EmbeddingMatrix:
        key = self.embedding_key()
        if key is None:
            return EmbeddingMatrix(np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
        version = self._matrix_version(key)
        with self._lock:
            if self._matrix is None or self._matrix[0] != version:
                self._matrix = (version, EmbeddingStore(self.workspace, key).load(scratch_dir=self.workspace.scratch_dir))
            return self._matrix[1]

    def matrix_version(self) -> tuple[Any, ...]:
        key = self.embedding_key()
        return self._matrix_version(key) if key else ("none",)

    # -- frames -------------------------------------------------------------------------
    def frames(self) -> FrameTable:
        row = self.catalog.query_one(
            "SELECT COUNT(*), MAX(id), (SELECT MAX(ingested_at) FROM videos) FROM frames")
        version = tuple(row)
        with self._lock:
            if self._frames is None or self._frames[0] != version:
                self._frames = (version, load_frame_table(self.catalog))
            return self._frames[1]

    def frame_positions(self, frame_ids: np.ndarray) -> np.ndarray:
        return self.frames().positions(np.asarray(frame_ids, np.int64))

    # -- concept scores -----------------------------------------------------------------
    def concept_scores(self, concept_id: int) -> tuple[StoredModel, np.ndarray] | None:
        """The latest model of a concept for the current embeddings and its score of every row."""
        key = self.embedding_key()
        if key is None:
            return None
        model = latest_model(self.catalog, concept_id, embedder=key)
        if model is None:
            return None
        version = self.matrix_version()
        with self._lock:
            cached = self._scores.get(concept_id)
            if cached is not None and _same_model(cached.model, model) and cached.version == version:
                return cached.model, cached.scores
        matrix = self.matrix()
        if matrix.vectors.shape[1] != model.classifier.dim:
            return None
        scores = model.classifier.score(matrix.vectors)
        with self._lock:
            self._scores[concept_id] = _Scores(model, version, scores)
        return model, scores

    def forget(self, concept_id: int) -> None:
        with self._lock:
            self._scores.pop(concept_id, None)

    def remember_scores(self, concept_id: int, model: StoredModel, scores: np.ndarray) -> None:
        with self._lock:
            self._scores[concept_id] = _Scores(model, self.matrix_version(), scores)

    def scores_for_frames(self, concept_id: int | None, frame_ids: np.ndarray) -> np.ndarray:
        """Current model score of each frame (NaN without a model or an embedding)."""
        out = np.full(len(frame_ids), np.nan, np.float32)
        if concept_id is None:
            return out
        found = self.concept_scores(concept_id)
        if found is None:
            return out
        rows = rows_of(self.matrix(), np.asarray(frame_ids, np.int64))
        hit = rows >= 0
        out[hit] = found[1][rows[hit]]
        return out

    # -- text search --------------------------------------------------------------------
    def text_status(self) -> tuple[str, str]:
        """('ready' | 'loading' | 'off', reason)."""
        self.start_text_encoder()
        return self._text_state, self._text_reason

    def start_text_encoder(self, *, wait: bool = False) -> None:
        with self._lock:
            if self._text_state == "idle":
                key = self.embedding_key()
                from framesift.embed.clip import is_clip_key

                if key is None or not is_clip_key(key):
                    self._text_state = "off"
                    self._text_reason = (
                        f"text search needs CLIP embeddings and this workspace has {key or 'no'} embeddings; run "
                        "`framesift embed --embedder clip` with local CLIP weights. Search by example works.")
                    return
                self._text_state = "loading"
                self._text_reason = "loading the CLIP text encoder"
                thread = threading.Thread(target=self._load_text, args=(key,), daemon=True)
                thread.start()
            else:
                thread = None
        if wait and thread is not None:
            thread.join()

    def _load_text(self, key: str) -> None:
        from framesift.embed.clip import DEFAULT_MODEL, ClipEmbedder, clip_key

        options = self.clip
        model = options.model or (DEFAULT_MODEL if key == "clip" else key[len("clip-"):])
        try:
            if clip_key(model) != key:
                raise ValueError(f"the embeddings are {key!r} but the text model {model!r} has key {clip_key(model)!r}; "
                                 "pass the CLIP model the frames were embedded with (--clip-model)")
            encoder = ClipEmbedder(model, options.pretrained, model_config=options.model_config,
                                   cache_dir=options.cache_dir, quick_gelu=options.quick_gelu, device="cpu")
            dim = self.matrix().vectors.shape[1]
            if encoder.dim != dim:
                raise ValueError(f"text model dim {encoder.dim} differs from the stored {key} embeddings ({dim})")
        except Exception as err:  # any failure turns text search off with the reason, the app keeps running
            log.warning("text search off: %s", err)
            with self._lock:
                self._text_state, self._text_reason = "off", f"text search off: {err}"
            return
        with self._lock:
            self._text, self._text_state, self._text_reason = encoder, "ready", ""

    def text_encoder(self) -> Any:
        return self._text if self._text_state == "ready" else None


def _same_model(a: StoredModel, b: StoredModel) -> bool:
    """Row ids can be reused after a concept is deleted, so compare what the model is, too."""
    return (a.id, a.created_at, a.classifier.bias, a.classifier.n_pos, a.classifier.n_neg) == (
        b.id, b.created_at, b.classifier.bias, b.classifier.n_pos, b.classifier.n_neg)
