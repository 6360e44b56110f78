"""卫生健康纪念日 (宣传节点; seed 001, 3: "利用…卫生健康纪念日…组织开展专题报道、集中宣传"): the days
ahead with what the feed said of their topic, the days just passed against the weeks before them,
the office's own days, the monthly notice's lines, the weekly's next week and the risk page's tab."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import dashboard_fixtures as dfx
import pytest
import report_fixtures as rfx
from test_submissions import page_env  # noqa: F401  (the page's store)
from workflow_helpers import add_scored_items

from rumourwatch import auth, healthdays, reports, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.records import CST, iso

NOW = rfx.NOW          # Monday 23 November 2026, 16:00 in Beijing
TODAY = date(2026, 11, 23)
INFECTIOUS = "传染病及地方病防控"


@pytest.fixture
def rdb():
    db = store.open_db(memory=True)
    fixtures = rfx.build_all(db)  # W46 and W47 (9–22 November): health items on 健康知识普及
    return db, fixtures


def add_items(db, topic: str, when: list[tuple[datetime, float]], tag: str) -> None:
    """Health items on `topic` published at Beijing times, each with its rumour probability."""
    records = [{"id": f"{tag}{i}", "platform": "微博", "account": f"账号{i}", "url": f"https://example.org/{tag}/{i}",
                "date": at.strftime("%Y-%m-%d %H:%M"), "text": f"关于{topic}的一条测试条目（{tag}{i}）"}
               for i, (at, _) in enumerate(when)]
    add_scored_items(db, f"days-{tag}", records, [{"rumour_probability": p, "polarity": "neutral", "topic": topic}
                                                  for _, p in when], NOW)


def cst(y, m, d, h=10) -> datetime:
    return datetime(y, m, d, h, tzinfo=CST)


def test_the_national_days_fall_on_their_dates_every_year():
    by_name = {d.name: d for d in healthdays.BUILT_IN}
    assert len(by_name) == len(healthdays.BUILT_IN)  # one row a name
    assert all(d.topic in healthdays.TOPICS for d in healthdays.BUILT_IN)
    assert by_name["世界艾滋病日"].first(2026) == date(2026, 12, 1)
    # the third Wednesday of November, the first Tuesday of May
    assert [by_name["世界慢阻肺日"].first(y) for y in (2025, 2026)] == [date(2025, 11, 19), date(2026, 11, 18)]
    assert by_name["世界哮喘日"].first(2026) == date(2026, 5, 5)
    assert [by_name["世界防治麻风病日"].first(y) for y in (2026, 2027)] == [date(2026, 1, 25), date(2027, 1, 31)]  # the last Sunday
    # a week, a month
    assert (by_name["全国肿瘤防治宣传周"].first(2026), by_name["全国肿瘤防治宣传周"].last(2026)) == (
        date(2026, 4, 15), date(2026, 4, 21))
    assert (by_name["爱国卫生月"].first(2027), by_name["爱国卫生月"].last(2027)) == (date(2027, 4, 1), date(2027, 4, 30))
    # a day under way when the range begins is in it
    names = [o["day"].name for o in healthdays.occurrences(list(healthdays.BUILT_IN), date(2026, 4, 20),
                                                           date(2026, 4, 24))]
    assert names == ["爱国卫生月", "全国肿瘤防治宣传周"]


def test_the_days_ahead_carry_their_topics_figures_experts_and_clarifications(rdb):
    db, _ = rdb
    [aids] = [d for d in healthdays.upcoming(db, TODAY, 0.5) if d["name"] == "世界艾滋病日"]
    assert (aids["first"], aids["in_days"], aids["topic"], aids["local"]) == ("2026-12-01", 8, INFECTIOUS, False)
    # the fixture's experts are all heart doctors, its clarifications on alerts of no topic
    assert (aids["recent_items"], aids["recent_flagged"], aids["last_year_flagged"], aids["experts"],
            aids["clarifications"]) == (0, 0, None, 0, 0)
    # this month: three items on its topic, two flagged; one 31 days ago is not recent
    add_items(db, INFECTIOUS, [(cst(2026, 11, 20), 0.9), (cst(2026, 11, 21), 0.7), (cst(2026, 11, 22), 0.1),
                               (cst(2026, 10, 23), 0.9)], "now")
    # a year before: two flagged in its window (28 Nov – 4 Dec 2025), one outside it
    add_items(db, INFECTIOUS, [(cst(2025, 11, 29), 0.8), (cst(2025, 12, 4), 0.6), (cst(2025, 12, 6), 0.9)], "ly")
    # an infectious-disease doctor joins the pool (感染科 speaks to the topic); a clarification
    # published on an alert of the topic
    store.upsert_expert(db, {"name": "赵示例", "title": "主任医师", "institution": "示例市疾控中心",
                             "specialties": '["感染科"]', "level": "市级", "region": "示例市", "capacity": 3,
                             "phone": None, "email": None, "active": 1}, iso(NOW))
    db.execute("UPDATE alerts SET topic = ? WHERE id = 1", [INFECTIOUS])  # its clarification is published
    [aids] = [d for d in healthdays.upcoming(db, TODAY, 0.5) if d["name"] == "世界艾滋病日"]
    assert (aids["recent_items"], aids["recent_flagged"], aids["last_year_flagged"]) == (3, 2, 2)
    assert (aids["experts"], aids["clarifications"]) == (1, 1)
    # beyond the horizon: not listed
    assert all(d["first"] <= "2027-01-07" for d in healthdays.upcoming(db, TODAY, 0.5))


def test_a_day_just_passed_is_read_against_the_weeks_before_it(rdb):
    db, _ = rdb
    healthdays.add(db, name="全市健康科普日", topic="健康知识普及", month=11, day=19, days=1, actor="monitor1", now=NOW)
    [held] = [d for d in healthdays.held_between(db, date(2026, 11, 1), TODAY, 0.5) if d["name"] == "全市健康科普日"]
    # its window, 16–22 November, is the fixture's W47: 36 health items, 5 flagged; the 28 days
    # before hold W46's 8: 36/7 a day against 8/28, +1700 %
    assert (held["window_first"], held["window_last"], held["items"], held["flagged"]) == (
        "2026-11-16", "2026-11-22", 36, 5)
    assert (held["before_per_day"], held["change"]) == (0.3, 1700)
    # read on the 21st, its window runs on: it is read over the days so far (16–20 November), not
    # as if the days to come had nothing
    [held] = [d for d in healthdays.held_between(db, date(2026, 11, 1), TODAY, 0.5, until=date(2026, 11, 20))
              if d["name"] == "全市健康科普日"]
    assert (held["window_last"], held["items"], held["flagged"], held["change"]) == ("2026-11-20", 26, 4, 1720)
    # a day of three days (17–19 November): 14–22 November, nine days, 36 items: 4 a day against 8/28
    healthdays.add(db, name="全市健康科普周", topic="健康知识普及", month=11, day=17, days=3, actor="m", now=NOW)
    [held] = [d for d in healthdays.held_between(db, date(2026, 11, 1), TODAY, 0.5) if d["name"] == "全市健康科普周"]
    assert (held["window_first"], held["window_last"], held["items"], held["change"]) == (
        "2026-11-14", "2026-11-22", 36, 1300)


def test_the_offices_own_day_is_added_refused_saying_why_and_removed(rdb):
    db, _ = rdb
    added = healthdays.add(db, name="全市控烟宣传周", topic="控烟", month=12, day=10, days=7, actor="monitor1", now=NOW,
                           note="市爱卫办")
    [ahead] = [d for d in healthdays.upcoming(db, TODAY, 0.5) if d["name"] == "全市控烟宣传周"]
    assert (ahead["first"], ahead["last"], ahead["local"], ahead["id"]) == ("2026-12-10", "2026-12-16", True, added["id"])
    for kwargs, key in (({"name": " "}, "healthday_name_missing"), ({"name": "世界艾滋病日"}, "healthday_taken"),
                        ({"name": "全市控烟宣传周"}, "healthday_taken"), ({"topic": "养生"}, "healthday_topic"),
                        ({"month": 2, "day": 29}, "healthday_date"), ({"month": 4, "day": 31}, "healthday_date"),
                        ({"days": 0}, "healthday_span"), ({"days": 32}, "healthday_span"),
                        ({"name": "日" * 41}, "healthday_text_long")):
        with pytest.raises(WorkflowError) as refused:
            healthdays.add(db, **{"name": "新的纪念日", "topic": "控烟", "month": 3, "day": 1, "days": 1,
                                  "actor": "m", "now": NOW, **kwargs})
        assert refused.value.key == key, kwargs
    assert [d.name for d in healthdays.local_days(db)] == ["全市控烟宣传周"]
    # changed: checked as a new one (its own name is not taken by itself), what changed audited
    for kwargs, key in (({"name": "世界艾滋病日"}, "healthday_taken"), ({"month": 2, "day": 30}, "healthday_date"),
                        ({"topic": "养生"}, "healthday_topic")):
        with pytest.raises(WorkflowError) as refused:
            healthdays.edit(db, added["id"], **{"name": "全市控烟宣传周", "topic": "控烟", "month": 12, "day": 10,
                                                "days": 7, "actor": "m", "now": NOW, **kwargs})
        assert refused.value.key == key, kwargs
    edited = healthdays.edit(db, added["id"], name="全市控烟宣传周", topic="控烟", month=12, day=12, days=5,
                             actor="monitor1", now=NOW, note="市爱卫办")
    assert (edited["month"], edited["day"], edited["days"], edited["note"]) == (12, 12, 5, "市爱卫办")
    [ahead] = [d for d in healthdays.upcoming(db, TODAY, 0.5) if d["name"] == "全市控烟宣传周"]
    assert (ahead["first"], ahead["last"]) == ("2026-12-12", "2026-12-16")
    entry = store.audit_entries(db, target_type="health_day", limit=1)[0]
    assert entry["action"] == "healthday.edit"
    details = entry["details"] if isinstance(entry["details"], dict) else json.loads(entry["details"])
    assert details["changed"] == {"day": [10, 12], "days": [7, 5]}
    assert healthdays.edit(db, added["id"], name="全市控烟宣传周", topic="控烟", month=12, day=12, days=5,
                           actor="m", now=NOW, note="市爱卫办") == edited  # nothing changed: nothing written
    assert len(store.audit_entries(db, target_type="health_day")) == 2
    with pytest.raises(WorkflowError) as refused:
        healthdays.remove(db, added["id"], reason="", actor="m", now=NOW)
    assert refused.value.key == "healthday_reason_missing"
    healthdays.remove(db, added["id"], reason="改为全国统一宣传", actor="monitor1", now=NOW)
    assert healthdays.local_days(db) == [] and not any(d["local"] for d in healthdays.upcoming(db, TODAY, 0.5))
    with pytest.raises(WorkflowError) as refused:
        healthdays.remove(db, added["id"], reason="再删", actor="m", now=NOW)
    assert refused.value.key == "healthday_missing"
    assert [e["action"] for e in store.audit_entries(db, target_type="health_day")] == ["healthday.remove",
                                                                                         "healthday.edit",
                                                                                         "healthday.add"]
    with pytest.raises(WorkflowError) as refused:  # a removed day is not changed
        healthdays.edit(db, added["id"], name="x", topic="控烟", month=1, day=1, days=1, actor="m", now=NOW)
    assert refused.value.key == "healthday_missing"


def test_the_monthly_notice_tells_the_months_days_and_the_next_months(rdb):
    db, _ = rdb
    december = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    healthdays.add(db, name="全市健康科普日", topic="健康知识普及", month=11, day=19, days=1, actor="m", now=NOW)
    healthdays.add(db, name="全市冬季健康日", topic="健康知识普及", month=1, day=5, days=1, actor="m", now=NOW)  # not December's
    notice = reports.compute_monthly(db, rfx.MONTH, now=december)
    lines = reports.risk_lines(notice)
    assert ("全市健康科普日（卫生健康纪念日，11 月 19 日，健康知识普及）：11 月 16 日至 22 日该话题健康条目 36 条（其中疑似谣言 5 条），"
            "日均较此前 4 周 +1700%。") in lines
    assert "联合国糖尿病日（卫生健康纪念日，11 月 14 日，糖尿病防治）：11 月 11 日至 17 日没有该话题的健康条目。" in lines
    assert lines[-1] == "下月卫生健康纪念日：12 月 1 日 世界艾滋病日（传染病及地方病防控）。请提前准备科普与辟谣内容。"
    for text in (reports.render_markdown(notice), reports.render_html(notice, charts=False)):
        assert "下月卫生健康纪念日：12 月 1 日 世界艾滋病日" in text and "全市健康科普日（卫生健康纪念日" in text
    # read while the month runs (the 21st), a window still running counts its days so far
    running = reports.risk_lines(reports.compute_monthly(db, rfx.MONTH, now=datetime(2026, 11, 21, 2, 0, tzinfo=UTC)))
    assert ("全市健康科普日（卫生健康纪念日，11 月 19 日，健康知识普及）：11 月 16 日至 20 日该话题健康条目 26 条（其中疑似谣言 4 条），"
            "日均较此前 4 周 +1720%。") in running
    # a weekly tells only the next week's days (none after W47: see the test below); a notice saved
    # before the days were listed reads as it did
    assert "下月卫生健康纪念日" not in reports.render_markdown(reports.compute_weekly(db, rfx.WEEK, now=NOW))
    del notice.section("risk").data["health_days"]
    assert not any("纪念日" in line for line in reports.risk_lines(notice))


def test_the_weekly_summary_names_the_days_that_begin_the_next_week(rdb):
    db, _ = rdb
    told = "下周卫生健康纪念日"
    # W47 (16–22 November): nothing begins 23–29 November, and a week says nothing of it
    quiet = reports.compute_weekly(db, rfx.WEEK, now=NOW)
    assert not any("纪念日" in line for line in reports.volume_lines(quiet))
    for text in (reports.render_markdown(quiet), reports.render_html(quiet, charts=False)):
        assert told not in text
    # W48 (23–29 November): its next week is 30 November – 6 December
    healthdays.add(db, name="全市控烟宣传周", topic="控烟", month=12, day=6, days=7, actor="m", now=NOW)  # its last day
    healthdays.add(db, name="全市冬季健康日", topic="健康知识普及", month=12, day=7, days=1, actor="m", now=NOW)  # a day late
    healthdays.add(db, name="全市健康科普日", topic="健康知识普及", month=11, day=29, days=1, actor="m", now=NOW)  # W48's own
    weekly = reports.compute_weekly(db, "2026-W48", now=datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    line = ("下周卫生健康纪念日：12 月 1 日 世界艾滋病日（传染病及地方病防控）；12 月 6 日至 12 日 全市控烟宣传周（控烟）。"
            "请提前准备科普与辟谣内容。")
    assert reports.volume_lines(weekly)[-1] == line
    assert line in next(b[1] for b in reports.sections(weekly)[0][1] if b[0] == "lines")  # the volume section's
    assert f"- {line}" in reports.render_markdown(weekly).splitlines()  # and the Word file: the same blocks
    assert f"<li>{line}</li>" in reports.render_html(weekly, charts=False)  # and the PDF printed from it
    assert line in reports.summary_text(weekly, [])[1].splitlines()  # and the leaders' mail
    assert told not in reports.summary_text(quiet, [])[1]
    saved = reports.Report.from_json(weekly.to_json())  # a weekly is kept as JSON and rendered again
    assert reports.volume_lines(saved)[-1] == line
    # a weekly saved before the days were listed renders as it did
    before = weekly.to_dict()
    del before["sections"][0]["data"]["health_days"]
    old = reports.Report.from_dict(before)
    assert not any("纪念日" in line for line in reports.volume_lines(old))
    for text in (reports.render_markdown(old), reports.render_html(old, charts=False)):
        assert told not in text and "舆情总量与情感倾向" in text

def test_the_risk_page_lists_the_days_ahead_and_the_office_adds_its_own(page_env):  # noqa: F811
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test

    at = AppTest.from_file(str(dfx.APP.parent / "app_pages" / "risk.py"), default_timeout=30)
    login_for_test(at, dfx.MONITOR)
    at.run()
    assert not at.exception, at.exception
    tab = at.tabs[-2]
    assert tab.label.startswith("宣传节点（")
    ahead = next(df.value for df in at.dataframe if "纪念日" in df.value.columns and "距今" in df.value.columns)
    assert "世界艾滋病日" in list(ahead["纪念日"])
    passed = next(df.value for df in at.dataframe if "统计区间（前后各 3 天）" in df.value.columns)
    assert list(passed["纪念日"])[:2] == ["世界慢阻肺日", "联合国糖尿病日"]  # the latest first
    assert list(passed["统计区间（前后各 3 天）"])[:1] == ["11-15 至 11-21"]
    # each table exports as CSV, as the other tabs do
    assert [d.proto.label for d in at.get("download_button")][-2:] == ["导出本表（CSV）", "导出本表（CSV）"]
    at.text_input(key="days_name_0").set_value("全市控烟宣传周")
    at.selectbox(key="days_topic_0").set_value("控烟")
    at.number_input(key="days_month_0").set_value(2)
    at.number_input(key="days_day_0").set_value(30)
    next(b for b in at.button if b.label == "添加纪念日").click()
    at.run()
    assert [e.value for e in at.error] == ["操作未完成：2 月 30 日不是每年都有的日期，请重新选择（2 月 29 日请改为 2 月 28 日或 3 月 1 日）。"]
    soon = dfx.NOW.astimezone(CST).date() + timedelta(days=10)  # the page's clock is the fixtures' (23 November)
    at.number_input(key="days_month_0").set_value(soon.month)
    at.number_input(key="days_day_0").set_value(soon.day)
    next(b for b in at.button if b.label == "添加纪念日").click()
    at.run()
    assert not at.exception
    assert any("已添加本地纪念日：全市控烟宣传周" in s.value for s in at.success)
    ahead = next(df.value for df in at.dataframe if "纪念日" in df.value.columns and "距今" in df.value.columns)
    row = ahead[ahead["纪念日"] == "全市控烟宣传周"].iloc[0]
    assert (row["话题"], row["类别"], row["距今"]) == ("控烟", "本地", "10 天后")
    # changed: its fields filled with what it has; moved two days later and given a note
    [local] = healthdays.local_days(store.open_db(page_env))
    k = f"days_edit_{local.id}"
    assert (at.text_input(key=f"{k}_name").value, at.number_input(key=f"{k}_day").value) == ("全市控烟宣传周", soon.day)
    later = soon + timedelta(days=2)
    at.number_input(key=f"{k}_month").set_value(later.month)
    at.number_input(key=f"{k}_day").set_value(later.day)
    next(b for b in at.button if b.label == "保存修改").click()
    at.run()
    assert not at.exception and any("已修改本地纪念日：全市控烟宣传周" in s.value for s in at.success)
    ahead = next(df.value for df in at.dataframe if "纪念日" in df.value.columns and "距今" in df.value.columns)
    assert ahead[ahead["纪念日"] == "全市控烟宣传周"].iloc[0]["距今"] == "12 天后"
    # taken off with its reason
    at.text_input(key="days_remove_reason").set_value("与全国宣传日合并")
    next(b for b in at.button if b.label == "删除").click()
    at.run()
    assert any("已删除本地纪念日：全市控烟宣传周" in s.value for s in at.success)
    ahead = next(df.value for df in at.dataframe if "纪念日" in df.value.columns and "距今" in df.value.columns)
    assert "全市控烟宣传周" not in list(ahead["纪念日"])
    # a leader reads the tab, without the form
    db = store.open_db(page_env)
    auth.create_user(db, "boss", dfx.MONITOR_PASSWORD, "leader", "test")
    db.conn.close()
    at = AppTest.from_file(str(dfx.APP.parent / "app_pages" / "risk.py"), default_timeout=30)
    login_for_test(at, "boss")
    at.run()
    assert not at.exception and at.tabs[-2].label.startswith("宣传节点（")
    assert not any(b.label == "添加纪念日" for b in at.button)


def test_the_monitors_are_told_of_a_day_a_week_ahead_once(rdb, smtp_server):
    from workflow_helpers import rules

    from rumourwatch.alerts import workflow_tick

    db, _ = rdb
    controller, inbox = smtp_server
    r = rules(notify={"smtp_host": "127.0.0.1", "smtp_port": controller.port, "quiet_hours": "",
                      "monitor_emails": ["monitor@example.org"]})
    add_items(db, INFECTIOUS, [(cst(2026, 11, 20), 0.9), (cst(2026, 11, 21), 0.2)], "now")
    # eight days before 世界艾滋病日 (1 December): not yet
    assert workflow_tick(db, datetime(2026, 11, 23, 2, 0, tzinfo=UTC), r)["health_days"] == []
    tick = workflow_tick(db, datetime(2026, 11, 24, 2, 0, tzinfo=UTC), r)  # the worker's round, seven days before
    assert [d["name"] for d in tick["health_days"]] == ["世界艾滋病日"]
    def told():  # (the fixture's overdue alerts are escalated in the same rounds)
        return [(to, msg) for to, msg in inbox.messages if msg["Subject"].startswith("【宣传节点】")]

    [(to, msg)] = told()
    assert to == ["monitor@example.org"] and msg["Subject"] == "【宣传节点】7 天后是世界艾滋病日"
    body = msg.get_content()
    assert "7 天后（12 月 1 日）是世界艾滋病日（传染病及地方病防控）。" in body
    assert "近 30 天该话题健康条目 2 条，其中疑似谣言 1 条。" in body  # no data a year before: not said
    assert "可就该话题约请的专家 0 位" in body and "宣传节点" in body
    # told once: the next rounds, the next day, say nothing more of it
    for day in (24, 25):
        assert workflow_tick(db, datetime(2026, 11, day, 6, 0, tzinfo=UTC), r)["health_days"] == []
    assert len(told()) == 1
    # a day of the office's own, four days ahead, added after: told in the next round
    healthdays.add(db, name="全市控烟宣传周", topic="控烟", month=11, day=29, days=7, actor="m", now=NOW)
    tick = workflow_tick(db, datetime(2026, 11, 25, 7, 0, tzinfo=UTC), r)
    assert [d["name"] for d in tick["health_days"]] == ["全市控烟宣传周"]
    [_, (_, msg)] = told()
    assert msg["Subject"] == "【宣传节点】4 天后是全市控烟宣传周"
    assert "4 天后（11 月 29 日起共 7 天）是全市控烟宣传周（控烟）。" in msg.get_content()
