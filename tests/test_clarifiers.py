"""Posts of clarification publishers (debunk platforms) restate the claim they refute: they are
flagged at ingest, kept and scored, and left out of the rumour list and of rumour alerts."""

from __future__ import annotations

from datetime import timedelta

import dashboard_fixtures as fx

from rumourwatch import store
from rumourwatch.clarifiers import PUBLISHERS, is_clarifier
from rumourwatch.ingest import ingest_events
from rumourwatch.sources.base import RawItem

REFUTATION = "喝醋能杀死新冠病毒？假的！醋酸浓度远不足以杀灭病毒，请勿轻信"


def test_a_debunk_platforms_post_is_kept_flagged_and_left_out_of_the_rumour_list_and_alerts(tmp_path):
    db = store.open_db(tmp_path / "clarifiers.db")
    now = fx.NOW
    records = [{"id": "by-platform", "platform": "果壳网-谣言粉碎机", "author": "果壳", "text": REFUTATION},
               {"id": "by-account", "platform": "微博", "account": "微博辟谣", "text": REFUTATION + "。"},
               {"id": "claim", "platform": "微博", "account": "健康小妙招", "text": fx.VINEGAR},
               {"id": "news", "platform": "澎湃新闻", "author": "澎湃", "text": "记者探访：本市多家药店口罩到货，市民排队购买，店员称每人限购两包"}]  # news outlet: not a clarifier
    with store.transaction(db):
        ingest_events(db, [RawItem(dict(r, date=(now - timedelta(hours=1)).isoformat())) for r in records],
                      source="test", now=now)
    ids = {r["id"]: fx.item_id(db, r["platform"], r["id"]) for r in records}
    flags = {k: store.get_item(db, i)["quality_flags"] for k, i in ids.items()}
    assert flags == {"by-platform": '["clarification"]', "by-account": '["clarification"]',
                     "claim": None, "news": None}
    with store.transaction(db):  # all score 0.97 on the rumour model
        store.save_scores(db, [fx._score_row(i, {"rumour_probability": 0.97, "polarity": "neutral",
                                                 "health_related": 1, "topic": None}, now, 0)
                               for i in ids.values()])
    listed = {r["id"] for r in store.top_rumours(db, limit=10)}  # one row per cluster
    assert listed == {ids["claim"], ids["news"]}
    alerted = {r["id"] for r in store.scored_candidates(db, 0, 0.9, True)}
    assert alerted == {ids["claim"], ids["news"]}


def test_every_publisher_of_the_bundles_debunk_articles_but_the_news_outlet_is_known():
    """The replayed debunk titles (the demo) come from these platforms."""
    import gzip
    import json

    from tests.conftest import DATA_DIR

    with gzip.open(DATA_DIR / "debunks" / "debunk_articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        platforms = {json.loads(line).get("platform") for line in fh}
    assert {p for p in platforms if not is_clarifier(p, None)} == {"澎湃新闻"}
    assert not is_clarifier("微博", "健康小妙招") and not is_clarifier(None, None)
    assert "果壳网-谣言粉碎机" in PUBLISHERS


def test_the_item_page_says_the_post_is_a_debunk_platforms_clarification(tmp_path, monkeypatch):
    path = tmp_path / "page.db"
    fx.build_store(path)
    db = store.open_db(path)
    with store.transaction(db):
        ingest_events(db, [RawItem({"id": "d1", "platform": "果壳网-谣言粉碎机", "author": "果壳",
                                    "text": REFUTATION, "date": fx.NOW.isoformat()})], source="test", now=fx.NOW)
    item = fx.item_id(db, "果壳网-谣言粉碎机", "d1")
    db.conn.close()
    at = fx.item_page(path, item, monkeypatch, tmp_path / "none")
    assert not at.exception
    assert any("辟谣平台发布的澄清内容" in w.value for w in at.warning)
