import sqlite3

import pytest

from framesift.errors import FramesiftError
from framesift.store.catalog import Catalog
from framesift.store.schema import SCHEMA_VERSION
from framesift.workspace import Workspace


def test_catalog_uses_wal_and_records_schema_version(tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    assert catalog.scalar("PRAGMA journal_mode") == "wal"
    assert catalog.schema_version == SCHEMA_VERSION
    catalog.close()
    again = Catalog(tmp_path / "c.sqlite")  # reopening does not re-run migrations
    assert again.scalar("SELECT COUNT(*) FROM schema_version") == SCHEMA_VERSION


def test_transaction_rolls_back_on_error(tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    with pytest.raises(RuntimeError), catalog.transaction() as conn:
        conn.execute("INSERT INTO videos (path, name, ext) VALUES ('p', 'n', 'mp4')")
        raise RuntimeError("boom")
    assert catalog.scalar("SELECT COUNT(*) FROM videos") == 0


def test_newer_catalog_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    Catalog(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 5,))
    conn.commit()
    conn.close()
    with pytest.raises(FramesiftError, match="newer than this framesift"):
        Catalog(path)


def test_workspace_open_without_create_names_the_fix(tmp_path):
    with pytest.raises(FramesiftError, match="not a framesift workspace"):
        Workspace.open(tmp_path / "nothing", create=False)
