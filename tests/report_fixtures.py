"""A fictional week of items and workflow records for the report tests.

Every text here is written for the tests (invented rumours, invented units and experts), never
taken from the data bundle. Items go in through `ingest_events` and get their scores through
`store.save_scores`, as the worker would write them; workflow rows go through the workflow's own
store functions.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rumourwatch import store  # noqa: E402
from rumourwatch.ingest import ingest_events  # noqa: E402
from rumourwatch.records import CST, UTC, iso  # noqa: E402
from rumourwatch.sources.base import RawItem  # noqa: E402

WEEK = "2026-W47"                 # Monday 16 – Sunday 22 November 2026, China time
PREVIOUS_WEEK = "2026-W46"
MONTH = "2026-11"
EMPTY_WEEK = "2026-W30"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)   # Monday 16:00 in Beijing, after the week
MONDAY = datetime(2026, 11, 16, tzinfo=CST)

# Invented rumours; copies of one text fall into one cluster.
GARLIC = "网传每天生吃十瓣大蒜可以彻底治愈高血压，从此不用再吃降压药，赶紧转发给家里老人！"
LIQUOR = "喝两杯高度白酒就能杀死体内的流感病毒，比打疫苗还管用，朋友圈都在传！"
SALT_LAMP = "卧室放一盏盐灯能吸走空气里的病菌，孩子从此不再感冒。"
NEUTRAL = ["市疾控中心发布本周流感监测情况，门急诊流感样病例比例与上周基本持平。",
           "社区卫生服务中心周末开设慢病随访门诊，请提前预约。",
           "医保部门说明：跨省异地就医直接结算范围继续扩大。",
           "县人民医院新门诊楼本月启用，部分科室搬迁至三楼。"]
POSITIVE = ["家门口的家庭医生上门为独居老人测血压，居民点赞服务贴心。",
            "乡村医生培训班结业，五十名村医掌握了急救新技能，大家都很高兴。"]
NEGATIVE = ["有网友反映某医院挂号排队太久，候诊两个小时仍未就诊，十分不满。"]
OFF_TOPIC = "周末全市晴到多云，适合户外出游。"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def _china(dt: datetime) -> str:
    return dt.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def build_items(db, now: datetime = NOW) -> dict:
    """Items of W46 and W47 with scores; returns item ids by name for the workflow rows."""
    records, scores = [], {}

    def add(key, when, text, polarity, probability, health=1, platform="微博", account="示例账号",
            reposts=0, comments=0, scored=True):
        records.append({"id": key, "platform": platform, "account": account,
                        "url": f"https://example.org/{platform}/{key}", "date": _china(when), "text": text,
                        "repost_num": reposts, "comment_num": comments})
        if scored:
            scores[key] = {"polarity": polarity, "rumour_probability": probability, "health_related": health}

    # W47: a daily pattern that differs by day, so the daily chart and table are not flat.
    for day in range(7):
        for i in range(2 + day % 3):
            add(f"n{day}-{i}", _at(day, 9 + i), NEUTRAL[(day + i) % 4] + f"（第{day}{i}期）", "neutral", 0.05)
        for i in range(1 + day % 2):
            add(f"p{day}-{i}", _at(day, 14 + i), POSITIVE[(day + i) % 2] + f"（{day}{i}）", "positive", 0.03)
    add("neg1", _at(2, 20), NEGATIVE[0], "negative", 0.1)
    # Rumours: garlic copied by three accounts (one cluster), liquor once with a big spread, salt lamp small.
    add("garlic1", _at(0, 8), GARLIC, "negative", 0.93, account="养生达人甲", reposts=120, comments=30)
    add("garlic2", _at(0, 11), "转：" + GARLIC, "negative", 0.90, platform="微信公众号", account="健康秘方乙",
        reposts=40, comments=5)
    add("garlic3", _at(1, 9), GARLIC + "#", "negative", 0.91, account="养生达人甲", reposts=10)
    add("liquor1", _at(3, 21), LIQUOR, "negative", 0.88, account="夜话健康", reposts=300, comments=80)
    add("salt1", _at(5, 10), SALT_LAMP, "neutral", 0.72, platform="今日头条", account="家居小窍门", reposts=2)
    add("off1", _at(4, 12), OFF_TOPIC, "neutral", 0.01, health=0, platform="今日头条", account="天气通")
    # Not about health, yet scored as a likely rumour: outside the reports' health-related scope.
    add("offrumour1", _at(4, 13), "网传明天全市地铁停运一天，消息未经证实。", "neutral", 0.8, health=0, account="城市快讯")
    add("unscored1", _at(6, 22), "社区医院明天上午义诊，欢迎参加。", None, None, scored=False)
    # W46 (previous week): fewer items, more negative.
    for i in range(4):
        add(f"prev-n{i}", _at(-7 + i, 10), NEUTRAL[i] + "（上周）", "neutral", 0.05)
    for i in range(3):
        add(f"prev-neg{i}", _at(-6 + i, 15), NEGATIVE[0] + f"（上周{i}）", "negative", 0.1)
    add("prev-pos", _at(-3, 9), POSITIVE[0] + "（上周）", "positive", 0.02)

    with store.transaction(db):
        ingest_events(db, [RawItem(r) for r in records], source="report-test", now=now)
    ids = {r["external_id"]: r["id"] for r in
           store._rows(db, "SELECT id, external_id FROM items WHERE source = 'report-test'")}
    rows = [{"item_id": ids[k], "model_version": "fixture-1", "computed_at": iso(now), "reactions_seen": 0,
             "rumour_probability": s["rumour_probability"], "is_rumour": int(s["rumour_probability"] >= 0.5),
             "polarity": s["polarity"], "polarity_scores": None, "health_probability": 0.9,
             "health_related": s["health_related"], "topic": "健康知识普及"} for k, s in scores.items()]
    with store.transaction(db):
        store.save_scores(db, rows)
    return ids


UNIT_COUNTY = "示例县卫生健康局"
UNIT_HOSPITAL = "示例市第一人民医院"
UNIT_IDLE = "示例区疾病预防控制中心"


def build_workflow(db, ids: dict, now: datetime = NOW) -> dict:
    """Experts, alerts, assignments, clarifications, verdicts and takedowns for W47."""
    at = iso(now)
    with store.transaction(db):
        experts = {}
        for name, inst, region in (("张示例", UNIT_COUNTY, "示例县"), ("李示例", UNIT_HOSPITAL, "示例市"),
                                   ("王示例", UNIT_HOSPITAL, "示例市")):
            experts[name], _ = store.upsert_expert(db, {
                "name": name, "title": "主任医师", "institution": inst, "specialties": '["心脑血管疾病防治"]',
                "level": "县级", "region": region, "capacity": 3, "phone": None, "email": None, "active": 1}, at)
        garlic_cluster = store.get_item(db, ids["garlic1"])["cluster_id"]
        liquor_cluster = store.get_item(db, ids["liquor1"])["cluster_id"]
        salt_cluster = store.get_item(db, ids["salt1"])["cluster_id"]

        def alert(key, severity, cluster, item, created, responded=None, conference=None, status="open",
                  expert=None, title="", region="示例市"):
            row = {"dedupe_key": key, "kind": "rumour", "rules": "[]", "severity": severity, "cluster_id": cluster,
                   "item_id": item, "region": region, "title": title, "status": status,
                   "created_at": iso(created), "updated_at": iso(created),
                   "respond_by": iso(created + timedelta(hours=5)),
                   "conference_by": iso(created + timedelta(hours=24)) if severity == "一级" else None,
                   "responded_at": iso(responded) if responded else None,
                   "conference_at": iso(conference) if conference else None, "assigned_expert": expert}
            return store.insert_alert(db, row)

        a_garlic = alert(f"cluster:{garlic_cluster}", "一级", garlic_cluster, ids["garlic1"], _at(0, 9),
                         responded=_at(0, 12), conference=_at(1, 8), status="published",
                         expert=experts["张示例"], title="生吃大蒜治愈高血压", region="示例县")
        a_liquor = alert(f"cluster:{liquor_cluster}", "二级", liquor_cluster, ids["liquor1"], _at(3, 22),
                         responded=_at(4, 8), status="in_progress", expert=experts["李示例"], title="白酒杀流感病毒")
        a_salt = alert(f"cluster:{salt_cluster}", "三级", salt_cluster, ids["salt1"], _at(5, 11),
                       status="assigned", expert=experts["王示例"], title="盐灯吸走病菌")
        a_dismissed = alert("spike:topic:x:1", "三级", None, None, _at(2, 10), status="dismissed", title="负面情绪波动")

        def assign(alert_id, expert, status, when):
            return store.insert_assignment(db, {
                "alert_id": alert_id, "expert_id": experts[expert], "status": status, "score": 1.0, "reasons": "[]",
                "assigned_by": "monitor1", "assigned_at": iso(when), "due_at": iso(when + timedelta(hours=5)),
                "responded_at": iso(when + timedelta(minutes=20))})

        s1 = assign(a_garlic, "张示例", "completed", _at(0, 9, 30))
        assign(a_liquor, "王示例", "declined", _at(3, 22, 10))
        s3 = assign(a_liquor, "李示例", "accepted", _at(3, 23))
        assign(a_salt, "王示例", "offered", _at(5, 11, 30))

        def clarify(alert_id, assignment, expert, cluster, published):
            return store.insert_clarification(db, {
                "alert_id": alert_id, "assignment_id": assignment, "expert_id": experts[expert],
                "cluster_id": cluster, "title": "专家澄清", "body": "澄清正文（测试）", "status": "published",
                "author": expert, "created_at": iso(published - timedelta(hours=1)), "updated_at": iso(published),
                "published_url": f"https://example.org/clarify/{alert_id}", "published_at": iso(published),
                "published_by": "reviewer1"})

        clarify(a_garlic, s1, "张示例", garlic_cluster, _at(0, 12))          # 3 h after the alert
        clarify(a_liquor, s3, "李示例", liquor_cluster, _at(4, 17))          # 19 h after the alert

        def verdict(item, cluster, value, when):
            store.insert_verdict(db, {"item_id": ids[item], "cluster_id": cluster, "alert_id": None,
                                      "verdict": value, "reason": "测试", "actor": "monitor1", "at": iso(when)})

        verdict("garlic1", garlic_cluster, "rumour", _at(0, 10))
        verdict("liquor1", liquor_cluster, "rumour", _at(4, 7))
        verdict("salt1", salt_cluster, "not_rumour", _at(5, 15))
        verdict("neg1", store.get_item(db, ids["neg1"])["cluster_id"], "unverifiable", _at(2, 22))

        for item, status, when in (("garlic1", "removed", _at(1, 10)), ("liquor1", "requested", _at(4, 9))):
            row = store.get_item(db, ids[item])
            store.insert_takedown(db, {"item_id": ids[item], "platform": row["platform"], "account": row["account"],
                                       "url": row["url"], "status": status, "requested_by": "monitor1",
                                       "requested_at": iso(when),
                                       "outcome_at": iso(when + timedelta(hours=6)) if status != "requested" else None})
    return {"experts": experts, "alerts": {"garlic": a_garlic, "liquor": a_liquor, "salt": a_salt,
                                           "dismissed": a_dismissed}}


def build_units(db, now: datetime = NOW) -> None:
    with store.transaction(db):
        store.upsert_units(db, [
            {"code": "U01", "name": UNIT_COUNTY, "kind": "县区卫健局", "region": "示例县", "monthly_minimum": None,
             "active": 1},
            {"code": "U02", "name": UNIT_HOSPITAL, "kind": "医院", "region": "示例市", "monthly_minimum": 1,
             "active": 1},
            {"code": "U03", "name": UNIT_IDLE, "kind": "疾控中心", "region": "示例市", "monthly_minimum": None,
             "active": 1}], iso(now))


TIED_UNITS = ("示例甲镇卫生院", "示例乙镇卫生院")


def add_idle_units(db, *names: str, now: datetime = NOW) -> None:
    """More units without any work: they tie with UNIT_IDLE in the monthly ranking."""
    with store.transaction(db):
        store.upsert_units(db, [{"code": f"T{i}", "name": name, "kind": "卫生院", "region": "示例市",
                                 "monthly_minimum": None, "active": 1} for i, name in enumerate(names)], iso(now))


HASHED_ACCOUNT = "3f9a2c7be41d08f65a7c9e2d1b04f83e"   # a platform's 32-character hashed account id


def hash_accounts(db) -> None:
    """Give the garlic rumour's accounts the hashed ids some platforms export instead of names."""
    db.execute("UPDATE items SET account = ? WHERE source = 'report-test' AND account IN ('养生达人甲', '健康秘方乙')",
               [HASHED_ACCOUNT])


def build_all(db, now: datetime = NOW) -> dict:
    ids = build_items(db, now)
    wf = build_workflow(db, ids, now)
    build_units(db, now)
    return {"ids": ids, **wf}
