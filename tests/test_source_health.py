"""A source that stops giving items (a scraper blocked, a feed moved) or a worker that stops reading
looks like a quiet day on every figure: the worker notes when it read each source and when one last
gave a new item, and the live page, 数据源与质量 and `sources list` say when that was too long ago."""

from __future__ import annotations

import json
from datetime import timedelta

import dashboard_fixtures as fx
import pytest
from click.testing import CliRunner

from dashboard import data
from rumourwatch import store
from rumourwatch.cli import cli
from rumourwatch.records import iso
from rumourwatch.sources import DropFolderSource
from rumourwatch.sources.files import file_source
from rumourwatch.worker import POLL_MARK_SECONDS, Worker, source_health

NOW = fx.NOW


def row(**kw) -> dict:
    base = {"source": "feed", "updated_at": iso(NOW), "items_seen": 5, "polled_at": iso(NOW),
            "last_item_at": iso(NOW), "last_error": None, "last_error_at": None}
    return {**base, **kw}


@pytest.mark.parametrize("kw,state,hours", [
    ({}, "ok", 0.0),
    ({"last_item_at": iso(NOW - timedelta(hours=7))}, "quiet", 7.0),
    ({"last_item_at": iso(NOW - timedelta(hours=5))}, "ok", 5.0),
    # read, never gave anything: counted from when it was first read
    ({"items_seen": 0, "last_item_at": None, "updated_at": iso(NOW - timedelta(hours=9))}, "quiet", 9.0),
    ({"polled_at": iso(NOW - timedelta(hours=8)), "last_item_at": iso(NOW - timedelta(hours=8))}, "not_read", 8.0),
    ({"polled_at": iso(NOW - timedelta(days=8))}, "retired", 192.0),
    ({"last_error": "timeout", "last_error_at": iso(NOW - timedelta(minutes=30))}, "error", 0.5),
    # a row from before the worker noted its reads: judged by its checkpoint's last move
    ({"polled_at": None, "last_item_at": None, "updated_at": iso(NOW - timedelta(hours=2))}, "ok", 2.0),
])
def test_each_state_is_judged_against_the_quiet_hours(kw, state, hours):
    judged = source_health(row(**kw), NOW, quiet_hours=6)
    assert judged["state"] == state and judged["hours"] == pytest.approx(hours)


def test_the_worker_notes_reads_and_new_items_without_writing_every_poll(tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "a", "text": "网传喝醋能软化血管", "date": "2026-11-23 10:00"},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    drop = tmp_path / "drop"
    drop.mkdir()
    db = store.open_db(tmp_path / "w.db")
    clock = {"now": NOW}
    worker = Worker(db, [file_source(posts, name="posts"), DropFolderSource(drop, name="drop")],
                    clock=lambda: clock["now"])
    worker.poll_once()
    rows = {r["source"]: r for r in store.source_status(db)}
    assert rows["posts"]["last_item_at"] == rows["posts"]["polled_at"] == iso(NOW)
    # a source that has given nothing yet is listed too, as read
    assert (rows["drop"]["polled_at"], rows["drop"]["last_item_at"], rows["drop"]["items_seen"]) == (iso(NOW), None, 0)

    clock["now"] = NOW + timedelta(seconds=POLL_MARK_SECONDS / 2)
    worker.poll_once()  # nothing new, and read too recently to note again
    assert store.source_checkpoint(db, "posts")["polled_at"] == iso(NOW)
    later = NOW + timedelta(hours=7)
    clock["now"] = later
    worker.poll_once()
    posts_row = store.source_checkpoint(db, "posts")
    assert (posts_row["polled_at"], posts_row["last_item_at"]) == (iso(later), iso(NOW))
    assert source_health(posts_row, later, 6)["state"] == "quiet"


@pytest.fixture
def page_env(tmp_path, monkeypatch):
    path = tmp_path / "health.db"
    fx.build_store(path)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setattr(data, "now_utc", lambda: NOW)
    return path


def _stall(path, last_item_hours: float, read_hours: float, source: str = "weibo-scraper") -> None:
    db = store.open_db(path)
    store.set_checkpoint(db, source, "page:40", 120, iso(NOW - timedelta(hours=last_item_hours)))
    store.mark_polled(db, source, iso(NOW - timedelta(hours=read_hours)))
    db.conn.close()


def _warnings(at) -> list[str]:
    return [w.value for w in at.warning]


def test_the_live_page_warns_above_the_figures_when_a_source_has_gone_quiet(page_env):
    at = fx.open_app("app_pages/live.py")
    assert not any("数据源" in w for w in _warnings(at))  # the fixture's source gave items just now
    _stall(page_env, last_item_hours=8.5, read_hours=0.02)
    at = fx.open_app("app_pages/live.py")
    [warning] = [w for w in _warnings(at) if "数据源" in w]
    assert warning.startswith("数据源 weibo\\-scraper 已 8 小时没有新条目（最近一条：2026-11-23 03:30）")
    assert "统计数字可能偏低" in warning


def test_the_live_page_says_when_the_worker_has_stopped_reading(page_env):
    _stall(page_env, last_item_hours=7, read_hours=7)
    [warning] = [w for w in _warnings(fx.open_app("app_pages/live.py")) if "数据源" in w]
    assert warning.startswith("采集程序已 7 小时未读取数据源 weibo\\-scraper（最近一次：2026-11-23 05:00）")
    assert "rumourwatch watch" in warning


def test_the_quiet_hours_setting_decides(page_env, monkeypatch):
    _stall(page_env, last_item_hours=8.5, read_hours=0.02)
    monkeypatch.setenv("RUMOURWATCH_SOURCE_QUIET_HOURS", "12")
    assert not any("数据源" in w for w in _warnings(fx.open_app("app_pages/live.py")))


def test_the_sources_page_gives_each_source_its_state_and_counts_the_stalled(page_env):
    _stall(page_env, last_item_hours=8.5, read_hours=0.02)
    _stall(page_env, last_item_hours=300, read_hours=300, source="old-feed")  # dropped from the worker
    at = fx.open_app("app_pages/sources.py")
    assert {m.label: m.value for m in at.metric}["疑似中断的数据源"] == "1"
    [table] = [df.value for df in at.dataframe if "状态" in df.value.columns]
    states = dict(zip(table["数据源"], table["状态"]))
    assert states["weibo-scraper"] == "8 小时无新条目" and states["fixture"] == "正常"
    assert states["old-feed"] == "12 天未读取（可能已停用）" and states["rss:卫健委"] == "读取出错"
    assert any("old\\-feed" in i.value and "停用" in i.value for i in at.info)
    assert not any("old\\-feed" in w for w in _warnings(at))  # retired: listed, not raised


def test_sources_list_names_the_state(page_env):
    _stall(page_env, last_item_hours=8.5, read_hours=0.02)
    db = store.open_db(page_env)  # the CLI judges against the real clock: move the rows there
    now = store.now_utc()
    store.set_checkpoint(db, "weibo-scraper", "page:41", 0, iso(now - timedelta(minutes=1)))
    db.execute("UPDATE checkpoints SET last_item_at = ? WHERE source = 'weibo-scraper'",
               [iso(now - timedelta(hours=8, minutes=30))])
    db.conn.close()
    result = CliRunner().invoke(cli, ["--db", str(page_env), "sources", "list"])
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("weibo-scraper")]
    assert "[quiet for 8.5 h]" in line
    listed = json.loads(CliRunner().invoke(cli, ["--db", str(page_env), "sources", "list", "--json"]).output)
    assert {r["source"]: r["health"]["state"] for r in listed}["weibo-scraper"] == "quiet"
    # a monitoring job runs it with --check: status 1 while a source is quiet (or failing), 0 once it is not
    assert CliRunner().invoke(cli, ["--db", str(page_env), "sources", "list", "--check"]).exit_code == 1
    db = store.open_db(page_env)
    store.set_checkpoint(db, "weibo-scraper", "page:42", 3, iso(store.now_utc()))
    db.execute("DELETE FROM checkpoints WHERE source != 'weibo-scraper'")  # the fixture's other sources
    db.conn.close()
    assert CliRunner().invoke(cli, ["--db", str(page_env), "sources", "list", "--check"]).exit_code == 0


def test_a_file_imported_once_is_not_a_feed_that_stopped(tmp_path):
    # `rumourwatch ingest` reads a file once: hours later that is no stopped worker or silent feed
    path, export = tmp_path / "once.db", tmp_path / "export.jsonl"
    export.write_text(json.dumps({"id": "e1", "platform": "微博", "date": "2026-11-23 10:00",
                                  "text": "示例：一次性导入的舆情条目"}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(path), "ingest", str(export), "--no-score"])
    assert result.exit_code == 0, result.output
    db = store.open_db(path)
    [imported] = store.source_status(db)
    later = store.now_utc() + timedelta(hours=30)
    assert source_health(imported, later, quiet_hours=6)["state"] == "imported"
    assert "[imported]" in CliRunner().invoke(cli, ["--db", str(path), "sources", "list"]).output
    # as a feed (continuous reads of a growing file), the same source is judged again
    Worker(db, [file_source(str(export), name=imported["source"])], clock=store.now_utc).poll_once()
    watched = store.source_checkpoint(db, imported["source"])
    assert source_health(watched, later, quiet_hours=6)["state"] == "not_read"


def test_the_admin_sees_whether_the_retention_period_is_kept_to(page_env, monkeypatch):
    from rumourwatch import auth, retention

    db = store.open_db(page_env)
    auth.create_user(db, "root", "an admin pass 1", "admin", "test")

    def panel() -> list[str]:
        at = fx.open_app("app_pages/sources.py", username="root")
        return [e.value for kind in ("info", "warning", "success") for e in getattr(at, kind)
                if "保留期限" in e.value]

    assert panel() == [("未设置保留期限，转发评论者的账号、被搁置记录的原文和已结束的登录会话全部保留。如需按期清除，"
                        "设置 RUMOURWATCH_RETENTION_DAYS（不少于 30 天），并由定时任务每天运行 rumourwatch retention --apply。")]
    monkeypatch.setenv("RUMOURWATCH_RETENTION_DAYS", "180")
    [never] = panel()
    assert never.startswith("保留期限为 180 天，但尚未执行过清除")
    retention.apply(db, 180, NOW - timedelta(hours=3), "cli:ops")
    [done] = panel()
    assert done == ("保留期限 180 天。上次清除：2026-11-23 09:00（cli\\:ops），清除转发评论者账号 0 个、被搁置记录 0 条、"
                    "已结束的登录会话 0 个。")
    monkeypatch.setattr(data, "now_utc", lambda: NOW + timedelta(days=3))  # the cron job stopped
    [late] = panel()
    assert late == done + "已超过两天未执行：请检查运行 rumourwatch retention --apply 的定时任务。"
    # a monitor has no such panel
    assert not [w for w in _warnings(fx.open_app("app_pages/sources.py")) if "保留期限" in w]
