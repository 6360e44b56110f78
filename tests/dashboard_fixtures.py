"""A small fictional store for the dashboard tests (texts written for the tests, not from the bundle)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rumourwatch import auth, store
from rumourwatch.ingest import ingest_events
from rumourwatch.records import CST, UTC, iso
from rumourwatch.sources.base import RawItem, RawReject

APP = ROOT / "dashboard" / "streamlit_app.py"
MONITOR = "monitor1"  # a 舆情监测员 account; the pages tested here are the monitor's
MONITOR_PASSWORD = "fixture-password-1"
ANALYST = "analyst1"  # a 分析员 account, made by add_verdicts for the 模型与评估 page
ANALYST_PASSWORD = "fixture-password-2"

# Noon in Beijing: far from the China-time midnight, so "today" is unambiguous.
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)

VINEGAR = "网传每天空腹喝三杯白醋可以软化血管，一个月治好高血压，医生都不会告诉你这个秘方！"
VINEGAR_COPY = "转发：网传每天空腹喝三杯白醋可以软化血管，一个月治好高血压，医生都不会告诉你这个秘方！"
HOSTILE = ("<script>alert(1)</script>紧急通知：大蒜泡水连喝七天可以预防所有流感，"
           "点击[领取免费体检](javascript:alert(2))查看详情")
FLU_SHOT = "市卫健委提醒：秋冬季请及时接种流感疫苗，老年人和儿童可优先预约，接种点名单已在官网公布。"
WEATHER = "本周末全市晴到多云，最高气温十五度，适合户外散步。"
INSURANCE = "下月起门诊慢特病费用可按新规定报销，具体范围以医保部门公布为准。"
NO_AUTHOR = "听说喝热水能把病毒烫死，大家多喝热水吧"

# (record, minutes before NOW, score or None)
ITEMS = [
    ({"id": "w1", "platform": "微博", "account": "健康小妙招", "url": "https://weibo.example/w1",
      "text": VINEGAR, "repost_num": 3, "comment_num": 2,
      "reposts": [{"date": "2026-11-23 11:20", "text": "真的假的？转给爸妈", "user_id": "u1"},
                  {"date": "2026-11-23 11:35", "text": "转发微博", "user_id": "u2"}],
      "comments": [{"date": "2026-11-23 11:30", "text": "这是谣言吧，醋不能治病", "user_id": "u3"}]},
     50, {"rumour_probability": 0.92, "polarity": "negative", "health_related": 1, "topic": "心脑血管疾病防治"}),
    ({"id": "c1", "platform": "微信公众号", "account": "养生堂摘编", "url": "https://mp.example/c1",
      "text": VINEGAR_COPY},
     40, {"rumour_probability": 0.88, "polarity": "negative", "health_related": 1, "topic": "心脑血管疾病防治"}),
    ({"id": "h1", "platform": "微博", "account": "<b>转发达人</b>", "url": "javascript:alert(3)",
      "text": HOSTILE},
     30, {"rumour_probability": 0.81, "polarity": "negative", "health_related": 1, "topic": "传染病及地方病防控"}),
    ({"id": "f1", "platform": "新闻网站", "account": "市卫健委", "author": "宣传科",
      "url": "https://news.example/f1", "text": FLU_SHOT},
     20, {"rumour_probability": 0.04, "polarity": "positive", "health_related": 1, "topic": "传染病及地方病防控"}),
    ({"id": "n1", "platform": "今日头条", "account": "本地生活", "url": "https://toutiao.example/n1",
      "text": WEATHER},
     15, {"rumour_probability": 0.02, "polarity": "neutral", "health_related": 0, "topic": None}),
    ({"id": "n2", "platform": "新闻网站", "account": "医保在线", "url": "https://news.example/n2",
      "text": INSURANCE},
     10, {"rumour_probability": 0.03, "polarity": "neutral", "health_related": 1, "topic": "健康知识普及"}),
    ({"text": NO_AUTHOR},  # no id, author, account, platform or url: quality flags; left unscored
     5, None),
    ({"id": "old1", "platform": "微博", "account": "社区医院", "url": "https://weibo.example/old1",
      "text": "社区医院周六上午开展免费测血压活动，欢迎居民参加。"},
     3 * 24 * 60, {"rumour_probability": 0.05, "polarity": "positive", "health_related": 1, "topic": "健康知识普及"}),
]

# Published today (China time), scored and about health (the live page's default, as the reports
# count): negative 3, neutral 1, positive 1.
EXPECTED_OPINION = "共 5 条：负面 60.0%，中性 20.0%，正面 20.0%"
# The last 7 days add one positive health item from three days ago.
EXPECTED_OPINION_7D = "共 6 条：负面 50.0%，正面 33.3%，中性 16.7%"
# The whole feed of today (仅健康相关 unticked): the weather post adds a neutral one.
EXPECTED_OPINION_ALL = "共 6 条：负面 50.0%，中性 33.3%，正面 16.7%"
EXPECTED_OPINION_ALL_7D = "共 7 条：负面 42.8%，中性 28.6%，正面 28.6%"  # sums to 100.0%
EXPECTED_TODAY = {"items": 7, "health_related": 5, "flagged": 3, "unscored": 1}


def _score_row(item_id: int, score: dict, computed_at: datetime, reactions_seen: int) -> dict:
    # as the scorer does, an item unrelated to health is not matched with the debunks: NULL, not 0
    return {"item_id": item_id, "model_version": "test-v1", "computed_at": iso(computed_at),
            "reactions_seen": reactions_seen, "last_reaction_at": None,
            "is_rumour": int(score["rumour_probability"] >= 0.5), "polarity_scores": None,
            "health_probability": float(score["health_related"]), "debunk_url": None, "debunk_title": None,
            "debunk_score": None, "already_debunked": 0 if score["health_related"] else None, **score}


def item_id(db, platform: str, external_id: str) -> int:
    return store.find_item(db, platform, external_id)["id"]


def build_store(path: Path, now: datetime = NOW) -> dict:
    """Ingest the fixture items as if published before `now`, score them, add rejects and checkpoints."""
    db = store.open_db(path)
    events = []
    for record, minutes, _ in ITEMS:
        rec = dict(record)
        rec["date"] = (now - timedelta(minutes=minutes)).astimezone(CST).strftime("%Y-%m-%d %H:%M")
        for key in ("reposts", "comments"):
            # Reactions keep their order but follow the item: minutes after its publication.
            rec[key] = [dict(r, date=(now - timedelta(minutes=minutes - 5 - i * 10)).astimezone(CST)
                             .strftime("%Y-%m-%d %H:%M")) for i, r in enumerate(record.get(key, []))]
        events.append(RawItem(rec, position=f"line:{len(events) + 1}"))
    events.append(RawReject(raw='{"id": "broken", "text": "少了右括号"', reason="invalid JSON: Expecting ',' delimiter",
                            position="line:8", origin="fixture.jsonl:8"))
    events.append(RawItem({"id": "empty", "platform": "微博", "text": "   "}, position="line:9"))
    with store.transaction(db):
        ingest_events(db, events, source="fixture", now=now)
        store.set_checkpoint(db, "fixture", "line:9", len(events), iso(now))
    store.mark_polled(db, "fixture", iso(now))
    store.record_source_error(db, "rss:卫健委", "连接超时：源站无响应")

    ids = {}
    rows = []
    for record, minutes, score in ITEMS:
        iid = store.find_item(db, record.get("platform", "未知"), record.get("id") or _hash_id(db, record))["id"]
        ids[record.get("id") or "no_author"] = iid
        if score is None:
            continue
        if record.get("id") == "w1":
            # An earlier score before any reaction, then the current one: the score history.
            rows.append(_score_row(iid, dict(score, rumour_probability=0.61), now - timedelta(minutes=49), 0))
            rows.append(_score_row(iid, score, now - timedelta(minutes=10), 3))
        else:
            rows.append(_score_row(iid, score, now - timedelta(minutes=minutes - 1), 0))
    with store.transaction(db):
        store.save_scores(db, rows)
    db.conn.close()
    add_monitor(path)
    return ids


def add_monitor(path: Path) -> None:
    """The account the tests log in with (the dashboard shows nothing before a login)."""
    db = store.open_db(path)
    auth.create_user(db, MONITOR, MONITOR_PASSWORD, "monitor", actor="test", display_name="测试监测员")
    db.conn.close()


def add_verdicts(path: Path, ids: dict, now: datetime = NOW) -> None:
    """Verdicts on the fixture items as of `now`, and an analyst account (ANALYST) to read them.
    Scores as in ITEMS; flagged at >= 0.5:
    w1  rumour, recorded 20 min before NOW: the monitor saw the early score 0.61 (flagged), not 0.92
    c1  not_rumour: flagged 0.88, dismissed
    f1  rumour: scored 0.04, missed; a later rescoring by another model comes after the verdict
    n1  rumour, then not_rumour (the latest counts): 0.02, cleared
    n2  unverifiable: says nothing about the label, left out
    no_author  rumour, but the item was never scored: counted apart as unscored"""
    from rumourwatch import experts

    db = store.open_db(path)
    record = experts.record_verdict
    record(db, ids["w1"], "rumour", "卫健委已辟谣", "monitor1", now - timedelta(minutes=20))
    record(db, ids["c1"], "not_rumour", "转载者已更正", "monitor1", now)
    record(db, ids["f1"], "rumour", "冒用卫健委名义", "monitor1", now)
    record(db, ids["n1"], "rumour", "误点", "monitor1", now - timedelta(minutes=5))
    record(db, ids["n1"], "not_rumour", "天气预报，不是谣言", "monitor1", now)
    record(db, ids["n2"], "unverifiable", "待医保局答复", "monitor1", now)
    record(db, ids["no_author"], "rumour", "热水不能杀灭体内病毒", "monitor1", now)
    later = {"item_id": ids["f1"], "model_version": "test-v2", "computed_at": iso(now + timedelta(hours=1)),
             "reactions_seen": 0, "last_reaction_at": None, "rumour_probability": 0.97, "is_rumour": 1,
             "polarity": "neutral", "polarity_scores": None, "health_probability": 1.0, "health_related": 1,
             "topic": None, "debunk_url": None, "debunk_title": None, "debunk_score": None, "already_debunked": 0}
    with store.transaction(db):
        store.save_scores(db, [later])
    auth.create_user(db, ANALYST, ANALYST_PASSWORD, "analyst", actor="test", display_name="测试分析员")
    db.conn.close()


def _hash_id(db, record: dict) -> str:
    row = db.execute("SELECT external_id FROM items WHERE text = ?", [record["text"]]).fetchone()
    return row[0]


def add_scored_item(path: Path, bundle, external_id: str, text: str, date: str, platform: str = "微博",
                    account: str = "示例账号") -> int:
    """Ingest one item into the store at `path` and score it alone with `bundle` (the fixture's
    items keep their scores): a post in a script the models cannot read, say. Returns its id."""
    from rumourwatch.score import score_items

    db = store.open_db(path)
    with store.transaction(db):
        ingest_events(db, [RawItem({"id": external_id, "platform": platform, "account": account, "text": text,
                                    "date": date})], "test", NOW)
    item_id = store.find_item(db, platform, external_id)["id"]
    score_items(db, bundle, [item_id], NOW)
    db.conn.close()
    return item_id


def append_item(path: Path, external_id: str, text: str, now: datetime) -> int:
    """Ingest one more item (as a replay would) through its own connection; returns its id."""
    db = store.open_db(path)
    record = {"id": external_id, "platform": "微博", "account": "新账号",
              "date": now.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"), "text": text}
    with store.transaction(db):
        ingest_events(db, [RawItem(record)], source="replay", now=now)
    new_id = item_id(db, "微博", external_id)
    db.conn.close()
    return new_id


def item_page(path: Path, item: int, monkeypatch, models_dir: Path):
    """The item view of `item` in the store at `path`, run once as the monitor (AppTest)."""
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test

    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(models_dir))
    at = AppTest.from_file(str(ROOT / "dashboard" / "app_pages" / "item.py"), default_timeout=30)
    login_for_test(at, MONITOR)
    at.query_params["item"] = str(item)
    return at.run()


def open_app(page: str | None = None, username: str | None = MONITOR, **query):
    """The dashboard as `username` sees it (None: before a login), on `page` (e.g.
    "app_pages/item.py") with `query` parameters, after one run with no exception."""
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test

    at = AppTest.from_file(str(APP), default_timeout=30)
    if username:
        login_for_test(at, username)
    for key, value in query.items():
        at.query_params[key] = str(value)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@contextmanager
def served_store(tmp: Path, **env: str) -> Iterator[tuple[str, Path, dict]]:
    """The fixture store (`build_store`, items as of now) served by a running dashboard that refreshes
    every second and has no models, for the browser tests: yields (base url, db path, fixture ids)."""
    from local_servers import require_chromium, running_dashboard

    require_chromium()
    db_path = tmp / "live.db"
    ids = build_store(db_path, now=store.now_utc())
    with running_dashboard(tmp, RUMOURWATCH_DB_PATH=str(db_path), RUMOURWATCH_DASHBOARD_REFRESH_SECONDS="1",
                           RUMOURWATCH_MODELS_DIR=str(tmp / "no-models"), **env) as base:
        yield base, db_path, ids
