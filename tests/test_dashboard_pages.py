"""AppTest smoke and behaviour tests of every dashboard page on a small fictional store."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import dashboard_fixtures as fx
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.auth import login_for_test
from rumourwatch import store
from rumourwatch.ingest import ingest_events
from rumourwatch.knowledge import Match
from rumourwatch.records import CST, iso
from rumourwatch.sources.base import RawItem

LIVE, ITEM, SOURCES = "app_pages/live.py", "app_pages/item.py", "app_pages/sources.py"


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """Point the dashboard at a fresh fixture store, at a fixed 'now', with no trained models."""
    path = tmp_path / "dash.db"
    ids = fx.build_store(path)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return ids


def run_page(page: str | None = None, login: bool = True, **query) -> AppTest:
    return fx.open_app(page, fx.MONITOR if login else None, **query)


def shown_markup(at: AppTest) -> list[str]:
    """Everything rendered as Markdown (where `<script>` or a javascript: link could come alive)."""
    out = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(m.label) for m in at.metric] + [str(m.value) for m in at.metric]
    return out


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def table_with(at: AppTest, column: str):
    return [df.value for df in at.dataframe if column in df.value.columns]


# --- 实时监测 -------------------------------------------------------------------------------

def test_live_page_shows_today_counts_and_the_report_line(app_env):
    at = run_page()
    assert metric(at, "今日条目") == str(fx.EXPECTED_TODAY["items"])
    assert metric(at, "健康相关") == str(fx.EXPECTED_TODAY["health_related"])
    assert metric(at, "疑似谣言") == str(fx.EXPECTED_TODAY["flagged"])
    assert metric(at, "待评分") == str(fx.EXPECTED_TODAY["unscored"])
    assert any(fx.EXPECTED_OPINION in m.value for m in at.markdown)
    assert any("另有 1 条尚未评分" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) == 2  # opinion trend and hourly counts


def test_live_page_lists_the_health_hashtags_taking_off(app_env):
    from test_trending import post

    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    for k in range(3):
        post(db, "流感高发季", fx.NOW - timedelta(minutes=30 + k), k, probability=0.9)
    db.conn.close()
    at = run_page()
    assert not at.exception, at.exception
    assert any(s.value == "话题热度（近 6 小时）" for s in at.subheader)
    [table] = table_with(at, "话题")
    assert list(table["话题"]) == ["流感高发季"]
    assert (table["热度变化"][0], table["相关事件"][0], table["账号"][0], table["疑似谣言"][0]) == ("新出现", "3", "3", "3")
    assert not any("不足比较所需" in c.value for c in at.caption)  # the store goes back three days


def test_live_page_says_new_tags_may_only_be_new_to_a_young_store(app_env, monkeypatch):
    from test_trending import post

    from rumourwatch import trending

    monkeypatch.setattr(trending, "BASELINE_HOURS", 100)  # more than the fixture store's three days
    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    for k in range(3):
        post(db, "流感高发季", fx.NOW - timedelta(minutes=30 + k), k)
    db.conn.close()
    at = run_page()
    assert any(c.value.startswith("监测数据自 2026-11-20 12:00 起，不足比较所需的此前 100 小时") for c in at.caption)


def test_item_page_says_what_the_feed_says_under_the_items_hashtags(app_env):
    from test_trending import post

    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    ids = [post(db, "流感高发季", fx.NOW - timedelta(minutes=30 + k), k, probability=0.9) for k in range(3)]
    lone = post(db, "冷门话题", fx.NOW - timedelta(minutes=20), 5)
    db.conn.close()
    at = run_page(ITEM, item=str(ids[0]))
    assert not at.exception, at.exception
    [line] = [i.value for i in at.info if "所在话题" in i.value]
    assert line.replace("\\", "") == "所在话题近 6 小时：#流感高发季# 3 个相关事件、3 个账号、疑似谣言 3 条（新出现）"
    at = run_page(ITEM, item=str(lone))
    assert not any("所在话题" in i.value for i in at.info)
    assert any(c.value.replace("\\", "") == "话题 #冷门话题# 近 6 小时相关事件不多。" for c in at.caption)


def test_live_page_says_when_no_hashtag_is_a_topic_yet(app_env):
    at = run_page()
    assert any(c.value.startswith("近 6 小时没有达到 3 个事件、2 个账号的健康话题") for c in at.caption)


def test_period_filter_changes_the_opinion_line_but_not_today(app_env):
    at = run_page()
    at.sidebar.radio(key="f_period").set_value("7d").run()
    assert not at.exception
    assert any(fx.EXPECTED_OPINION_7D in m.value for m in at.markdown)
    assert any("情感倾向（近7天）" in s.value for s in at.subheader)
    assert metric(at, "今日条目") == str(fx.EXPECTED_TODAY["items"])
    at.sidebar.radio(key="f_period").set_value("custom").run()
    assert any(fx.EXPECTED_OPINION_7D in m.value for m in at.markdown)  # default range: the last 7 days
    at.sidebar.date_input(key="f_custom").set_value((fx.NOW.date(), fx.NOW.date())).run()
    assert any(fx.EXPECTED_OPINION in m.value for m in at.markdown)
    assert any("情感倾向（2026-11-23 — 2026-11-23）" in s.value for s in at.subheader)
    assert not at.exception


def test_filters_survive_a_visit_to_the_item_view(app_env):
    at = run_page()
    at.sidebar.radio(key="f_period").set_value("7d").run()
    at.sidebar.checkbox(key="f_health").uncheck().run()
    assert at.query_params == {"range": "7d", "health": "0"}
    at.switch_page(ITEM).run()
    at.query_params.clear()  # as the sidebar's link to the page: no filter in its address
    at.switch_page(LIVE).run()
    assert not at.exception
    assert at.sidebar.radio(key="f_period").value == "7d"
    assert at.sidebar.checkbox(key="f_health").value is False
    # ... and that address is left as it is: writing them into it would be a step of the browser's
    # history, and Back would then return to this page instead of the page before
    assert at.query_params == {}
    assert any("情感倾向（近7天）" in s.value for s in at.subheader)


def test_the_address_holds_the_filters_and_opens_the_page_with_them(app_env):
    """A reload, a bookmark or a shared link opens the live page filtered as it was; the filters
    left at their defaults stay out of the address."""
    at = run_page()
    assert at.query_params == {}
    at.sidebar.radio(key="f_period").set_value("7d").run()
    at.sidebar.checkbox(key="f_health").uncheck().run()
    at.sidebar.slider(key="f_min_prob").set_value(0.5).run()
    assert at.query_params == {"range": "7d", "health": "0", "min": "0.5"}
    line = "共 3 条：负面 100.0%，中性 0.0%，正面 0.0%"
    assert any(line in m.value for m in at.markdown)

    shared = run_page(**at.query_params)  # another session (a reload, another monitor) opens the address
    assert shared.sidebar.radio(key="f_period").value == "7d"
    assert shared.sidebar.checkbox(key="f_health").value is False
    assert shared.sidebar.slider(key="f_min_prob").value == 0.5
    assert any("情感倾向（近7天）" in s.value for s in shared.subheader)
    assert any(line in m.value for m in shared.markdown)

    for key, value in (("f_period", "today"), ("f_min_prob", 0.0)):
        getattr(at.sidebar, "radio" if key == "f_period" else "slider")(key=key).set_value(value).run()
    at.sidebar.checkbox(key="f_health").check().run()
    assert at.query_params == {}  # back to the defaults: a clean address again
    assert not at.exception and not shared.exception


def test_a_change_after_leaving_a_custom_period_is_kept(app_env):
    """The address drops the custom days once another period is chosen: that must not read as
    an address asking for other filters, which would undo the next change the monitor makes."""
    at = run_page()
    at.sidebar.radio(key="f_period").set_value("custom").run()
    at.sidebar.date_input(key="f_custom").set_value((fx.NOW.date(),)).run()  # the first day clicked
    assert not at.exception
    assert any(i.value == "请选择结束日期。" for i in at.info), [i.value for i in at.info]
    at.sidebar.date_input(key="f_custom").set_value((fx.NOW.date(), fx.NOW.date())).run()
    day = fx.NOW.date().isoformat()
    assert at.query_params == {"range": "custom", "from": day, "to": day}
    at.sidebar.radio(key="f_period").set_value("7d").run()
    at.sidebar.checkbox(key="f_health").uncheck().run()
    assert at.sidebar.checkbox(key="f_health").value is False
    assert at.sidebar.radio(key="f_period").value == "7d"
    assert at.query_params == {"range": "7d", "health": "0"}
    assert not at.exception


def test_an_address_with_a_custom_period_or_a_platform_opens_with_them(app_env):
    at = run_page(range="custom", **{"from": fx.NOW.date().isoformat(), "to": fx.NOW.date().isoformat()})
    assert any("情感倾向（2026-11-23 — 2026-11-23）" in s.value for s in at.subheader)
    assert any(fx.EXPECTED_OPINION in m.value for m in at.markdown)
    at = run_page(platform="新闻网站")
    assert at.sidebar.multiselect(key="f_platforms").value == ["新闻网站"]
    assert any("共 2 条：中性 50.0%，正面 50.0%，负面 0.0%" in m.value for m in at.markdown)
    assert at.query_params == {"platform": "新闻网站"}


def test_an_address_with_filters_it_cannot_read_says_so_and_shows_the_defaults(app_env):
    at = run_page(range="week", min="abc", health="0", **{"from": "2026-13-01"})
    [warning] = [w.value for w in at.warning if "筛选条件" in w.value]
    assert "range=week" in warning and "min=abc" in warning and "from=2026-13-01" in warning
    assert at.sidebar.radio(key="f_period").value == "today"
    assert at.sidebar.slider(key="f_min_prob").value == 0.0
    assert at.sidebar.checkbox(key="f_health").value is False  # what it could read is kept
    assert at.query_params == {"health": "0"}  # the address is mended
    assert not at.exception
    at = run_page(range="custom", **{"from": "2026-11-23"})  # a custom period without its last day
    assert any("from=2026-11-23&to=" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not at.exception


def test_platform_probability_and_health_filters_narrow_the_line(app_env):
    at = run_page()
    at.sidebar.multiselect(key="f_platforms").set_value(["新闻网站"]).run()
    assert any("共 2 条：中性 50.0%，正面 50.0%，负面 0.0%" in m.value for m in at.markdown)
    at.sidebar.multiselect(key="f_platforms").set_value([]).run()
    at.sidebar.slider(key="f_min_prob").set_value(0.5).run()
    assert any("共 3 条：负面 100.0%，中性 0.0%，正面 0.0%" in m.value for m in at.markdown)
    feed = table_with(at, "情感倾向")[-1]
    assert set(feed["谣言概率"]) == {0.92, 0.88, 0.81}
    at.sidebar.slider(key="f_min_prob").set_value(0.0).run()
    assert any(fx.EXPECTED_OPINION in m.value for m in at.markdown)  # health items, as the reports count
    at.sidebar.checkbox(key="f_health").uncheck().run()
    assert any(fx.EXPECTED_OPINION_ALL in m.value for m in at.markdown)  # the whole feed: + the weather post
    assert not at.exception


def test_top_rumours_show_one_row_per_cluster_with_its_copies(app_env):
    at = run_page()
    top = table_with(at, "副本数")[0]
    assert list(top["编号"]) == [app_env["w1"], app_env["h1"]]  # only flagged items (>= 50%)
    assert top.iloc[0]["副本数"] == 2
    assert app_env["c1"] not in set(top["编号"])  # the copy is folded into its cluster


def test_top_rumours_say_so_when_nothing_reaches_the_threshold(app_env, monkeypatch):
    monkeypatch.setenv("RUMOURWATCH_RUMOUR_THRESHOLD", "0.95")
    at = run_page()
    assert not table_with(at, "副本数")
    assert any("暂无谣言概率达到 95% 的条目" in i.value for i in at.info)
    assert metric(at, "疑似谣言") == "0"


def test_feed_lists_newest_first_with_chinese_polarity_and_hostile_text_as_plain_cells(app_env):
    at = run_page()  # health items only, as the reports count: neither the weather nor the unscored post
    feed = next(df for df in table_with(at, "情感倾向") if "副本数" not in df.columns)
    assert app_env["n1"] not in set(feed["编号"]) and app_env["no_author"] not in set(feed["编号"])
    assert set(feed["健康相关"]) == {"是"}
    at = run_page(health="0")  # the whole feed
    feed = next(df for df in table_with(at, "情感倾向") if "副本数" not in df.columns)
    assert feed.iloc[0]["编号"] == app_env["no_author"]
    assert feed.iloc[0]["情感倾向"] == "未评分"
    assert set(feed["情感倾向"]) == {"正面", "中性", "负面", "未评分"}
    assert any("<script>alert(1)</script>" in cell for cell in feed["内容"])
    assert not any("<script" in m or "javascript:" in m for m in shown_markup(at))


def test_debunked_column_says_not_applicable_for_items_unrelated_to_health_and_not_scored_only_before_scoring(
        app_env):
    """The scorer matches only health-related items with the debunks: a scored weather post read
    未评分 (not scored) in the 已辟谣 column, beside its rumour probability."""
    at = run_page(health="0")  # the whole feed: the weather post is not a health item
    feed = next(df for df in table_with(at, "已辟谣") if "副本数" not in df.columns).set_index("编号")
    assert feed.loc[app_env["n1"], "已辟谣"] == "不适用"  # weather: scored, unrelated to health
    assert feed.loc[app_env["no_author"], "已辟谣"] == "未评分"  # not scored yet
    assert feed.loc[app_env["w1"], "已辟谣"] == "否"  # health-related, no debunk close enough
    item = run_page(ITEM, item=app_env["n1"])
    [tile] = [m for m in item.metric if m.label == "已辟谣"]
    assert tile.value == "不适用" and "与健康无关" in tile.proto.help


def test_item_query_parameter_on_the_main_page_opens_the_item(app_env):
    at = run_page(item=app_env["w1"])
    assert any(t.value == fx.VINEGAR for t in at.text)


def test_back_from_an_item_opened_on_the_live_page_shows_the_live_page(app_env):
    """Opening an item leaves the history step /?item=ID (Streamlit writes the query before it
    switches); Back returns there within the session and used to be sent straight to the item again."""
    at = run_page()
    top = next(df for df in at.dataframe if "副本数" in df.value.columns)
    at.session_state[top.key] = {"selection": {"rows": [0], "columns": []}}  # click the first row
    at.run()
    assert [x.value for x in at.title] == ["条目详情"]
    at.query_params["item"] = str(app_env["w1"])
    at.switch_page(LIVE).run()  # Back: /?item=ID
    assert not at.exception, [e.value for e in at.exception]
    assert [x.value for x in at.title] == ["实时监测"]


# --- 条目详情 -------------------------------------------------------------------------------

def test_item_page_shows_hostile_text_as_text_and_never_as_markup(app_env):
    at = run_page(ITEM, item=app_env["h1"])
    assert [t.value for t in at.text] == [fx.HOSTILE]
    assert not any("<script" in m or "javascript:" in m or "<b>" in m for m in shown_markup(at))
    meta = table_with(at, "项目")[0].set_index("项目")["内容"]
    assert meta["账号"] == "<b>转发达人</b>"
    assert "已按文本显示" in meta["原文链接"]
    assert not at.get("link_button")  # a javascript: url is never offered as a link


def test_item_page_shows_scores_reactions_history_and_cluster_copies(app_env):
    at = run_page(ITEM, item=app_env["w1"])
    assert [t.value for t in at.text] == [fx.VINEGAR]
    assert metric(at, "谣言概率") == "92.0%"
    assert metric(at, "情感倾向") == "负面"
    assert any("话题：心脑血管疾病防治" in b.label for b in at.get("badge")) or any(
        "话题：心脑血管疾病防治" in m.value for m in at.markdown)
    reactions = table_with(at, "类型")[0]
    assert list(reactions["类型"]) == ["转发", "评论", "转发"]
    assert "这是谣言吧，醋不能治病" in set(reactions["内容"])
    assert len(at.get("vega_lite_chart")) == 2  # cumulative reactions and score history
    copies = table_with(at, "编号")[-1]
    assert list(copies["编号"]) == [app_env["c1"]]
    # a copy reads like a feed row: its own polarity, health relevance and debunk match
    assert copies.iloc[0][["情感倾向", "健康相关", "已辟谣"]].tolist() == ["负面", "是", "否"]
    assert any("与本条内容相似的其他条目（共 1 条）" in c.value for c in at.caption)
    meta = table_with(at, "项目")[0].set_index("项目")["内容"]
    assert meta["发布时间"] == "2026-11-23 11:10"  # shown in Beijing time
    assert at.get("link_button")


def test_a_cluster_with_more_copies_than_listed_says_how_many_there_are(app_env, monkeypatch):
    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    with store.transaction(db):  # two more copies of the vinegar claim, after the first two
        ingest_events(db, [RawItem({"id": f"c{n}", "platform": "微博", "account": f"转发者{n}",
                                    "text": fx.VINEGAR_COPY + "大家注意！" * n,
                                    "date": (fx.NOW + timedelta(minutes=n)).astimezone(CST).strftime("%Y-%m-%d %H:%M")})
                           for n in (2, 3)], source="fixture", now=fx.NOW + timedelta(minutes=5))
    db.conn.close()
    monkeypatch.setattr(data, "COPIES_SHOWN", 2)
    at = run_page(ITEM, item=app_env["w1"])
    copies = table_with(at, "编号")[-1]
    assert len(copies) == 2 and copies["编号"].iloc[0] == app_env["c1"]  # the earliest copies, the item left out
    assert app_env["w1"] not in set(copies["编号"])
    assert any("其他条目共 3 条，下表列出最早发布的 2 条" in c.value for c in at.caption)


def _give_verdict(page: AppTest, choice: str, reason: str) -> AppTest:
    """Fill the item view's 人工研判 form as a monitor would and save it."""
    next(r for r in page.radio if r.label.startswith("结论（条目 #")).set_value(
        {"确认谣言": "rumour", "非谣言": "not_rumour"}[choice])
    next(x for x in page.text_input if x.label.startswith("依据（条目 #")).set_value(reason)
    next(b for b in page.button if b.label.startswith("保存结论（条目 #")).click()
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    return page


def test_a_not_rumour_verdict_on_the_item_view_is_recorded_shown_and_leaves_the_top_list(app_env):
    assert app_env["w1"] in set(table_with(run_page(), "副本数")[0]["编号"])
    page = run_page(ITEM, item=app_env["w1"])
    assert any("尚无人工研判结论" in c.value for c in page.caption)
    page = _give_verdict(page, "非谣言", "卫健委核实：原帖为转述的辟谣内容")
    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"], read_only=True)
    [verdict] = store.verdicts_for_item(db, app_env["w1"])  # through experts.record_verdict, as on 预警
    assert (verdict["verdict"], verdict["actor"], verdict["reason"]) == (
        "not_rumour", fx.MONITOR, "卫健委核实：原帖为转述的辟谣内容")
    assert [a["action"] for a in store.audit_entries(db, target_type="item")] == ["verdict.record"]
    db.conn.close()
    [shown] = [s.value for s in page.success if "人工研判结论" in s.value]
    assert "非谣言" in shown and fx.MONITOR in shown and "卫健委核实：原帖为转述的辟谣内容" in shown
    assert "2026-11-23" in shown  # when, in Beijing time
    live = table_with(run_page(), "副本数")
    top_ids = set(live[0]["编号"]) if live else set()
    assert app_env["w1"] not in top_ids and app_env["c1"] not in top_ids  # the cluster's copy neither
    assert app_env["h1"] in top_ids


def test_a_rumour_verdict_shows_on_the_item_and_in_the_top_list(app_env):
    page = _give_verdict(run_page(ITEM, item=app_env["w1"]), "确认谣言", "与权威资料不符")
    assert any("确认谣言" in e.value and "与权威资料不符" in e.value for e in page.error)
    top = table_with(run_page(), "副本数")[0].set_index("编号")
    assert top.loc[app_env["w1"], "人工核定"] == "确认谣言"
    assert top.loc[app_env["h1"], "人工核定"] == ""


def test_a_verdict_without_a_reason_is_refused_and_nothing_is_recorded(app_env):
    page = _give_verdict(run_page(ITEM, item=app_env["w1"]), "非谣言", "  ")
    assert page.error and page.error[0].value.startswith("操作未完成")
    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"], read_only=True)
    assert store.verdicts_for_item(db, app_env["w1"]) == []
    db.conn.close()


def test_only_roles_that_give_verdicts_see_the_form(app_env):
    fx.add_verdicts(Path(os.environ["RUMOURWATCH_DB_PATH"]), app_env)
    at = AppTest.from_file(str(fx.APP), default_timeout=30)
    login_for_test(at, fx.ANALYST)
    at.query_params["item"] = str(app_env["f1"])
    at.switch_page(ITEM)
    at.run()
    assert not at.exception
    assert any("确认谣言" in e.value and "冒用卫健委名义" in e.value for e in at.error)  # shown to the analyst
    assert not any(b.label.startswith("保存结论") for b in at.button)  # but no form


def test_item_page_shows_the_account_standing_in_for_a_missing_author(app_env):
    def author(at):
        fields = next(df.value for df in at.dataframe if "项目" in df.value.columns)
        return fields.set_index("项目").loc["作者", "内容"]

    # the ingest counts the account as the author: the page says so instead of a blank
    assert author(run_page(ITEM, item=app_env["w1"])) == "未单独提供（以发布账号为作者）"
    assert author(run_page(ITEM, item=app_env["f1"])) == "宣传科"


def test_item_page_names_missing_elements_in_chinese(app_env):
    at = run_page(ITEM, item=app_env["no_author"])
    warning = " ".join(w.value for w in at.warning)
    assert "缺少作者" in warning and "缺少来源" in warning
    assert metric(at, "谣言概率") == "未评分"
    assert any("尚未评分" in i.value for i in at.info)


def test_item_page_without_models_says_how_to_get_them(app_env):
    at = run_page(ITEM, item=app_env["w1"])
    [advice] = {i.value for i in at.info if "rumourwatch train" in i.value}
    # one command, in Chinese, naming the folder the dashboard reads; the English detail apart
    assert "模型尚未就绪" in advice and os.environ["RUMOURWATCH_MODELS_DIR"] in advice
    assert "no trained models" not in advice
    assert any(c.value.startswith("技术细节：") and "no trained models" in c.value for c in at.caption)


class FakeBundle:
    """The shapes `rumourwatch.nlp.bundle.ModelBundle` returns, without trained models."""

    version = "fake"
    debunks = SimpleNamespace(threshold=0.329)  # the knowledge base's 已辟谣 line

    def explain(self, doc):
        assert doc.text == fx.VINEGAR and len(doc.reactions) == 3
        return {"rumour_probability": 0.92,
                "words": [{"term": "软化血管", "weight": 0.8}, {"term": "秘方", "weight": 0.5}],
                "reactions": [{"term": "转给爸妈", "weight": 0.3}],
                "signals": [{"term": "感叹号", "name": "exclamations", "weight": 0.1}],
                "reaction_examples": [{"term": "真的假的？求证", "weight": 0.05}]}

    def match_debunks(self, texts, k):
        return [[Match("https://debunk.example/vinegar", "喝醋不能软化血管", "科普网站", fx.NOW, 0.71, "醋不能治病",
                       already_debunked=True),
                 Match("javascript:alert(4)", "另一篇", "未知", "2011-12-12T16:00:00Z", 0.2, "",
                       already_debunked=False),
                 Match("https://debunk.example/rice", "米饭怎么吃才健康", "科普网站", fx.NOW, 0.03, "",
                       already_debunked=False)][:k]]


class UntrainedIndexBundle(FakeBundle):
    def match_debunks(self, texts, k):
        return None


class RescoredBundle(FakeBundle):
    """Models that score the item otherwise than when it was stored (a new model, new reactions)."""

    def explain(self, doc):
        return dict(super().explain(doc), rumour_probability=0.97)


class FaintMatchesBundle(FakeBundle):
    def match_debunks(self, texts, k):
        return [[Match("https://debunk.example/rice", "米饭怎么吃才健康", "科普网站", fx.NOW, 0.03, "",
                       already_debunked=False)]]


def test_item_page_shows_explanation_and_matching_clarifications(app_env, monkeypatch):
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: FakeBundle())
    at = run_page(ITEM, item=app_env["w1"])
    terms = table_with(at, "词语/互动")[0]
    assert list(terms["词语/互动"]) == ["软化血管", "秘方", "转给爸妈", "感叹号"]  # largest first
    assert list(terms["类型"]) == ["正文词语", "正文词语", "转发/评论", "账号与传播特征"]
    # the single reactions that read as doubt have their own table, whatever their small weight
    said = table_with(at, "转发/评论原话")[0]
    assert list(said["转发/评论原话"]) == ["真的假的？求证"]
    debunks, faint = table_with(at, "相似度")
    assert list(debunks["标题"]) == ["喝醋不能软化血管", "另一篇"]
    # an article too unlike the item to be about its claim is folded away, not listed among them
    [folded] = [e for e in at.expander if "相似度低于 0.05 的文章（1 篇" in e.label]
    assert [list(df.value["标题"]) for df in folded.dataframe] == [["米饭怎么吃才健康"]]
    assert list(faint["标题"]) == ["米饭怎么吃才健康"]
    assert debunks.iloc[0]["链接"] == "https://debunk.example/vinegar"
    assert pd.isna(debunks.iloc[1]["链接"])  # a javascript: url is not made clickable
    assert list(debunks["已辟谣"]) == ["是", "否"]
    assert debunks.iloc[1]["发布日期"] == "2011-12-13"  # a day-only date gets no invented 00:00
    assert any("已发布辟谣" in s.value for s in at.success)
    # the similarity's scale and the line it is judged by are on the page
    assert any("字面相似度" in c.value and "达到 0.33 标为“已辟谣”" in c.value for c in at.caption)
    # a fact is named by its side of the training average, and the caption says so
    assert any("“尚无互动”" in c.value for c in at.caption)


def test_explanation_names_the_probability_its_weights_add_up_to_when_the_stored_one_differs(
        app_env, monkeypatch):
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: FakeBundle())
    at = run_page(ITEM, item=app_env["w1"])
    assert metric(at, "谣言概率") == "92.0%"
    assert not [c for c in at.caption if "判定依据按当前模型" in c.value]  # the same score: nothing to say
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: RescoredBundle())
    data._explain.clear()  # the cached explanation expires (CACHE_TTL_SECONDS) or the store changes
    at = run_page(ITEM, item=app_env["w1"])
    [note] = [c.value for c in at.caption if "判定依据按当前模型" in c.value]
    assert "97.0%" in note and "上方的 92.0%" in note


def test_the_item_view_explains_the_item_as_the_scorer_reads_it(app_env, monkeypatch):
    """Every reaction (the reactions table shows at most 2,000) and the text cut to
    max_text_chars, as the worker scores it: otherwise the weights add up to another score."""
    from rumourwatch import store

    seen = []

    class Recording(FakeBundle):
        def explain(self, doc):
            seen.append(doc)
            return {"rumour_probability": 0.92, "words": [{"term": "示例", "weight": 0.5}]}

    monkeypatch.setenv("RUMOURWATCH_MAX_TEXT_CHARS", "12")
    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    item_id = app_env["w1"]
    at = fx.NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    with db.conn:
        db.execute("UPDATE items SET text = ? WHERE id = ?", ["很长的正文" * 10, item_id])
        store.insert_reactions(db, item_id, [{"kind": "repost", "at": at, "text": "转发微博", "user_id": f"r{k}",
                                              "dedupe_key": f"bulk-{k}", "fetched_at": at} for k in range(2100)])
    db.conn.close()
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: Recording())
    at = run_page(ITEM, item=item_id)
    assert not at.exception
    [doc] = seen
    assert doc.text == ("很长的正文" * 10)[:12] and len(doc.reactions) == 2103


def test_item_page_says_when_no_clarification_is_close(app_env, monkeypatch):
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: FaintMatchesBundle())
    at = run_page(ITEM, item=app_env["w1"])
    assert any("没有相似度达到 0.05 的辟谣文章" in i.value for i in at.info)
    [folded] = [e for e in at.expander if e.label.startswith("相似度低于 0.05 的文章（1 篇")]
    assert [list(df.value["标题"]) for df in folded.dataframe] == [["米饭怎么吃才健康"]]


def test_item_page_says_when_the_debunk_index_is_not_trained(app_env, monkeypatch):
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: UntrainedIndexBundle())
    at = run_page(ITEM, item=app_env["w1"])
    assert table_with(at, "词语/互动")  # the explanation still shows
    assert any("rumourwatch train" in i.value for i in at.info)
    assert any(c.value == "技术细节：debunk index not trained" for c in at.caption)
    assert not table_with(at, "相似度")


class OwnClarificationsBundle(FakeBundle):
    """FakeBundle's article matches, plus a real debunk index (fictional articles) for matching the
    clarifications published here, and the conftest rule scores."""

    def __init__(self):
        from conftest import RuleBundle
        from test_knowledge import ARTICLES

        from rumourwatch.knowledge import DebunkIndex

        self.debunks, self.rules = DebunkIndex().fit(ARTICLES), RuleBundle()

    def score(self, docs):
        return self.rules.score(docs)

    def explain(self, doc):
        return {"rumour_probability": 0.5, "words": [], "reactions": [], "signals": [], "reaction_examples": []}


def test_item_page_points_a_reworded_claim_to_the_clarification_published_here(app_env, monkeypatch):
    from rumourwatch.score import score_items

    bundle = OwnClarificationsBundle()
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: bundle)
    path = os.environ["RUMOURWATCH_DB_PATH"]
    db = store.open_db(path)
    at = iso(fx.NOW - timedelta(hours=2))
    with store.transaction(db):  # the vinegar post's alert, clarified here an hour ago
        alert_id = store.insert_alert(db, {"dedupe_key": f"item:{app_env['w1']}", "kind": "rumour", "rules": "[]",
                                           "severity": "三级", "item_id": app_env["w1"], "created_at": at,
                                           "updated_at": at, "respond_by": at, "status": "published"})
        cid = store.insert_clarification(db, {
            "alert_id": alert_id, "title": "喝白醋不能软化血管，也治不好高血压", "body": "正文", "status": "published",
            "author": "li", "created_at": at, "updated_at": at, "published_url": "https://example.org/piyao/vinegar",
            "published_at": iso(fx.NOW - timedelta(hours=1)), "published_by": "monitor1"})
    db.conn.close()
    new_id = fx.append_item(Path(path), "w-reworded", "听说空腹喝白醋可以软化血管，一个月就能治好高血压，医生不会告诉你的秘方",
                            fx.NOW - timedelta(minutes=5))
    db = store.open_db(path)
    assert store.get_item(db, new_id)["cluster_id"] != store.get_item(db, app_env["w1"])["cluster_id"]
    score_items(db, bundle, [new_id], fx.NOW)
    db.conn.close()

    page = run_page(ITEM, item=new_id)
    assert metric(page, "已辟谣") == "是"
    [note] = [i.value for i in page.info if "本机构已发布的澄清" in i.value]
    assert "喝白醋不能软化血管，也治不好高血压" in note and "请核对是否为同一说法" in note
    assert re.search(r"相似度 0\.[3-9]\d", note)
    assert page.get("link_button")  # 查看已发布的澄清
    matches = table_with(page, "相似度")[0]
    first = matches.iloc[0]  # the clarification published here first, above a closer article
    assert (first["平台"], first["已辟谣"], first["链接"]) == ("本机构澄清", "是", "https://example.org/piyao/vinegar")
    assert "喝醋不能软化血管" in set(matches["标题"])  # the knowledge base's article is still listed
    db = store.open_db(path, read_only=True)
    assert store.get_item(db, new_id)["debunk_clarification_id"] == cid


def test_item_page_rejects_bad_or_unknown_ids_clearly(app_env):
    at = run_page(ITEM, item="abc")
    assert any("正整数" in e.value for e in at.error)
    at = run_page(ITEM, item=9999)
    assert any("未找到编号为 9999" in w.value for w in at.warning)
    at = run_page(ITEM)
    assert any("输入条目编号" in i.value for i in at.info)


# --- 数据源与质量 ---------------------------------------------------------------------------

def test_sources_page_shows_checkpoints_errors_and_rejects(app_env):
    at = run_page(SOURCES)
    assert metric(at, "拒收记录") == "2"
    assert metric(at, "有错误的数据源") == "1"
    assert metric(at, "条目总数") == str(len(fx.ITEMS))
    # a failure recorded without a key (as before the worker kept one): its text under 技术细节
    assert any("rss\\:卫健委" in w.value and "原因见下方技术细节" in w.value for w in at.warning)
    assert "连接超时：源站无响应" in [c.value for c in at.code]
    status = table_with(at, "检查点位置")[0]
    assert "line:9" in set(status["检查点位置"])
    rejects = table_with(at, "原因")[0]
    # the fixture's reader reject has no key, as rejects stored before they kept one: English, labelled
    assert list(rejects["原因"]) == ["没有正文，也没有标题，无从研判。", "（英文原文）invalid JSON: Expecting ',' delimiter"]
    raw = next(c for c in at.code if c.value.startswith('{"id": "empty"'))
    assert raw.value == '{"id": "empty", "platform": "微博", "text": "   "}'  # raw, as text
    [detail] = [e for e in at.expander if e.label == "拒收原因（英文原文，供管理员排查）"]
    assert detail.code[0].value == "empty text: the record has no text or title to assess"
    assert "重置检查点（管理员）" not in [h.value for h in at.subheader]  # a monitor's page: no admin action


def test_reject_reasons_are_in_chinese_on_the_page_and_english_on_the_command_line(app_env, tmp_path):
    """Why each record was set aside, from the file reader and from ingest, in the words the monitor
    reads; the worker's English reason stays for the CLI and under 技术细节."""
    from click.testing import CliRunner

    from rumourwatch.cli import cli
    from rumourwatch.sources.files import CsvSource, JsonLinesSource
    from rumourwatch.worker import Worker

    posts = tmp_path / "posts.jsonl"
    lines = ['{"id": "a1", "text": "喝醋软化血管"',
             '["不是对象"]',
             '{"id": "a3", "text": "多喝热水防感冒", "repost_num": "很多"}',
             '{"id": "a4", "text": "生姜治百病", "date": "昨天下午"}',
             '{"id": "a5", "text": "蒜泡水", "comments": [{"date": "2026-11-23 09:00", "text": "真的"}, {"date": "下周"}]}']
    posts.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    sheet = tmp_path / "posts.csv"
    sheet.write_text("id,text,date\nb1,示例正文,2026-11-23 10:00,多余\nb2,\"引号没有闭合,2026-11-23\n",
                     encoding="utf-8")
    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    Worker(db, [JsonLinesSource(posts, name="file:posts"), CsvSource(sheet, name="file:sheet")],
           clock=lambda: fx.NOW).poll_once()
    db.conn.close()

    at = run_page(SOURCES)
    rejects = table_with(at, "原因")[0]
    shown = {place.replace(f"{tmp_path}/", ""): reason for place, reason in zip(rejects["来源位置"], rejects["原因"])}
    assert shown == {
        "posts.jsonl:1 line=1;byte=42": "这一行不是有效的 JSON（第 30 列附近有误）：每行应是一个完整的 JSON 对象，请检查引号、逗号和括号。",
        "posts.jsonl:2 line=2;byte=59": "这一行应是一个 JSON 对象（{…}），实际是列表。",
        "posts.jsonl:3 line=3;byte=129": "转发数（repost_num）应是整数，实际是“很多”。",
        "posts.jsonl:4 line=4;byte=193": "日期“昨天下午”无法识别：请用“YYYY-MM-DD HH:MM”（北京时间）或 ISO 8601 格式。",
        "posts.jsonl:5 line=5;byte=309": ("评论列表（comments）第 2 条：日期“下周”无法识别：请用“YYYY-MM-DD HH:MM”（北京时间）"
                                        "或 ISO 8601 格式。"),
        "posts.csv:2 row=1;line=2": "这一行有 4 列，而表头有 3 列：请检查该行的逗号和引号。",
        "posts.csv:3 row=2;line=3": "这一行有 2 列，而表头有 3 列，多半是有引号没有闭合：请检查该行的引号。",
        "line:9": "没有正文，也没有标题，无从研判。",  # the fixture's
        "fixture.jsonl:8 line:8": "（英文原文）invalid JSON: Expecting ',' delimiter",
    }
    assert not any(re.search(r"[A-Za-z]{4,} [a-z]{2,}", v) for v in shown.values())  # no English sentence

    result = CliRunner().invoke(cli, ["rejects", "--limit", "10"])
    assert result.exit_code == 0, result.output
    assert "line 1: invalid JSON: Expecting ',' delimiter at column 30" in result.output
    assert "comments[1]: unreadable date '下周'" in result.output
    assert "expected 3 fields as in the header, found 2 (an unclosed quote?)" in result.output


def test_a_source_that_cannot_be_read_says_why_in_chinese_with_the_english_under_technical_detail(app_env, tmp_path):
    """The worker keeps the SourceError's key: the banner and the status table say in Chinese what is
    wrong and what to do; the worker's English text stays available under 技术细节."""
    from rumourwatch.sources.files import JsonLinesSource
    from rumourwatch.worker import Worker

    missing = tmp_path / "incoming" / "weibo.jsonl"
    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    stats = Worker(db, [JsonLinesSource(missing, name="file:weibo")], clock=lambda: fx.NOW).poll_once()
    db.conn.close()
    assert stats.errors == [f"file:weibo: file {missing} does not exist"]  # the CLI's log: English

    at = run_page(SOURCES)
    [banner] = [w.value.replace("\\", "") for w in at.warning if "file\\:weibo" in w.value]
    assert banner.startswith("数据源 file:weibo 于 ")
    assert f"读取失败：文件 {missing} 不存在：请核对数据源设置中的文件路径，或把文件放回原处。" in banner
    assert banner.endswith("采集程序会在下一轮自动重试。")
    assert not re.search(r"does not exist|[a-z]{3,} [a-z]{3,}", banner.replace(str(missing), ""))
    [detail] = [e for e in at.expander if e.label.replace("\\", "") == "技术细节（英文原文）：file:weibo"]
    assert [c.value for c in detail.code] == [f"file {missing} does not exist"]
    status = table_with(at, "检查点位置")[0]
    [row] = status[status["数据源"] == "file:weibo"].to_dict("records")
    assert row["最近错误"] == f"文件 {missing} 不存在：请核对数据源设置中的文件路径，或把文件放回原处。"  # as typed


def test_an_admin_resets_a_source_checkpoint_after_confirming_as_the_error_says(app_env, tmp_path):
    """A file replaced by a shorter one: the banner names the way out (this page's 重置检查点, or the
    command); the admin confirms, resets, and the worker reads the file from the start, audited."""
    from rumourwatch import auth
    from rumourwatch.sources.files import JsonLinesSource
    from rumourwatch.worker import Worker

    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": "p1", "text": "示例：' + "多喝绿豆汤可以治百病。" * 30 + '"}\n', encoding="utf-8")
    source = JsonLinesSource(posts, name=f"file:{posts}")
    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    Worker(db, [source], clock=lambda: fx.NOW).poll_once()
    posts.write_text('{"id": "p2", "text": "示例：换过的短文件"}\n', encoding="utf-8")
    Worker(db, [source], clock=lambda: fx.NOW).poll_once()
    auth.create_user(db, "admin1", "fixture-password-9", "admin", actor="test")
    db.conn.close()

    at = AppTest.from_file(str(fx.APP), default_timeout=30)
    login_for_test(at, "admin1")
    at.switch_page(SOURCES)
    at.run()
    assert not at.exception
    [banner] = [w for w in (w.value.replace("\\", "") for w in at.warning) if "posts.jsonl" in w]
    assert (f"请管理员在本页“重置检查点”处重置该数据源的检查点，或在服务器上运行 "
            f"rumourwatch sources reset-checkpoint {source.name}，以便重新读取该文件。") in banner
    assert at.selectbox(key="reset_source").value == source.name  # the failing source first
    assert at.button(key="reset_go").disabled  # not before the confirmation
    next(c for c in at.checkbox if c.label.replace("\\", "").endswith(source.name)).check().run()
    at.button(key="reset_go").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [f"已完成：重置数据源 {source.name} 的检查点，采集程序将在下一轮从头读取"]
    assert not [w for w in at.warning if "posts" in w.value]

    db = store.open_db(os.environ["RUMOURWATCH_DB_PATH"])
    assert (store.get_checkpoint(db, source.name), store.source_checkpoint(db, source.name)["last_error"]) == (None, None)
    [entry] = store.audit_entries(db, target_type="source")
    assert (entry["actor"], entry["action"], entry["target_id"]) == ("admin1", "source.reset_checkpoint", source.name)
    assert Worker(db, [source], clock=lambda: fx.NOW).poll_once().new_items == 1  # p2, read from the start
    db.conn.close()


# --- empty and broken stores ----------------------------------------------------------------

def test_missing_database_says_how_to_create_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(tmp_path / "absent.db"))
    at = run_page(login=False)
    assert any("rumourwatch init-db" in i.value for i in at.info)


def test_empty_database_shows_the_empty_state(tmp_path, monkeypatch):
    path = tmp_path / "empty.db"
    store.open_db(path).conn.close()
    fx.add_monitor(path)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    at = run_page()
    assert any("暂无数据：请先启动采集（rumourwatch watch）" in i.value for i in at.info)
    assert not at.metric
    at = run_page(SOURCES)
    assert metric(at, "拒收记录") == "0"
    assert any("暂无拒收记录" in i.value for i in at.info)


def test_a_file_that_is_not_a_database_gives_an_error_not_a_traceback(tmp_path, monkeypatch):
    path = tmp_path / "junk.db"
    path.write_text("这不是数据库" * 200, encoding="utf-8")
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    for page in (None, ITEM, SOURCES):
        at = run_page(page, login=False, **({"item": 1} if page == ITEM else {}))
        [error] = [e.value.replace("\\", "") for e in at.error]
        # what is wrong and what to do, in Chinese; SQLite's English only under 技术细节
        assert error == (f"无法读取数据库：{path} 不是可用的 rumourwatch 数据库（文件已损坏，或被其他文件覆盖）。"
                         "请核对设置 RUMOURWATCH_DB_PATH 指向的文件，或请管理员从备份恢复（rumourwatch restore）。"), page
        [detail] = [e for e in at.expander if e.label == "技术细节（英文原文，供管理员排查）"]
        assert "file is not a database" in detail.code[0].value


def test_bad_setting_is_named_in_chinese_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RUMOURWATCH_RUMOUR_THRESHOLD", "很高")
    at = run_page(login=False)
    [error] = [e.value.replace("\\", "") for e in at.error]
    assert error == ("配置有误：设置 rumour_threshold（环境变量 RUMOURWATCH_RUMOUR_THRESHOLD）的值“很高”无效，"
                     "应为数字。请修正该环境变量后重启看板。")
    [detail] = [e for e in at.expander if e.label == "技术细节（英文原文，供管理员排查）"]
    assert detail.code[0].value == "setting rumour_threshold (RUMOURWATCH_RUMOUR_THRESHOLD) must be a float, got '很高'"


def test_the_item_view_says_whether_health_advice_names_whom_it_is_for(app_env):
    # seed 000 §(二)1: health science content should state its applicable population
    missing = "未见适用人群的说明"
    at = run_page(ITEM, item=app_env["w1"])  # the vinegar cure, for everyone
    assert any(missing in i.value for i in at.info)
    at = run_page(ITEM, item=app_env["f1"])  # the flu-shot notice names its groups
    assert not any(missing in i.value for i in at.info)
    assert "适用人群：文中提到 老年人、儿童。" in [c.value for c in at.caption]
    at = run_page(ITEM, item=app_env["n1"])  # the weather: not about health, nothing to say
    assert not any(missing in i.value for i in at.info) and not any("适用人群" in c.value for c in at.caption)


def test_item_page_gives_the_publishing_accounts_record(app_env):
    """A monitor sees at once whether the publisher is a habit or a one-off (舆情风险点's count)."""
    at = run_page(ITEM, item=app_env["f1"])  # 市卫健委: one health item, not flagged
    assert "该账号近 90 天：健康相关条目 1 条，疑似谣言 0 条，经核实谣言 0 条。" in [c.value for c in at.caption]
    at = run_page(ITEM, item=app_env["h1"])  # <b>转发达人</b>: one flagged item, one week: a one-off
    assert "该账号近 90 天：健康相关条目 1 条，疑似谣言 1 条（出现于 1 个不同的周），经核实谣言 0 条。" in [
        c.value for c in at.caption]
