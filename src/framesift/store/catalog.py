"""The SQLite catalog of a workspace: one durable file, WAL journal, versioned schema.

Every stage writes its results inside a transaction, so a killed process leaves the catalog
at the last committed state and a rerun continues from there.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from framesift.errors import FramesiftError
from framesift.store.schema import MIGRATIONS, SCHEMA_VERSION


class Catalog:
    """A connection to ``catalog.sqlite`` with schema migrations applied on open."""

    def __init__(self, path: str | Path, *, readonly: bool = False, timeout_s: float = 60.0):
        self.path = Path(path)
        self._lock = threading.RLock()
        if readonly:
            uri = f"file:{self.path}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, timeout=timeout_s, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=timeout_s, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.isolation_level = None  # explicit BEGIN/COMMIT in transaction()
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        if not readonly:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        else:
            self._check_version()

    # -- schema -------------------------------------------------------------------------
    def _current_version(self) -> int:
        self.conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _check_version(self) -> None:
        version = int(self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
        if version > SCHEMA_VERSION:
            raise FramesiftError(
                f"{self.path}: catalog schema v{version} is newer than this framesift (v{SCHEMA_VERSION}); "
                "upgrade framesift"
            )

    def _migrate(self) -> None:
        with self.transaction():
            version = self._current_version()
            if version > SCHEMA_VERSION:
                raise FramesiftError(
                    f"{self.path}: catalog schema v{version} is newer than this framesift "
                    f"(v{SCHEMA_VERSION}); upgrade framesift"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _split_sql(script):
                    self.conn.execute(statement)
                self.conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)

    # -- access -------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block atomically (BEGIN IMMEDIATE so concurrent writers queue, not fail)."""
        with self._lock:
            if self.conn.in_transaction:  # nested: join the outer transaction
                yield self.conn
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self.conn.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self.conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        row = self.query_one(sql, params)
        return None if row is None else row[0]

    def stream(
        self, sql: str, params: Sequence[Any] | dict[str, Any] = (), chunk: int = 50_000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Rows as plain tuples, ``chunk`` at a time: bounded memory for million-row reads."""
        with self._lock:
            cursor = self.conn.cursor()
            cursor.row_factory = None
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(chunk):
                yield rows

    def array(self, sql: str, params: Sequence[Any] | dict[str, Any] = (), *, columns: int,
              dtype: Any = "float64") -> Any:
        """A query as an (n, columns) numpy array (NULL -> NaN for float dtypes), without Python rows for all n."""
        import numpy as np

        parts = [np.array(rows, dtype=dtype).reshape(len(rows), columns) for rows in self.stream(sql, params)]
        return np.concatenate(parts) if parts else np.zeros((0, columns), dtype)

    # -- stage markers ------------------------------------------------------------------
    def stage_done(self, key: str) -> bool:
        return self.query_one("SELECT 1 FROM stages WHERE key = ?", (key,)) is not None

    def mark_stage(self, key: str, info: str | None = None) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO stages (key, info) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET done_at = datetime('now'), info = excluded.info",
                (key, info),
            )

    def clear_stage(self, key: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM stages WHERE key = ?", (key,))

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements (sqlite3 decides where one ends)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    leftover = [line.strip() for line in buffer.splitlines() if line.strip()]
    if any(not line.startswith("--") for line in leftover):
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:80]}")
    return statements
