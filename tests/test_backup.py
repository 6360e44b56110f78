"""Backup and restore with the online backup API: exact round trip, refusal of foreign files."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest

from rumourwatch import auth, backup, ingest, store
from rumourwatch.errors import StoreError
from rumourwatch.sources.base import RawItem


def _fill(db, now, n=40, start=0):
    events = []
    for i in range(start, start + n):
        events.append(RawItem({
            "id": f"p{i}", "platform": "微博", "text": f"第{i}条测试帖子：喝热水能预防感冒吗？编号{i}",
            "date": (now - timedelta(hours=i)).isoformat(), "author": f"作者{i % 7}",
            "reposts": [{"date": (now - timedelta(hours=i, minutes=-5)).isoformat(), "text": f"转发{i}"}],
            "comments": [{"date": (now - timedelta(hours=i, minutes=-9)).isoformat(), "text": "这是谣言吧"}],
        }, position=str(i)))
    with store.transaction(db):
        ingest.ingest_events(db, events, "test", now)
        store.set_checkpoint(db, "test", str(start + n - 1), n)


def _dump(path) -> list[str]:
    conn = sqlite3.connect(str(path))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_round_trip_is_exact(tmp_path, now):
    live = tmp_path / "live.db"
    db = store.open_db(live)
    _fill(db, now)
    auth.create_user(db, "root", "secret pass", "admin", "test", now=now)
    before = _dump(live)
    assert sum(line.startswith('INSERT INTO "items"') for line in before) == 40

    result = backup.backup(db, tmp_path / "b.db")
    assert result["bytes"] > 0
    # Keep working after the backup, then restore: the later rows are gone, everything else identical.
    _fill(db, now, n=5, start=100)
    db.conn.close()
    restored = backup.restore(tmp_path / "b.db", live)
    assert restored["items"] == 40 and restored["migrations_applied"] == []
    assert _dump(live) == before


def test_backup_while_a_writer_is_busy_is_consistent(tmp_path, now):
    live = tmp_path / "live.db"
    db = store.open_db(live)
    _fill(db, now)
    writer = store.open_db(live)
    stop = threading.Event()

    def write():
        i = 1000
        while not stop.is_set():
            _fill(writer, now, n=3, start=i)
            i += 3

    thread = threading.Thread(target=write)
    thread.start()
    try:
        backup.backup(db, tmp_path / "b.db")
    finally:
        stop.set()
        thread.join()
    copy = store.open_db(tmp_path / "b.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every item in the copy has its reactions (no half-written batch).
    assert copy.execute("SELECT count(*) FROM items WHERE reaction_count != "
                        "(SELECT count(*) FROM reactions r WHERE r.item_id = items.id)").fetchone()[0] == 0
    assert store.count_items(copy) >= 40


def test_backup_refuses_to_overwrite_an_existing_file(tmp_path):
    db = store.open_db(tmp_path / "live.db")
    (tmp_path / "b.db").write_text("keep me")
    with pytest.raises(StoreError, match="already exists"):
        backup.backup(db, tmp_path / "b.db")
    assert (tmp_path / "b.db").read_text() == "keep me"


@pytest.mark.parametrize("content,message", [
    (b"name,role\nalice,admin\n", "not an SQLite database"),
    (b"", "not an SQLite database"),
    (b"SQLite format 3\x00" + b"\x00" * 50, "not a"),
])
def test_restore_refuses_a_file_that_is_not_a_rumourwatch_database(tmp_path, now, content, message):
    live = tmp_path / "live.db"
    db = store.open_db(live)
    _fill(db, now, n=3)
    db.conn.close()
    before = _dump(live)
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    with pytest.raises(StoreError, match=message):
        backup.restore(bad, live)
    assert _dump(live) == before


def test_restore_refuses_another_applications_sqlite_database(tmp_path, now):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(str(other))
    conn.execute("CREATE TABLE items (id INTEGER, name TEXT)")
    conn.execute("INSERT INTO items VALUES (1, 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a rumourwatch database"):
        backup.restore(other, tmp_path / "live.db")
    assert not (tmp_path / "live.db").exists()


def test_restore_into_a_new_path_creates_a_working_store(tmp_path, now):
    db = store.open_db(tmp_path / "live.db")
    _fill(db, now, n=7)
    backup.backup(db, tmp_path / "b.db")
    backup.restore(tmp_path / "b.db", tmp_path / "elsewhere" / "new.db")
    copy = store.open_db(tmp_path / "elsewhere" / "new.db")
    assert store.count_items(copy) == 7 and store.get_checkpoint(copy, "test") == "6"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
