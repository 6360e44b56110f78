"""数据保留期限 (rumourwatch.retention, `rumourwatch retention`): personal data older than the period
is removed, what the reports read stays, the run is audited, and a too short period is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from rumourwatch import auth, ingest, retention, store
from rumourwatch.cli import cli
from rumourwatch.config import load_settings
from rumourwatch.errors import ConfigError
from rumourwatch.records import iso
from rumourwatch.sources.base import RawItem

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    path = tmp_path / "r.db"
    db = store.open_db(path)
    old, new = NOW - timedelta(days=200), NOW - timedelta(days=10)
    records = [
        {"id": "old", "text": "网传喝醋能杀死新冠病毒，请扩散", "date": f"{old:%Y-%m-%d %H:%M}",
         "reposts": [{"date": f"{old + timedelta(hours=1):%Y-%m-%d %H:%M:%S}", "user_id": "reader_a", "text": "真的假的"},
                     {"date": f"{old + timedelta(hours=2):%Y-%m-%d %H:%M:%S}", "user_id": "reader_b", "text": ""}],
         "comments": [{"date": f"{new:%Y-%m-%d %H:%M:%S}", "user_id": "reader_c", "text": "早辟谣了"}]},
        {"id": "new", "text": "市卫健委发布流感疫苗接种点名单", "date": f"{new:%Y-%m-%d %H:%M}",
         "reposts": [{"date": f"{new + timedelta(hours=1):%Y-%m-%d %H:%M:%S}", "user_id": "reader_d", "text": "收到"}]},
    ]
    with store.transaction(db):
        ingest.ingest_events(db, [RawItem(r) for r in records], "test", NOW - timedelta(days=1))
        store.add_reject(db, "test", "missing text", '{"id": "x1", "user": "某网友"}')
        store.add_reject(db, "test", "bad date", '{"id": "x2", "date": "明天"}')
        db.execute("UPDATE rejects SET created_at = ? WHERE raw LIKE '%x1%'", [iso(NOW - timedelta(days=100))])
        db.execute("UPDATE rejects SET created_at = ? WHERE raw LIKE '%x2%'", [iso(NOW - timedelta(days=5))])
    for name in ("mon", "ana"):
        auth.create_user(db, name, "a long pass 1", "monitor", "test")
    auth.login(db, "mon", "a long pass 1", now=NOW - timedelta(days=90))
    auth.logout(db, auth.login(db, "mon", "a long pass 1", now=NOW - timedelta(days=60))[0], now=NOW - timedelta(days=60))
    auth.login(db, "ana", "a long pass 1", now=NOW - timedelta(minutes=5))  # logged in now
    return path


def _reactors(db) -> dict:
    return dict(db.execute("SELECT text, user_id FROM reactions ORDER BY id").fetchall())


def test_the_plan_counts_and_applying_removes_only_what_is_older_than_the_period(db_path):
    db = store.open_db(db_path)
    before_items = db.execute("SELECT id, reaction_count, repost_num, comment_num FROM items ORDER BY id").fetchall()
    assert retention.plan(db, 30, NOW) == {"cutoff": "2026-10-24T04:00:00Z", "reactor_ids": 2, "rejects": 1,
                                           "sessions": 2}
    assert _reactors(db)["真的假的"] == "reader_a"  # counting changes nothing
    done = retention.apply(db, 30, NOW, "cli:ops")
    assert done == {"cutoff": "2026-10-24T04:00:00Z", "reactor_ids": 2, "rejects": 1, "sessions": 2}
    assert _reactors(db) == {"真的假的": None, "": None, "早辟谣了": "reader_c", "收到": "reader_d"}
    # the words, times and counts the reports read are all still there
    assert db.execute("SELECT id, reaction_count, repost_num, comment_num FROM items ORDER BY id").fetchall() == \
        before_items
    assert store.count_reactions(db) == 4
    assert [r["raw"] for r in store.list_rejects(db)] == ['{"id": "x2", "date": "明天"}']
    assert [r[0] for r in db.execute("SELECT user_id FROM sessions").fetchall()] == \
        [store.get_user(db, "ana")["id"]]  # the one still logged in
    [entry] = store.audit_entries(db, actions=["retention.apply"])
    assert entry["actor"] == "cli:ops" and json.loads(entry["details"]) == {"days": 30, **done}
    assert retention.plan(db, 30, NOW) == {"cutoff": done["cutoff"], "reactor_ids": 0, "rejects": 0, "sessions": 0}
    # a longer period keeps more: the comment of 10 days ago goes only under a shorter one (none allowed)
    assert retention.plan(db, 365, NOW)["reactor_ids"] == 0


def test_erasing_walks_the_reactions_in_steps_and_misses_none(db_path, monkeypatch):
    monkeypatch.setattr(retention, "ID_STEP", 1)  # one reaction per transaction
    db = store.open_db(db_path)
    assert retention.apply(db, 30, NOW, "test")["reactor_ids"] == 2
    assert retention.apply(db, 30, NOW + timedelta(days=30), "test")["reactor_ids"] == 2  # the two of 10 days ago, now old
    assert set(_reactors(db).values()) == {None}


def test_a_period_under_thirty_days_is_refused_as_setting_and_argument(db_path):
    with pytest.raises(ConfigError, match="at least 30 days, got 7"):
        retention.plan(store.open_db(db_path), 7, NOW)
    with pytest.raises(ConfigError, match="retention_days must be 0 .keep everything. or at least 30"):
        load_settings({"RUMOURWATCH_RETENTION_DAYS": "10"})
    assert load_settings({"RUMOURWATCH_RETENTION_DAYS": "0"}).retention_days == 0
    assert load_settings({"RUMOURWATCH_RETENTION_DAYS": "180"}).retention_days == 180


def test_cli_counts_first_and_removes_with_apply(db_path, monkeypatch):
    def run(*args, env=None):
        return CliRunner().invoke(cli, ["--db", str(db_path), "retention", *args], env=env or {})

    result = run()
    assert result.exit_code == 2 and "no retention period: set RUMOURWATCH_RETENTION_DAYS" in result.output
    result = run("--days", "30")  # from today: the old reposts of 200 days ago count
    assert result.exit_code == 0, result.output
    assert "would remove 2 reactors' account ids, 1 rejected records, 2 ended login sessions; --apply" in result.output
    assert _reactors(store.open_db(db_path))["真的假的"] == "reader_a"
    result = run("--apply", "--json", env={"RUMOURWATCH_RETENTION_DAYS": "30"})
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["days"], out["applied"], out["reactor_ids"], out["rejects"], out["sessions"]) == (30, True, 2, 1, 2)
    assert _reactors(store.open_db(db_path))["真的假的"] is None
    result = run("--days", "7")
    assert result.exit_code == 1 and "Error: a retention period must be at least 30 days, got 7" in result.output
