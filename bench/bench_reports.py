"""Benchmark: the leaders' reports on a store of 1 M items. Prints figures.

    python bench/bench_reports.py [--items 1000000] [--db build/bench-1m.db]

Reuses the synthetic store of bench_queries.py (items over 90 days; no workflow rows, so the
workflow sections compute their empty state), then times compute and each renderer (median of 3).
Compute is timed without watched keywords, then with five (the 关注词与关注账号 section scans the
period and the one before for all of them at once; the synthetic texts rarely match, and reading
the texts is the cost). The quarterly and annual reports are the quarter and the year under way at
the benchmark's now (2026-Q4: its first 54 days, 60 % of the store; 2026: all 90 days of it),
with and without the five watched keywords.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import build, timed  # noqa: E402

from rumourwatch import assessment, overview, ownmedia, reports, store  # noqa: E402

NO_WATCH = {"keywords": [], "accounts": []}
WATCH = {"keywords": ["口罩", "板蓝根", "疫苗 -宠物", "钟南山|张文宏|李兰娟", "N95"], "accounts": []}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=Path("build/bench-1m.db"))
    args = ap.parse_args()
    now = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
    build(args.db, args.items, now)
    db = store.open_db(args.db, read_only=True)
    week, month = reports.last_complete("weekly", now).label, reports.last_complete("monthly", now).label
    day = reports.last_complete("daily", now).label
    weekly = reports.compute_weekly(db, week, now=now, watch=NO_WATCH)
    monthly = reports.compute_monthly(db, month, now=now, watch=NO_WATCH)
    print(f"store: {store.count_items(db):,} items; week {week}: "
          f"{weekly.section('volume').data['items']:,} items; month {month}: "
          f"{monthly.section('volume').data['items']:,} items")
    for label, watch in (("", NO_WATCH), (", 5 watched", WATCH)):
        print(f"compute weekly{label:12} {timed(lambda w=watch: reports.compute_weekly(db, week, now=now, watch=w), 3):8.0f} ms")
        print(f"compute monthly{label:11} {timed(lambda w=watch: reports.compute_monthly(db, month, now=now, watch=w), 3):8.0f} ms")
    print(f"compute daily              {timed(lambda: reports.compute_daily(db, day, now=now, watch=NO_WATCH), 3):8.0f} ms")
    quarter, year = reports.current_period("quarterly", now).label, reports.current_period("annual", now).label
    for label, watch in (("", NO_WATCH), (", 5 watched", WATCH)):
        print(f"compute quarterly{label:9} {timed(lambda w=watch: reports.compute_quarterly(db, quarter, now=now, watch=w), 3):8.0f} ms")
        print(f"compute annual{label:12} {timed(lambda w=watch: reports.compute_annual(db, year, now=now, watch=w), 3):8.0f} ms")
    annual = reports.compute_annual(db, year, now=now, watch=NO_WATCH)
    print(f"render annual html+charts  {timed(lambda: reports.render_html(annual), 3):8.0f} ms")
    print(f"领导概览 12 weeks           {timed(lambda: overview.weekly_trend(db, now), 3):8.0f} ms")
    # 事前研判: a topic's last 30 days and today (one scan of the window's items; a third of this store)
    print(f"事前研判 one topic, 30 days  {timed(lambda: assessment.compute(db, title='bench', query=None, topic='传染病及地方病防控', event_day=now.date(), now=now, threshold=0.5), 3):8.0f} ms")
    own_media(args.db, now, month)
    print(f"render markdown            {timed(lambda: reports.render_markdown(weekly), 3):8.0f} ms")
    print(f"render html+charts         {timed(lambda: reports.render_html(weekly), 3):8.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        print(f"render pdf                 {timed(lambda: reports.render_pdf(weekly, Path(tmp) / 'w.pdf'), 3):8.0f} ms")
        print(f"render word (docx)         {timed(lambda: reports.render_docx(weekly, Path(tmp) / 'w.docx'), 3):8.0f} ms")
        print(f"render annual word (docx)  {timed(lambda: reports.render_docx(annual, Path(tmp) / 'a.docx'), 3):8.0f} ms")


def own_media(path: Path, now: datetime, month: str) -> None:
    """政务新媒体: the store's three busiest accounts registered as the office's channels (on a
    writable connection; registering flags their items), their 30 days' figures and the monthly
    notice with them timed, then removed again (the store keeps the register's audit rows)."""
    db = store.open_db(path)
    start, end = store.day_range(now - timedelta(days=29), 30)
    previous, _ = store.day_range(now - timedelta(days=59), 30)
    busiest = db.execute("""SELECT platform, account FROM items WHERE published_at >= ? AND account IS NOT NULL
                            GROUP BY platform, account ORDER BY count(*) DESC, account LIMIT 3""", [start]).fetchall()
    began = time.perf_counter()
    channels = [ownmedia.add(db, platform=p, account=a, name=f"bench {a}", actor="bench", now=now) for p, a in busiest]
    took = (time.perf_counter() - began) * 1000
    try:
        f = ownmedia.figures(db, start, end, 0.5, previous_start=previous)
        print(f"政务新媒体 register 3       {took:8.0f} ms ({sum(c['items'] for c in channels)} items flagged)")
        print(f"政务新媒体 3 channels, 30 d {timed(lambda: ownmedia.figures(db, start, end, 0.5, previous_start=previous), 3):8.0f} ms"
              f" ({f['total']['posts']} posts)")
        print(f"compute monthly, channels  {timed(lambda: reports.compute_monthly(db, month, now=now, watch=NO_WATCH), 3):8.0f} ms")
        print(f"领导概览 duties, channels   {timed(lambda: overview.this_month_rules(db, now), 3):8.0f} ms")
    finally:
        for c in channels:
            ownmedia.remove(db, c["id"], reason="bench", actor="bench", now=now)
        db.conn.close()


if __name__ == "__main__":
    main()
