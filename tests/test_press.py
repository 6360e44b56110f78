"""新闻发布会 (seed 001 2, 6, 8; seed 004: 每月至少召开一次新闻发布会): the office's register of the
press conferences held, an alert's 24-hour conference among them, counted by the reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dashboard_fixtures as dfx
import pytest
import report_fixtures as rfx
from test_submissions import page_env  # noqa: F401  (the page's store)

from rumourwatch import alerts, press, reports, store
from rumourwatch.alerts import WorkflowError

NOW = rfx.NOW  # 2026-11-23 16:00 in Beijing
HELD = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def rdb():
    db = store.open_db(memory=True)
    fixtures = rfx.build_all(db)
    return db, fixtures


def test_a_conference_is_recorded_audited_and_one_recorded_by_mistake_removed(rdb):
    db, _ = rdb
    done = press.record(db, held_at=HELD, topic="秋冬季呼吸道传染病防控新闻发布会", actor="monitor1", now=NOW,
                        spokesperson="市卫健委新闻发言人 王示例", media="市电视台、市日报",
                        url="https://example.org/press/1")
    assert (done["topic"], done["spokesperson"], done["alert_id"], done["recorded_by"]) == (
        "秋冬季呼吸道传染病防控新闻发布会", "市卫健委新闻发言人 王示例", None, "monitor1")
    assert [c["id"] for c in store.list_press_conferences(db)] == [done["id"]]
    with pytest.raises(WorkflowError) as refused:
        press.remove(db, done["id"], reason=" ", actor="monitor1", now=NOW)
    assert refused.value.key == "press_reason_missing"
    press.remove(db, done["id"], reason="重复登记", actor="monitor1", now=NOW)
    assert store.list_press_conferences(db) == []
    assert [e["action"] for e in store.audit_entries(db, target_type="press_conference")] == ["press.remove",
                                                                                               "press.record"]


@pytest.mark.parametrize("kwargs,key", [
    ({"topic": " "}, "press_topic_missing"),
    ({"topic": "发" * 101}, "press_text_long"),
    ({"url": "javascript:alert(1)"}, "press_url"),
    ({"held_at": NOW + timedelta(hours=2)}, "press_future"),
])
def test_a_conference_that_cannot_be_recorded_is_refused_saying_why_and_nothing_is_written(rdb, kwargs, key):
    db, _ = rdb
    with pytest.raises(WorkflowError) as refused:
        press.record(db, **{"held_at": HELD, "topic": "发布会", "actor": "m", "now": NOW, **kwargs})
    assert refused.value.key == key
    assert store.list_press_conferences(db) == [] and store.audit_entries(db, target_type="press_conference") == []


def test_an_alerts_conference_step_enters_the_register(rdb):
    db, fixtures = rdb
    liquor = fixtures["alerts"]["liquor"]
    alerts.record_step(db, liquor, "conference_held", "monitor1", NOW, note="邀请市疾控专家出席")
    [held] = store.list_press_conferences(db)
    assert (held["alert_id"], held["topic"], held["held_at"], held["note"]) == (
        liquor, "白酒杀流感病毒", "2026-11-23T08:00:00Z", "邀请市疾控专家出席")


def test_the_reports_count_the_conferences_and_name_the_months_without_one(rdb):
    db, fixtures = rdb
    december = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    # (the fixture's 一级 alert has its conference written into the alert directly, not by the step)
    notice = reports.compute_monthly(db, rfx.MONTH, now=december)
    assert reports.press_lines(notice) == ["本月召开新闻发布会 0 场（其中回应预警事件 0 场）。",
                                           "未达到每月至少召开 1 次新闻发布会的要求。"]
    press.record(db, held_at=HELD, topic="控烟新闻发布会", actor="m", now=NOW, spokesperson="王示例")
    alerts.record_step(db, fixtures["alerts"]["liquor"], "conference_held", "m", NOW)
    notice = reports.compute_monthly(db, rfx.MONTH, now=december)
    lines = reports.alerts_lines(notice)
    assert "本月召开新闻发布会 2 场（其中回应预警事件 1 场），新闻发言人：王示例。" in lines
    assert "达到每月至少召开 1 次新闻发布会的要求。" in lines
    assert "本月召开新闻发布会 2 场" in reports.render_markdown(notice)
    # a quarter judges the months it holds data for that have ended: November, not October
    q4 = reports.compute_quarterly(db, "2026-Q4", now=december)
    assert "每月至少召开 1 次新闻发布会：判定的 1 个月均已召开。" in reports.press_lines(q4)
    annual = reports.compute_annual(db, "2026", now=datetime(2027, 1, 1, 2, 0, tzinfo=UTC))
    assert "每月至少召开 1 次新闻发布会：2026-12 未召开。" in reports.press_lines(annual)
    # a period without alerts still tells its conferences, in every format
    press.record(db, held_at=datetime(2026, 11, 30, 2, 0, tzinfo=UTC), topic="月末发布会", actor="m", now=december)
    week = reports.compute_weekly(db, "2026-W49", now=december + timedelta(days=7))
    assert week.section("alerts").message and reports.press_lines(week) == [
        "本周召开新闻发布会 1 场（其中回应预警事件 0 场）。"]
    for text in (reports.render_markdown(week), reports.render_html(week, charts=False)):
        assert "本周召开新闻发布会 1 场" in text


def test_the_office_records_a_conference_on_the_media_page(page_env):  # noqa: F811
    at = dfx.open_app("app_pages/media.py", dfx.MONITOR)
    assert not at.exception
    assert at.expander[1].label == "新闻发布会登记（本月已召开 0 场，每月至少 1 场）"
    at.text_input(key="press_topic_0").set_value("秋冬季呼吸道传染病防控新闻发布会")
    at.text_input(key="press_speaker_0").set_value("王示例")
    at.text_input(key="press_url_0").set_value("not a link")
    next(b for b in at.button if b.label == "登记发布会").click()
    at.run()
    assert [e.value for e in at.error] == ["操作未完成：链接“not a link”不是网址：请填写以 http:// 或 https:// 开头的地址，或留空。"]
    at.text_input(key="press_url_0").set_value("https://example.org/press/1")
    next(b for b in at.button if b.label == "登记发布会").click()
    at.run()
    assert not at.exception
    assert any("已登记新闻发布会 #1：秋冬季呼吸道传染病防控新闻发布会" in s.value for s in at.success)
    assert at.expander[1].label == "新闻发布会登记（本月已召开 1 场，每月至少 1 场）"
    table = next(df.value for df in at.dataframe if "发布主题" in df.value.columns)
    assert (list(table["发布主题"]), list(table["发言人"])) == (["秋冬季呼吸道传染病防控新闻发布会"], ["王示例"])


def test_the_conferences_recorded_on_alerts_before_the_register_enter_it_on_upgrade(tmp_path):
    from rumourwatch import migrations

    path = tmp_path / "old.db"
    db = store.open_db(path, migrate=False)
    real = migrations.MIGRATIONS[:]
    migrations.MIGRATIONS[:] = [m for m in real if m[0] < "0038"]
    try:
        store.apply_migrations(db)
        rfx.build_all(db)  # its 一级 alert's conference held on 17 November, before the register
    finally:
        migrations.MIGRATIONS[:] = real
    db.conn.close()
    db = store.open_db(path)  # migrates
    [held] = store.list_press_conferences(db)
    garlic = store.get_alert(db, held["alert_id"])
    assert (garlic["title"], held["topic"], held["held_at"], held["recorded_by"]) == (
        "生吃大蒜治愈高血压", "生吃大蒜治愈高血压", garlic["conference_at"], "system")
    notice = reports.compute_monthly(db, rfx.MONTH, now=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    assert "本月召开新闻发布会 1 场（其中回应预警事件 1 场）。" in reports.press_lines(notice)
