"""Keyword search (条目检索): the query language, what a search finds and counts, the CSV export, the
page and `rumourwatch search`. Texts are the fictional fixture store's (tests/dashboard_fixtures.py)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import dashboard_fixtures as fx
import pytest
from click.testing import CliRunner

from dashboard import data
from rumourwatch import alerts, auth, exports, search, store
from rumourwatch.cli import cli
from rumourwatch.ingest import ingest_events
from rumourwatch.records import CST
from rumourwatch.sources.base import RawItem

SEARCH = "app_pages/search.py"
TODAY = store.day_range(fx.NOW, 1)  # [start, end) of the fixture's China day
WEEK = store.day_range(fx.NOW - timedelta(days=6), 7)
FAR = "药店说：" + "今天到货的口罩数量有限，请按顺序排队购买，" * 6 + "另有少量Ｎ９５防护口罩。"


def _add(path, records):
    db = store.open_db(path)
    for r in records:
        r.setdefault("platform", "微博")
        r.setdefault("date", (fx.NOW - timedelta(minutes=30)).astimezone(CST).strftime("%Y-%m-%d %H:%M"))
    with store.transaction(db):
        ingest_events(db, [RawItem(r) for r in records], source="test", now=fx.NOW)
    return db


@pytest.fixture
def fixture_store(tmp_path):
    path = tmp_path / "search.db"
    ids = fx.build_store(path)
    db = _add(path, [{"id": "t1", "platform": "新闻网站", "title": "辟谣：喝白醋不能治高血压",
                      "text": "专家指出，食醋不能软化血管，高血压患者请遵医嘱服药。"},
                     {"id": "far", "text": FAR},
                     {"id": "formula", "text": "=HYPERLINK(\"http://evil.example\",\"点我领取\") 免费口罩"},
                     {"id": "pct", "text": "本店口罩一律八折"}])
    return path, db, ids


def _run(db, text, start=TODAY[0], end=TODAY[1], **kw):
    return search.run(db, search.parse_query(text), start, end, 0.5, **kw)


def _ids(result):
    return {r["id"] for r in result["items"]}


# --- the query language ------------------------------------------------------------------

def test_spaces_mean_all_bars_mean_either_dashes_leave_out_and_quotes_keep_a_phrase():
    q = search.parse_query("疫苗  口罩|N95 -宠物 “新冠 疫苗”　副作用｜不良反应 －谣言")
    assert q.groups == (("疫苗",), ("口罩", "N95"), ("新冠 疫苗",), ("副作用", "不良反应"))
    assert q.excluded == ("宠物", "谣言")


@pytest.mark.parametrize("text, key", [("", "search_empty"), ("  - | ", "search_empty"),
                                       ("-宠物 -猫", "search_only_excluded"),
                                       (" ".join("甲乙丙丁戊己庚辛壬癸子"), "search_too_many"),
                                       ("长" * 51, "search_term_long")])
def test_a_query_that_cannot_run_is_refused_with_its_reason(text, key):
    with pytest.raises(search.SearchError) as caught:
        search.parse_query(text)
    assert caught.value.key == key


def test_ascii_terms_are_looked_for_in_both_widths_and_cases():
    assert set(search.variants("n95")) >= {"n95", "Ｎ９５", "ｎ９５"}
    assert set(search.variants("Ｎ９５")) >= {"N95", "Ｎ９５", "ｎ９５"}
    assert search.variants("白醋") == ("白醋",)


# --- what a search finds and counts -------------------------------------------------------

def test_a_search_counts_items_stories_flags_and_gives_the_opinion_line(fixture_store):
    _, db, ids = fixture_store
    result = _run(db, "白醋")
    # the rumour, its copy on another platform (one story), and the debunk whose title names it
    assert _ids(result) == {ids["w1"], ids["c1"], store.find_item(db, "新闻网站", "t1")["id"]}
    assert (result["total"], result["stories"], result["flagged"]) == (3, 2, 2)
    assert result["line"] == "共 2 条：负面 100.0%，中性 0.0%，正面 0.0%"
    assert result["unscored"] == 1  # the debunk has not been scored yet
    assert result["days"] == [{"day": "2026-11-23", "n": 3, "flagged": 2}]


def test_exclusions_alternatives_and_several_words(fixture_store):
    _, db, ids = fixture_store
    assert _ids(_run(db, "白醋 -转发 -辟谣")) == {ids["w1"]}
    assert _ids(_run(db, "白醋|大蒜 -辟谣")) == {ids["w1"], ids["c1"], ids["h1"]}
    assert _ids(_run(db, "流感疫苗 老年人")) == {ids["f1"]}
    assert _ids(_run(db, "流感疫苗 宠物")) == set()


def test_the_period_platform_and_health_filters_narrow_the_search(fixture_store):
    _, db, ids = fixture_store
    assert _ids(_run(db, "血压 -辟谣")) == {ids["w1"], ids["c1"]}
    week = _run(db, "血压 -辟谣", *WEEK)
    assert _ids(week) == {ids["w1"], ids["c1"], ids["old1"]}  # 测血压, 3 days ago
    # every day of the period, so the chart shows the quiet days between
    assert [(d["day"][5:], d["n"]) for d in week["days"]] == [
        ("11-17", 0), ("11-18", 0), ("11-19", 0), ("11-20", 1), ("11-21", 0), ("11-22", 0), ("11-23", 2)]
    assert _ids(_run(db, "血压 -辟谣", None, None, platforms=("微信公众号",))) == {ids["c1"]}
    assert _ids(_run(db, "热水|天气|晴", health_only=True)) == set()  # the weather post is not about health
    assert _ids(_run(db, "晴")) == {ids["n1"]}


def test_an_accounts_items_with_or_without_words(fixture_store):
    _, db, ids = fixture_store
    everything = search.parse_query("", words_needed=False)
    assert _ids(search.run(db, everything, None, None, 0.5, account="健康小妙招")) == {ids["w1"]}
    assert _ids(search.run(db, everything, None, None, 0.5, account="宣传科")) == {ids["f1"]}  # an author
    assert _ids(_run(db, "白醋", account="养生堂摘编")) == {ids["c1"]}
    assert _ids(_run(db, "白醋", account="养生堂")) == set()  # the whole name, not part of it
    with pytest.raises(search.SearchError):
        search.parse_query("")  # words are needed unless an account is given


def test_a_topics_items_with_or_without_words(fixture_store):
    """A search narrowed to a Healthy China topic (what is said of it before its health day)."""
    _, db, ids = fixture_store
    everything = search.parse_query("", words_needed=False)
    assert _ids(search.run(db, everything, *TODAY, 0.5, topic="传染病及地方病防控")) == {ids["h1"], ids["f1"]}
    assert _ids(_run(db, "白醋", topic="心脑血管疾病防治")) == {ids["w1"], ids["c1"]}
    assert _ids(_run(db, "白醋", topic="传染病及地方病防控")) == set()
    text, n = search.export_csv(db, everything, *TODAY, 0.5, topic="传染病及地方病防控")
    [head, *rows] = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert n == len(rows) == 2 and {r[head.index("主题")] for r in rows} == {"传染病及地方病防控"}


def test_a_term_matches_as_typed_whatever_the_width_or_case_and_wildcards_are_literal(fixture_store):
    _, db, _ = fixture_store
    far = store.find_item(db, "微博", "far")["id"]
    assert far in _ids(_run(db, "n95"))
    assert _ids(_run(db, "_")) == set() and _ids(_run(db, "%")) == set()  # not "any character"
    assert _run(db, "口罩")["total"] == 3


def test_results_are_newest_first_or_likeliest_first_and_capped(fixture_store):
    _, db, ids = fixture_store
    newest = _run(db, "白醋|大蒜|热水")
    times = [r["published_at"] for r in newest["items"]]
    assert times == sorted(times, reverse=True) and len(times) == 5
    assert newest["items"][0]["id"] == ids["no_author"]  # 5 minutes old, the newest match
    likeliest = _run(db, "白醋|大蒜|热水", order="probability", limit=2)
    assert [r["id"] for r in likeliest["items"]] == [ids["w1"], ids["c1"]]  # 0.92, 0.88
    assert likeliest["total"] == 5  # the count is of every match, not of the listed ones


def test_a_snippet_shows_where_the_term_is_in_a_long_text(fixture_store):
    _, db, _ = fixture_store
    item = next(r for r in _run(db, "n95")["items"])
    assert item["snippet"].startswith("…") and "Ｎ９５" in item["snippet"]
    assert len(item["snippet"]) <= search.SNIPPET_CHARS + 2


# --- the export ---------------------------------------------------------------------------

def test_the_export_is_an_excel_csv_with_beijing_times_and_no_live_formulas(fixture_store):
    _, db, ids = fixture_store
    text, n = search.export_csv(db, search.parse_query("口罩|白醋 -辟谣"), *TODAY, 0.5)
    assert text.startswith("\ufeff条目ID,发布时间（北京时间）") and n == 5
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    w1 = next(r for r in rows if r["条目ID"] == str(ids["w1"]))
    assert (w1["发布时间（北京时间）"], w1["谣言概率"], w1["疑似谣言"], w1["情感倾向"]) == ("2026-11-23 11:10", "0.92", "是", "负面")
    formula = next(r for r in rows if "HYPERLINK" in r["正文"])
    assert formula["正文"].startswith("'=HYPERLINK")  # shown as text in Excel, not run
    assert search.export_csv(db, search.parse_query("口罩"), *TODAY, 0.5, limit=2)[1] == 2


def test_export_cells_that_a_spreadsheet_would_run_are_quoted_numbers_are_not():
    assert [exports.cell(v) for v in ("=1+1", "+86 123", "-x", "@SUM(A1)", "\tx", "正文", -3, 0.5, None)] == [
        "'=1+1", "'+86 123", "'-x", "'@SUM(A1)", "'\tx", "正文", -3, 0.5, ""]


# --- the page -----------------------------------------------------------------------------

@pytest.fixture
def page_env(fixture_store, monkeypatch):
    path, db, ids = fixture_store
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(path.parent / "no-models"))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return path, db, ids


def _search(at, text: str, period: str | None = None):
    at.text_input(key="s_query").input(text)
    if period:
        at.radio(key="s_period").set_value(period)
    at.button[0].click()
    return at.run()


def test_the_page_answers_a_search_with_counts_the_opinion_line_and_the_items(page_env):
    _, _, ids = page_env
    at = fx.open_app(SEARCH)
    assert any("输入关键词" in i.value for i in at.info)
    at = _search(at, "白醋 -辟谣", "today")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["命中条目"], metrics["涉及话题"], metrics["疑似谣言"]) == ("2", "1", "2")
    assert any("共 2 条：负面 100.0%" in m.value for m in at.markdown)
    assert any("包含“白醋”，不含“辟谣”" in c.value for c in at.caption)
    table = next(df.value for df in at.dataframe if "编号" in df.value.columns)
    assert set(table["编号"]) == {ids["w1"], ids["c1"]}
    assert at.query_params["q"] == "白醋 -辟谣"  # the address carries the search
    assert at.get("download_button") == []  # made when asked for
    at.button(key="search_export_make").click().run()
    assert not at.exception
    [button] = at.get("download_button")
    assert button.proto.label.startswith("下载 search_") and button.proto.label.endswith(".csv")
    # another search: the file made for the last one is not offered
    at = _search(at, "流感疫苗", "today")
    assert at.get("download_button") == []


def test_an_address_with_a_query_opens_with_its_results(page_env):
    at = fx.open_app(SEARCH, q="流感疫苗")
    assert {m.label: m.value for m in at.metric}["命中条目"] == "1"


def test_an_address_with_a_topic_opens_its_items_and_an_unknown_topic_opens_the_empty_form(page_env):
    at = fx.open_app(SEARCH, topic="传染病及地方病防控")
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["命中条目"] == "2"
    assert any("话题为“传染病及地方病防控”" in c.value for c in at.caption)
    assert at.selectbox(key="s_topic").value == "传染病及地方病防控"
    at = fx.open_app(SEARCH, topic="养生")
    assert not at.metric and any("输入关键词" in i.value for i in at.info)


def test_the_item_view_opens_the_accounts_items_on_the_search_page(page_env):
    _, _, ids = page_env
    at = fx.open_app("app_pages/item.py", item=ids["w1"])
    next(b for b in at.button if b.label == "该账号的全部条目").click()
    at = at.run()
    assert not at.exception
    assert any("账号为“健康小妙招”" in c.value for c in at.caption)
    assert {m.label: m.value for m in at.metric}["命中条目"] == "1"
    assert at.query_params["account"] == "健康小妙招" and "q" not in at.query_params


def test_the_page_says_why_a_query_cannot_run_and_when_nothing_matches(page_env):
    at = _search(fx.open_app(SEARCH), "-宠物")
    assert any("只有排除词" in e.value for e in at.error) and not at.metric
    at = _search(fx.open_app(SEARCH), "完全不存在的说法")
    assert any("没有命中条目" in i.value for i in at.info) and not at.metric


@pytest.mark.parametrize("role", ["leader", "analyst"])
def test_leaders_and_analysts_read_the_figures_and_watch_nothing(page_env, rules_file, role):
    """Leaders get no item links (they have no item view); neither changes what is watched."""
    path, _, _ = page_env
    auth.create_user(store.open_db(path), "reader", "fixture-password-9", role, actor="test")
    at = _search(fx.open_app(SEARCH, "reader"), "白醋", "today")
    assert not at.exception and {m.label: m.value for m in at.metric}["命中条目"] == "3"
    assert any("点击一行" in c.value for c in at.caption) == (role == "analyst")
    assert not any("关注" in b.label for b in at.button)


# --- watching a keyword or an account (tests/test_watch_keywords.py: what a watched line matches) ---

def test_a_monitor_watches_the_searched_words_and_account_from_the_search_page(page_env, rules_file):
    path, _, _ = page_env
    at = _search(fx.open_app(SEARCH), "白醋 -辟谣", "today")
    # how many alerts a day it would raise: one story matched today, and where the digest starts
    assert any("平均每天约 1.0 个新话题命中。关注词每 1 小时内的前 5 个话题各生成一条预警，其余合并为一条汇总预警"
               in c.value for c in at.caption)
    next(b for b in at.button if b.label == "设为关注词：白醋 -辟谣").click()
    at = at.run()
    assert not at.exception and not at.error
    assert any("已设为关注词：白醋 -辟谣" in s.value for s in at.success)
    assert alerts.load_rules(rules_file)["watch"]["keywords"] == ["白醋 -辟谣"]
    [entry] = [e for e in store.audit_entries(store.open_db(path)) if e["action"] == "rules.save"]
    assert (entry["actor"], json.loads(entry["details"])["change"]) == (
        fx.MONITOR, {"watch.keywords": {"added": "白醋 -辟谣"}})
    # the button now takes it back, and the list of watched keywords opens its search
    assert any(b.label == "取消关注词：白醋 -辟谣" for b in at.button)
    at = fx.open_app(SEARCH)
    next(b for b in at.button if b.label == "关注词：白醋 -辟谣").click()
    at = at.run()
    assert not at.exception and at.query_params["q"] == "白醋 -辟谣"
    assert {m.label: m.value for m in at.metric}["命中条目"] == "2"
    next(b for b in at.button if b.label == "取消关注词：白醋 -辟谣").click()
    at = at.run()
    assert alerts.load_rules(rules_file)["watch"]["keywords"] == []


def test_an_account_search_offers_to_watch_the_account_and_says_when_watching_is_off(page_env, rules_file):
    rules_file.write_text(rules_file.read_text(encoding="utf-8").replace("enabled = true\nkeywords",
                                                                          "enabled = false\nkeywords"), encoding="utf-8")
    at = fx.open_app(SEARCH, account="健康小妙招")
    next(b for b in at.button if b.label == "关注该账号：健康小妙招").click()
    at = at.run()
    assert alerts.load_rules(rules_file)["watch"]["accounts"] == ["健康小妙招"]
    assert any("预警目前已停用" in w.value for w in at.warning)


def test_the_search_page_says_why_it_cannot_offer_watching_when_the_rules_file_is_broken(page_env, rules_file):
    rules_file.write_text('[watch]\nkeywords = ["-宠物"]\n', encoding="utf-8")
    at = _search(fx.open_app(SEARCH), "白醋", "today")
    assert not at.exception
    shown = [e.value.replace("\\", "") for e in at.error]  # as the page shows it, Markdown escapes read
    assert any("暂不能在此设置关注词" in e and "关注词“-宠物”无法按检索条件使用" in e and "排除词" in e for e in shown)
    assert {m.label: m.value for m in at.metric}["命中条目"] == "3"  # the search itself still answers


def test_the_live_page_counts_todays_hits_of_what_is_watched_and_a_row_opens_its_search(page_env, rules_file):
    rules_file.write_text('[watch]\nkeywords = ["白醋 -辟谣", "完全不存在的说法"]\naccounts = ["健康小妙招"]\n',
                          encoding="utf-8")
    at = fx.open_app("app_pages/live.py")
    table = next(df.value for df in at.dataframe if "今日命中" in df.value.columns)
    assert table[["类型", "关注词 / 账号", "今日命中"]].values.tolist() == [
        ["关注词", "白醋 -辟谣", "2"], ["关注词", "完全不存在的说法", "0"], ["关注账号", "健康小妙招", "1"]]
    # hour by hour since Beijing midnight, the current hour last
    hours = table["今日每小时命中"].tolist()
    assert all(len(h) == fx.NOW.astimezone(CST).hour + 1 for h in hours)
    assert [sum(h) for h in hours] == [2, 0, 1]
    assert [h[11] for h in hours] == [2, 0, 1]  # published 11:10 and 11:20 Beijing time; it is now 12:00
    assert table["本小时"].tolist() == ["0", "0", "0"]
    flagged = table["疑似谣言"].tolist()
    at.session_state["watched_today_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception and at.query_params["q"] == "白醋 -辟谣"
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["命中条目"], metrics["疑似谣言"]) == ("2", flagged[0])  # as the search counts them (the fixture has them today)
    # rules that cannot be read: the live page says so and shows the rest
    rules_file.write_text('[watch]\nkeywords = ["-宠物"]\n', encoding="utf-8")
    at = fx.open_app("app_pages/live.py")
    assert any("关注词命中暂不能显示" in w.value for w in at.warning)
    assert any(h.value == "最新条目" for h in at.subheader)


def test_the_live_pages_watched_counts_take_new_items_within_the_minute_and_say_so(page_env, rules_file, monkeypatch):
    """The watched lines read the texts of the whole day, so they are counted once a minute, not on
    every refresh; the caption says so, and a new hit is counted from the next minute on."""
    path, _, _ = page_env
    rules_file.write_text('[watch]\nkeywords = ["白醋 -辟谣"]\n', encoding="utf-8")

    def hits(at):
        table = next(df.value for df in at.dataframe if "今日命中" in df.value.columns)
        return table["今日命中"].tolist()

    at = fx.open_app("app_pages/live.py", health="0")  # the whole feed: the new post is not scored yet
    assert hits(at) == ["2"]
    assert any("每分钟更新一次" in c.value for c in at.caption)
    fx.append_item(path, "w-new", "听说每天喝白醋能降血压，已经转给家里人了", fx.NOW)
    assert any("听说每天喝白醋" in df.value.to_string() for df in at.run().dataframe)  # listed at once
    assert hits(at) == ["2"]  # the same minute: not counted again
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW + timedelta(minutes=1))
    assert hits(at.run()) == ["3"]


# --- the command line ---------------------------------------------------------------------

def test_the_command_prints_the_figures_lists_items_and_writes_the_csv(fixture_store, tmp_path):
    path, _, ids = fixture_store
    out = tmp_path / "hits.csv"
    run = CliRunner().invoke(cli, ["--db", str(path), "search", "白醋 -辟谣", "--from", "2026-11-20", "--to",
                                   "2026-11-23", "--order", "probability", "--csv", str(out)])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0].startswith("'白醋 -辟谣', 2026-11-20 – 2026-11-23 (Beijing time): 2 items in 1 stories; 2 flagged")
    assert lines[1] == "opinion: 共 2 条：负面 100.0%，中性 0.0%，正面 0.0%"
    assert lines[2].startswith(f"#{ids['w1']} 2026-11-23 11:10 微博 健康小妙招 p=0.92 negative")
    assert f"wrote 2 items to {out}" in lines[-1]
    assert out.read_text(encoding="utf-8").count("\n") == 3
    run = CliRunner().invoke(cli, ["--db", str(path), "search", "口罩", "--all", "--json", "--limit", "1"])
    result = json.loads(run.output)
    assert (result["total"], len(result["items"]), result["polarity"]["unscored"]) == (3, 1, 3)


def test_the_command_lists_an_accounts_items(fixture_store):
    path, _, ids = fixture_store
    run = CliRunner().invoke(cli, ["--db", str(path), "search", "--account", "健康小妙招", "--all"])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("by account '健康小妙招', all time: 1 items")
    assert f"#{ids['w1']} " in run.output
    run = CliRunner().invoke(cli, ["--db", str(path), "search", "--all"])
    assert run.exit_code == 2 and "give words to search for, or --account" in run.output
    run = CliRunner().invoke(cli, ["--db", str(path), "search", "--topic", "传染病及地方病防控", "--all"])
    assert run.exit_code == 0 and run.output.startswith("on topic 传染病及地方病防控, all time: 2 items"), run.output
    run = CliRunner().invoke(cli, ["--db", str(path), "search", "--topic", "养生", "--all"])
    assert run.exit_code == 2 and "'养生' is not one of" in run.output


@pytest.mark.parametrize("args, message", [(["--all", "--from", "2026-11-01"], "two ways"),
                                           (["--from", "2026-11-31"], "is not a date"),
                                           (["--from", "2026-11-23", "--to", "2026-11-01"], "is after"),
                                           (["--csv", "/no/such/dir/x.csv"], "does not exist")])
def test_the_command_refuses_a_bad_period_or_output_before_searching(fixture_store, args, message):
    path, _, _ = fixture_store
    run = CliRunner().invoke(cli, ["--db", str(path), "search", "口罩", *args])
    assert run.exit_code != 0 and message in run.output


def test_the_command_says_what_is_wrong_with_a_query_or_a_missing_database(fixture_store, tmp_path):
    path, _, _ = fixture_store
    run = CliRunner().invoke(cli, ["--db", str(path), "search", "--", "-宠物"])
    assert run.exit_code == 1 and "not only words to leave out" in run.output
    run = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "search", "口罩"])
    assert run.exit_code == 1 and "does not exist yet" in run.output


def test_a_watched_keywords_digest_alert_says_what_it_gathered_and_opens_the_search(page_env):
    _, db, _ = page_env
    from workflow_helpers import rules

    alerts.evaluate_alerts(db, fx.NOW, rules(watch={"keywords": ["口罩"], "digest_after": 1}))
    [digest] = [a for a in store.list_alerts(db) if a["kind"] == "keyword" and a["item_id"] is None]
    assert digest["item_count"] >= 2  # the fixture holds several stories about masks
    at = fx.open_app("app_pages/alerts.py", alert=digest["id"])
    [said] = [i.value for i in at.info if "关注词「口罩」" in i.value]
    assert f"已单独预警 1 个，其后的 {digest['item_count']} 个事件合并在本条预警中" in said
    # the stories it gathered, latest first, one item each: a row opens that item
    latest = json.loads(digest["metrics"])["latest_items"]
    table = next(df.value for df in at.dataframe if "条目" in df.value.columns and "时间" in df.value.columns)
    assert [int(i) for i in table["条目"]] == latest and len(latest) == digest["item_count"]
    at.session_state["digest_items_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception and at.query_params["item"] == str(latest[0])
    at = fx.open_app("app_pages/alerts.py", alert=digest["id"])
    next(b for b in at.button if b.label == "在条目检索中查看「口罩」的全部条目").click()
    at.run()
    assert not at.exception and at.query_params["q"] == "口罩"
    assert int({m.label: m.value for m in at.metric}["命中条目"]) >= digest["item_count"] + 1


def test_a_search_is_carried_into_a_pre_release_assessment(page_env):
    """对此检索做事前研判: words or a Healthy China topic go to 舆情风险点's 事前研判 form (the page opens
    there with them filled); an account's items, or 其他, are no subject it takes."""
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test

    at = fx.open_app(SEARCH, q="白醋", topic="心脑血管疾病防治")
    assert [b.label for b in at.button if b.key == "search_assess"] == ["对此检索做事前研判"]
    for params in ({"q": "白醋", "account": "健康小妙招"}, {"topic": "其他"}):
        assert not [b for b in fx.open_app(SEARCH, **params).button if b.key == "search_assess"], params
    # where the button leads (ui.open_assessment's address)
    at = AppTest.from_file(str(fx.APP.parent / "app_pages" / "risk.py"), default_timeout=30)
    login_for_test(at, fx.MONITOR)
    at.query_params["assess"] = "白醋"
    at.query_params["assess_topic"] = "心脑血管疾病防治"
    at.run()
    assert not at.exception
    assert (at.text_input(key="assess_query_1").value, at.selectbox(key="assess_topic_1").value) == \
        ("白醋", "心脑血管疾病防治")
    at.text_input(key="assess_title_1").set_value("高血压防治宣传")
    next(b for b in at.button if b.label == "开始研判").click()
    at.run()
    assert any(b.value.startswith("风险等级：") for b in (*at.error, *at.warning, *at.success))
    assert at.text_input(key="assess_title_1").value == "高血压防治宣传"  # filled once: what is typed stays

