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
        store.save_scores(db, rows[5:10])  # re-scored to the same values
        store.save_scores(db, [dict(r, health_related=None) for r in rows[10:12]])  # to unknown and back
        store.save_scores(db, rows[10:12])
        store.save_scores(db, [dict(r, health_related=1 - r["health_related"]) for r in rows[12:14]])  # only health

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


def test_the_scoring_queue_finds_new_stale_and_other_model_items_by_index(db, now):
    from rumourwatch import ingest
    from rumourwatch.records import iso
    from rumourwatch.sources.base import RawItem

    events = [RawItem({"id": f"q{i}", "platform": "微博", "account": "a", "date": iso(now),
                       "text": f"第{i}条：冬季流感高发，注意勤洗手，编号{i * 7919}"}) for i in range(6)]
    with store.transaction(db):
        ingest.ingest_events(db, events, "t", now)
    assert sorted(store.items_to_score(db, "m2")) == [1, 2, 3, 4, 5, 6]  # never scored
    score = {"computed_at": iso(now), "reactions_seen": 0, "rumour_probability": 0.1, "is_rumour": 0,
             "polarity": "neutral", "health_related": 1, "topic": "其他"}
    with store.transaction(db):
        store.save_scores(db, [dict(score, item_id=i, model_version="m2") for i in (1, 2, 3, 4)])
        store.save_scores(db, [dict(score, item_id=5, model_version="m1")])  # an older model's score
        store.insert_reactions(db, 2, [{"kind": "comment", "at": iso(now), "text": "谣言吧", "user_id": "u",
                                        "dedupe_key": "k1", "fetched_at": iso(now)}])
    assert store.items_to_score(db, "m2") == [6, 2, 5]  # unscored, then new reactions, then older model
    assert store.items_to_score(db, "m2", limit=2) == [6, 2]
    for q in ("reaction_count > coalesce(scored_reactions, 0)", "model_version < 'm2'"):
        plan = " ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN SELECT id FROM items WHERE {q}"))
        assert "idx_items_stale_reactions" in plan or "idx_items_model_version" in plan, plan


def test_the_dashboards_data_version_moves_when_a_checkpoint_is_reset_in_the_same_second(db, monkeypatch):
    """The 数据源与质量 page caches by `data_version`: a reset must show at once, even when it comes in
    the same second as the failure it clears (times are stored to the second)."""
    from datetime import UTC, datetime

    monkeypatch.setattr(store, "now_utc", lambda: datetime(2026, 11, 23, 4, 0, tzinfo=UTC))
    store.set_checkpoint(db, "rss:卫健委", None)
    store.record_source_error(db, "rss:卫健委", "connection timed out")
    store.set_checkpoint(db, "file:posts.jsonl", "line=9;byte=400", 9)
    store.record_source_error(db, "file:posts.jsonl", "file is shorter than its checkpoint")
    failing = store.data_version(db)
    store.clear_checkpoint(db, "file:posts.jsonl")
    assert store.data_version(db) != failing
    store.set_checkpoint(db, "file:posts.jsonl", "line=1;byte=40", 1)  # read again from the start
    assert store.data_version(db) != failing
