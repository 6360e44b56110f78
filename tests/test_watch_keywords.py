"""Watched keywords are search queries: a line of the alert rules' [watch] keywords matches new items
as 条目检索 would find them (all words, either word, not a word, a phrase; either width and case), a
line that is not a query is refused by name, and a monitor watches a keyword or an account from the
search page (tests/test_search.py), audited, without the admin's whole 预警规则 page."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from workflow_helpers import add_item, rules

from rumourwatch import alerts, search, store
from rumourwatch.alerts import evaluate_alerts
from rumourwatch.cli import cli
from rumourwatch.errors import ConfigError


def _matches(query: str, title: str, text: str) -> bool:
    return search.parse_query(query).matches(search.fold(f"{title}\x00{text}"))


def test_a_watched_line_reads_like_a_search_query():
    text = "新冠疫苗接种后出现发热怎么办？专家：多数为一过性反应"
    assert _matches("疫苗 发热", "", text) and not _matches("疫苗 脱发", "", text)
    assert _matches("脱发|发热", "", text) and not _matches("疫苗 -专家", "", text)
    assert _matches('"疫苗接种"', "", text) and not _matches('"疫苗 接种"', "", text)
    assert _matches("n95", "", "药店今天到货一批Ｎ９５口罩") and _matches("Ｎ95", "", "n95 口罩")
    # the title and the text are matched apart, as the search does: no phrase across the two
    assert _matches("白醋", "喝白醋", "能治高血压") and not _matches('"白醋能治"', "喝白醋", "能治高血压")


def test_new_items_alert_on_a_query_as_the_search_would_find_them(db, now):
    r = rules(watch={"keywords": ["疫苗 -宠物", "n95|KN95"], "severity": "二级"})
    hit = add_item(db, "社区通知：新冠疫苗第二针本周六开始接种", now, probability=0.1)
    add_item(db, "宠物疫苗打完以后狗狗没精神", now, probability=0.1)   # left out by -宠物
    add_item(db, "今天天气不错，适合散步", now, probability=0.1)
    wide = add_item(db, "药店：Ｎ９５口罩明日到货", now, probability=0.1)  # full width, upper case
    ids = evaluate_alerts(db, now, r)
    alerted = {store.get_alert(db, i)["item_id"]: json.loads(store.get_alert(db, i)["rules"])[0]["reason"]
               for i in ids}
    assert alerted == {hit: "命中关注词「疫苗 -宠物」", wide: "命中关注词「n95|KN95」"}
    assert {store.get_alert(db, i)["severity"] for i in ids} == {"二级"}


@pytest.mark.parametrize("line, reason", [("-宠物", "search_only_excluded"), ("口" * 51, "search_term_long")])
def test_a_watched_line_that_is_not_a_query_is_refused_by_name(tmp_path, line, reason):
    with pytest.raises(ConfigError, match="watch.keywords") as exc:
        rules(watch={"keywords": ["疫苗", line]})
    assert exc.value.key == "rules_watch_keyword" and exc.value.params["keyword"] == line
    assert exc.value.params["reason"]["key"] == reason
    (tmp_path / "rules.toml").write_text(f'[watch]\nkeywords = ["疫苗", "{line}"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be searched for"):  # the worker will not start on it
        alerts.load_rules(tmp_path / "rules.toml")


def test_watching_and_unwatching_saves_the_rules_with_an_audit_entry_naming_the_change(db, rules_file):
    assert alerts.set_watched("keywords", " 板蓝根 预防 ", True, "monitor1", db) is True
    assert alerts.set_watched("keywords", "板蓝根 预防", True, "monitor1", db) is False  # already watched
    assert alerts.set_watched("accounts", "示例养生号", True, "monitor1", db) is True
    watch = alerts.load_rules(rules_file)["watch"]
    assert (watch["keywords"], watch["accounts"]) == (["板蓝根 预防"], ["示例养生号"])
    assert alerts.set_watched("keywords", "板蓝根 预防", False, "monitor1", db) is True
    assert alerts.load_rules(rules_file)["watch"]["keywords"] == []
    changes = [(e["actor"], json.loads(e["details"])["change"]) for e in store.audit_entries(db)]
    assert sorted(changes, key=str) == sorted([
        ("monitor1", {"watch.keywords": {"added": "板蓝根 预防"}}),
        ("monitor1", {"watch.accounts": {"added": "示例养生号"}}),
        ("monitor1", {"watch.keywords": {"removed": "板蓝根 预防"}})], key=str)
    before = rules_file.read_bytes()
    with pytest.raises(ConfigError, match="only words to leave out"):
        alerts.set_watched("keywords", "-宠物", True, "monitor1", db)
    assert rules_file.read_bytes() == before and len(store.audit_entries(db)) == 3


def test_the_command_watches_lists_and_unwatches_and_refuses_a_line_that_is_no_query(tmp_path, rules_file):
    db_path = tmp_path / "cli.db"

    def run(*args):
        return CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "watch", *args])

    out = run("板蓝根 预防", "钟南山|张文宏")
    assert out.exit_code == 0 and "keyword '板蓝根 预防': watched" in out.output
    assert "already watched" in run("板蓝根 预防").output
    assert run("--account", "示例养生号").exit_code == 0
    listed = run()
    assert listed.output.splitlines() == ["2 keyword(s), 1 account(s) watched", "keyword\t板蓝根 预防",
                                          "keyword\t钟南山|张文宏", "account\t示例养生号"]
    refused = run("--", "-宠物")
    assert refused.exit_code == 1 and "only words to leave out" in refused.output
    assert "no longer watched" in run("--remove", "板蓝根 预防").output
    watch = alerts.load_rules(rules_file)["watch"]
    assert (watch["keywords"], watch["accounts"]) == (["钟南山|张文宏"], ["示例养生号"])
    changes = [json.loads(e["details"])["change"] for e in store.audit_entries(store.open_db(db_path))]
    assert len(changes) == 4 and {"watch.keywords": {"removed": "板蓝根 预防"}} in changes


# Ten different stories a busy keyword meets in the same hour (texts far apart, so no two cluster).
MASK_STORIES = ["药店今天口罩到货，排队的人很多", "口罩应该怎么戴才正确？看这张图", "小区门口免费发放口罩啦",
                "网传口罩可以反复蒸煮消毒使用", "儿童口罩选购指南来了", "口罩厂加班加点保障供应",
                "医用外科口罩和普通口罩有什么区别", "地铁上不戴口罩被劝阻", "口罩价格上涨，市场监管部门出手",
                "戴口罩跑步会不会缺氧"]


def _watch_alerts(db) -> list[dict]:
    return [a for a in store.list_alerts(db, limit=100) if a["kind"] == "keyword"]


def test_a_busy_keyword_alerts_story_by_story_up_to_its_limit_then_gathers_the_rest_in_one_digest(db, now):
    from datetime import timedelta

    r = rules(watch={"keywords": ["口罩", "蒸煮"], "digest_after": 3, "digest_window_hours": 1},
              notify={"monitor_emails": ["monitor@example.org"]})
    items = [add_item(db, text, now, probability=0.1) for text in MASK_STORIES[:6]]
    evaluate_alerts(db, now, r)
    single = [a for a in _watch_alerts(db) if a["item_id"]]
    [digest] = [a for a in _watch_alerts(db) if a["item_id"] is None]
    # the first three stories alert one by one; 蒸煮 (a quiet keyword) still alerts its own story,
    # which 口罩 gathers into the digest as it is past its limit
    assert sorted(a["item_id"] for a in single) == items[:4]
    assert json.loads(next(a for a in single if a["item_id"] == items[3])["rules"])[0]["reason"] == "命中关注词「蒸煮」"
    assert digest["item_count"] == 3 and digest["title"] == "关注词「口罩」1小时内新增事件较多（汇总）"
    assert "已单独预警3个事件，其后命中的3个事件合并为本条预警" in json.loads(digest["rules"])[0]["reason"]
    assert json.loads(digest["metrics"])["keyword"] == "口罩"
    assert json.loads(digest["metrics"])["latest_items"] == [items[5], items[4], items[3]]  # newest first
    mails = [n for n in store.list_notifications(db) if n["event"] == "alert_new"]
    assert len(mails) == 5  # four stories and one digest, not six mails for 口罩
    [digest_mail] = [n for n in mails if n["alert_id"] == digest["id"]]
    assert "在条目检索中搜索「口罩」可查看全部命中条目" in digest_mail["body"]

    # later in the hour: more stories grow the digest without a mail; a copy of a story already
    # gathered is not counted twice
    later = now + timedelta(minutes=30)
    new_story = add_item(db, MASK_STORIES[6], later, probability=0.1)
    add_item(db, MASK_STORIES[5], later, probability=0.1)
    evaluate_alerts(db, later, r)
    [digest] = [a for a in _watch_alerts(db) if a["item_id"] is None]
    assert digest["item_count"] == 4 and len(_watch_alerts(db)) == 5
    assert json.loads(digest["metrics"])["latest_items"] == [new_story, items[5], items[4], items[3]]
    assert len([n for n in store.list_notifications(db) if n["event"] == "alert_new"]) == 5

    # the next hour starts afresh: a new story alerts on its own again
    next_hour = now + timedelta(hours=1)
    fresh = add_item(db, MASK_STORIES[7], next_hour, probability=0.1)
    evaluate_alerts(db, next_hour, r)
    assert fresh in {a["item_id"] for a in _watch_alerts(db)}


def test_without_a_limit_every_story_alerts_and_watched_accounts_are_never_gathered(db, now):
    r = rules(watch={"keywords": ["口罩"], "accounts": ["示例发布号"], "digest_after": 0})
    items = [add_item(db, text, now, probability=0.1) for text in MASK_STORIES[:5]]
    evaluate_alerts(db, now, r)
    assert sorted(a["item_id"] for a in _watch_alerts(db)) == items

    r = rules(watch={"keywords": ["口罩"], "accounts": ["示例发布号"], "digest_after": 1})
    posts = [add_item(db, text, now, probability=0.1, account="示例发布号") for text in MASK_STORIES[5:8]]
    evaluate_alerts(db, now, r)
    alerted = {a["item_id"]: json.loads(a["rules"])[0]["reason"] for a in _watch_alerts(db) if a["item_id"]}
    assert all(alerted[p] == "关注账号「示例发布号」发布" for p in posts[1:])  # 口罩 past its limit; the account is not


def test_a_digest_window_of_no_length_is_refused():
    with pytest.raises(ConfigError, match="watch.digest_window_hours") as exc:
        rules(watch={"digest_window_hours": 0})
    assert exc.value.key == "rules_positive"


def test_digest_windows_are_counted_from_beijing_midnight():
    from datetime import UTC, datetime

    at = datetime(2026, 11, 23, 17, 40, tzinfo=UTC)  # 01:40 on the 24th in Beijing
    assert alerts.watch_window(at, 1).isoformat() == "2026-11-24T01:00:00+08:00"
    assert alerts.watch_window(at, 24).isoformat() == "2026-11-24T00:00:00+08:00"
    assert alerts.watch_window(at, 6).isoformat() == "2026-11-24T00:00:00+08:00"
