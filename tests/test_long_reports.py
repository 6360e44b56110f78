"""Quarterly (季度报告) and annual (年度报告) reports: periods, figures against the database month by
month and week by week, units judged month by month, the CLI and the 舆情报告 page.

Expected figures are counted here with plain SQL over the fixture store (report_fixtures: items of
ISO weeks 46 and 47 of 2026, workflow rows in week 47), not through the report code.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import report_fixtures as fx
from test_cli_report import report_db, run  # noqa: F401  (report_db is a fixture)
from test_dashboard_reports import open_page, page_env, shown  # noqa: F401  (page_env is a fixture)

from rumourwatch import reports, store
from rumourwatch.records import iso
from rumourwatch.reports import ReportError

NEW_YEAR = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)  # Q4 and the year 2026 are over


@pytest.fixture
def full_db():
    db = store.open_db(memory=True)
    info = fx.build_all(db)
    return db, info


def sql_by_china(db, start: str, end: str, bucket: str) -> dict:
    """Health items by China-time `bucket` (an strftime format) and polarity, counted in SQL."""
    rows = db.execute(f"""SELECT strftime('{bucket}', published_at, '+8 hours') AS b, polarity, count(*)
                          FROM items WHERE health_related = 1 AND published_at >= ? AND published_at < ?
                          GROUP BY b, polarity""", [start, end]).fetchall()
    out: dict = {}
    for b, polarity, n in rows:
        out.setdefault(b, {"neutral": 0, "positive": 0, "negative": 0, "unscored": 0})[polarity or "unscored"] += n
    return out


# --- periods ------------------------------------------------------------------------------

def test_a_quarter_and_a_year_are_china_time_calendar_periods_with_the_one_before():
    q = reports.parse_quarter("2026-Q4")
    assert (q.first_day, q.last_day, q.start, q.end) == ("2026-10-01", "2026-12-31", "2026-09-30T16:00:00Z",
                                                         "2026-12-31T16:00:00Z")
    assert q.months == ["2026-10", "2026-11", "2026-12"]
    assert reports.parse_quarter("2027-Q1").previous().label == "2026-Q4"
    assert reports.parse_quarter("2026q2").label == "2026-Q2"  # as people type it
    y = reports.parse_year("2026")
    assert (y.first_day, y.last_day, y.previous().label, len(y.months)) == ("2026-01-01", "2026-12-31", "2025", 12)
    assert reports.last_complete("quarterly", fx.NOW).label == "2026-Q3"
    assert reports.last_complete("annual", fx.NOW).label == "2025"
    # 1 January 07:30 in Beijing is still 31 December in UTC: 2026 is over there.
    assert reports.last_complete("annual", datetime(2026, 12, 31, 23, 30, tzinfo=UTC)).label == "2026"


@pytest.mark.parametrize("kind, text, fragment", [("quarterly", "2026-Q5", "use YYYY-Qn"),
                                                  ("quarterly", "2026-11", "use YYYY-Qn"),
                                                  ("annual", "26", "use YYYY"), ("annual", "2026-Q4", "use YYYY")])
def test_a_bad_quarter_or_year_says_how_to_write_one(kind, text, fragment):
    with pytest.raises(ReportError, match=fragment):
        reports.parse_period(kind, text)


# --- figures ------------------------------------------------------------------------------

def test_the_years_opinion_line_and_its_months_are_the_databases(full_db):
    db, _ = full_db
    report = reports.compute_annual(db, "2026", now=NEW_YEAR)
    year = report.period
    expected = sql_by_china(db, year.start, year.end, "%Y-%m")
    head, rows = reports.months_table(report)
    assert head[0] == "月份" and [r[0] for r in rows] == year.months
    for month, neutral, positive, negative, total, unscored in rows:
        want = expected.get(month, {"neutral": 0, "positive": 0, "negative": 0, "unscored": 0})
        assert (neutral, positive, negative, unscored) == (want["neutral"], want["positive"], want["negative"],
                                                          want["unscored"])
        assert total == neutral + positive + negative
    assert sum(r[4] for r in rows) > 0  # the fixture's November items are there
    counts = {p: sum(v[p] for v in expected.values()) for p in ("neutral", "positive", "negative")}
    assert report.section("volume").data["counts"] == counts
    labels, _ = reports.chart_bars(report)
    assert labels == [f"{m}月" for m in range(1, 13)]
    assert report.previous.label == "2025" and "上年度" in reports.volume_lines(report)[2]
    md = reports.render_markdown(report)
    assert "# 健康舆情与谣言处置年度报告" in md and "2026 年（2026-01-01 至 2026-12-31）" in md
    assert f"| 2026-11 | {expected['2026-11']['neutral']} |" in md


def test_a_quarters_chart_has_a_bar_a_week_that_adds_up_to_the_database(full_db):
    db, _ = full_db
    report = reports.compute_quarterly(db, "2026-Q4", now=NEW_YEAR)
    labels, bars = reports.chart_bars(report)
    # 1 October 2026 is a Thursday: the first bar is its three days, then Mondays.
    assert labels[:3] == ["10-01", "10-05", "10-12"] and labels[-1] == "12-28" and len(labels) == 14
    per_day = sql_by_china(db, report.period.start, report.period.end, "%Y-%m-%d")
    for label, bar in zip(labels, bars):
        first = datetime.fromisoformat(f"2026-{label}")
        week = [(first + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(7 - first.weekday())]
        for p in ("neutral", "positive", "negative"):
            assert bar[p] == sum(per_day.get(d, {}).get(p, 0) for d in week), (label, p)
    assert reports.period_text(report) == "2026 年第四季度（2026-10-01 至 2026-12-31）"
    assert reports.daily_chart_png(report)[:8] == b"\x89PNG\r\n\x1a\n"


def add_december_clarification(db, info) -> None:
    """The hospital's expert (李示例) publishes one more clarification on 10 December."""
    at = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    store.insert_clarification(db, {
        "alert_id": info["alerts"]["liquor"], "assignment_id": None, "expert_id": info["experts"]["李示例"],
        "cluster_id": None, "title": "专家澄清（十二月）", "body": "澄清正文（测试）", "status": "published",
        "author": "李示例", "created_at": iso(at - timedelta(hours=1)), "updated_at": iso(at),
        "published_url": "https://example.org/clarify/december", "published_at": iso(at),
        "published_by": "reviewer1"})


def test_units_are_judged_month_by_month_on_the_months_that_ended_with_data(full_db):
    db, info = full_db
    add_december_clarification(db, info)
    report = reports.compute_quarterly(db, "2026-Q4", now=NEW_YEAR)
    units = report.section("units").data
    rows = {r["unit"]: r for r in units["rows"]}
    # The store's first item is from November: October is not judged.
    assert units["judged_months"] == ["2026-11", "2026-12"]
    # The hospital's own minimum is 1: one in November, one in December.
    assert (rows[fx.UNIT_HOSPITAL]["clarifications"], rows[fx.UNIT_HOSPITAL]["months_met"]) == (2, 2)
    assert rows[fx.UNIT_HOSPITAL]["below_minimum"] is False
    # The county published one in November (minimum 4) and none in December.
    assert rows[fx.UNIT_COUNTY]["short_months"] == ["2026-11", "2026-12"]
    assert units["below"] == [fx.UNIT_COUNTY, fx.UNIT_IDLE]
    lines = reports.units_lines(report)
    assert "本季度已结束的 2 个月（2026-11 至 2026-12）逐月对照最低要求" in lines[1]
    assert "平台自 2026-11 起才有采集数据，此前的月份不判定。" in lines
    assert f"有月份未达标的单位 2 个：{fx.UNIT_COUNTY}、{fx.UNIT_IDLE}。" in lines
    head, body = reports.units_table(report)
    table = {row[1]: dict(zip(head, row)) for row in body}
    assert table[fx.UNIT_HOSPITAL]["达标月数"] == "2/2" and table[fx.UNIT_HOSPITAL]["达标情况"] == "达标"
    assert table[fx.UNIT_COUNTY]["未达标月份"] == "11 月、12 月" and table[fx.UNIT_COUNTY]["达标情况"] == "未达标"
    html = reports.render_html(report, charts=False)
    assert re.search(rf'<tr class="below">\s*<td class="num">\d+</td>\s*<td>{fx.UNIT_COUNTY}</td>', html)
    assert not re.search(rf'<tr class="below">\s*<td class="num">\d+</td>\s*<td>{fx.UNIT_HOSPITAL}</td>', html)


def test_while_no_month_has_ended_no_unit_is_called_short(full_db):
    db, _ = full_db
    report = reports.compute_quarterly(db, "2026-Q4", now=fx.NOW)  # 23 November: October had no data
    assert report.section("units").data["judged_months"] == []
    assert report.section("units").data["below"] == []
    assert "本季度尚无已结束且有采集数据的月份，暂不判定达标情况。" in reports.units_lines(report)
    _, body = reports.units_table(report)
    assert {row[-1] for row in body} == {"未判定"}
    assert any("尚未结束" in s for s in report.scope)


def test_the_annual_report_has_the_monthly_notices_sections_and_the_years_risk_points(full_db):
    db, _ = full_db
    report = reports.compute_annual(db, "2026", now=NEW_YEAR)
    assert re.findall(r"^## (.+)$", reports.render_markdown(report), re.MULTILINE) == [
        "一、舆情总量与情感倾向", "二、话题分布", "三、传播最广的疑似谣言", "四、各单位处置与信息报送排名",
        "五、预警与处置时限", "六、专家处置工作", "七、重复发布者与删除请求", "八、舆情风险点（近 12 个月）",
        "九、关注词与关注账号", "十、模型运行情况"]
    risk = report.section("risk").data
    assert (risk["first_day"], risk["last_day"]) == ("2026-01-01", "2026-12-31")
    quarter_risk = reports.compute_quarterly(db, "2026-Q4", now=NEW_YEAR).section("risk").data
    assert (quarter_risk["first_day"], quarter_risk["last_day"]) == ("2026-10-01", "2026-12-31")
    # The year's alerts are the fixture's week's: the same count as the week's report.
    assert report.section("alerts").data["total"] == \
        reports.compute_weekly(db, fx.WEEK, now=fx.NOW).section("alerts").data["total"]
    assert reports.default_filename(report, "pdf") == "2026_年度报告.pdf"


# --- the command line ---------------------------------------------------------------------

def test_the_commands_write_the_quarter_and_the_year(report_db, tmp_path):  # noqa: F811
    out = tmp_path / "年度报告.md"
    run(report_db, "annual", "--year", "2026", "-o", str(out), "--now", iso(NEW_YEAR))
    text = out.read_text(encoding="utf-8")
    db = store.open_db(report_db, read_only=True)
    expected = reports.compute_annual(db, "2026", now=NEW_YEAR)
    assert text.startswith("# 健康舆情与谣言处置年度报告")
    assert reports.volume_lines(expected)[0] in text
    html = tmp_path / "q.html"
    run(report_db, "quarterly", "--quarter", "2026-Q4", "--minimum", "1", "-o", str(html), "--now", iso(NEW_YEAR))
    assert "健康舆情与谣言处置季度报告" in html.read_text(encoding="utf-8")
    # Without a period: the last complete one (2026 on 5 January 2027).
    default = run(report_db, "annual", "--json", "--now", iso(NEW_YEAR)).output
    assert '"label": "2026"' in default


def test_a_bad_quarter_on_the_command_line_is_one_line_saying_what_to_type(report_db):  # noqa: F811
    result = run(report_db, "quarterly", "--quarter", "2026-Q5", ok=False)
    assert result.exit_code != 0 and "use YYYY-Qn, e.g. 2026-Q4" in result.output
    assert "Traceback" not in result.output


# --- the page -----------------------------------------------------------------------------

def test_the_page_opens_the_annual_report_with_its_months(page_env):  # noqa: F811
    at = open_page(kind="annual", period="2026")
    page = shown(at)
    assert "健康舆情与谣言处置年度报告 · 2026 年（2026-01-01 至 2026-12-31）" in page
    months = [t for t in at.dataframe if list(t.value.columns)[:1] == ["月份"]]
    assert len(months) == 1 and list(months[0].value["月份"]) == [f"2026-{m:02d}" for m in range(1, 13)]
    db = store.open_db(page_env, read_only=True)
    november = sql_by_china(db, "2026-10-31T16:00:00Z", "2026-11-30T16:00:00Z", "%Y-%m")["2026-11"]
    row = months[0].value.set_index("月份").loc["2026-11"]
    assert (row["中性"], row["正面"], row["负面"]) == (november["neutral"], november["positive"], november["negative"])
    assert [r.value for r in at.sidebar.radio] == ["annual"]
    assert at.sidebar.number_input[0].value == reports.DEFAULT_UNIT_MONTHLY_MINIMUM


def test_a_link_to_a_quarter_that_does_not_exist_says_why_in_chinese(page_env):  # noqa: F811
    at = open_page(kind="quarterly", period="2026-Q7")
    assert any("不是有效的季度" in w.value for w in at.warning)
    assert "健康舆情与谣言处置季度报告" in shown(at)  # the default quarter opens below
