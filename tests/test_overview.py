"""领导概览: each of the last 12 weeks counted exactly as its 周报 counts it, last week against the
week before in words, what is late now; the leaders' first page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import report_fixtures as fx
from streamlit.testing.v1 import AppTest
from workflow_helpers import PASSWORD

from dashboard.auth import login_for_test
from rumourwatch import alerts, auth, overview, reports, store
from rumourwatch.config import REPO_ROOT
from rumourwatch.opinion import opinion_line
from rumourwatch.records import iso


@pytest.fixture
def full_db():
    db = store.open_db(memory=True)
    info = fx.build_all(db)
    return db, info


def test_every_week_is_counted_as_its_weekly_report_counts_it(full_db):
    db, _ = full_db
    weeks = overview.weekly_trend(db, fx.NOW)
    assert len(weeks) == 12 and [w["label"] for w in weeks[-3:]] == [fx.PREVIOUS_WEEK, fx.WEEK, "2026-W48"]
    assert [w["partial"] for w in weeks[-2:]] == [False, True]  # the current week is counted so far
    for w in weeks[-3:-1]:
        report = reports.compute_weekly(db, w["label"], now=fx.NOW, watch={"keywords": [], "accounts": []})
        volume, alerts_ = report.section("volume").data, report.section("alerts").data
        assert (w["health_related"], w["flagged"]) == (volume["health_related"], volume["flagged"])
        assert w["shares"] == volume["shares"] and w["opinion_line"] == volume["opinion_line"]
        assert w["alerts"] == alerts_["total"]
        if alerts_["total"]:
            assert w["by_severity"] == alerts_["by_severity"] and w["share_5h"] == alerts_["share_5h"]
        assert w["published"] == report.section("experts").data["published"]
    assert weeks[-2]["health_related"] > 0 and weeks[-2]["alerts"] > 0  # the fixture's week is not empty
    assert weeks[0]["health_related"] == 0 and weeks[0]["share_5h"] is None


def test_last_week_is_told_against_the_week_before(full_db):
    db, _ = full_db
    weeks = overview.weekly_trend(db, fx.NOW)
    w, before = weeks[-2], weeks[-3]
    lines = overview.headline(weeks)
    assert lines[0].startswith(f"上周（{fx.WEEK}，11-16 至 11-22）健康相关条目 {w['health_related']:,} 条")
    change = 100 * w["health_related"] / before["health_related"] - 100
    assert f"较前一周 {'+' if change >= 0 else '−'}{abs(change):.1f}%" in lines[0]
    assert f"负面占比 {w['shares']['negative']:.1f}%" in lines[1]
    assert lines[2].startswith(f"预警 {w['alerts']} 起") and f"发布澄清稿 {w['published']} 篇" in lines[2]
    assert overview.headline(overview.weekly_trend(store.open_db(memory=True), fx.NOW)) == [
        f"上周（{fx.WEEK}，11-16 至 11-22）没有健康相关条目。"]


def test_the_weeks_go_to_a_spreadsheet_with_numbers_in_their_cells(full_db):
    db, _ = full_db
    weeks = overview.weekly_trend(db, fx.NOW)
    rows = list(csv.reader(io.StringIO(overview.trend_csv(weeks).lstrip("\ufeff"))))
    assert rows[0] == list(overview.CSV_HEADER) and len(rows) == 13
    last = dict(zip(rows[0], rows[-2], strict=True))
    assert last["周次"] == fx.WEEK and last["是否至今"] == "否"
    assert int(last["健康相关条目"]) == weeks[-2]["health_related"]
    assert float(last["负面占比%"]) == weeks[-2]["shares"]["negative"]


def test_what_is_late_now_longest_first(db, now):
    from workflow_helpers import add_item, rules

    texts = {10: "听说示例镇的井水喝了能治好胃病，村里老人每天去打水", 7: "网传示例牌口罩戴久了会导致肺部缺氧，专家称需立即停用",
             1: "有人说晚上十点后吃水果会让血糖一直升高，糖尿病人千万别碰"}
    ids = []
    for hours, severity in ((10, "二级"), (7, "一级"), (1, "三级")):
        item = add_item(db, texts[hours], now - timedelta(hours=hours + 1), probability=0.2)
        ids.append(alerts.raise_alert(db, item, severity, "电话反映", "monitor1", now - timedelta(hours=hours),
                                      rules())["alert_id"])
    late = overview.late_now(db, now)
    assert (late["open"], late["top"]) == (3, 1)
    assert [(o["id"], o["clock"], o["late_hours"]) for o in late["overdue"]] == [
        (ids[0], "respond_by", 5.0), (ids[1], "respond_by", 2.0)]  # the 三级 alert has 4 hours left
    assert overview.late_lines(late)[0].startswith(f"预警 #{ids[0]}（二级）信息发布时限已超时 5.0 小时（时限 11-23 11:00）")
    # a unit that has not reported back on an open alert in time is late too; one answered, or on a
    # dismissed alert, is not
    from rumourwatch import referrals

    with store.transaction(db):
        store.upsert_units(db, [{"code": "U1", "name": "示例镇卫生院", "kind": "卫生院", "region": None,
                                 "monthly_minimum": None, "active": 1}], iso(now))
    unit = store.find_unit(db, "U1")["id"]
    referrals.refer(db, ids[2], unit, "请核实。", actor="monitor1", now=now - timedelta(hours=3), hours=2, rules=rules())
    done = referrals.refer(db, ids[1], unit, "请核实。", actor="monitor1", now=now - timedelta(hours=3), hours=2,
                           rules=rules())
    referrals.reply(db, done["id"], "已核实。", actor="corr", now=now - timedelta(hours=2), unit_id=unit)
    referrals.refer(db, ids[0], unit, "请核实。", actor="monitor1", now=now - timedelta(hours=1), hours=4,
                    rules=rules())  # not due for 3 hours: not late
    late = overview.late_now(db, now)
    assert [(r["alert_id"], r["unit_name"], r["late_hours"]) for r in late["referrals"]] == [(ids[2], "示例镇卫生院", 1.0)]
    assert overview.late_lines(late)[-1] == f"预警 #{ids[2]}（三级）交办 示例镇卫生院 逾期未反馈 1.0 小时（时限 11-23 15:00）"
    alerts.dismiss_alert(db, ids[2], "monitor1", now, "误报")
    assert overview.late_now(db, now)["referrals"] == []


@pytest.fixture
def page_db(tmp_path, monkeypatch):
    from dashboard import data

    path = tmp_path / "overview.db"
    db = store.open_db(path)
    fx.build_all(db)
    auth.create_user(db, "boss", PASSWORD, "leader", "test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return path


def test_a_leader_reads_the_weeks_the_late_alerts_and_last_weeks_lines(page_db):
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "overview.py"), default_timeout=30)
    login_for_test(at, "boss", str(page_db))
    at.run()
    assert not at.exception, at.exception
    weeks = overview.weekly_trend(store.open_db(page_db), fx.NOW)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["本周预警"] == "0" and metrics["未结预警"] == str(overview.late_now(store.open_db(page_db), fx.NOW)["open"])
    assert any(x.value.startswith(f"上周（{fx.WEEK}") for x in at.text)
    table = next(df.value for df in at.dataframe if "周次" in df.value.columns)
    row = table.set_index("周次").loc["W47"]
    assert row["健康相关条目"] == str(weeks[-2]["health_related"]) and row["预警（起）"] == str(weeks[-2]["alerts"])
    assert table["周次"].iloc[0] == "W48（至今）"  # newest first


def test_the_year_so_far_is_the_annual_reports_line_and_opens_it(page_db):
    db = store.open_db(page_db)
    year = reports.parse_year("2026")
    counts = dict(db.execute("""SELECT polarity, count(*) FROM items WHERE health_related = 1 AND polarity IS NOT NULL
                                AND published_at >= ? AND published_at < ? GROUP BY polarity""",
                             [year.start, iso(fx.NOW)]).fetchall())
    expected = opinion_line(counts)
    assert overview.year_to_date(db, fx.NOW)["line"] == expected
    assert reports.compute_annual(db, "2026", now=fx.NOW).section("volume").data["opinion_line"] == expected
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "streamlit_app.py"), default_timeout=60)
    login_for_test(at, "boss", str(page_db))
    at.switch_page("app_pages/overview.py")
    at.run()
    assert any(m.value.replace("\\", "") == f"**{expected}**" for m in at.markdown)  # as shown: escapes unseen
    assert any(s.value == "2026 年以来" for s in at.subheader)
    at.button(key="open_annual").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("健康舆情与谣言处置年度报告 · 2026 年") for s in at.subheader)


def test_a_leader_lands_on_the_overview():
    assert auth.HOME_PAGES["leader"] == "overview" and auth.page_allowed("leader", "overview")
    assert not auth.page_allowed("monitor", "overview")


def test_a_leader_sees_the_units_late_with_their_reply_and_opens_the_alert(page_db):
    from rumourwatch import referrals

    db = store.open_db(page_db)
    with store.transaction(db):
        store.upsert_units(db, [{"code": "U1", "name": "示例镇卫生院", "kind": "卫生院", "region": None,
                                 "monthly_minimum": None, "active": 1}], iso(fx.NOW))
    [alert] = [a for a in store.list_alerts(db, "active", now=iso(fx.NOW))][:1]
    referrals.refer(db, alert["id"], store.find_unit(db, "U1")["id"], "请核实辖区情况并反馈。", actor="monitor1",
                    now=fx.NOW - timedelta(hours=6), hours=4, rules=alerts.validate_rules({}))
    db.conn.close()
    import dashboard_fixtures as dfx

    at = dfx.open_app("app_pages/overview.py", "boss")  # the whole app: a row's click switches page
    assert "属地单位逾期未反馈的交办" in [s.value for s in at.subheader]
    table = next(df.value for df in at.dataframe if "交办事项" in df.value.columns)
    assert (list(table["单位"]), list(table["交办事项"])) == (["示例镇卫生院"], ["请核实辖区情况并反馈。"])
    assert table["已超时"].iloc[0] == "2.0 小时"
    at.session_state["overview_referrals_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception and at.query_params["alert"] == str(alert["id"])
    assert [x.value for x in at.title] == ["预警与处置时限"]


def test_a_leader_reads_this_months_duties_and_opens_last_months_notice(page_db):
    """The plans' standing duties as they stand: units at their monthly minimum (as the notice counts
    them), this month's press conferences and media activities, this half-year's correspondents' training; last month's
    notice's short units, and the notice itself a click away."""
    from datetime import date

    from rumourwatch import press, submissions, trainings

    db = store.open_db(page_db)
    county = store.find_unit(db, fx.UNIT_COUNTY)
    for i in range(3):  # with its expert's clarification of 17 November: 4, the minimum
        submissions.submit(db, unit_id=county["id"], kind="work", title=f"工作动态 {i}", content="内容",
                           actor="li", now=fx.NOW - timedelta(days=i))
    press.record(db, held_at=fx.NOW - timedelta(days=2), topic="控烟新闻发布会", actor="m", now=fx.NOW)
    press.record(db, held_at=fx.NOW - timedelta(days=30), topic="十月的发布会", actor="m", now=fx.NOW)  # not this month
    for days in (1, 3):  # a media activity is not a press conference (seed 004 asks for each)
        press.record(db, held_at=fx.NOW - timedelta(days=days), topic="媒体开放日", actor="m", now=fx.NOW,
                     kind="media_event")
    duty = overview.this_month_rules(db, fx.NOW)
    months = submissions.units_month(db, store.list_units(db), "2026-11", 4)
    assert (duty["units"], duty["units_met"]) == (len(months), sum(m["met"] for m in months.values()))
    assert months[county["id"]]["met"] and duty["units_met"] >= 1
    assert (duty["press_held"], duty["media_held"], duty["training"]["held"], duty["last_month"]) == (1, 2, 0, "2026-10")
    october = reports.unit_standing(db, "2026-10", fx.NOW)["rows"]
    assert duty["last_month_short"] == [u for u, r in october.items() if r["below_minimum"]]
    trainings.record(db, held_on=date(2026, 11, 20), title="通讯员培训", unit_ids=[county["id"]], actor="m", now=fx.NOW)
    # two kept 事前研判: one planned within the two weeks, one after
    from rumourwatch import assessment

    for title, day in (("冬季流感疫苗接种宣传", date(2026, 12, 1)), ("*年终*政策解读", date(2026, 12, 20))):
        assessment.save(db, assessment.compute(db, title=title, query="疫苗", topic=None, event_day=day, now=fx.NOW,
                                               threshold=0.5), actor="m", now=fx.NOW)
    assert [a["title"] for a in overview.this_month_rules(db, fx.NOW)["assessments"]] == ["冬季流感疫苗接种宣传"]
    db.conn.close()
    import dashboard_fixtures as dfx

    at = dfx.open_app("app_pages/overview.py", "boss")
    assert "制度落实（2026 年 11 月至今）" in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["信息报送已达标单位"] == f"{duty['units_met']} / {duty['units']}"
    assert metrics["本月新闻发布会"] == "1 / 1 场" and metrics["2026 年下半年通讯员培训"] == "已举办 1 次"
    assert metrics["本月媒体活动"] == "2 / 1 场"  # held / the monthly minimum
    # the health days of the next two weeks (23 November: 世界艾滋病日 on 1 December)
    assert [d["name"] for d in duty["health_days"]] == ["世界艾滋病日"]
    assert any(c.value == "未来 14 天的卫生健康纪念日（宣传节点，详见“舆情风险点”）：12 月 1 日 世界艾滋病日（传染病及地方病防控）。"
               for c in at.caption)
    assert any(c.value.startswith("未来 14 天做过事前研判的事项（详见“舆情风险点 › 事前研判”）：12 月 1 日 冬季流感疫苗接种宣传（风险")
               for c in at.caption)
    assert not any("年终" in c.value for c in at.caption)
    assert any(c.value.startswith("上月（10 月）月通报：") for c in at.caption)
    at.button(key="open_last_notice").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("健康舆情与谣言处置月通报 · 2026 年 10 月") for s in at.subheader)


def test_a_leader_reads_what_the_offices_channels_published_this_month_and_opens_their_page(page_db):
    """政务新媒体 (rumourwatch.ownmedia) among the month's duties: the channels' posts and their reach
    this month so far against as many days before, and the topics of public concern left unanswered."""
    from datetime import datetime

    import dashboard_fixtures as dfx
    from test_ownmedia import DIET, LITERACY, post, public

    from rumourwatch import ownmedia
    from rumourwatch.records import CST

    db = store.open_db(page_db)
    assert overview.this_month_rules(db, fx.NOW)["own_media"] is None  # no channel: nothing said
    ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="m", now=fx.NOW)
    post(db, datetime(2026, 11, 20, 10, tzinfo=CST), reach=(100, 20, 30), topic=LITERACY)
    post(db, datetime(2026, 10, 20, 10, tzinfo=CST), reach=(4, 0, 1))    # within as many days before the 1st
    post(db, datetime(2026, 10, 5, 10, tzinfo=CST), reach=(50, 0, 0))    # before those
    public(db, DIET, ownmedia.CONCERN_MIN_ITEMS, flagged=1, day=18)
    own = overview.this_month_rules(db, fx.NOW)["own_media"]
    assert (own["channels"], own["posts"], own["engagement"], own["previous"]) == (
        1, 1, 150, {"posts": 1, "engagement": 5})
    assert DIET in own["unanswered"] and LITERACY not in own["unanswered"]
    db.conn.close()
    at = dfx.open_app("app_pages/overview.py", "boss")
    [line] = [c.value for c in at.caption if c.value.startswith("政务新媒体")]
    assert line.startswith("政务新媒体：本月至今 1 个已登记账号发布 1 条，转发、评论、点赞合计 150 次（此前同样天数：发布 1 条、互动 5 次）。"
                           "公众关注而本单位账号尚未发布的话题：")
    assert DIET in line
    at.button(key="open_ownmedia").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["政务新媒体"]
