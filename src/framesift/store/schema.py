"""Catalog schema as an ordered list of migrations; the catalog records which ones ran.

Add a new migration at the end of ``MIGRATIONS``; never edit one that has shipped.
Frame identity is (video_id, frame_index, pts, time_s); ``frames.id`` is a catalog-local
integer used to join tables and to index embedding matrices.
"""

MIGRATIONS: list[str] = [
    # 1: core tables
    """
    CREATE TABLE videos (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,                 -- absolute path or fsspec URL (updated if the input moves)
        name TEXT NOT NULL,                 -- relative path without extension, used in frame file names
        ext TEXT NOT NULL,                  -- extension without dot, e.g. 'mp4'
        size_bytes INTEGER,
        mtime REAL,
        fingerprint TEXT,                   -- size + hash of the first and last 64 KiB
        status TEXT NOT NULL DEFAULT 'pending',   -- pending | ingested | failed
        error TEXT,
        duration_s REAL,
        fps REAL,
        n_frames INTEGER,                   -- frames decoded (all, not only indexed)
        n_indexed INTEGER,                  -- frames with a row in `frames`
        width INTEGER,                      -- display width (after rotation)
        height INTEGER,
        codec TEXT,
        rotation INTEGER DEFAULT 0,
        time_base TEXT,
        frame_stride INTEGER,
        index_fps REAL,
        added_at TEXT NOT NULL DEFAULT (datetime('now')),
        ingested_at TEXT,
        UNIQUE (name, ext)
    );
    CREATE TABLE frames (
        id INTEGER PRIMARY KEY,
        video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        frame_index INTEGER NOT NULL,       -- position in PyAV decode order
        pts INTEGER,
        time_s REAL NOT NULL,
        shot_id INTEGER NOT NULL DEFAULT 0, -- shot number within the video
        sharpness REAL,
        brightness REAL,
        contrast REAL,
        uniform_row_ratio REAL,
        is_keyframe INTEGER,
        UNIQUE (video_id, frame_index)
    );
    CREATE INDEX frames_video ON frames(video_id, frame_index);
    CREATE TABLE shots (
        video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        shot_id INTEGER NOT NULL,
        start_frame INTEGER NOT NULL,       -- decode-order index of the first frame
        end_frame INTEGER NOT NULL,         -- inclusive
        PRIMARY KEY (video_id, shot_id)
    );
    CREATE TABLE embedding_sets (
        model TEXT NOT NULL,                -- embedder key, e.g. 'efficientnet_lite0'
        video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        status TEXT NOT NULL,               -- partial | done
        dim INTEGER NOT NULL,
        n_rows INTEGER NOT NULL DEFAULT 0,
        path TEXT,                          -- relative to the workspace
        updated_at TEXT NOT NULL DEFAULT (datetime('now')),
        PRIMARY KEY (model, video_id)
    );
    CREATE TABLE embedding_chunks (
        model TEXT NOT NULL,
        video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        chunk INTEGER NOT NULL,
        n_rows INTEGER NOT NULL,
        path TEXT NOT NULL,
        PRIMARY KEY (model, video_id, chunk)
    );
    CREATE TABLE metadata (
        video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
        frame_id INTEGER REFERENCES frames(id) ON DELETE CASCADE,   -- NULL: applies to the whole video
        key TEXT NOT NULL,
        value_num REAL,
        value_text TEXT,
        value_type TEXT NOT NULL           -- NUMERIC_INT | NUMERIC_FLOAT | CATEGORICAL_STRING | CATEGORICAL_INT | CATEGORICAL_BOOLEAN
    );
    CREATE UNIQUE INDEX metadata_key ON metadata(video_id, IFNULL(frame_id, -1), key);
    CREATE TABLE tasks (
        name TEXT PRIMARY KEY,
        task_type TEXT NOT NULL,            -- object-detection | classification | ...
        categories TEXT NOT NULL,           -- JSON list of {"id": int, "name": str}
        source TEXT,                        -- where the predictions came from
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
    );
    CREATE TABLE predicted_frames (
        task TEXT NOT NULL REFERENCES tasks(name) ON DELETE CASCADE,
        frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
        probabilities TEXT,                 -- JSON list, classification tasks
        PRIMARY KEY (task, frame_id)
    );
    CREATE TABLE predictions (
        id INTEGER PRIMARY KEY,
        task TEXT NOT NULL REFERENCES tasks(name) ON DELETE CASCADE,
        frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
        category_id INTEGER NOT NULL,
        score REAL,
        x REAL, y REAL, w REAL, h REAL,     -- pixels, top-left + size; NULL for classification
        probabilities TEXT                  -- JSON list, optional per box
    );
    CREATE INDEX predictions_frame ON predictions(task, frame_id);
    CREATE TABLE scores (
        task TEXT NOT NULL,
        name TEXT NOT NULL,
        frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
        value REAL NOT NULL,
        PRIMARY KEY (task, name, frame_id)
    );
    CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
        source TEXT NOT NULL,               -- e.g. 'coco:/path/file.json', 'app'
        category TEXT NOT NULL,
        x REAL, y REAL, w REAL, h REAL,     -- pixels; NULL for a frame-level label
        attributes TEXT,
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
    );
    CREATE INDEX labels_frame ON labels(frame_id);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,          -- also the tag name of its selection
        created_at TEXT NOT NULL DEFAULT (datetime('now')),
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',   -- running | done | failed
        config TEXT NOT NULL,               -- JSON of the exact config used
        embedder TEXT,
        stats TEXT                          -- JSON: timings, counts, stop reason
    );
    CREATE TABLE selections (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,              -- pick order
        objectives TEXT,                    -- JSON {strategy label: objective at pick time}
        PRIMARY KEY (run_id, frame_id)
    );
    CREATE TABLE stages (
        key TEXT PRIMARY KEY,               -- e.g. 'extract:run-3'
        done_at TEXT NOT NULL DEFAULT (datetime('now')),
        info TEXT
    );
    """,
    # 2: Video-Annotator concepts (web app): binary labels per frame or per predicted box, classifiers
    """
    CREATE TABLE concepts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,          -- e.g. 'establishing shot'
        description TEXT,
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
    );
    CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        concept_id INTEGER NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
        frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
        box_id INTEGER NOT NULL DEFAULT 0,  -- 0: the whole frame; else predictions.id of a labeled crop
        value INTEGER NOT NULL CHECK (value IN (0, 1)),
        source TEXT NOT NULL DEFAULT 'app', -- app | bulk | import ...
        updated_at TEXT NOT NULL DEFAULT (datetime('now')),
        UNIQUE (concept_id, frame_id, box_id)
    );
    CREATE INDEX annotations_frame ON annotations(frame_id);
    CREATE TABLE concept_models (
        id INTEGER PRIMARY KEY,
        concept_id INTEGER NOT NULL REFERENCES concepts(id) ON DELETE CASCADE,
        embedder TEXT NOT NULL,             -- embedding key the classifier reads
        model TEXT NOT NULL,                -- JSON: weights, bias, training facts
        n_pos INTEGER NOT NULL,
        n_neg INTEGER NOT NULL,
        ap REAL,                            -- held-out average precision estimate (NULL: too few labels)
        ap_std REAL,
        created_at TEXT NOT NULL DEFAULT (datetime('now'))
    );
    CREATE INDEX concept_models_concept ON concept_models(concept_id, id);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
