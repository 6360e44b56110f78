"""Weekly summary and monthly notice: periods, figures against the database, degradation, round trip.

Expected figures are counted here with plain SQL over the fixture store (not through the report
code), so a report figure that drifts from the database fails.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import report_fixtures as fx
from workflow_helpers import add_item

from rumourwatch import reports, store
from rumourwatch.opinion import opinion_line
from rumourwatch.records import iso
from rumourwatch.reports import Report, ReportError


@pytest.fixture
def full_db():
    db = store.open_db(memory=True)
    info = fx.build_all(db)
    return db, info


def sql_polarity(db, period) -> dict:
    rows = db.execute("""SELECT polarity, count(*) FROM items WHERE health_related = 1 AND published_at >= ?
                         AND published_at < ? AND polarity IS NOT NULL GROUP BY polarity""",
                      [period.start, period.end]).fetchall()
    return {p: n for p, n in rows}


# --- periods ------------------------------------------------------------------------------

def test_iso_week_is_monday_to_sunday_in_china_time():
    p = reports.parse_week("2026-W47")
    assert (p.first_day, p.last_day) == ("2026-11-16", "2026-11-22")
    assert (p.start, p.end) == ("2026-11-15T16:00:00Z", "2026-11-22T16:00:00Z")
    assert p.previous().label == "2026-W46"
    assert reports.parse_week("2027-W01").previous().label == "2026-W53"


def test_month_bounds_and_previous_month_across_the_year():
    p = reports.parse_month("2026-11")
    assert (p.first_day, p.last_day, p.start) == ("2026-11-01", "2026-11-30", "2026-10-31T16:00:00Z")
    assert reports.parse_month("2027-01").previous().label == "2026-12"


@pytest.mark.parametrize("text, fragment", [("2026-47", "use YYYY-Www"), ("2025-W53", "weeks 1 to 52"),
                                            ("W47", "use YYYY-Www")])
def test_bad_week_says_what_format_to_use(text, fragment):
    with pytest.raises(ReportError, match=fragment):
        reports.parse_week(text)


def test_bad_month_says_what_format_to_use():
    with pytest.raises(ReportError, match="use YYYY-MM"):
        reports.parse_month("2026-13")


def test_last_complete_period_is_the_one_before_now_in_china_time():
    # Sunday 22 Nov 23:30 in Beijing is still week 47: the last complete week is 46.
    sunday_night = datetime(2026, 11, 22, 15, 30, tzinfo=timezone.utc)
    assert reports.last_complete("weekly", sunday_night).label == "2026-W46"
    # Monday 00:30 in Beijing (still Sunday in UTC): week 47 is complete.
    monday_early = datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc)
    assert reports.last_complete("weekly", monday_early).label == "2026-W47"
    assert reports.last_complete("monthly", fx.NOW).label == "2026-10"


# --- volume and opinion ---------------------------------------------------------------------

def test_opinion_line_and_change_match_the_database(full_db):
    db, _ = full_db
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    week, prev = reports.parse_week(fx.WEEK), reports.parse_week(fx.PREVIOUS_WEEK)
    counts, prev_counts = sql_polarity(db, week), sql_polarity(db, prev)
    vol = report.section("volume").data
    assert vol["opinion_line"] == opinion_line(counts)
    assert vol["total"] == sum(counts.values())
    assert vol["previous"]["opinion_line"] == opinion_line(prev_counts)
    assert vol["change"]["total"] == sum(counts.values()) - sum(prev_counts.values())
    # Unscored and non-health items are counted apart, not in the opinion line.
    assert vol["unscored"] == db.execute("SELECT count(*) FROM items WHERE scored_at IS NULL AND published_at >= ? "
                                         "AND published_at < ?", [week.start, week.end]).fetchone()[0] == 1
    lines = reports.volume_lines(report)
    assert lines[0] == opinion_line(counts)
    assert "较上周：总量 +" in lines[2]


def test_flagged_figure_stays_within_the_health_related_scope(full_db):
    db, _ = full_db
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    week = reports.parse_week(fx.WEEK)
    flagged_all, flagged_health, health = db.execute(
        "SELECT sum(rumour_probability >= 0.5), sum(health_related = 1 AND rumour_probability >= 0.5), "
        "sum(health_related = 1) FROM items WHERE published_at >= ? AND published_at < ?",
        [week.start, week.end]).fetchone()
    assert flagged_all > flagged_health  # the fixture has a flagged item that is not about health
    line = reports.volume_lines(report)[1]
    assert f"健康相关 {health} 条，其中疑似谣言 {flagged_health} 条" in line
    # The scope line names the figures that are not health-only.
    assert "“采集条目”与“待评分”两数除外" in report.scope[0]
    for text in (reports.render_markdown(report), reports.render_html(report, charts=False)):
        assert f"疑似谣言 {flagged_health} 条" in text and f"疑似谣言 {flagged_all} 条" not in text


def test_daily_trend_has_every_day_of_the_week_with_database_counts(full_db):
    db, _ = full_db
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    daily = report.section("volume").data["daily"]
    assert [d["day"] for d in daily] == [f"2026-11-{d}" for d in range(16, 23)]
    for d in daily:
        expected = dict(db.execute("""SELECT polarity, count(*) FROM items WHERE published_day = ? AND health_related = 1
                                      GROUP BY polarity""", [d["day"]]).fetchall())
        assert {p: d[p] for p in ("neutral", "positive", "negative")} == \
            {p: expected.get(p, 0) for p in ("neutral", "positive", "negative")}
    png = reports.daily_chart_png(report)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_legend_sits_outside_the_plot_and_inside_the_picture(full_db, monkeypatch):
    db, _ = full_db
    figures = []
    monkeypatch.setattr(reports, "png_bytes", lambda fig, plt: figures.append(fig) or b"png")
    for report in (reports.compute_weekly(db, fx.WEEK, now=fx.NOW), reports.compute_monthly(db, fx.MONTH, now=fx.NOW)):
        assert reports.daily_chart_png(report) == b"png"
        fig = figures.pop()
        fig.canvas.draw()
        ax = fig.axes[0]
        legend = ax.get_legend().get_window_extent()
        assert not legend.overlaps(ax.get_window_extent())  # no bar (the last day's included) is covered
        assert fig.bbox.contains(legend.x0, legend.y0) and fig.bbox.contains(legend.x1, legend.y1)  # not cut off
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["中性", "正面", "负面"]


def test_platform_filter_counts_only_that_platform(full_db):
    db, _ = full_db
    report = reports.compute_weekly(db, fx.WEEK, platform="今日头条", now=fx.NOW)
    vol = report.section("volume").data
    # 今日头条 this week: the salt-lamp rumour (health) and the weather item (not health).
    assert vol["total"] == 1 and vol["items"] == 2
    assert report.section("rumours").data["rows"] == []  # the salt lamp was judged not a rumour
    assert any("平台：今日头条" in line for line in report.scope)
    rows = reports.compute_weekly(db, fx.WEEK, platform="微信公众号", now=fx.NOW).section("rumours").data["rows"]
    assert [(r["platform"], r["copies"]) for r in rows] == [("微信公众号", 1)]  # the garlic copy posted there


# --- rumours, alerts, experts, publishers, model ---------------------------------------------

def test_top_rumours_are_ranked_by_spread_one_row_per_cluster_with_status(full_db):
    db, info = full_db
    rows = reports.compute_weekly(db, fx.WEEK, now=fx.NOW).section("rumours").data["rows"]
    assert [r["text"][:6] for r in rows] == ["喝两杯高度白", "网传每天生吃"]  # the salt lamp was judged not a rumour
    garlic = rows[1]
    assert garlic["copies"] == 3
    assert garlic["spread"] == 3 + (120 + 40 + 10) + (30 + 5)
    assert {r["text"][:2]: r["status"] for r in rows} == {"喝两": "clarified", "网传": "clarified"}
    assert rows[0]["clarification_url"] == f"https://example.org/clarify/{info['alerts']['liquor']}"


def test_top_rumours_leave_out_ads_and_clarifications_as_the_live_list_does(full_db):
    """An advertisement and a debunk platform's refutation, both scored as likely rumours and spread
    more than any rumour that week, are not 传播最广的疑似谣言 (nor on the live list)."""
    from rumourwatch.ingest import ingest_events
    from rumourwatch.sources.base import RawItem

    db, _ = full_db
    when = fx._china(fx._at(2, 12))
    records = [
        {"id": "ad", "platform": "微博", "account": "好物优选店", "date": when, "repost_num": 900, "comment_num": 100,
         "text": "示例牌空气净化器【99元（需用券）】：旗舰店原价199元，领100元优惠券后到手99元"},
        {"id": "refute", "platform": "果壳网-谣言粉碎机", "author": "果壳", "date": when, "repost_num": 800,
         "comment_num": 50, "text": "喝两杯白酒能杀死流感病毒？假的！酒精进入血液远达不到消毒浓度，请勿轻信"}]
    with store.transaction(db):
        ingest_events(db, [RawItem(r) for r in records], source="report-test", now=fx.NOW)
    added = [store.find_item(db, r["platform"], r["id"])["id"] for r in records]
    assert [store.get_item(db, i)["quality_flags"] for i in added] == ['["suspected_ad"]', '["clarification"]']
    with store.transaction(db):
        store.save_scores(db, [{"item_id": i, "model_version": "fixture-1", "computed_at": iso(fx.NOW),
                                "reactions_seen": 0, "rumour_probability": 0.97, "is_rumour": 1,
                                "polarity": "neutral", "polarity_scores": None, "health_probability": 0.9,
                                "health_related": 1, "topic": "健康知识普及"} for i in added])
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    rows = report.section("rumours").data["rows"]
    assert [r["text"][:6] for r in rows] == ["喝两杯高度白", "网传每天生吃"]
    period = reports.parse_week(fx.WEEK)
    live = store.top_rumours(db, period.start, period.end, limit=10, health_only=True)
    assert not {r["id"] for r in live} & set(added)
    assert not {r["item_id"] for r in rows} & set(added)


def test_top_rumours_leave_out_items_judged_not_a_rumour_as_the_live_list_does(full_db):
    """A leader reading 传播最广的疑似谣言 does not see the salt lamp a monitor judged not a rumour, as the
    live list does not; judged a rumour again later, it is back in both, with its alert overdue."""
    db, info = full_db
    period = reports.parse_week(fx.WEEK)
    salt = info["ids"]["salt1"]

    def listed():
        rows = reports.compute_weekly(db, fx.WEEK, now=fx.NOW).section("rumours").data["rows"]
        live = store.top_rumours(db, period.start, period.end, limit=10, health_only=True)
        return [(r["item_id"], r["status"]) for r in rows if r["item_id"] == salt], salt in {r["id"] for r in live}

    assert listed() == ([], False)
    with store.transaction(db):
        store.insert_verdict(db, {"item_id": salt, "cluster_id": store.get_item(db, salt)["cluster_id"],
                                  "alert_id": None, "verdict": "rumour", "reason": "复核：确属谣言",
                                  "actor": "monitor1", "at": iso(fx._at(6, 9))})
    assert listed() == ([(salt, "overdue")], True)


def test_alert_deadline_shares_and_overdue_list(full_db):
    db, info = full_db
    d = reports.compute_weekly(db, fx.WEEK, now=fx.NOW).section("alerts").data
    assert d["by_severity"] == {"一级": 1, "二级": 1, "三级": 2}
    assert (d["total"], d["dismissed"], d["actionable"]) == (4, 1, 3)
    # garlic released after 3 h; liquor after 10 h; salt lamp never.
    assert (d["within_5h"], d["within_24h"]) == (1, 2)
    assert (d["share_5h"], d["share_24h"]) == (33.3, 66.7)
    assert (d["conference_required"], d["conference_on_time"]) == (1, 1)
    assert [o["alert_id"] for o in d["overdue"]] == [info["alerts"]["salt"], info["alerts"]["liquor"]]
    assert d["overdue"][1]["late_hours"] == 5.0


def test_expert_work_per_expert_and_unit(full_db):
    db, _ = full_db
    d = reports.compute_weekly(db, fx.WEEK, now=fx.NOW).section("experts").data
    assert (d["assignments"], d["accepted"], d["declined"], d["published"]) == (4, 2, 1, 2)
    assert d["median_hours"] == 11.0  # clarifications 3 h and 19 h after their alerts
    per_expert = {r["expert"]: r for r in d["per_expert"]}
    assert per_expert["王示例"]["declined"] == 1 and per_expert["王示例"]["median_hours"] is None
    per_unit = {r["unit"]: (r["assignments"], r["published"], r["median_hours"]) for r in d["per_unit"]}
    assert per_unit == {fx.UNIT_HOSPITAL: (3, 1, 19.0), fx.UNIT_COUNTY: (1, 1, 3.0)}


def test_repeat_publishers_takedowns_and_model_health(full_db):
    db, _ = full_db
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    pub = report.section("publishers").data
    # 养生达人甲 posted two copies of the garlic rumour on 微博; the cluster was confirmed this week.
    assert [(a["platform"], a["account"], a["confirmed"]) for a in pub["added"]] == [("微博", "养生达人甲", 2)]
    assert pub["takedowns_by_status"] == {"requested": 1, "removed": 1, "refused": 0}
    model = report.section("model").data
    assert (model["flagged"], model["confirmed"], model["dismissed"], model["precision"]) == (3, 2, 1, 66.7)
    # The next week adds nothing: the publisher was already added.
    nxt = reports.compute_weekly(db, "2026-W48", now=fx.NOW).section("publishers")
    assert nxt.data["added"] == []


def test_model_health_counts_the_flag_the_monitor_saw_not_a_score_computed_after_the_verdict(full_db):
    db, info = full_db
    # salt1 was dismissed (非谣言) on Saturday 15:00; before that, the model in use had scored it 0.2,
    # not flagged. Its current score (computed after the verdict) flags it: the report must count
    # the flag as it was when the monitor judged, so salt1 is no longer a dismissed flag.
    salt = info["ids"]["salt1"]
    with store.transaction(db):
        db.execute("INSERT INTO scores (item_id, model_version, computed_at, reactions_seen, rumour_probability, "
                   "is_rumour) VALUES (?, 'fixture-0', ?, 0, 0.2, 0)", [salt, iso(fx._at(5, 10))])
    model = reports.compute_weekly(db, fx.WEEK, now=fx.NOW).section("model").data
    assert (model["flagged"], model["confirmed"], model["dismissed"], model["precision"]) == (2, 2, 0, 100.0)


def test_monthly_notice_ranks_units_and_flags_those_below_the_minimum(full_db):
    db, _ = full_db
    report = reports.compute_monthly(db, fx.MONTH, now=fx.NOW)
    units = report.section("units").data
    table = {r["unit"]: r for r in units["rows"]}
    assert [r["unit"] for r in units["rows"]] == [fx.UNIT_COUNTY, fx.UNIT_HOSPITAL, fx.UNIT_IDLE]
    assert (table[fx.UNIT_COUNTY]["handled"], table[fx.UNIT_COUNTY]["on_time_rate"]) == (1, 100.0)
    assert (table[fx.UNIT_HOSPITAL]["handled"], table[fx.UNIT_HOSPITAL]["on_time_rate"]) == (1, 0.0)
    # The hospital's own minimum is 1 (met); the others use the default 4 (not met).
    assert units["below"] == [fx.UNIT_COUNTY, fx.UNIT_IDLE]
    assert table[fx.UNIT_IDLE]["clarifications"] == 0 and table[fx.UNIT_IDLE]["minimum"] == 4
    lenient = reports.compute_monthly(db, fx.MONTH, now=fx.NOW, minimum=1).section("units").data
    assert lenient["below"] == [fx.UNIT_IDLE]
    assert any("尚未结束" in s for s in report.scope)  # November is not over on 23 Nov


def test_monthly_notice_cites_the_plan_not_a_developer_reference(full_db):
    db, _ = full_db
    report = reports.compute_monthly(db, fx.MONTH, now=fx.NOW)
    rule = reports.units_lines(report)[0]
    assert rule.startswith("报送要求：每单位每月报送信息不少于 4 条") and "晋城市卫生健康委员会宣传工作实施方案" in rule
    for text in (reports.render_markdown(report), reports.render_html(report, charts=False)):
        assert "seed" not in text.lower()


def test_sections_are_numbered_in_the_order_a_leader_reads_them(full_db):
    db, _ = full_db
    monthly = reports.render_markdown(reports.compute_monthly(db, fx.MONTH, now=fx.NOW))
    assert re.findall(r"^## (.+)$", monthly, re.MULTILINE) == [
        "一、舆情总量与情感倾向", "二、话题分布", "三、传播最广的疑似谣言", "四、各单位处置与信息报送排名",
        "五、预警与处置时限", "六、专家处置工作", "七、重复发布者与删除请求", "八、舆情风险点（近 3 个月）",
        "九、关注词与关注账号", "十、模型运行情况"]
    weekly = reports.render_html(reports.compute_weekly(db, fx.WEEK, now=fx.NOW), charts=False)
    assert re.findall(r"<h2>(.+?)</h2>", weekly) == [
        "一、舆情总量与情感倾向", "二、话题分布", "三、传播最广的疑似谣言", "四、预警与处置时限", "五、专家处置工作",
        "六、重复发布者与删除请求", "七、关注词与关注账号", "八、模型运行情况"]


def test_units_with_equal_figures_share_a_rank(full_db):
    db, _ = full_db
    fx.add_idle_units(db, *fx.TIED_UNITS)
    report = reports.compute_monthly(db, fx.MONTH, now=fx.NOW)
    ranks = {r["unit"]: r["rank"] for r in report.section("units").data["rows"]}
    # County and hospital published one clarification each (county on time, hospital late): 1 and 2.
    # The three idle units have the same figures: all third, and no unit is fifth.
    assert ranks == {fx.UNIT_COUNTY: 1, fx.UNIT_HOSPITAL: 2, fx.UNIT_IDLE: 3, **dict.fromkeys(fx.TIED_UNITS, 3)}
    md = reports.render_markdown(report).split("各单位处置与信息报送排名", 1)[1].split("\n## ", 1)[0]
    html = reports.render_html(report, charts=False).split('<section id="units">', 1)[1].split("</section>", 1)[0]
    assert {u: int(n) for n, u in re.findall(r"^\| (\d+) \| ([^|]+?) \| ", md, re.MULTILINE)} == ranks
    assert {u: int(n) for n, u in re.findall(r'<tr[^>]*>\s*<td class="num">(\d+)</td>\s*<td>([^<]+)</td>', html)} == ranks


def test_region_filter_applies_to_units_and_alerts(full_db):
    db, _ = full_db
    report = reports.compute_monthly(db, fx.MONTH, region="示例县", now=fx.NOW)
    assert [r["unit"] for r in report.section("units").data["rows"]] == [fx.UNIT_COUNTY]
    assert report.section("alerts").data["total"] == 1


def test_region_filter_counts_expert_work_by_the_alerts_region_not_the_experts(full_db):
    # An alert in 示例县 handled by experts from 示例市: the county's report shows that work.
    db, info = full_db
    db.execute("UPDATE alerts SET region = '示例县' WHERE id = ?", [info["alerts"]["liquor"]])
    report = reports.compute_weekly(db, fx.WEEK, region="示例县", now=fx.NOW)
    assert report.section("alerts").data["total"] == 2
    experts = report.section("experts").data
    # garlic: 张示例 assigned and published; liquor: 王示例 declined, 李示例 accepted and published.
    assert (experts["assignments"], experts["declined"], experts["published"]) == (3, 1, 2)
    assert {r["expert"] for r in experts["per_expert"]} == {"张示例", "李示例", "王示例"}
    assert "本周指派 3 次（接受 2、谢绝 1），发布澄清 2 篇" in reports.render_markdown(report)
    # The other region no longer counts the work done on the county's alert.
    city = reports.compute_weekly(db, fx.WEEK, region="示例市", now=fx.NOW)
    assert city.section("experts").data["assignments"] == 1  # 王示例 offered the salt-lamp alert


# --- degradation and empty periods ----------------------------------------------------------

def _drop_workflow(db):
    db.execute("PRAGMA foreign_keys = OFF")
    for table in ("clarifications", "assignments", "verdicts", "takedowns", "alert_steps", "notification_attempts",
                  "notifications", "alerts", "experts"):
        db.execute(f"DROP TABLE IF EXISTS {table}")


def test_without_the_workflow_sections_say_so_and_show_no_figures():
    db = store.open_db(memory=True)
    fx.build_items(db)
    _drop_workflow(db)
    report = reports.compute_monthly(db, fx.MONTH, now=fx.NOW)
    for key in ("alerts", "experts", "publishers", "model", "units"):
        s = report.section(key)
        assert not s.available and "工作流程模块尚未启用" in s.message, key
    rumours = report.section("rumours")
    assert rumours.available and {r["status"] for r in rumours.data["rows"]} == {"unknown"}
    assert "工作流程模块尚未启用" in rumours.data["workflow_note"]
    md = reports.render_markdown(report)
    assert "工作流程模块尚未启用" in md and "超时清单" not in md
    # The volume section is unaffected.
    assert report.section("volume").data["opinion_line"] == opinion_line(sql_polarity(db, reports.parse_month(fx.MONTH)))


def test_empty_week_gives_a_short_clear_report(full_db):
    db, _ = full_db
    report = reports.compute_weekly(db, fx.EMPTY_WEEK, now=fx.NOW)
    assert report.section("volume").message == "本周无健康相关媒体条目。"
    assert report.section("alerts").message == "本周无预警数据。"
    assert report.section("rumours").data["rows"] == []
    md = reports.render_markdown(report)
    assert "本周无预警数据" in md and "| 日期 |" not in md
    assert len(md.splitlines()) < 50
    assert reports.daily_chart_png(report) is None
    assert "<img" not in reports.render_html(report)


def test_long_hashed_account_ids_are_shortened_in_the_printed_table(full_db):
    db, _ = full_db
    fx.hash_accounts(db)
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    assert fx.HASHED_ACCOUNT in {r["account"] for r in report.section("rumours").data["rows"]}  # data keeps the id
    html = reports.render_html(report, charts=False).split('<section id="rumours">', 1)[1].split("</section>", 1)[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert fx.HASHED_ACCOUNT[:8] + "…" in cells and fx.HASHED_ACCOUNT not in cells
    assert f'title="{fx.HASHED_ACCOUNT}"' in html  # the whole id on hover
    assert "养生达人甲" not in cells and "夜话健康" in cells  # ordinary names stay whole


# --- serialisation and safety -----------------------------------------------------------------

def test_computed_report_survives_a_json_round_trip(full_db):
    db, _ = full_db
    for report in (reports.compute_weekly(db, fx.WEEK, now=fx.NOW), reports.compute_monthly(db, fx.MONTH, now=fx.NOW)):
        text = report.to_json()
        back = Report.from_json(text)
        assert back == report
        assert json.loads(text) == report.to_dict()
        assert reports.render_markdown(back) == reports.render_markdown(report)


def test_scraped_text_stays_text_in_html_and_markdown():
    db = store.open_db(memory=True)
    fx.build_items(db)
    hostile = {"id": "x1", "platform": "微博", "account": "<script>alert(1)</script>",
               "url": "javascript:alert(2)", "date": "2026-11-18 10:00",
               "text": "[点我领奖](javascript:alert(3)) <img src=x onerror=alert(4)> 喝醋软化血管", "repost_num": 999}
    from rumourwatch.ingest import ingest_events
    from rumourwatch.sources.base import RawItem

    with store.transaction(db):
        ingest_events(db, [RawItem(hostile)], source="hostile", now=fx.NOW)
    item = store.find_item(db, "微博", "x1")["id"]
    with store.transaction(db):
        store.save_scores(db, [{"item_id": item, "model_version": "t", "computed_at": "2026-11-23T00:00:00Z",
                                "reactions_seen": 0, "rumour_probability": 0.99, "is_rumour": 1,
                                "polarity": "negative", "health_related": 1, "topic": None}])
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    html = reports.render_html(report, charts=False)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and 'href="javascript:' not in html
    md = reports.render_markdown(report)
    assert "[点我领奖](javascript:" not in md and "\\[点我领奖\\](javascript:" in md  # brackets escaped: no link
    assert "\\<script\\>" in md


# --- watched keywords and accounts ----------------------------------------------------------

def test_the_watched_keywords_and_accounts_are_counted_this_period_against_the_one_before(db, now):
    """Each watched line counted as 条目检索 finds it (every collected item, exclusions applied), with
    its flagged items and opinion shares, beside the week before; a report never fails for it."""
    add_item(db, "社区通知：新冠疫苗加强针本周开始接种", now + timedelta(days=1), probability=0.9)
    add_item(db, "疫苗接种后手臂酸痛怎么办", now + timedelta(days=2), probability=0.1, polarity="negative")
    add_item(db, "宠物疫苗打完狗狗没精神", now + timedelta(days=2), probability=0.1)  # left out by -宠物
    add_item(db, "上周的疫苗接种点调整通知", now - timedelta(days=3), probability=0.1)  # the week before
    for day in (1, 3):
        add_item(db, f"每天喝三杯淡盐水能排毒（第{day}篇）", now + timedelta(days=day), account="示例养生号")
    watch = {"keywords": ["疫苗 -宠物", "从未出现的说法"], "accounts": ["示例养生号"]}
    report = reports.compute_weekly(db, "2026-W48", now=now + timedelta(days=7), watch=watch)
    head, rows = reports.watch_table(report)
    assert head == ["类型", "关注词 / 账号", "命中条目", "疑似谣言", "情感倾向（正 / 中 / 负）", "上周", "变化"]
    assert rows == [["关注词", "疫苗 -宠物", "2", "1", "0.0% / 50.0% / 50.0%", "1", "+100.0%"],
                    ["关注词", "从未出现的说法", "0", "0", "—", "0", "持平"],
                    ["关注账号", "示例养生号", "2", "2", "0.0% / 100.0% / 0.0%", "0", "新出现"]]
    assert reports.watch_lines(report)[1] == "本周命中最多：疫苗 -宠物（2 条，较上周 +100.0%）。"
    markdown = reports.render_markdown(report)
    assert "| 关注词 | 疫苗 -宠物 | 2 | 1 | 0.0% / 50.0% / 50.0% | 1 | +100.0% |" in markdown
    assert "<td>从未出现的说法</td>" in reports.render_html(report, charts=False)
    # nothing watched, or rules that cannot be read: the section says so, the report is made
    none = reports.compute_weekly(db, "2026-W48", now=now, watch={"keywords": [], "accounts": []})
    assert none.section("watch").message.startswith("未设置关注词或关注账号")


def test_a_report_says_why_it_has_no_watch_figures_when_the_rules_cannot_be_read(db, now, rules_file):
    rules_file.write_text('[watch]\nkeywords = ["-宠物"]\n', encoding="utf-8")
    section = reports.compute_weekly(db, "2026-W48", now=now).section("watch")
    assert not section.available and section.message.startswith("预警规则文件无法读取（alert rule watch.keywords")
    rules_file.write_text('[watch]\nkeywords = ["疫苗"]\n', encoding="utf-8")
    section = reports.compute_weekly(db, "2026-W48", now=now).section("watch")
    assert section.available and [r["value"] for r in section.data["rows"]] == ["疫苗"]


def test_the_topic_section_says_what_the_periods_health_items_were_about(db):
    """Per Healthy China topic: items, share, negative share, flagged, and the change on last week."""
    now = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)  # Monday of 2026-W48
    for i in range(6):
        add_item(db, f"示例医院排队三小时，看病太难了，第{i}次", now + timedelta(hours=i), probability=0.1,
                 topic="慢性呼吸系统疾病防治", polarity="negative" if i < 3 else "neutral")
    for i in range(2):
        add_item(db, f"示例网传：每天喝醋能软化血管，第{i}回", now + timedelta(hours=i), topic="心脑血管疾病防治")
        add_item(db, f"上周的示例慢阻肺讲座，第{i}场", now - timedelta(days=7) + timedelta(hours=i), probability=0.1,
                 topic="慢性呼吸系统疾病防治")
    report = reports.compute_weekly(db, "2026-W48", now=now + timedelta(days=7))
    rows = {r["topic"]: r for r in report.section("topics").data["rows"]}
    lung = rows["慢性呼吸系统疾病防治"]
    assert (lung["items"], lung["share"], lung["negative_share"], lung["previous"], lung["change"]) == (
        6, 75.0, 50.0, 2, 200.0)
    assert rows["心脑血管疾病防治"]["flagged"] == 2
    assert reports.topics_lines(report)[1:] == ["本周条目最多的话题：慢性呼吸系统疾病防治（6 条，占 75.0%，负面占比 50.0%）。",
                                                "较上周增长最多：慢性呼吸系统疾病防治（+200.0%）。"]
    md = reports.render_markdown(report)
    assert "| 心脑血管疾病防治 | 2 | 25.0% | 0.0% | 2 | 0 | 新出现 |" in md
    assert "<h2>二、话题分布</h2>" in reports.render_html(report, charts=False)
