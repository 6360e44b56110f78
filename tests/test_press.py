"""新闻发布与媒体活动 (seed 001 2, 6, 8; seed 004: 每月至少组织一场媒体活动，至少召开一次新闻发布会，每年
至少参加一次上级组织的新闻发布活动): the office's register of the press conferences held (an
alert's 24-hour conference among them), its media activities and its part in the higher
commission's press events, counted and judged by the reports, 系统自检 and 领导概览."""

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
    ({"kind": "party"}, "press_kind"),
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
                                           "未达到每月至少召开 1 次新闻发布会的要求。",
                                           "本月组织媒体活动 0 场，未达到每月至少组织 1 场的要求。"]
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
    assert at.expander[1].label == "新闻发布与媒体活动登记（本月：新闻发布会 0 场，媒体活动 0 场；每月各至少 1 场）"
    at.text_input(key="press_topic_0").set_value("秋冬季呼吸道传染病防控新闻发布会")
    at.text_input(key="press_speaker_0").set_value("王示例")
    at.text_input(key="press_url_0").set_value("not a link")
    next(b for b in at.button if b.label == "登记").click()
    at.run()
    assert [e.value for e in at.error] == ["操作未完成：链接“not a link”不是网址：请填写以 http:// 或 https:// 开头的地址，或留空。"]
    at.text_input(key="press_url_0").set_value("https://example.org/press/1")
    next(b for b in at.button if b.label == "登记").click()
    at.run()
    assert not at.exception
    assert any("已登记新闻发布会 #1：秋冬季呼吸道传染病防控新闻发布会" in s.value for s in at.success)
    assert at.expander[1].label == "新闻发布与媒体活动登记（本月：新闻发布会 1 场，媒体活动 0 场；每月各至少 1 场）"
    # a media activity: its kind picked
    at.selectbox(key="press_kind_1").set_value("media_event")
    at.text_input(key="press_topic_1").set_value("媒体开放日：走进市疾控中心")
    next(b for b in at.button if b.label == "登记").click()
    at.run()
    assert any("已登记媒体活动 #2：媒体开放日：走进市疾控中心" in s.value for s in at.success)
    assert at.expander[1].label == "新闻发布与媒体活动登记（本月：新闻发布会 1 场，媒体活动 1 场；每月各至少 1 场）"
    assert any(c.value == "2026 年已参加上级卫生健康委组织的新闻发布活动 0 次（每年至少 1 次）。" for c in at.caption)
    table = next(df.value for df in at.dataframe if "主题" in df.value.columns)
    assert (list(table["类别"]), list(table["主题"]), list(table["发言人或出席人"])) == (
        ["媒体活动", "新闻发布会"], ["媒体开放日：走进市疾控中心", "秋冬季呼吸道传染病防控新闻发布会"], ["", "王示例"])


def test_the_conferences_recorded_on_alerts_before_the_register_enter_it_on_upgrade(tmp_path):
    from workflow_helpers import store_before

    path = tmp_path / "old.db"
    db = store_before(path, "0038")
    rfx.build_all(db)  # its 一级 alert's conference held on 17 November, before the register
    db.conn.close()
    db = store.open_db(path)  # migrates
    [held] = store.list_press_conferences(db)
    garlic = store.get_alert(db, held["alert_id"])
    assert (garlic["title"], held["topic"], held["held_at"], held["recorded_by"], held["kind"]) == (
        "生吃大蒜治愈高血压", "生吃大蒜治愈高血压", garlic["conference_at"], "system", "conference")
    notice = reports.compute_monthly(db, rfx.MONTH, now=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    assert "本月召开新闻发布会 1 场（其中回应预警事件 1 场）。" in reports.press_lines(notice)


def test_media_activities_and_the_higher_commissions_events_are_counted_and_judged(rdb):
    db, _ = rdb
    december, new_year = datetime(2026, 12, 1, 2, 0, tzinfo=UTC), datetime(2027, 1, 1, 2, 0, tzinfo=UTC)
    press.record(db, held_at=HELD, topic="媒体开放日", actor="m", now=NOW, kind="media_event")
    press.record(db, held_at=HELD, topic="控烟新闻发布会", actor="m", now=NOW, spokesperson="王示例")
    # a media activity is not a conference, nor its spokesperson the conferences'
    lines = reports.press_lines(reports.compute_monthly(db, rfx.MONTH, now=december))
    assert lines == ["本月召开新闻发布会 1 场（其中回应预警事件 0 场），新闻发言人：王示例。",
                     "达到每月至少召开 1 次新闻发布会的要求。",
                     "本月组织媒体活动 1 场，达到每月至少组织 1 场的要求。"]
    # the year, once ended: the months without a media activity named, the higher commission's event missing
    annual = reports.press_lines(reports.compute_annual(db, "2026", now=new_year))
    assert "每月至少组织 1 场媒体活动：2026-12 未组织。" in annual
    assert "本年参加上级卫生健康委组织的新闻发布活动 0 次，未达到每年至少参加 1 次的要求。" in annual
    # while it runs, it says the event is still to come; a quarter says nothing of it
    assert "本年尚未参加上级卫生健康委组织的新闻发布活动（每年至少 1 次）。" in reports.press_lines(
        reports.compute_annual(db, "2026", now=december))
    assert not any("上级" in line for line in reports.press_lines(reports.compute_quarterly(db, "2026-Q4", now=december)))
    press.record(db, held_at=HELD, topic="参加省卫健委新闻发布会", actor="m", now=NOW, kind="upper_event")
    assert "本年参加上级卫生健康委组织的新闻发布活动 1 次，达到每年至少参加 1 次的要求。" in reports.press_lines(
        reports.compute_annual(db, "2026", now=new_year))
    assert "本月参加上级卫生健康委组织的新闻发布活动 1 次。" in reports.press_lines(
        reports.compute_monthly(db, rfx.MONTH, now=december))
    # a training in press work for the staff (seed 001, 9): said, counted as nothing else
    press.record(db, held_at=HELD, topic="新闻发言人与媒体素养培训", actor="m", now=NOW, kind="training")
    lines = reports.press_lines(reports.compute_monthly(db, rfx.MONTH, now=december))
    assert "本月开展新闻发布与媒体素养业务培训 1 次。" in lines
    assert lines[:3] == ["本月召开新闻发布会 1 场（其中回应预警事件 0 场），新闻发言人：王示例。",
                         "达到每月至少召开 1 次新闻发布会的要求。",
                         "本月组织媒体活动 1 场，达到每月至少组织 1 场的要求。"]
    # a week says only what it held
    press.record(db, held_at=datetime(2026, 11, 30, 7, 0, tzinfo=UTC), topic="集中采访", actor="m", now=december,
                 kind="media_event")
    assert reports.press_lines(reports.compute_weekly(db, "2026-W49", now=december + timedelta(days=7))) == [
        "本周组织媒体活动 1 场。"]


def test_the_self_check_warns_near_a_periods_end_while_its_minimum_is_not_held(rdb):
    from dashboard.strings import t
    from rumourwatch import selfcheck

    db, _ = rdb

    def due(now):
        return {f.params["kind"]: f for f in selfcheck.check_reports(db, now) if f.key == "reports.press_due"}

    late_november = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # five days left in the month, 36 in the year
    found = due(late_november)
    assert set(found) == {"新闻发布会", "媒体活动", "参加上级新闻发布活动"}
    assert found["媒体活动"].params == {"kind": "媒体活动", "days": 5, "period": "本月", "rule": "每月至少组织 1 场媒体活动"}
    assert found["参加上级新闻发布活动"].params["days"] == 36 and found["参加上级新闻发布活动"].params["period"] == "本年度"
    assert t("selfcheck.reports.press_due", **found["媒体活动"].params) == (
        "本月尚未登记媒体活动，还剩 5 天（每月至少组织 1 场媒体活动）：举办后请在“媒体约请”页的“新闻发布与媒体活动登记”中登记。")
    assert due(datetime(2026, 11, 20, 2, 0, tzinfo=UTC)).keys() == {"参加上级新闻发布活动"}  # 11 days left
    assert due(datetime(2026, 9, 25, 2, 0, tzinfo=UTC)).keys() == {"新闻发布会", "媒体活动"}  # 98 left in the year
    press.record(db, held_at=HELD, topic="发布会", actor="m", now=NOW)
    press.record(db, held_at=HELD, topic="参加省卫健委新闻发布会", actor="m", now=NOW, kind="upper_event")
    assert due(late_november).keys() == {"媒体活动"}
    press.record(db, held_at=HELD, topic="媒体开放日", actor="m", now=NOW, kind="media_event")
    assert due(late_november) == {}
