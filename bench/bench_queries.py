"""Benchmark: the live dashboard's main queries on a store holding 1 M items. Prints figures.

    python bench/bench_queries.py [--items 1000000] [--db build/bench-1m.db]

Builds (once) a database of synthetic items spread over 90 days, with scores, clusters and
reactions in realistic proportions, then times each dashboard query (median of 5 runs).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rumourwatch import store  # noqa: E402
from rumourwatch.records import iso  # noqa: E402

PLATFORMS = ["微博", "微信公众号", "抖音", "今日头条", "网站", "新闻"]
POLARITIES = ["neutral"] * 63 + ["positive"] * 33 + ["negative"] * 4
TOPICS = ["传染病及地方病防控", "合理膳食", "癌症防治", "心理健康促进", "其他"]


def synthetic_text(i: int, rng: random.Random) -> str:
    return f"合成条目 {i}：关于健康话题的讨论，编号 {rng.getrandbits(40)}"


def build(path: Path, n: int, now: datetime, text=synthetic_text, in_time_order: bool = False) -> None:
    """A store of `n` items over the 90 days before `now` at `path` (kept and reused when it holds as
    many), each text `text(i, rng)`; ids follow publication times with `in_time_order`, as a worker
    stores them, else times are random."""
    if path.exists():
        db = store.open_db(path)
        if store.count_items(db) >= n:
            return
        db.conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    db = store.open_db(path)
    rng = random.Random(7)
    t0 = time.perf_counter()
    batch = []
    cols = store.ITEM_COLUMNS + ("rumour_probability", "is_rumour", "polarity", "health_related", "topic",
                                 "model_version", "scored_at", "scored_reactions", "reaction_count")
    sql = f"INSERT INTO items ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
    times = (now - timedelta(seconds=rng.random() * 90 * 86400) for _ in range(n))
    for i, published in enumerate(sorted(times) if in_time_order else times):
        p = rng.betavariate(1.2, 8)
        body = text(i, rng)
        row = {
            "platform": rng.choice(PLATFORMS), "external_id": f"b{i}", "url": None, "account": f"acct{rng.randrange(50000)}",
            "author": None, "published_at": iso(published), "published_day": store.china_day(published),
            "original_published_at": None, "claimed_published_at": None, "fetched_at": iso(published),
            "updated_at": iso(published), "title": None, "text": body, "text_length": len(body),
            "repost_num": rng.randrange(200), "comment_num": rng.randrange(100), "like_num": 0,
            "content_hash": f"{i:040x}", "cluster_id": rng.randrange(n // 3) + 1, "source": "bench",
            "user_json": None, "extra_json": None, "quality_flags": None,
            "rumour_probability": p, "is_rumour": int(p >= 0.5), "polarity": rng.choice(POLARITIES),
            "health_related": int(rng.random() < 0.6), "topic": rng.choice(TOPICS), "model_version": "bench",
            "scored_at": iso(published), "scored_reactions": 0, "reaction_count": rng.randrange(50),
        }
        batch.append([row[c] for c in cols])
        if len(batch) == 20000:
            with store.transaction(db):
                db.conn.executemany(sql, batch)
            batch = []
    if batch:
        with store.transaction(db):
            db.conn.executemany(sql, batch)
    with store.transaction(db):  # the hashtags ingest would have stored (话题热度)
        store.fill_item_tags(db)
    db.execute("ANALYZE")
    print(f"built {n:,} items in {time.perf_counter() - t0:.1f}s -> {path}")


def timed(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=Path("build/bench-1m.db"))
    args = ap.parse_args()
    now = datetime.now(timezone.utc)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    build(args.db, args.items, now)
    db = store.open_db(args.db, read_only=True)
    today = store.day_range(now, 1)
    week = store.day_range(now - timedelta(days=6), 7)
    month = store.day_range(now - timedelta(days=29), 30)
    queries = {
        "summary_counts (today)": lambda: store.summary_counts(db, *today),
        "summary_counts (30 days)": lambda: store.summary_counts(db, *month),
        "polarity_counts (7 days)": lambda: store.polarity_counts(db, *week),
        "polarity_counts (all, health only)": lambda: store.polarity_counts(db, health_only=True),
        "daily_polarity (30 days)": lambda: store.daily_polarity(db, *month),
        "daily_polarity (all)": lambda: store.daily_polarity(db),
        "hourly_counts (today)": lambda: store.hourly_counts(db, *today),
        "latest_items (50, 7 days, p>=0.3)": lambda: store.latest_items(db, *week, limit=50, min_probability=0.3),
        "latest_items (50, platform filter)": lambda: store.latest_items(db, limit=50, platforms=["抖音"]),
        "top_rumours (today)": lambda: store.top_rumours(db, *today, limit=20),
        "top_rumours (7 days)": lambda: store.top_rumours(db, *week, limit=20),
        # the live page's default since 2026-12-05: health items only, as the reports count
        "hourly_counts (today, health only)": lambda: store.hourly_counts(db, *today, health_only=True),
        "latest_items (50, today, health only)": lambda: store.latest_items(db, *today, limit=50, health_only=True),
        "top_rumours (today, health only)": lambda: store.top_rumours(db, *today, limit=20, health_only=True),
        "top_rumours (7 days, health only)": lambda: store.top_rumours(db, *week, limit=20, health_only=True),
        "platforms": lambda: store.platforms(db),
    }
    print(f"{store.count_items(db):,} items in {args.db}")
    worst = 0.0
    for name, fn in queries.items():
        ms = timed(fn)
        worst = max(worst, ms)
        print(f"  {name:<40} {ms:8.1f} ms")
    print(f"slowest main query: {worst:.1f} ms (target < 500 ms)")


if __name__ == "__main__":
    main()
