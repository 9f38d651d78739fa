"""The on-disk project: where the catalog, embeddings, extracted frames and runs live.

Layout of a workspace folder::

    catalog.sqlite          SQLite catalog (WAL)
    embeddings/<model>/     one .npy matrix (+ .ids.npy frame ids) per video
    frames/                 PNGs of selected frames, Lightly names
    crops/                  crops of predicted boxes of selected frames
    runs/<run name>/        selection.json/.csv, config, report.html/.pdf of one run
    cache/                  thumbnails and other derived data that may be deleted
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from framesift.errors import FramesiftError
from framesift.store.catalog import Catalog

CATALOG_NAME = "catalog.sqlite"


@dataclass
class Workspace:
    root: Path

    @classmethod
    def open(cls, root: str | Path, *, create: bool = True) -> Workspace:
        path = Path(root).expanduser().resolve()
        if not create and not (path / CATALOG_NAME).exists():
            raise FramesiftError(
                f"{path}: not a framesift workspace (no {CATALOG_NAME}); run `framesift run` or "
                "`framesift ingest` with --out pointing here first"
            )
        if path.exists() and not path.is_dir():
            raise FramesiftError(f"{path}: workspace path exists and is not a folder; choose another --out")
        path.mkdir(parents=True, exist_ok=True)
        return cls(path)

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.catalog_path)

    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG_NAME

    def embeddings_dir(self, model: str) -> Path:
        return self._dir("embeddings", _safe_name(model))

    @property
    def frames_dir(self) -> Path:
        return self._dir("frames")

    @property
    def crops_dir(self) -> Path:
        return self._dir("crops")

    @property
    def cache_dir(self) -> Path:
        return self._dir("cache")

    @property
    def scratch_dir(self) -> Path:
        """Where large temporary matrices are memory-mapped (files unlinked at once, see util.scratch)."""
        return self.root / "cache" / "scratch"

    def run_dir(self, run_name: str) -> Path:
        return self._dir("runs", _safe_name(run_name))

    def _dir(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def close(self) -> None:
        if "catalog" in self.__dict__:
            self.catalog.close()
            del self.__dict__["catalog"]


def _safe_name(name: str) -> str:
    """Make a model or run name usable as a single folder name."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    if not cleaned or cleaned in {".", ".."}:
        raise FramesiftError(f"invalid name {name!r}: use letters, digits, '-', '_' or '.'")
    return cleaned
