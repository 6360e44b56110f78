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
