"""Benchmark: end-to-end ingest + score throughput replaying the 110 k-post stream sample, in one
worker process, into a fresh SQLite store. Prints figures (items/s, CPU time, phase split, peak
memory).

    python bench/bench_pipeline.py [--limit N] [--datasets stream] [--db build/bench-pipeline.db]
                                   [--clarifications N] [--feed-clarifications N] [--ingest-only]

Needs trained models (`rumourwatch train`) and the data bundle (RUMOURWATCH_DATA_DIR);
`--ingest-only` needs no models: it times ingest alone (normalise, dedupe, cluster, store), e.g.
to measure a clustering change on a machine without trained models.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rumourwatch import score, store  # noqa: E402
from rumourwatch.config import load_settings  # noqa: E402
from rumourwatch.nlp.bundle import ModelBundle  # noqa: E402
from rumourwatch.sources.replay import ReplaySource  # noqa: E402
from rumourwatch.worker import Worker  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def publish_claims(db, settings, n: int) -> None:
    """n published clarifications whose claims are CED rumour texts (read from the bundle now)."""
    import gzip
    import json

    from training.datasets import RUMOUR_FILES

    rumours = []
    with gzip.open(Path(settings.data_dir) / RUMOUR_FILES["ced"], "rt", encoding="utf-8") as f:
        for line in f:  # text only: the reactions would cost the run's memory figure ~70 MB
            record = json.loads(line)
            if record.get("label") == "rumor" and len(rumours) < n:
                rumours.append(record["text"])
    at = "2020-01-01T00:00:00Z"
    with store.transaction(db):
        for k, claim in enumerate(rumours):
            alert_id = store.insert_alert(db, {"dedupe_key": f"bench:{k}", "kind": "rumour", "rules": "[]",
                                               "severity": "三级", "created_at": at, "updated_at": at,
                                               "respond_by": at, "status": "published"})
            store.insert_clarification(db, {"alert_id": alert_id, "title": claim[:200], "body": "-",
                                            "status": "published", "author": "bench", "created_at": at,
                                            "updated_at": at, "published_url": f"https://example.org/{k}",
                                            "published_at": at})
    print(f"{len(rumours)} published clarifications to match against")


def feed_posts(db, settings, n: int) -> None:
    """n posts of a clarification publisher stored before the run: the bundle's latest debunk
    articles, as 微博辟谣 posts (rumourwatch.clarifiers), so every item is also matched against them."""
    import gzip
    import json
    from datetime import UTC, datetime

    from rumourwatch import ingest

    with gzip.open(Path(settings.data_dir) / "debunks/debunk_articles.jsonl.gz", "rt", encoding="utf-8") as f:
        articles = [json.loads(line) for line in f][-n:]
    now = datetime(2020, 1, 1, tzinfo=UTC)
    with store.transaction(db):
        for k, a in enumerate(articles):
            ingest.ingest_item(db, {"id": f"feed-{k}", "platform": "微博", "account": "微博辟谣", "title": a["title"],
                                    "text": a.get("text") or a["title"], "url": a["url"], "date": "2019-12-31 00:00"},
                               "bench-feed", now)
    print(f"{len(articles)} clarification publisher's posts in the store to match against")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="at most this many items per dataset")
    ap.add_argument("--datasets", default="stream")
    ap.add_argument("--db", type=Path, default=Path("build/bench-pipeline.db"))
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--alerts", action="store_true",
                    help="also run the alert rules, escalation and notifications, as `watch` does")
    ap.add_argument("--clarifications", type=int, default=0,
                    help="first publish this many clarifications (claims: the bundle's earliest CED rumour "
                         "texts), so every item is also matched against them, as in a store that has them")
    ap.add_argument("--feed-clarifications", type=int, default=0,
                    help="first store this many posts of a clarification publisher (the bundle's latest debunk "
                         "articles as 微博辟谣 posts), so every item is also matched against them")
    ap.add_argument("--ingest-only", action="store_true",
                    help="load no models and score nothing: time ingest (normalise, dedupe, cluster, store) alone")
    args = ap.parse_args()

    settings = load_settings()
    bundle = None
    if not args.ingest_only:
        t = time.perf_counter()
        bundle = ModelBundle.load(settings.models_dir)
        load_s = time.perf_counter() - t
        print(f"models {bundle.version} loaded in {load_s:.1f}s; rss {peak_rss_mb():.0f} MB")

    args.db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)
    db = store.open_db(args.db)
    if args.clarifications:
        publish_claims(db, settings, args.clarifications)
    if args.feed_clarifications:
        feed_posts(db, settings, args.feed_clarifications)
    source = ReplaySource.fast(settings.data_dir, datasets=args.datasets, limit=args.limit)
    worker = Worker(db, [source], bundle, batch_size=args.batch, score_limit=10**9, workflow=args.alerts,
                    rules_path=settings.alert_rules)

    # time the two phases inside the same end-to-end run
    timings = {"score": 0.0}
    real_score_pending = score.score_pending

    def timed_score_pending(*a, **k):
        t0 = time.perf_counter()
        n = real_score_pending(*a, **k)
        timings["score"] += time.perf_counter() - t0
        return n

    score.score_pending = timed_score_pending
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    stats = worker.poll_once()
    total = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    score.score_pending = real_score_pending

    items = store.count_items(db)
    scored = db.execute("SELECT count(*) FROM items WHERE scored_at IS NOT NULL").fetchone()[0]
    reactions = store.count_reactions(db)
    print(f"{items:,} items ({scored:,} scored), {reactions:,} reactions, {stats.rejects:,} rejects, "
          f"{db.execute('SELECT count(*) FROM clusters').fetchone()[0]:,} clusters "
          f"({db.execute('SELECT count(*) FROM cluster_bands').fetchone()[0]:,} LSH band rows)")
    if args.ingest_only:
        print(f"ingest only (no models): {total:.1f}s = {items / total:,.0f} items/s")
    else:
        print(f"end to end: {total:.1f}s = {items / total:,.0f} items/s (target >= 2,000)")
    print(f"  CPU time: {cpu:.1f}s = {items / cpu:,.0f} items per CPU-second (varies less than wall time "
          f"on a shared machine)")
    if not args.ingest_only:
        print(f"  ingest (read, normalise, dedupe, cluster, store): {total - timings['score']:.1f}s")
        print(f"  score (load, models, debunk match, store):        {timings['score']:.1f}s "
              f"= {scored / max(timings['score'], 1e-9):,.0f} items/s")
    if args.alerts:
        print(f"  alerts raised or grown: {stats.alerts:,}")
    if args.clarifications:
        matched = db.execute("SELECT count(*) FROM items WHERE debunk_clarification_id IS NOT NULL").fetchone()[0]
        print(f"  items matched to a clarification published here: {matched:,}")
    if args.feed_clarifications:
        matched = db.execute(f"""SELECT count(DISTINCT item_id) FROM scores WHERE debunk_url IN
                                 (SELECT url FROM items WHERE {store.FEED_CLARIFICATION})""").fetchone()[0]
        print(f"  items matched to a clarification publisher's post: {matched:,}")
    print(f"peak memory (max RSS): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
