"""舆情日报: one Beijing day with the weekly summary's sections, against the day before — its
figures against the database, the day's bounds, the command, the cron delivery, the page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import report_fixtures as fx
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.auth import login_for_test
from rumourwatch import auth, reports, store
from rumourwatch.cli import cli
from rumourwatch.opinion import opinion_line

DAY = "2026-11-18"  # Wednesday of the fixture's week: neutral and positive items, the negative one at 20:00


@pytest.fixture
def full_db():
    db = store.open_db(memory=True)
    fx.build_all(db)
    return db


def test_a_day_is_a_beijing_day_and_the_one_before_it(full_db):
    p = reports.parse_day("2026-3-1")
    assert (p.kind, p.label, p.start, p.end) == ("daily", "2026-03-01", "2026-02-28T16:00:00Z", "2026-03-01T16:00:00Z")
    assert p.previous().label == "2026-02-28" and reports.parse_day("2026-01-01").previous().label == "2025-12-31"
    # 23:30 UTC on the 22nd is 07:30 on the 23rd in Beijing: yesterday is the 22nd, today the 23rd
    at = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert reports.last_complete("daily", at).label == "2026-11-22"
    assert reports.current_period("daily", at).label == "2026-11-23"
    for bad in ("2026-13-01", "2026-02-30", "yesterday", "2026-W47"):
        with pytest.raises(reports.ReportError) as refused:
            reports.parse_day(bad)
        assert refused.value.key == "report_bad_day"


def test_the_days_figures_are_the_databases(full_db):
    db = full_db
    r = reports.compute_daily(db, DAY, now=fx.NOW, watch={"keywords": [], "accounts": []})
    p = reports.parse_day(DAY)
    rows = dict(db.execute("""SELECT polarity, count(*) FROM items WHERE health_related = 1 AND polarity IS NOT NULL
                              AND published_at >= ? AND published_at < ? GROUP BY polarity""", [p.start, p.end]))
    before = dict(db.execute("""SELECT polarity, count(*) FROM items WHERE health_related = 1 AND polarity IS NOT NULL
                                AND published_at >= ? AND published_at < ? GROUP BY polarity""",
                             [p.previous().start, p.previous().end]))
    volume = r.section("volume").data
    assert volume["opinion_line"] == opinion_line(rows) and rows.get("negative") == 1
    assert volume["previous"]["opinion_line"] == opinion_line(before)
    assert (r.title, reports.period_text(r)) == ("健康舆情与谣言处置日报", "2026 年 11 月 18 日（星期三）")
    assert reports.volume_lines(r)[1].startswith("采集条目")
    assert [s.key for s in r.sections] == ["volume", "topics", "rumours", "alerts", "experts", "publishers", "watch",
                                           "model"]  # no unit ranking, no risk points: those are monthly
    # the day hour by hour (China time), as the database has it: the chart draws these bars
    hours = dict(db.execute("""SELECT (CAST(substr(published_at, 12, 2) AS INTEGER) + 8) % 24, count(*) FROM items
                               WHERE health_related = 1 AND polarity IS NOT NULL AND published_at >= ?
                               AND published_at < ? GROUP BY 1""", [p.start, p.end]))
    hourly = {h["hour"]: h["neutral"] + h["positive"] + h["negative"] for h in volume["hourly"]}
    assert len(volume["hourly"]) == 24 and {h: n for h, n in hourly.items() if n} == hours
    assert sum(hourly.values()) == sum(rows.values())
    png = reports.daily_chart_png(r)
    assert png.startswith(b"\x89PNG") and "逐小时健康相关条目" in reports.render_html(r)
    weekly = reports.compute_weekly(db, "2026-W47", now=fx.NOW, watch={"keywords": [], "accounts": []})
    assert weekly.section("volume").data["hourly"] is None  # a week keeps its day-by-day chart
    md = reports.render_markdown(r)
    assert "前一日" in md and "| 日期 |" not in md  # the day against the day before; no day-by-day table
    assert reports.default_filename(r, "pdf") == "2026-11-18_日报.pdf"


def test_the_command_writes_the_day_and_cron_sends_yesterday_once(tmp_path):
    path = tmp_path / "daily.db"
    db = store.open_db(path)
    fx.build_all(db)
    db.conn.close()
    run = CliRunner().invoke(cli, ["--db", str(path), "report", "daily", "--day", DAY, "--json"])
    assert run.exit_code == 0, run.output
    assert reports.Report.from_json(run.output).period.label == DAY
    run = CliRunner().invoke(cli, ["--db", str(path), "report", "daily", "--day", "2026-11-31"])
    assert run.exit_code != 0 and "use YYYY-MM-DD" in run.output
    out = tmp_path / "out"
    args = ["--db", str(path), "report", "send", "--daily", "--out-dir", str(out), "--formats", "md",
            "--now", "2026-11-19T00:30:00Z"]  # 08:30 on the 19th in Beijing
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert [f.name for f in out.iterdir()] == [f"{DAY}_日报.md"]
    assert "already sent" in CliRunner().invoke(cli, args).output


def test_the_page_opens_a_day_from_a_link(tmp_path, monkeypatch):
    path = tmp_path / "dash.db"
    db = store.open_db(path)
    fx.build_all(db)
    auth.create_user(db, "leader1", "fixture-password-1", "leader", actor="test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    at = AppTest.from_file(str(fx.ROOT / "dashboard" / "app_pages" / "reports.py"), default_timeout=60)
    login_for_test(at, "leader1", str(path))
    at.query_params["kind"], at.query_params["period"] = "daily", DAY
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("健康舆情与谣言处置日报 · 2026 年 11 月 18 日（星期三）" in s.value for s in at.subheader)
    assert at.selectbox(key="rep_period_daily").value == DAY
    assert at.selectbox(key="rep_period_daily").options[1] == "2026-11-22（星期日）"  # yesterday, after today
