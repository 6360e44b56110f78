"""Benchmark: keyword search (条目检索, `rumourwatch search`) on a store of 1 M items with real text.
Prints figures.

    python bench/bench_search.py [--items 1000000] [--db build/bench-search-1m.db]

A search scans the period's texts, so its cost follows their length: the store is built (once) from
the Weibo stream sample's posts in the data bundle (RUMOURWATCH_DATA_DIR), repeated with a serial
number until there are --items, spread over 90 days, with random scores. The posts stay in the
local build/ file; nothing of them is printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_queries

from rumourwatch import search, store, trending
from rumourwatch.config import load_settings
from rumourwatch.records import parse_time

QUERIES = {
    "common word (口罩)": "口罩",
    "rarer word (板蓝根)": "板蓝根",
    "no match": "不存在的说法甲乙",
    "two words, one left out (疫苗 美国 -特朗普)": "疫苗 美国 -特朗普",
    "either of three (钟南山|张文宏|李兰娟)": "钟南山|张文宏|李兰娟",
}


def _texts(data_dir: Path) -> list[str]:
    from training.datasets import BACKGROUND_FILE, _background_pool

    path = data_dir / BACKGROUND_FILE
    st = path.stat()
    texts, _ = _background_pool(str(path), st.st_mtime_ns, st.st_size, None)
    return list(texts)


def build(path: Path, n: int, now: datetime, data_dir: Path) -> None:
    if path.exists() and store.count_items(store.open_db(path, read_only=True)) >= n:
        return
    texts = _texts(data_dir)
    bench_queries.build(path, n, now, text=lambda i, rng: f"{texts[i % len(texts)]} #{i}", in_time_order=True)


def timed(fn, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=Path("build/bench-search-1m.db"))
    args = ap.parse_args()
    settings = load_settings()
    now = datetime.now(UTC)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    build(args.db, args.items, now, Path(settings.data_dir))
    db = store.open_db(args.db, read_only=True)
    mean_chars = db.execute("SELECT avg(text_length) FROM items").fetchone()[0]
    print(f"{store.count_items(db):,} items over 90 days in {args.db}, {mean_chars:.0f} characters each on average")
    periods = {"7 days": store.day_range(now - timedelta(days=6), 7),
               "30 days": store.day_range(now - timedelta(days=29), 30), "all (90 days)": (None, None)}
    print(f"  {'query':<46} " + " ".join(f"{p:>16}" for p in periods) + "   (median of 3, ms; hits)")
    for name, text in QUERIES.items():
        query = search.parse_query(text)
        cells = []
        for start, end in periods.values():
            ms, result = timed(lambda q=query, s=start, e=end: search.run(db, q, s, e, 0.5))
            cells.append(f"{ms:8.0f} {result['total']:>7,}")
        print(f"  {name:<46} " + " ".join(f"{c:>16}" for c in cells))
    ms, (_, rows) = timed(lambda: search.export_csv(db, search.parse_query("口罩"), *periods["30 days"], 0.5),
                          runs=1)
    print(f"  CSV export, 口罩 over 30 days ({rows:,} rows, capped at {search.EXPORT_LIMIT:,}): {ms:.0f} ms")
    # the live page's 话题热度: the hashtags of the last 6 hours against the 48 before, over the tags stored at ingest
    latest = parse_time(db.execute("SELECT max(published_at) FROM items").fetchone()[0])
    ms, tags = timed(lambda: trending.rising_tags(db, latest, 0.5))
    print(f"  rising hashtags, 6 h against the 48 h before ({len(tags)} listed): {ms:.0f} ms")


if __name__ == "__main__":
    main()
