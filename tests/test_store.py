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


def test_opinion_counts_from_daily_totals_match_a_count_of_items(db, now):
    """The period ratios read per-day totals kept by triggers; they must equal a direct count
    through inserts and re-scoring, for whole-day periods and for mid-day periods alike."""
    from datetime import timedelta

    from rumourwatch import ingest
    from rumourwatch.records import iso
    from rumourwatch.sources.base import RawItem

    events = [RawItem({"id": f"i{i}", "platform": ["微博", "抖音"][i % 2], "account": "a",
                       "text": f"第{i}条健康提示：{'多喝水' * (i % 5 + 1)}，编号{i * 131}",
                       "date": iso(now - timedelta(hours=7 * i))}) for i in range(40)]
    with store.transaction(db):
        ingest.ingest_events(db, events, "t", now)
    rows = [{"item_id": i, "model_version": "m", "computed_at": iso(now), "reactions_seen": 0,
             "rumour_probability": 0.1, "is_rumour": 0, "polarity": ["positive", "neutral", "negative"][i % 3],
             "health_related": i % 2, "topic": "其他"} for i in range(1, 41)]
    with store.transaction(db):
        store.save_scores(db, rows[:30])
        store.save_scores(db, [dict(r, polarity="negative") for r in rows[:5]])  # re-scored

    def direct(start, end, **f):
        where, params = store._filters_sql(start, end, **f)
        out = {"positive": 0, "neutral": 0, "negative": 0, None: 0}
        for pol, n in db.execute(f"SELECT polarity, count(*) FROM items{where} GROUP BY polarity", params):
            out[pol] += n
        return out

    week = store.day_range(now - timedelta(days=6), 7)
    assert store._daily_counts_sql(*week) is not None  # whole days: served from the totals
    for period in (week, store.day_range(now - timedelta(days=3), 2), (None, None),
                   (iso(now - timedelta(hours=30)), iso(now))):
        for f in ({}, {"platforms": ["抖音"]}, {"health_only": True}):
            assert store.polarity_counts(db, *period, **f) == direct(*period, **f), (period, f)
    daily = store.daily_polarity(db, *week)
    assert sum(r["n"] for r in daily) == sum(direct(*week).values())
