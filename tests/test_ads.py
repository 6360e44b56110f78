"""Advertisements are told from claims, kept, and left out of the rumour list and rumour alerts.

Every text here is invented."""

from __future__ import annotations

from datetime import timedelta

import dashboard_fixtures as fx
import pytest

from rumourwatch import store
from rumourwatch.ads import ad_markers, is_ad
from rumourwatch.ingest import ingest_events
from rumourwatch.sources.base import RawItem

COUPON = "某牌儿童牙刷套装【9.9元（需用券）】：旗舰店原价19.9元，领10元优惠券后到手9.9元 #武汉加油#"
SHOP = "【19.90】 便携消毒湿巾80片不是你需要的？ 自助查找心仪商品：O网页链接"
NUMBERS = "新到靓号 138-0000-1111 138-0000-2222 139-1111-3333 137-2222-4444 136-3333-5555"
PRICE_AND_SELLING = "75%酒精湿巾 ￥19.9 包邮，下单即发"
# each number glued to the price before it, as a seller's list in the stream has them
GLUED_NUMBERS = "新到号码138-00001111-1500139-11112222-2600137-22223333-3400136-33334444-2800135-44445555-3100"


@pytest.mark.parametrize("text", [COUPON, SHOP, NUMBERS, PRICE_AND_SELLING, GLUED_NUMBERS])
def test_selling_posts_are_ads(text):
    assert is_ad(text), ad_markers(text)


@pytest.mark.parametrize("text", [
    # a rumour pleading for help lists phone numbers in its prose: a claim to check, not an ad
    ("紧急扩散！某医院医生确诊，联系人张女士13800001111，李先生13900002222，王先生13700003333，"
    "赵女士13600004444，请大家转发求助，千万不要去那家医院"),
    # a health bulletin: a hotline and a wholesale market are not selling
    "市卫健委通报：确诊病例曾到朱雀批发市场采购，如有接触请主动报告，咨询电话：12345678",
    "口罩价格涨到￥30一只，太离谱了",  # a price alone
    "领养小狗，要求有独立住房，合租不行，加微信详谈",  # a contact and a flat-share phrase: no selling
    "网传喝醋能杀死新冠病毒，专家：没有科学依据",
])
def test_claims_news_and_pleas_are_not_ads(text):
    assert not is_ad(text), ad_markers(text)


def test_an_ad_is_kept_flagged_and_left_out_of_the_rumour_list_and_rumour_alerts(tmp_path):
    path = tmp_path / "ads.db"
    db = store.open_db(path)
    now = fx.NOW
    records = [{"id": "ad", "platform": "微博", "account": "好物推荐官", "text": COUPON},
               {"id": "claim", "platform": "微博", "account": "健康小妙招", "text": fx.VINEGAR}]
    with store.transaction(db):
        ingest_events(db, [RawItem(dict(r, date=(now - timedelta(hours=1)).isoformat())) for r in records],
                      source="test", now=now)
    ids = {r["id"]: fx.item_id(db, "微博", r["id"]) for r in records}
    assert store.get_item(db, ids["ad"])["quality_flags"] == '["suspected_ad"]'
    assert store.get_item(db, ids["claim"])["quality_flags"] is None
    with store.transaction(db):  # both score 0.97 on the rumour model
        store.save_scores(db, [fx._score_row(i, {"rumour_probability": 0.97, "polarity": "neutral",
                                                 "health_related": 1, "topic": None}, now, 0)
                               for i in ids.values()])
    assert [r["id"] for r in store.top_rumours(db, limit=10)] == [ids["claim"]]
    assert [r["id"] for r in store.scored_candidates(db, 0, 0.9, True)] == [ids["claim"]]


def test_the_hand_check_of_the_rules_still_describes_them():
    """data/labels/ad_check.csv records what the rules said of each checked post: if the rules
    change, the figures in AD_CHECK.md no longer hold and the check must be made again."""
    import csv
    import gzip
    import json

    from rumourwatch.config import REPO_ROOT
    from rumourwatch.sources.replay import label_id
    from tests.conftest import DATA_DIR

    with open(REPO_ROOT / "data" / "labels" / "ad_check.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    wanted = {r["item_id"] for r in rows}
    texts = {}
    with gzip.open(DATA_DIR / "stream" / "covid_weibo_2020_sample.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            key = label_id("stream", record)
            if key in wanted:
                texts[key] = record["text"]
    assert set(texts) == wanted  # every checked post is in the bundle
    assert all((r["flagged"] == "yes") == is_ad(texts[r["item_id"]]) for r in rows)
    flagged = [r for r in rows if r["sample"] == "flagged_sample"]
    assert len(flagged) == 80 and sum(r["is_ad"] == "yes" for r in flagged) >= 76  # precision ≥ 0.95


def test_the_item_page_says_why_a_post_was_taken_for_an_ad(tmp_path, monkeypatch):
    path = tmp_path / "page.db"
    fx.build_store(path)
    db = store.open_db(path)
    with store.transaction(db):
        ingest_events(db, [RawItem({"id": "ad", "platform": "微博", "account": "好物推荐官", "text": COUPON,
                                    "date": fx.NOW.isoformat()})], source="test", now=fx.NOW)
    ad_id = fx.item_id(db, "微博", "ad")
    db.conn.close()
    at = fx.item_page(path, ad_id, monkeypatch, tmp_path / "none")
    assert not at.exception
    assert any("疑似广告/营销" in w.value for w in at.warning)
    assert any(c.value.startswith("判为疑似广告/营销的依据：优惠券/券后价") for c in at.caption)
