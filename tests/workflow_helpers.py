"""Helpers for the workflow tests: fictional items (texts written for the tests), scored directly."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

from rumourwatch import ingest, store
from rumourwatch.alerts import validate_rules
from rumourwatch.records import iso
from rumourwatch.sources.base import RawItem

_ids = itertools.count(1)

RUMOUR_TEXT = "紧急扩散！喝淡盐水可以彻底预防示例病毒感染，医院不会告诉你，家里有老人的赶紧转给他们看"
OTHER_TEXT = "示例市今天天气晴朗，市民在公园里散步锻炼，广场上有很多人在跳舞，一派祥和的景象"

ROSTER_CSV = """name,title,institution,specialties,level,region,capacity,phone,email,active
张示例,主任医师,示例国家健康科普中心,传染病及地方病防控;感染科,国家级,北京,3,000-0000-0000,zhang@example.org,1
李样本,教授,示例省疾病预防控制中心,传染病及地方病防控,省级,示例省,2,000-0000-0000,li@example.org,1
王虚构,副主任医师,示例市第一人民医院,心血管内科,市级,示例市,2,000-0000-0000,wang@example.org,1
钱测试,主治医师,示例县人民医院,感染科,县级,示例县,1,000-0000-0000,qian@example.org,1
"""


def rules(**overrides) -> dict:
    """Default rules with section overrides, e.g. rules(rumour={"min_probability": 0.6})."""
    raw = {}
    for section, values in overrides.items():
        raw[section] = dict(values)
    r = validate_rules(raw)
    # the rules over many items at once are off unless a test turns them on
    r["opinion_spike"]["enabled"] = overrides.get("opinion_spike", {}).get("enabled", False)
    r["tag_surge"]["enabled"] = overrides.get("tag_surge", {}).get("enabled", False)
    return r


def add_item(db, text: str, at: datetime, *, probability: float = 0.9, topic: str = "传染病及地方病防控",
             polarity: str = "neutral", health: bool = True, account: str | None = None, reposts: int = 0,
             reaction_times: list[datetime] | None = None, user: dict | None = None, scored_at: datetime | None = None,
             platform: str = "微博", reactions: list[tuple[str, datetime, str]] | None = None) -> int:
    """Ingest one fictional item (clustered like any other) and give it a score. `reactions`:
    (kind, time, words) of reposts and comments with words of their own, besides `reaction_times`'."""
    n = next(_ids)
    record = {"id": f"t{n}", "platform": platform, "text": text, "date": iso(at),
              "account": account or f"示例账号{n}", "repost_num": reposts,
              "reposts": [{"date": iso(t), "text": f"转发{i}", "user_id": f"u{n}-{i}"}
                          for i, t in enumerate(reaction_times or [])]}
    for i, (kind, t, words) in enumerate(reactions or []):
        record.setdefault(f"{kind}s", []).append({"date": iso(t), "text": words, "user_id": f"u{n}-r{i}"})
    if user:
        record["user"] = user
    with store.transaction(db):
        ingest.ingest_item(db, record, "test", at)
    item_id = db.execute("SELECT id FROM items WHERE external_id = ?", [f"t{n}"]).fetchone()[0]
    with store.transaction(db):
        store.save_scores(db, [{
            "item_id": item_id, "model_version": "test", "computed_at": iso(scored_at or at),
            "reactions_seen": len(reaction_times or []) + len(reactions or []), "rumour_probability": probability,
            "is_rumour": int(probability >= 0.5), "polarity": polarity, "health_related": int(health),
            "topic": topic, "health_probability": 0.9 if health else 0.1}])
    return item_id


class IndexedRuleBundle:
    """The conftest rule bundle plus a real debunk index over test_knowledge's fictional articles, for
    matching items with the clarifications published here."""

    version = "rule-test-1"

    def __init__(self):
        from conftest import RuleBundle
        from test_knowledge import ARTICLES

        from rumourwatch.knowledge import DebunkIndex

        self.rules, self.debunks = RuleBundle(), DebunkIndex().fit(ARTICLES)

    def score(self, docs):
        return self.rules.score(docs)

    def match_debunks(self, texts, k=3):
        return self.debunks.match(list(texts), k)


REWORDED_RUMOUR = "喝淡盐水可以预防示例病毒感染！医院不会告诉你，快转给家里老人"  # RUMOUR_TEXT reworded


def store_before(path, step: str):
    """The store at `path`, open, with only the schema steps before `step` ('0038') applied: an
    installation not yet upgraded. Opening it again with `store.open_db` runs the rest."""
    from rumourwatch import migrations

    db = store.open_db(path, migrate=False)
    real = migrations.MIGRATIONS[:]
    migrations.MIGRATIONS[:] = [m for m in real if m[0] < step]
    try:
        store.apply_migrations(db)
    finally:
        migrations.MIGRATIONS[:] = real
    return db


def write_csv(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


PASSWORD = "示例密码-Test-1234"


def seed_workflow_db(path, now: datetime) -> dict:
    """A database with the test roster, users for each role in the flow and two open alerts."""
    from rumourwatch import auth, experts
    from rumourwatch.alerts import evaluate_alerts

    db = store.open_db(path)
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    users = {"monitor1": ("monitor", None), "li": ("expert", ids["李样本"]), "zhang": ("expert", ids["张示例"]),
             "wang": ("expert", ids["王虚构"]), "qian": ("expert", ids["钱测试"]), "admin1": ("admin", None)}
    for name, (role, expert_id) in users.items():
        auth.create_user(db, name, PASSWORD, role, "test", expert_id=expert_id)
    copies = [add_item(db, RUMOUR_TEXT, now, reposts=300) for _ in range(3)]
    add_item(db, "示例谣言：示例牌保健茶能根治糖尿病，停掉胰岛素也没关系，很多人都好了", now, reposts=600,
             topic="传染病及地方病防控")
    alert_ids = evaluate_alerts(db, now, rules())
    db.conn.close()
    return {"experts": ids, "alerts": alert_ids, "copies": copies}


def many_verdicts(path, n: int) -> None:
    """n fictional items judged alternately rumour / not a rumour, one an hour from 2026-10-01."""
    from datetime import UTC, timedelta

    from rumourwatch import experts

    t0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    db = store.open_db(path)
    for k in range(n):
        at = t0 + timedelta(hours=k)
        text = f"网传第{k}种偏方能根治糖尿病，速转" if k % 2 else f"第{k}期健康讲座将于周末在社区医院举行"
        with store.transaction(db):
            ingest.ingest_item(db, {"id": f"m{k}", "text": text, "date": at.isoformat()}, "test", at)
        item_id = db.execute("SELECT id FROM items WHERE external_id = ?", [f"m{k}"]).fetchone()[0]
        experts.record_verdict(db, item_id, "rumour" if k % 2 else "not_rumour", "核实结果", "monitor",
                               t0 + timedelta(days=2))
    db.conn.close()


def run_page(page: str, username: str, path, query=None):
    """One page of dashboard/app_pages (its file name) run as `username` on the store at `path`, with
    the address's `query`, in Streamlit's AppTest."""
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test
    from rumourwatch.config import REPO_ROOT

    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / page), default_timeout=30)
    login_for_test(at, username, str(path))
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    return at


def add_scored_items(db, source: str, records: list[dict], scores: list[dict], now: datetime) -> list[int]:
    """Ingest `records` (each with its "id") from `source`, then give each the score fields of the
    same place in `scores` (rumour_probability, polarity, topic, already_debunked …; health items);
    the items' ids, in order."""
    with store.transaction(db):
        ingest.ingest_events(db, [RawItem(r) for r in records], source=source, now=now)
    ids = dict(db.execute("SELECT external_id, id FROM items WHERE source = ?", [source]).fetchall())
    with store.transaction(db):
        store.save_scores(db, [{"item_id": ids[r["id"]], "model_version": "t", "computed_at": iso(now),
                                "reactions_seen": 0, "is_rumour": int(sc["rumour_probability"] >= 0.5),
                                "polarity_scores": None, "health_probability": 0.9, "health_related": 1, **sc}
                               for r, sc in zip(records, scores)])
    return [ids[r["id"]] for r in records]

