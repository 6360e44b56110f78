"""话题热度: the health hashtags of the last hours, counted in stories and accounts (not pasted items),
compared with the hours before, on the live page, in the reports and as an alert rule (话题热度上升)."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from workflow_helpers import add_item, rules

from rumourwatch import trending

BODIES = [  # fictional posts, different enough not to be copies of each other
    "小区今天又做了一轮核酸检测，排队的人很多，大家都很配合",
    "医生提醒秋冬季节要注意保暖，老人孩子出门戴好口罩",
    "听说这种感冒药对流感特别有效，家里已经囤了好几盒",
    "今天去社区医院打了流感疫苗，护士说接种后要观察半小时",
    "发烧三天了还没退，不知道要不要去医院看看急诊",
    "单位组织体检，发现血压有点高，医生建议少吃盐多运动",
]


def body(k: int) -> str:
    """BODIES[k] for the first six; past them, a text of its own (no copy of any other)."""
    if k < len(BODIES):
        return BODIES[k]
    rnd = random.Random(k)
    return "".join(rnd.choice("医院药品疫苗口罩体检血压感冒发烧咳嗽护士门诊社区老人儿童饮食运动睡眠") for _ in range(40))


def post(db, tag: str, at, k: int, account: str | None = None, **kw) -> int:
    """Item body(k) under #tag#, published at `at`."""
    return add_item(db, f"#{tag}# {body(k)}", at, account=account, **kw)


def test_a_tag_new_in_the_last_hours_is_listed_with_its_stories_accounts_and_flags(db, now):
    for k in range(3):
        post(db, "流感高发季", now - timedelta(hours=1, minutes=10 * k), k,
              probability=0.9 if k == 0 else 0.1, polarity="negative" if k < 2 else "neutral")
    [row] = trending.rising_tags(db, now, threshold=0.5)
    assert (row["tag"], row["stories"], row["items"], row["accounts"]) == ("流感高发季", 3, 3, 3)
    assert (row["negative"], row["flagged"], row["before_stories"]) == (2, 1, 0)
    assert row["status"] == "new" and trending.status_text(row) == "新出现"


def test_rising_steady_and_falling_tags_are_compared_per_hour_with_the_two_days_before(db, now):
    # rising: 4 stories in 6 h against 2 in the 48 h before (0.67 / h against 0.04 / h)
    for k in range(4):
        post(db, "某地出现新病例", now - timedelta(hours=k + 1), k)
    for k in range(2):
        post(db, "某地出现新病例", now - timedelta(hours=20 + k), k + 4)
    # steady: 3 stories in 6 h, 24 in the 48 h before: 0.5 / h both
    for k in range(3):
        post(db, "秋冬养生", now - timedelta(hours=k + 1), k)
    for k in range(24):
        post(db, "秋冬养生", now - timedelta(hours=7 + 2 * k), 10 + k, account=f"养生号{k}")
    # falling: 3 stories in 6 h, 50 in the 48 h before (0.5 / h against 1.04 / h)
    for k in range(3):
        post(db, "前几天的话题", now - timedelta(hours=k + 2), 100 + k)
    for k in range(50):
        post(db, "前几天的话题", now - timedelta(hours=7, minutes=50 * k), 200 + k)
    rows = {r["tag"]: r for r in trending.rising_tags(db, now, threshold=0.5)}
    assert rows["前几天的话题"]["status"] == "falling" and trending.status_text(rows["前几天的话题"]) == "回落"
    assert rows["某地出现新病例"]["status"] == "rising" and rows["某地出现新病例"]["growth"] == 16.0
    assert trending.status_text(rows["某地出现新病例"]) == "升温 ×16"
    assert rows["秋冬养生"]["status"] == "steady" and rows["秋冬养生"]["before_stories"] == 24
    assert trending.status_text(rows["秋冬养生"]) == "持平"
    assert [trending.status_text(dict(rows["某地出现新病例"], growth=g)) for g in (2.5, 37.4, 1621.3)] == [
        "升温 ×2.5", "升温 ×37", "升温 ×100 以上"]
    # new and rising first, however many stories a steady tag has; then by stories (a tie by name)
    assert [r["tag"] for r in trending.rising_tags(db, now, threshold=0.5)] == ["某地出现新病例", "前几天的话题", "秋冬养生"]


def test_one_account_pasting_under_a_tag_or_copies_of_one_story_are_no_topic(db, now):
    for k in range(6):  # one bot, six different bodies
        post(db, "热搜话题甲", now - timedelta(minutes=20 * k + 5), k, account="营销号")
    for k in range(6):  # six accounts, one story copied
        post(db, "热搜话题乙", now - timedelta(minutes=20 * k + 5), 0)
    for k in range(3):  # three stories, but not about health
        post(db, "热搜话题丙", now - timedelta(minutes=20 * k + 5), k, health=False)
    assert trending.rising_tags(db, now, threshold=0.5) == []
    for k in range(2):  # two more stories make 热搜话题乙 a topic
        post(db, "热搜话题乙", now - timedelta(minutes=7), 1 + k)
    [row] = trending.rising_tags(db, now, threshold=0.5)
    assert (row["tag"], row["stories"], row["items"], row["accounts"]) == ("热搜话题乙", 3, 8, 8)


def test_items_older_than_the_baseline_or_not_yet_published_are_left_out(db, now):
    for k in range(3):
        post(db, "旧话题", now - timedelta(hours=60 + k), k)
        post(db, "未来话题", now + timedelta(hours=1 + k), k + 3)
    assert trending.rising_tags(db, now, threshold=0.5) == []


def test_the_weekly_report_lists_the_weeks_hottest_tags_against_the_week_before(db, now):
    from rumourwatch import reports

    for k in range(4):  # week 48 (from Monday 23 November, Beijing): four stories
        post(db, "秋冬流感季", now + timedelta(days=1, hours=k), k, polarity="negative" if k == 0 else "neutral")
    post(db, "秋冬流感季", now - timedelta(days=3), 4)  # one the week before
    for k in range(3):
        post(db, "社区义诊", now + timedelta(days=2, hours=k), 10 + k, probability=0.9)
    report = reports.compute_weekly(db, "2026-W48", now=now + timedelta(days=8))
    title, head, rows = reports.tags_table(report)
    assert title.startswith("热点话题")
    assert head == ["话题", "相关事件", "账号", "负面", "疑似谣言", "上周事件", "变化"]
    assert rows == [["#秋冬流感季#", "4", "4", "1", "4", "1", "升温 ×4"],
                    ["#社区义诊#", "3", "3", "0", "3", "0", "新出现"]]
    md = reports.render_markdown(report)
    assert "| #秋冬流感季# | 4 | 4 | 1 | 4 | 1 | 升温 ×4 |" in md
    assert "<h3>热点话题" in reports.render_html(report, charts=False)


# --- 话题热度上升: the alert rule -----------------------------------------------------------------

def _surge(db, now, stories: int = 10, flagged: int = 3, tag: str = "某地出现新病例"):
    """`stories` stories under #tag# in the last hours, `flagged` of them likely rumours, and an old
    item three days back (the store covers the hours before the window)."""
    add_item(db, "社区医院周六上午开展免费测血压活动，欢迎居民参加", now - timedelta(days=3), probability=0.1)
    return [post(db, tag, now - timedelta(minutes=20 * k + 5), 300 + k, probability=0.9 if k < flagged else 0.1)
            for k in range(stories)]


def test_a_health_hashtag_taking_off_with_likely_rumours_under_it_raises_one_alert_a_day(db, now):
    from rumourwatch import alerts, store

    _surge(db, now)
    r = rules(tag_surge={"enabled": True})
    [alert_id] = alerts.evaluate_alerts(db, now, r)
    a = store.get_alert(db, alert_id)
    assert (a["kind"], a["severity"], a["item_id"], a["title"]) == ("tag_surge", "三级", None, "话题「#某地出现新病例#」热度上升")
    assert json.loads(a["rules"])[0]["reason"] == "话题「#某地出现新病例#」近6小时10个相关事件（10个账号，疑似谣言3条），新出现"
    m = json.loads(a["metrics"])
    assert (m["tag"], m["stories"], m["flagged"], m["growth"]) == ("某地出现新病例", 10, 3, None)
    # checked every 10 minutes: a new story 5 minutes on waits; 20 minutes on it grows the same alert
    post(db, "某地出现新病例", now + timedelta(minutes=2), 400)
    assert alerts.evaluate_alerts(db, now + timedelta(minutes=5), r) == []
    assert alerts.evaluate_alerts(db, now + timedelta(minutes=20), r) == [alert_id]
    assert store.get_alert(db, alert_id)["item_count"] == 11
    assert len(store.list_alerts(db)) == 1


def test_no_tag_alert_before_the_store_covers_the_hours_before_or_under_the_thresholds(db, now):
    from rumourwatch import alerts

    r = rules(tag_surge={"enabled": True})
    for k in range(10):  # a feed that started an hour ago: every tag would read as new
        post(db, "刚开始的话题", now - timedelta(minutes=5 * k + 1), 500 + k, probability=0.9)
    assert alerts.evaluate_alerts(db, now, r) == []
    _surge(db, now, stories=10, flagged=2, tag="疑似谣言太少")
    _surge(db, now, stories=9, flagged=5, tag="事件太少")
    assert alerts.evaluate_alerts(db, now + timedelta(minutes=30), r) == [1]  # only 刚开始的话题, now covered
    from rumourwatch import store

    assert store.get_alert(db, 1)["title"] == "话题「#刚开始的话题#」热度上升"


def test_a_tag_alerts_special_report_lists_the_likely_rumours_under_it(db, now):
    from rumourwatch import alerts, briefing

    _surge(db, now)
    [alert_id] = alerts.evaluate_alerts(db, now, rules(tag_surge={"enabled": True}))
    b = briefing.compute_briefing(db, alert_id, now, rules=rules(tag_surge={"enabled": True}))
    made = b.overview["made_of"]
    assert made["kind"] == "tag" and len(made["rows"]) == 3  # the three flagged stories
    md = briefing.render_markdown(b)
    assert "话题「#某地出现新病例#」近 6 小时 10 个相关事件（10 个账号），疑似谣言 3 条；此前 0 个事件。" in md
    # likeliest first, then latest: the three flagged ones, the latest of them first
    assert [r["content"] for r in made["rows"]] == [f"#某地出现新病例# {body(300 + k)}"[:60] for k in range(3)]


def test_the_alert_page_shows_a_tag_alerts_likely_rumours_and_searches_the_tag(tmp_path, monkeypatch, now):
    from streamlit.testing.v1 import AppTest
    from workflow_helpers import PASSWORD

    from dashboard.auth import login_for_test
    from rumourwatch import alerts, auth, store
    from rumourwatch.config import REPO_ROOT

    path = tmp_path / "tags.db"
    db = store.open_db(path)
    _surge(db, now)
    [alert_id] = alerts.evaluate_alerts(db, now, rules(tag_surge={"enabled": True}))
    auth.create_user(db, "monitor1", PASSWORD, "monitor", "test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "alerts.py"), default_timeout=30)
    login_for_test(at, "monitor1", str(path))
    at.query_params["alert"] = str(alert_id)
    at.run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("话题「#某地出现新病例#」近 6 小时 10 个相关事件（10 个账号），疑似谣言 3 条") for i in at.info)
    [table] = [d.value for d in at.dataframe if "谣言概率" in d.value.columns]
    assert list(table["谣言概率"]) == ["0.90"] * 3
    assert any(b.label == "在条目检索中查看「#某地出现新病例#」的全部条目" for b in at.button)


@pytest.mark.parametrize("values,key", [({"flag_probability": 2}, "rules_probability"),
                                        ({"window_hours": 0}, "rules_positive"),
                                        ({"severity": "四级"}, "rules_severity")])
def test_the_tag_rules_settings_are_checked_by_name(values, key):
    from rumourwatch.alerts import validate_rules
    from rumourwatch.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        validate_rules({"tag_surge": values})
    assert exc.value.key == key and f"tag_surge.{next(iter(values))}" in str(exc.value)


def test_a_tag_is_searched_as_one_phrase_even_with_a_space_or_a_quote_in_it():
    from rumourwatch import search

    assert search.parse_query(trending.search_query("李兰娟 回应疫苗进展")).groups == (("李兰娟 回应疫苗进展",),)
    assert search.parse_query(trending.search_query('说"喝醋"防病毒')).groups == (("说 喝醋 防病毒",),)


def test_a_store_from_before_the_tags_were_kept_gets_them_from_its_texts(db_path, now):
    from rumourwatch import store

    db = store.open_db(db_path)
    post(db, "流感高发季", now - timedelta(hours=1), 0, account="甲")
    post(db, "流感高发季", now - timedelta(hours=2), 1, account="乙")
    add_item(db, f"#秋冬养生##流感高发季# {body(2)}", now - timedelta(hours=3), account="丙")
    add_item(db, body(3), now - timedelta(hours=3), account="丁")  # no tag
    stored = sorted(db.execute("SELECT item_id, tag, published_at FROM item_tags").fetchall())
    assert [r[1] for r in stored].count("流感高发季") == 3 and len(stored) == 4
    before = trending.tag_stats(db, now, 0.5)
    # the store as it was before 0023_item_tags: no table, the step not recorded
    with store.transaction(db):
        db.execute("DROP TABLE item_tags")
        db.execute("DELETE FROM _migrations WHERE name = '0023_item_tags'")
    db.conn.close()
    db = store.open_db(db_path)  # the step runs again and reads the tags from the texts
    assert sorted(db.execute("SELECT item_id, tag, published_at FROM item_tags").fetchall()) == stored
    assert trending.tag_stats(db, now, 0.5) == before
    assert before["流感高发季"]["stories"] == 3 and before["秋冬养生"]["items"] == 1
