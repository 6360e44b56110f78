"""政务新媒体 (seed 001 二、五要; seed 002 三; seed 000 (三)3, (四)2): the office's own channels are
registered as the feed's items carry them, and their posts measured for reach against the period
before, their most spread posts listed to promote, and the topics the public talked about read
against the office's own posts; in the reports and on the page."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dashboard_fixtures as dfx
import pytest
import report_fixtures as rfx
from test_submissions import page_env  # noqa: F401  (the page's store)
from workflow_helpers import add_scored_items

from rumourwatch import auth, ownmedia, reports, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.records import CST

NOW = rfx.NOW          # Monday 23 November 2026, 16:00 in Beijing
INFECTIOUS, MIND, LITERACY, DIET = "传染病及地方病防控", "心理健康促进", "健康知识普及", "合理膳食"
_serial = iter(range(1_000_000))


def cst(y, m, d, h=10) -> datetime:
    return datetime(y, m, d, h, tzinfo=CST)


def _words(n: int) -> str:
    """Thirty characters of its own for each item, so no two items are copies of one story."""
    return "".join(chr(0x4E00 + (n * 7919 + i * 104729) % 20000) for i in range(30))


def post(db, at: datetime, *, platform="微博", account="gov", topic=LITERACY, reach=(0, 0, 0), p=0.05,
         polarity="neutral", now: datetime = NOW) -> int:
    """One scored health item (an invented text) of `account`, with its reposts, comments and likes,
    collected at `now`."""
    n = next(_serial)
    [item_id] = add_scored_items(
        db, f"om-{n}", [{"id": f"om{n}", "platform": platform, "account": account, "date": at.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
                         "url": f"https://example.org/om/{n}", "text": f"关于{topic}的测试条目第{n}号：{_words(n)}",
                         "repost_num": reach[0], "comment_num": reach[1], "like_num": reach[2]}],
        [{"rumour_probability": p, "polarity": polarity, "topic": topic}], now)
    return item_id


def public(db, topic: str, n: int, flagged: int = 0, day: int = 20) -> None:
    """`n` health items of the public on `topic` on 20 November, the first `flagged` of them likely rumours."""
    for i in range(n):
        post(db, cst(2026, 11, day, 12), account=f"网友{topic}{i}", topic=topic, p=0.9 if i < flagged else 0.1,
             polarity="negative" if i % 2 else "neutral")


def week_figures(db, **kw) -> dict:
    start, end = store.day_range(cst(2026, 11, 16, 0), 7)  # W47: 16–22 November
    previous, _ = store.day_range(cst(2026, 11, 9, 0), 7)
    return ownmedia.figures(db, start, end, 0.5, previous_start=previous, **kw)


def test_a_channel_is_registered_as_the_feed_carries_it_refused_with_its_reason_and_removed():
    db = store.open_db(memory=True)
    for day in (18, 19, 20):
        post(db, cst(2026, 11, day))
    added = ownmedia.add(db, platform="微博", account=" gov ", name="健康示例", actor="mon", now=NOW, note="市卫健委官微")
    assert (added["platform"], added["account"], added["name"], added["unit_id"], added["items"]) == (
        "微博", "gov", "健康示例", None, 3)
    [entry] = store.audit_entries(db, actions=["ownmedia.add"])
    assert entry["target_id"] == str(added["id"]) and '"name": "健康示例"' in entry["details"]
    # nothing collected of it yet: registered, and told there are none
    assert ownmedia.add(db, platform="抖音", account="gov-dy", name="健康示例抖音号", actor="mon", now=NOW)["items"] == 0

    def refused(key, **fields):
        before = len(store.list_own_accounts(db))
        with pytest.raises(WorkflowError) as exc:
            ownmedia.add(db, **{"platform": "微信公众号", "account": "gzh", "name": "健康示例号", "actor": "mon",
                                "now": NOW, **fields})
        assert exc.value.key == key and len(store.list_own_accounts(db)) == before
        return exc.value

    refused("ownmedia_platform_missing", platform=" ")
    refused("ownmedia_account_missing", account="")
    refused("ownmedia_name_missing", name="  ")
    assert refused("ownmedia_text_long", name="健" * 41).params == {"ownmedia_field": "name", "n": 41, "max": 40}
    refused("ownmedia_unit_missing", unit_id=999)
    assert refused("ownmedia_taken", platform="微博", account="gov").params == {"platform": "微博", "account": "gov"}
    # the same account id on another platform is another channel
    assert ownmedia.add(db, platform="今日头条", account="gov", name="健康示例头条号", actor="mon", now=NOW)["items"] == 0

    with pytest.raises(WorkflowError) as exc:
        ownmedia.remove(db, added["id"], reason=" ", actor="mon", now=NOW)
    assert exc.value.key == "ownmedia_reason_missing" and store.get_own_account(db, added["id"])["removed_at"] is None
    gone = ownmedia.remove(db, added["id"], reason="账号已移交宣传中心", actor="mon", now=NOW)
    assert (gone["removed_by"], gone["remove_reason"]) == ("mon", "账号已移交宣传中心")
    assert "健康示例" not in [a["name"] for a in store.list_own_accounts(db)]
    assert '"reason": "账号已移交宣传中心"' in store.audit_entries(db, actions=["ownmedia.remove"])[0]["details"]
    with pytest.raises(WorkflowError) as exc:
        ownmedia.remove(db, added["id"], reason="再删一次", actor="mon", now=NOW)
    assert exc.value.key == "ownmedia_missing"
    # removed, it can be registered again
    assert ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="mon", now=NOW)["items"] == 3


def test_the_channels_posts_are_the_offices_own_publishing_not_rumours_to_flag():
    db = store.open_db(memory=True)
    before = post(db, cst(2026, 11, 20), p=0.95, topic=INFECTIOUS)  # its debunk quotes the rumour
    rumour = post(db, cst(2026, 11, 20), account="谣言号", p=0.9, topic=INFECTIOUS)

    def listed() -> set[int]:
        return {r["id"] for r in store.top_rumours(db, limit=50)}

    assert listed() == {before, rumour}
    channel = ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="mon", now=NOW)
    assert listed() == {rumour}  # flagged when the channel is registered
    assert store.get_item(db, before)["quality_flags"] == '["own_channel"]'
    later = post(db, cst(2026, 11, 21), p=0.97, topic=INFECTIOUS)  # and as its posts arrive
    assert listed() == {rumour} and "own_channel" in store.get_item(db, later)["quality_flags"]
    other = post(db, cst(2026, 11, 21), platform="抖音", p=0.97)  # the same id elsewhere is not the channel
    assert listed() == {rumour, other}
    ownmedia.remove(db, channel["id"], reason="登记错误", actor="mon", now=NOW)
    assert listed() == {before, rumour, later, other}  # taken off with it
    assert store.get_item(db, before)["quality_flags"] is None


def test_each_channel_is_measured_against_the_period_before_and_its_best_posts_listed():
    db = store.open_db(memory=True)
    weibo = ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="mon", now=NOW)
    ownmedia.add(db, platform="微信公众号", account="gzh", name="健康示例号", actor="mon", now=NOW)
    a = post(db, cst(2026, 11, 16, 0), reach=(10, 2, 5))          # W47's first moment
    post(db, cst(2026, 11, 18), reach=(0, 0, 0))
    b = post(db, cst(2026, 11, 22, 23), reach=(100, 20, 30), topic=INFECTIOUS)  # its last hour
    post(db, cst(2026, 11, 23, 0), reach=(999, 0, 0))             # the next week's
    post(db, cst(2026, 11, 12), reach=(4, 0, 1))                  # the week before
    post(db, cst(2026, 11, 8), reach=(50, 0, 0))                  # the week before that
    post(db, cst(2026, 11, 19), platform="抖音", reach=(500, 0, 0))  # the same id on another platform
    post(db, cst(2026, 11, 19), account="别人", reach=(800, 0, 0))   # someone else's
    f = week_figures(db)
    by_name = {x["name"]: x for x in f["accounts"]}
    gov = by_name["健康示例"]
    assert {k: gov[k] for k in ("posts", "health", "reposts", "comments", "likes", "engagement", "per_post")} == {
        "posts": 3, "health": 3, "reposts": 110, "comments": 22, "likes": 35, "engagement": 167, "per_post": 55.7}
    assert (gov["previous"]["posts"], gov["previous"]["engagement"]) == (1, 5)
    assert (by_name["健康示例号"]["posts"], by_name["健康示例号"]["per_post"]) == (0, None)
    assert (f["total"]["posts"], f["total"]["engagement"], f["previous"]) == (3, 167, {"posts": 1, "engagement": 5})
    assert [(r["id"], r["engagement"], r["name"]) for r in f["top"][:2]] == [(b, 150, "健康示例"), (a, 17, "健康示例")]
    assert f["days"] == [{"day": "2026-11-16", "posts": 1, "engagement": 17}, {"day": "2026-11-18", "posts": 1,
                                                                               "engagement": 0},
                         {"day": "2026-11-22", "posts": 1, "engagement": 150}]  # China days
    # the public's channels alone
    only = week_figures(db, platforms=["微信公众号"])
    assert [x["name"] for x in only["accounts"]] == ["健康示例号"] and only["top"] == []
    # a channel taken off the register is no longer counted
    ownmedia.remove(db, weibo["id"], reason="登记错误", actor="mon", now=NOW)
    assert week_figures(db)["total"]["posts"] == 0


def test_a_topic_the_public_talked_about_and_the_office_did_not_answer_is_named():
    db = store.open_db(memory=True)
    assert week_figures(db) == {"accounts": [], "total": {k: 0 for k in ("posts", "health", "reposts", "comments",
                                                                         "likes", "engagement")},
                                "previous": {"posts": 0, "engagement": 0}, "top": [], "topics": [], "unanswered": [],
                                "days": []}
    ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="mon", now=NOW)
    public(db, INFECTIOUS, ownmedia.CONCERN_MIN_ITEMS, flagged=6)   # talked about, not answered
    public(db, MIND, ownmedia.CONCERN_MIN_ITEMS - 1, flagged=5)     # one item short of it
    public(db, DIET, ownmedia.CONCERN_MIN_ITEMS + 5, flagged=4)     # talked about more, flagged less
    public(db, LITERACY, 30)                                        # talked about, and answered
    post(db, cst(2026, 11, 21), topic=LITERACY)
    public(db, INFECTIOUS, 40, day=13)                              # the week before: not this week's talk
    f = week_figures(db)
    assert f["unanswered"] == [INFECTIOUS, DIET]  # the most flagged first, not the most talked about
    rows = {r["topic"]: r for r in f["topics"]}
    assert len(rows) == 15 and f["topics"][0]["topic"] == LITERACY  # every topic, the most talked about first
    assert rows[INFECTIOUS] == {"topic": INFECTIOUS, "items": 20, "negative": 10, "flagged": 6, "own": 0}
    assert (rows[LITERACY]["items"], rows[LITERACY]["own"]) == (30, 1)  # the public's items: not the office's own
    assert rows[MIND]["items"] == 19


def test_the_reports_say_what_the_channels_published_and_what_they_left_unanswered():
    db = store.open_db(memory=True)
    rfx.build_all(db)  # W46 and W47 of the reports' fixtures
    quiet = reports.compute_weekly(db, rfx.WEEK, now=NOW)
    assert not any("政务新媒体" in line for line in reports.press_lines(quiet))  # no channel: nothing said
    ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="mon", now=NOW)
    post(db, cst(2026, 11, 17, 9), reach=(1200, 300, 1500), topic=LITERACY)
    post(db, cst(2026, 11, 19), reach=(3, 1, 0), topic=INFECTIOUS)
    post(db, cst(2026, 11, 10), reach=(40, 0, 0))
    public(db, DIET, 21, flagged=2, day=18)
    weekly = reports.compute_weekly(db, rfx.WEEK, now=NOW)
    lines = [("政务新媒体：本周 1 个已登记账号发布 2 条（健康相关 2 条），转发、评论、点赞合计 3,004 次，篇均 1,502 次；"
              "上周发布 1 条、互动 40 次。"),
             f"传播最广的作品：健康示例 11 月 17 日“关于{LITERACY}的测试条目第",
             "公众关注而本单位账号本周没有发布的话题：合理膳食（健康相关条目 21 条，疑似谣言 2 条）。可组织专家撰写科普或解读。"]
    got = reports.press_lines(weekly)[-3:]
    assert got[0] == lines[0] and got[1].startswith(lines[1]) and got[1].endswith("（互动 3,000 次），可推广。")
    assert got[2] == lines[2]
    for text in (reports.render_markdown(weekly), reports.render_html(weekly, charts=False)):
        assert lines[0] in text and lines[2] in text
    saved = reports.Report.from_json(weekly.to_json())
    assert reports.press_lines(saved)[-3:] == got
    # a report saved before the channels were measured renders as it did
    before = weekly.to_dict()
    del next(s for s in before["sections"] if s["key"] == "alerts")["data"]["own_media"]
    assert not any("政务新媒体" in line for line in reports.press_lines(reports.Report.from_dict(before)))
    # channels on two platforms: each platform's posts, the most first
    ownmedia.add(db, platform="微信公众号", account="gzh", name="健康示例号", actor="mon", now=NOW)
    for day in (18, 19, 20):
        post(db, cst(2026, 11, day), platform="微信公众号", account="gzh")
    assert reports.press_lines(reports.compute_weekly(db, rfx.WEEK, now=NOW))[-3].endswith(
        "上周发布 1 条、互动 40 次。其中微信公众号 3 条、微博 2 条。")
    # a day is too short to judge a channel; the month says it against the month before
    assert not any("政务新媒体" in line for line in reports.press_lines(reports.compute_daily(db, "2026-11-17", now=NOW)))
    monthly = reports.compute_monthly(db, rfx.MONTH, now=NOW)
    assert "政务新媒体：本月 2 个已登记账号发布 6 条" in "".join(reports.press_lines(monthly))
    assert "上月发布 0 条" in "".join(reports.press_lines(monthly))


def test_the_page_registers_a_channel_and_shows_what_it_reached(page_env):  # noqa: F811
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test

    def page(username: str) -> AppTest:
        at = AppTest.from_file(str(dfx.APP.parent / "app_pages" / "ownmedia.py"), default_timeout=30)
        login_for_test(at, username)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    at = page(dfx.MONITOR)
    assert any("尚未登记本单位的政务新媒体账号" in i.value for i in at.info)
    # the fixtures' 市卫健委 posts on a platform the feed names 新闻网站: offered, as the store holds it
    assert "新闻网站" in at.selectbox(key="om_platform_0").options
    at.selectbox(key="om_platform_0").set_value("新闻网站")
    at.text_input(key="om_account_0").set_value("市卫健委")
    next(b for b in at.button if b.label == "登记账号").click().run()
    assert any("请填写账号名称" in e.value for e in at.error)  # refused in Chinese, nothing kept
    assert store.list_own_accounts(store.open_db(page_env)) == []
    at.text_input(key="om_name_0").set_value("健康示例市")
    next(b for b in at.button if b.label == "登记账号").click().run()
    assert not at.exception
    assert any("已登记账号：健康示例市（库中已有该账号条目 1 条）" in s.value for s in at.success)
    [channel] = store.list_own_accounts(store.open_db(page_env))
    assert (channel["platform"], channel["account"], channel["added_by"]) == ("新闻网站", "市卫健委", dfx.MONITOR)
    shown = at.dataframe[0].value
    assert list(shown["账号名称"]) == ["健康示例市"] and list(shown["发布"]) == ["1"]
    assert [m.value for m in at.metric][:2] == ["1", "1"]
    assert any(c.value == "10 月 25 日 至 11 月 23 日（30 天），与此前 30 天相比。" for c in at.caption)
    at.button_group(key="om_span").set_value("7").run()  # the last 7 days
    assert any(c.value == "11 月 17 日 至 11 月 23 日（7 天），与此前 7 天相比。" for c in at.caption)
    at.button_group(key="om_span").set_value("custom").run()  # a range: nothing until its last day is picked
    at.date_input(key="om_range").set_value((date(2026, 11, 1), date(2026, 11, 10))).run()
    assert any(c.value == "11 月 1 日 至 11 月 10 日（10 天），与此前 10 天相比。" for c in at.caption)
    assert list(at.dataframe[0].value["发布"]) == ["0"]  # the item is of 23 November
    # a leader reads it, and does not register nor remove
    db = store.open_db(page_env)
    auth.create_user(db, "boss", dfx.MONITOR_PASSWORD, "leader", "test")
    boss = page("boss")
    assert not [b for b in boss.button if b.label in ("登记账号", "删除")]
    assert list(boss.dataframe[0].value["账号名称"]) == ["健康示例市"]
    # the monitor removes it, with the reason
    at = page(dfx.MONITOR)
    next(b for b in at.button if b.label == "删除").click().run()
    assert any("删除已登记账号时请写明原因" in e.value for e in at.error)
    at.text_input(key="om_remove_reason").set_value("登记错误")
    next(b for b in at.button if b.label == "删除").click().run()
    assert store.list_own_accounts(store.open_db(page_env)) == []
    assert any("尚未登记本单位的政务新媒体账号" in i.value for i in at.info)



def test_the_self_check_warns_of_a_channel_nothing_is_collected_of():
    from rumourwatch import selfcheck

    db = store.open_db(memory=True)

    def silent() -> list:
        return [f for f in selfcheck.check_sources(db, 6.0, NOW) if f.key == "sources.channels_silent"]

    assert silent() == []  # no channel registered: nothing to say
    post(db, NOW - timedelta(days=selfcheck.CHANNEL_QUIET_DAYS - 1))
    post(db, NOW - timedelta(days=selfcheck.CHANNEL_QUIET_DAYS + 1), account="old")
    ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="mon", now=NOW)
    assert silent() == []
    ownmedia.add(db, platform="微博", account="old", name="旧账号", actor="mon", now=NOW)
    ownmedia.add(db, platform="抖音", account="typo", name="写错的账号", actor="mon", now=NOW)
    [finding] = silent()
    assert (finding.level, finding.params) == ("warning", {"channels": "旧账号（微博 old）、写错的账号（抖音 typo）",
                                                           "count": 2, "days": 14})


def test_the_command_registers_lists_measures_and_removes_a_channel(tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from rumourwatch import clock
    from rumourwatch.cli import cli

    path = tmp_path / "cli.db"
    db = store.open_db(path)
    rfx.build_all(db)  # its units: 示例县卫生健康局 …
    post(db, cst(2026, 11, 20), reach=(7, 2, 1))
    post(db, cst(2026, 10, 10), reach=(1, 0, 0))  # in the 30 days before the last 30 (25 October on)
    unit = store.list_units(db)[0]
    db.conn.close()
    monkeypatch.setattr(clock, "system_clock", lambda: NOW)
    runner = CliRunner()
    base = ["--db", str(path), "channels"]
    out = runner.invoke(cli, [*base, "add", "--platform", "微博", "--account", "gov", "--name", "健康示例",
                              "--unit", unit["code"], "--actor", "mon"])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == "channel #1 健康示例 (微博 gov) registered; 2 of its items in the store"
    out = runner.invoke(cli, [*base, "add", "--platform", "抖音", "--account", "x", "--name", "y", "--unit", "无此单位"])
    assert out.exit_code == 2 and "no unit with the code or name '无此单位'" in out.output
    out = runner.invoke(cli, [*base, "add", "--platform", "微博", "--account", "gov", "--name", "重复"])
    assert out.exit_code == 1 and "微博 account 'gov' is registered already" in out.output
    assert runner.invoke(cli, [*base, "list"]).output.strip() == f"#1 健康示例 (微博 gov) {unit['name']}"
    figures = json.loads(runner.invoke(cli, [*base, "figures", "--days", "7", "--json"]).output)
    assert (figures["total"]["posts"], figures["total"]["engagement"], figures["previous"]["posts"]) == (1, 10, 0)
    month = runner.invoke(cli, [*base, "figures"]).output
    assert "健康示例 (微博): 1 posts, 10 reposts+comments+likes (before: 1 posts, 1)" in month
    out = runner.invoke(cli, [*base, "remove", "1"])
    assert out.exit_code == 2 and "--reason" in out.output
    assert runner.invoke(cli, [*base, "remove", "1", "--reason", "登记错误"]).output.strip() == "channel #1 健康示例 removed"
    assert runner.invoke(cli, [*base, "list"]).output.strip() == "no channel registered"


def test_the_item_page_says_a_post_is_the_offices_own_not_a_missing_element(tmp_path, monkeypatch):
    path = tmp_path / "page.db"
    ids = dfx.build_store(path)  # the fixtures' 市卫健委 posts on 新闻网站, with its author and source
    db = store.open_db(path)
    ownmedia.add(db, platform="新闻网站", account="市卫健委", name="健康示例市", actor="mon", now=NOW)
    db.conn.close()
    at = dfx.item_page(path, ids["f1"], monkeypatch, tmp_path / "none")
    assert not at.exception
    assert [i.value for i in at.info if "政务新媒体" in i.value] == [
        "本单位政务新媒体账号的发布（见“政务新媒体”页；不列入“最可能的谣言”，不触发谣言预警，不计入舆情风险点）。"]
    assert not any("政务新媒体" in w.value for w in at.warning)
    assert any(s.value.startswith("来源、作者或发布账号、发布时间等基本要素齐全") for s in at.success)


def test_a_topic_row_opens_its_items_and_a_top_post_row_opens_the_item(page_env, monkeypatch):  # noqa: F811
    """The rows ask 条目检索 for the topic's items (`ui.open_search(topic=…)`) and the item page for
    a post (`ui.open_item`); the switch itself is Streamlit's."""
    from streamlit.testing.v1 import AppTest

    from dashboard import ui
    from dashboard.auth import login_for_test

    db = store.open_db(page_env)
    ownmedia.add(db, platform="新闻网站", account="市卫健委", name="健康示例市", actor="mon", now=NOW)
    [(f1,)] = db.execute("SELECT id FROM items WHERE account = '市卫健委'").fetchall()
    db.conn.close()
    opened = []
    monkeypatch.setattr(ui, "open_search", lambda **params: opened.append(params))
    monkeypatch.setattr(ui, "open_item", lambda item_id: opened.append(item_id))
    at = AppTest.from_file(str(dfx.APP.parent / "app_pages" / "ownmedia.py"), default_timeout=30)
    login_for_test(at, dfx.MONITOR)
    at.run()
    topics = next(df for df in at.dataframe if "话题" in df.value.columns and "状态" in df.value.columns)
    first = topics.value["话题"].iloc[0]
    at.session_state["om_topics_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert opened == [{"topic": first}]
    at.session_state["om_topics_0"] = {"selection": {"rows": [], "columns": [], "cells": []}}
    at.session_state["om_top_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert opened[-1] == f1


def test_an_assessment_says_whether_the_offices_channels_spoke_to_its_topic():
    """事前研判 (rumourwatch.assessment): the office's own posts on the subject's topic in the window,
    and the advice to speak first when there are none; nothing said without channels."""
    from rumourwatch import assessment

    db = store.open_db(memory=True)
    public(db, DIET, 5, day=20)

    def made():
        return assessment.compute(db, title="膳食指南发布", query=None, topic=DIET, event_day=date(2026, 11, 30), now=NOW,
                                  threshold=0.5)

    def lines(a) -> list[str]:
        return next(b for title, bs in assessment.sections(a) if "可用资源" in title for b in bs if b[0] == "lines")[1]

    a = made()
    assert a.resources["own_posts"] is None and not any("政务新媒体" in x for x in lines(a) + a.advice)
    ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="mon", now=NOW)
    post(db, cst(2026, 11, 20), topic=LITERACY)  # on another topic
    post(db, cst(2026, 10, 22), topic=DIET)      # before the window (24 October on)
    a = made()
    assert a.resources["own_posts"] == 0
    assert "本单位政务新媒体近 30 天及今日没有发布该话题的条目。" in lines(a)
    assert "本单位政务新媒体近期没有发布“合理膳食”的内容：可在2026 年 11 月 30 日前先发布相关科普或政策解读，提前回应关切。" in a.advice
    post(db, cst(2026, 11, 21), topic=DIET)
    a = made()
    assert a.resources["own_posts"] == 1 and "本单位政务新媒体近 30 天及今日发布该话题的条目 1 条。" in lines(a)
    assert not any("政务新媒体" in x for x in a.advice)
    # one kept before the channels were read says nothing of them
    kept = assessment.Assessment(**{**a.__dict__, "resources": {k: v for k, v in a.resources.items() if k != "own_posts"}})
    assert not any("政务新媒体" in x for x in lines(kept))


def test_an_items_account_is_registered_from_its_page_with_the_form_filled(tmp_path, monkeypatch):
    """The item page offers a monitor to register the item's account (`ui.open_own_media(platform=…,
    account=…)`); 政务新媒体 opened so has its form filled once, and the name typed registers it."""
    from dashboard import data, ui

    path = tmp_path / "page.db"
    ids = dfx.build_store(path)
    opened = []
    monkeypatch.setattr(ui, "open_own_media", lambda **params: opened.append(params))
    at = dfx.item_page(path, ids["f1"], monkeypatch, tmp_path / "none")
    at.button(key="own_channel").click().run()
    assert not at.exception and opened == [{"platform": "新闻网站", "account": "市卫健委"}]

    monkeypatch.setattr(data, "now_utc", lambda: dfx.NOW)
    om = dfx.open_app("app_pages/ownmedia.py", dfx.MONITOR, platform="新闻网站", account="市卫健委")
    assert (om.selectbox(key="om_platform_1").value, om.text_input(key="om_account_1").value) == ("新闻网站", "市卫健委")
    om.text_input(key="om_name_1").set_value("健康示例市")
    next(b for b in om.button if b.label == "登记账号").click().run()
    assert not om.exception, om.exception
    [channel] = store.list_own_accounts(store.open_db(path))
    assert (channel["platform"], channel["account"], channel["name"]) == ("新闻网站", "市卫健委", "健康示例市")
    # filled once: the next form is empty though the address still names the account
    assert om.query_params["account"] == "市卫健委" and om.text_input(key="om_account_2").value == ""
    # registered, its items' page no longer offers it
    at = dfx.item_page(path, ids["f1"], monkeypatch, tmp_path / "none")
    assert not [b for b in at.button if b.key == "own_channel"]


def test_an_alerts_information_is_recorded_released_at_the_time_the_offices_channel_posted_it(tmp_path, monkeypatch):
    """The alert page lists the channels' posts since the story began; one picked is the alert's
    released information at the post's own time (the 5-hour clock judges when, not when recorded)."""
    from datetime import UTC

    from workflow_helpers import run_page, seed_workflow_db

    from rumourwatch import alerts

    path = tmp_path / "alerts.db"
    now = datetime.now(UTC).replace(microsecond=0)
    began = now - timedelta(hours=2)  # the story's items and its alert
    info = seed_workflow_db(path, began)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    db = store.open_db(path)
    alert = store.get_alert(db, info["alerts"][0])
    assert alert["responded_at"] is None
    page = run_page("alerts.py", "monitor1", path, {"alert": str(alert["id"])})
    assert not [s for s in page.selectbox if s.key == "own_release_pick"]  # no channel: nothing offered
    ownmedia.add(db, platform="微博", account="gov", name="健康示例", actor="mon", now=now)
    posted = (now - timedelta(hours=1)).replace(second=0)  # (the feed gives minutes)
    post(db, posted, reach=(3, 0, 1), now=now)
    post(db, began - timedelta(minutes=30), now=now)  # before the story began
    db.conn.close()
    page = run_page("alerts.py", "monitor1", path, {"alert": str(alert["id"])})
    assert not page.exception, page.exception
    [offered] = page.selectbox(key="own_release_pick").options  # the one post since the story began
    assert " 健康示例：关于健康知识普及的测试条目" in offered
    next(b for b in page.button if b.label == "以该条记为已发布信息").click().run()
    assert not page.exception, page.exception
    db = store.open_db(path)
    done = store.get_alert(db, alert["id"])
    assert done["responded_at"] == posted.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    [step] = [s for s in store.alert_steps(db, alert["id"]) if s["step"] == "info_released"]
    assert (step["at"], step["actor"]) == (done["responded_at"], "monitor1")
    assert step["note"].startswith("政务新媒体 健康示例（微博）发布：https://example.org/om/")
    # a time ahead is refused, nothing written
    with pytest.raises(WorkflowError) as exc:
        alerts.record_step(db, info["alerts"][1], "info_released", "m", now, done_at=now + timedelta(minutes=1))
    assert exc.value.key == "step_ahead" and store.get_alert(db, info["alerts"][1])["responded_at"] is None
