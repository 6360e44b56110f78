"""A week in which a feed fell silent reads as a quiet week: the report says which feed, when and for
how long, in the volume section whose figures the silence lowers, so a leader does not read an
outage as a fall in public opinion."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import report_fixtures as fx

from rumourwatch import reports, store
from rumourwatch.ingest import ingest_events
from rumourwatch.records import CST, UTC
from rumourwatch.sources.base import RawItem


def _feed(db, source: str, times: list[datetime], platform: str = "微博", batch: str = "a") -> None:
    events = [RawItem({"id": f"{source}-{batch}{n}", "platform": platform, "account": "示例账号",
                       "date": t.astimezone(CST).strftime("%Y-%m-%d %H:%M"), "text": f"示例条目 {source} 第 {n} 条"},
                      position=str(n)) for n, t in enumerate(times)]
    with store.transaction(db):
        ingest_events(db, events, source=source, now=fx.NOW)


def _hourly(start: datetime, end: datetime, skip=()) -> list[datetime]:
    out, t = [], start
    while t < end:
        if not any(a <= t < b for a, b in skip):
            out.append(t)
        t += timedelta(hours=1)
    return out


@pytest.fixture
def gappy(tmp_path):
    db = store.open_db(tmp_path / "gaps.db")
    week_start, week_end = fx.MONDAY, fx.MONDAY + timedelta(days=7)
    wednesday = fx.MONDAY + timedelta(days=2)
    # an hourly feed, running since before the week, silent for 12 hours on Wednesday
    _feed(db, "weibo-scraper", _hourly(week_start - timedelta(days=1), week_end,
                                       skip=[(wednesday + timedelta(hours=2), wednesday + timedelta(hours=14))]))
    # a commission's feed that stops on Friday at noon and does not come back
    _feed(db, "rss:卫健委", _hourly(week_start - timedelta(hours=5), fx.MONDAY + timedelta(days=4, hours=12)),
          platform="网站")
    # a feed first read on Thursday: its start is no gap
    _feed(db, "drop:新账号", _hourly(fx.MONDAY + timedelta(days=3), week_end))
    # tips come when the public calls: a day between two is no outage
    _feed(db, "tip:12320", [fx.MONDAY + timedelta(days=1), fx.MONDAY + timedelta(days=5)])
    return db


def test_each_silent_stretch_of_a_feed_is_found_and_tips_are_not_a_feed(gappy):
    gaps = reports.source_gaps(gappy, reports.parse_week(fx.WEEK), None, 6.0, "2026-12-01T00:00:00Z")
    assert [(g["source"], round(g["hours"]), g["open"]) for g in gaps] == [
        ("rss:卫健委", 60, True), ("weibo-scraper", 12, False)]
    # China time, as the report prints it
    assert reports.gap_text(gaps[1]) == "weibo-scraper 11-18 02:00 至 11-18 14:00（12 小时）"
    assert reports.gap_text(gaps[0]) == "rss:卫健委 11-20 12:00 起（2 天，至统计截止仍无新条目）"


def test_the_volume_section_says_so_and_the_threshold_and_platform_decide(gappy):
    report = reports.compute_weekly(gappy, fx.WEEK, now=fx.NOW)
    [line] = [x for x in reports.volume_lines(report) if x.startswith("数据完整性")]
    assert line == ("数据完整性：本周有 2 段采集中断（数据源超过 6 小时没有新条目），其间的条目数与各项比例可能偏低："
                    "rss:卫健委 11-20 12:00 起（2 天，至统计截止仍无新条目）；"
                    "weibo-scraper 11-18 02:00 至 11-18 14:00（12 小时）。")
    assert line in reports.render_markdown(report)
    # a longer quiet-hours setting forgives Wednesday; a platform filter looks at that platform's feeds
    longer = reports.compute_weekly(gappy, fx.WEEK, now=fx.NOW, quiet_hours=24)
    assert [g["source"] for g in longer.section("volume").data["gaps"]] == ["rss:卫健委"]
    weibo = reports.compute_weekly(gappy, fx.WEEK, now=fx.NOW, platform="微博")
    assert [g["source"] for g in weibo.section("volume").data["gaps"]] == ["weibo-scraper"]


def test_a_silence_made_good_later_is_no_gap_and_an_unfinished_week_counts_to_now(gappy):
    wednesday = fx.MONDAY + timedelta(days=2)
    # the scraper caught up after the outage: the missing hours' items arrive with their own times
    _feed(gappy, "weibo-scraper", [wednesday + timedelta(hours=h, minutes=30) for h in range(2, 14)], batch="late")
    during = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)  # Friday 18:00 in Beijing, week unfinished
    gaps = reports.compute_weekly(gappy, fx.WEEK, now=during).section("volume").data["gaps"]
    assert [(g["source"], round(g["hours"]), g["open"]) for g in gaps] == [("rss:卫健委", 6, True)]


def test_a_week_without_silences_has_no_line(tmp_path):
    db = store.open_db(tmp_path / "steady.db")
    _feed(db, "weibo-scraper", _hourly(fx.MONDAY - timedelta(days=1), fx.MONDAY + timedelta(days=7)))
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    assert report.section("volume").data["gaps"] == []
    assert not any(x.startswith("数据完整性") for x in reports.volume_lines(report))


def test_a_store_from_before_the_hourly_counts_gets_them_from_its_items(gappy):
    before = reports.source_gaps(gappy, reports.parse_week(fx.WEEK), None, 6.0, fx.NOW.strftime("%Y-%m-%dT%H:%M:%SZ"))
    with store.transaction(gappy):  # as the store was before migration 0017
        for statement in ("DROP TRIGGER items_source_hour", "DROP TABLE source_hours",
                          "DELETE FROM _migrations WHERE name = '0017_source_hours'"):
            gappy.execute(statement)
    assert store.apply_migrations(gappy) == ["0017_source_hours"]
    assert reports.source_gaps(gappy, reports.parse_week(fx.WEEK), None, 6.0,
                               fx.NOW.strftime("%Y-%m-%dT%H:%M:%SZ")) == before != []


def test_a_file_imported_once_is_not_a_feed_that_fell_silent(gappy):
    # an analyst's one-off `rumourwatch ingest` of an export on Tuesday: nothing more is expected of it
    _feed(gappy, "file:exports/weibo.csv", [fx.MONDAY + timedelta(days=1, hours=h) for h in range(3)])
    store.set_checkpoint(gappy, "file:exports/weibo.csv", "line:3", 3, one_off=True)
    gaps = reports.source_gaps(gappy, reports.parse_week(fx.WEEK), None, 6.0, "2026-12-01T00:00:00Z")
    assert [g["source"] for g in gaps] == ["rss:卫健委", "weibo-scraper"]
    # read as a feed since (a growing file under `watch`), its silence is a gap again
    store.set_checkpoint(gappy, "file:exports/weibo.csv", "line:3", 0)
    gaps = reports.source_gaps(gappy, reports.parse_week(fx.WEEK), None, 6.0, "2026-12-01T00:00:00Z")
    assert "file:exports/weibo.csv" in [g["source"] for g in gaps]
