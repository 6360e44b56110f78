import sqlite3

import pytest

from rumourwatch import store
from rumourwatch.errors import StoreError
from rumourwatch.migrations import MIGRATIONS


def test_migrations_run_once_and_are_recorded(db_path):
    db = store.open_db(db_path)
    names = [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [m[0] for m in MIGRATIONS]
    assert store.apply_migrations(store.open_db(db_path, migrate=False)) == []
    for table in ("items", "reactions", "scores", "model_versions", "rejects", "checkpoints", "clusters"):
        assert db[table].exists(), table


def test_file_database_uses_wal_so_readers_work_while_the_worker_writes(db_path):
    writer = store.open_db(db_path)
    assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reader = store.open_db(db_path, read_only=True)
    with store.transaction(writer):
        store.set_checkpoint(writer, "feed", "42")
        # the reader still sees the last committed state while the write is open
        assert store.get_checkpoint(reader, "feed") is None
    assert store.get_checkpoint(reader, "feed") == "42"


def test_transaction_rolls_back_everything_on_error(db):
    with pytest.raises(RuntimeError):
        with store.transaction(db):
            store.set_checkpoint(db, "feed", "1")
            raise RuntimeError("boom")
    assert store.get_checkpoint(db, "feed") is None


def test_locked_database_gives_a_clear_message(db_path, monkeypatch):
    store.open_db(db_path)
    blocker = sqlite3.connect(str(db_path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 50)
    db = store.open_db(db_path)
    try:
        with pytest.raises(StoreError, match="locked"):
            with store.transaction(db, retries=1):
                pass
    finally:
        blocker.execute("ROLLBACK")


def test_read_only_open_of_missing_database_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="does not exist yet"):
        store.open_db(tmp_path / "nope.db", read_only=True)
