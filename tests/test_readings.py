"""人工判读: a post in a script the models cannot read (Mongolian, Tibetan, Uyghur; DOMAIN.md 11) waits
for a reader; the reading gives it its relevance, topic and polarity, so it counts in the opinion
figures and the reports, and a rescoring keeps it. Refusals say what is wrong and record nothing.
(Fictional sample sentences.)"""

from __future__ import annotations

import json
from datetime import timedelta

import dashboard_fixtures as fx
import pytest
from click.testing import CliRunner

from dashboard import data
from rumourwatch import readings, reports, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.cli import cli
from rumourwatch.ingest import ingest_events
from rumourwatch.score import score_items, score_pending
from rumourwatch.sources.base import RawItem, RawReaction

MONGOLIAN = "ᠡᠷᠡᠭᠦᠯ ᠮᠡᠨᠳᠦ ᠶᠢᠨ ᠠᠵᠢᠯ ᠤᠨ ᠲᠤᠬᠠᠢ ᠮᠡᠳᠡᠭᠡ ᠃ ᠬᠦᠮᠦᠨ ᠪᠦᠷ ᠡᠮᠨᠡᠯᠭᠡ ᠶᠢᠨ ᠭᠠᠵᠠᠷ ᠲᠤ ᠣᠴᠢᠵᠤ ᠡᠮᠴᠢ ᠳᠦ ᠦᠵᠡᠭᠦᠯᠬᠦ"
MONGOLIAN_2 = "ᠬᠦᠮᠦᠨ ᠪᠦᠷ ᠡᠮᠨᠡᠯᠭᠡ ᠶᠢᠨ ᠭᠠᠵᠠᠷ ᠲᠤ ᠣᠴᠢᠵᠤ ᠡᠮᠴᠢ ᠳᠦ ᠦᠵᠡᠭᠦᠯᠬᠦ ᠡᠷᠡᠭᠦᠯ ᠮᠡᠨᠳᠦ"
TIBETAN = "བོད་ཀྱི་གསོ་བ་རིག་པ། ནད་གཞི་འདི་ལ་སྨན་བཅོས་བྱེད་དགོས།"
CHINESE = "网传每天空腹喝三杯白醋可以软化血管，一个月治好高血压，医生都不会告诉你这个秘方！"
GIST = "称得了流感只需喝热奶茶，不必就医"
TOPIC = "传染病及地方病防控"


def ingest(db, now, *records) -> dict[str, int]:
    """Ingest and score the records; {external id: item id}."""
    with store.transaction(db):
        ingest_events(db, [RawItem({"platform": "微博", "account": "示例账号", **r}) for r in records], "test", now)
    return {r["id"]: store.find_item(db, r.get("platform", "微博"), r["id"])["id"] for r in records}


@pytest.fixture
def feed(db, now, rule_bundle):
    ids = ingest(db, now, {"id": "mn1", "text": MONGOLIAN, "date": "2026-11-23 15:00"},
                 {"id": "mn2", "text": MONGOLIAN_2, "date": "2026-11-23 14:00"},
                 {"id": "bo1", "text": TIBETAN, "date": "2026-11-23 13:00", "platform": "今日头条"},
                 {"id": "zh1", "text": CHINESE, "date": "2026-11-23 15:00"})
    score_pending(db, rule_bundle, now)
    return ids


def polarity_sql(db, start="2026-11-23T00:00:00Z", end="2026-11-24T00:00:00Z") -> dict:
    return dict(db.execute("""SELECT polarity, count(*) FROM items WHERE health_related = 1 AND polarity IS NOT NULL
                              AND published_at >= ? AND published_at < ? GROUP BY polarity""", [start, end]).fetchall())


def test_items_the_models_cannot_read_wait_for_a_reader_newest_first_by_script(db, feed):
    assert [(r["id"], r["language"]) for r in readings.pending(db)] == [
        (feed["mn1"], "mn"), (feed["mn2"], "mn"), (feed["bo1"], "bo")]  # the Chinese post was scored
    assert [r["id"] for r in readings.pending(db, "bo")] == [feed["bo1"]]
    assert readings.counts(db) == {"pending": {"mn": 2, "bo": 1}, "read": {}, "read_health": 0}
    assert readings.counts(db, platforms=["今日头条"])["pending"] == {"bo": 1}
    with pytest.raises(WorkflowError) as err:
        readings.pending(db, "xx")
    assert err.value.key == "reading_language"


def test_a_reading_gives_the_item_its_figures_and_counts_in_the_opinion_line(db, now, feed):
    before = polarity_sql(db)
    assert before == {"neutral": 1}  # the Chinese post only: the others have no polarity
    readings.record_reading(db, feed["mn1"], True, TOPIC, "negative", GIST, "monitor1", now)
    item = store.get_item(db, feed["mn1"])
    assert (item["health_related"], item["topic"], item["polarity"]) == (1, TOPIC, "negative")
    assert item["rumour_probability"] is None  # a reading is no rumour score: that is the verdict's
    assert polarity_sql(db) == {"neutral": 1, "negative": 1}
    counts = store.polarity_counts(db, "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z", health_only=True)
    assert (counts["negative"], counts["neutral"]) == (1, 1)
    assert [r["id"] for r in readings.pending(db)] == [feed["mn2"], feed["bo1"]]
    assert readings.counts(db) == {"pending": {"mn": 1, "bo": 1}, "read": {"mn": 1}, "read_health": 1}
    audit = db.execute("SELECT action, actor, target_id FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert tuple(audit) == ("reading.record", "monitor1", str(feed["mn1"]))


def test_the_latest_reading_counts_and_a_rescoring_keeps_it(db, now, feed, rule_bundle):
    readings.record_reading(db, feed["mn1"], True, TOPIC, "negative", GIST, "monitor1", now)
    readings.record_reading(db, feed["mn1"], False, None, "neutral", "", "monitor2", now + timedelta(minutes=5))
    item = store.get_item(db, feed["mn1"])
    assert (item["health_related"], item["topic"], item["polarity"]) == (0, "其他", "neutral")
    # reactions arrive and the worker scores the item again: the models still cannot read it
    with store.transaction(db):
        ingest_events(db, [RawReaction({"item_id": "mn1", "platform": "微博", "kind": "comment",
                                        "date": "2026-11-23 15:30", "text": "ᠮᠡᠳᠡᠭᠡ ᠃"})], "test", now)
    assert score_items(db, rule_bundle, [feed["mn1"]], now + timedelta(minutes=10)) == 1
    item = store.get_item(db, feed["mn1"])
    assert item["scored_reactions"] == 1  # scored again, with its reaction
    assert (item["health_related"], item["topic"], item["polarity"]) == (0, "其他", "neutral")
    assert store.score_history(db, feed["mn1"])[-1]["polarity"] is None  # the score history is the model's


@pytest.mark.parametrize("health,topic,polarity,gist,key", [
    (True, TOPIC, "angry", GIST, "reading_polarity"),
    (True, None, "negative", GIST, "label_topic"),
    (False, TOPIC, "neutral", "", "label_not_health"),
    (True, TOPIC, "negative", "  ", "reading_gist"),
    (True, TOPIC, "negative", "长" * 501, "reading_gist_long"),
])
def test_a_bad_reading_is_refused_saying_why_and_records_nothing(db, now, feed, health, topic, polarity, gist, key):
    with pytest.raises(WorkflowError) as err:
        readings.record_reading(db, feed["mn1"], health, topic, polarity, gist, "monitor1", now)
    assert err.value.key == key
    assert store.readings_for_item(db, feed["mn1"]) == []
    assert store.get_item(db, feed["mn1"])["polarity"] is None


def test_a_chinese_or_missing_item_needs_no_reading(db, now, feed):
    with pytest.raises(WorkflowError) as err:
        readings.record_reading(db, feed["zh1"], True, TOPIC, "negative", GIST, "monitor1", now)
    assert err.value.key == "reading_not_needed" and "label it or give a verdict" in str(err.value)
    assert store.get_item(db, feed["zh1"])["polarity"] == "neutral"  # the model's, untouched
    with pytest.raises(WorkflowError) as err:
        readings.record_reading(db, 999, True, TOPIC, "negative", GIST, "monitor1", now)
    assert err.value.key == "no_item"


def test_the_report_counts_the_read_items_and_says_how_many_still_wait(db, now, feed):
    readings.record_reading(db, feed["mn1"], True, TOPIC, "negative", GIST, "monitor1", now)
    report = reports.compute_daily(db, "2026-11-23", now=now + timedelta(days=1))
    volume = report.section("volume").data
    assert volume["counts"] == {"neutral": 1, "positive": 0, "negative": 1} == {
        p: polarity_sql(db).get(p, 0) for p in ("neutral", "positive", "negative")}
    assert ("当日另有模型无法阅读的民族文字条目 3 条（蒙古文 2 条、藏文 1 条）：已人工判读 1 条，其中健康相关 1 条，"
            "已计入上述比例；尚待判读 2 条，未计入。") in reports.volume_lines(report)
    report = reports.compute_daily(db, "2026-11-23", platform="今日头条", now=now + timedelta(days=1))
    assert ("当日另有模型无法阅读的民族文字条目 1 条（藏文 1 条）：已人工判读 0 条，其中健康相关 0 条，"
            "已计入上述比例；尚待判读 1 条，未计入。") in reports.volume_lines(report)


def test_a_report_without_such_items_says_nothing_of_them(db, now, rule_bundle):
    ingest(db, now, {"id": "zh1", "text": CHINESE, "date": "2026-11-23 15:00"})
    score_pending(db, rule_bundle, now)
    lines = reports.volume_lines(reports.compute_daily(db, "2026-11-23", now=now + timedelta(days=1)))
    assert not any("民族文字" in line for line in lines)


def test_a_chinese_search_finds_a_post_by_the_gist_of_its_reading(db, now, feed):
    from rumourwatch import search

    day = ("2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z")
    assert search.run(db, search.parse_query("奶茶"), *day, 0.5)["total"] == 0  # unread: nothing to match
    readings.record_reading(db, feed["mn1"], True, TOPIC, "negative", GIST, "monitor1", now)
    found = search.run(db, search.parse_query("奶茶 流感"), *day, 0.5)
    assert (found["total"], [i["id"] for i in found["items"]]) == (1, [feed["mn1"]])
    assert found["items"][0]["snippet"] == "【人工判读大意】" + GIST  # its text has no Chinese to show
    assert found["line"] == "共 1 条：负面 100.0%，中性 0.0%，正面 0.0%"  # counted with the reading's polarity
    assert search.run(db, search.parse_query("流感 -奶茶"), *day, 0.5)["total"] == 0
    assert search.run(db, search.parse_query("白醋"), *day, 0.5)["total"] == 1  # the Chinese post, as before
    [watched] = search.watched_hits(db, ["奶茶"], [], *day, 0.5)
    assert sum(r["n"] for r in watched["days"]) == 1  # a watched keyword counts it too


def test_a_watched_keyword_in_the_gist_of_a_reading_raises_its_alert_once(db, now, feed):
    from workflow_helpers import rules

    from rumourwatch.alerts import evaluate_alerts

    r = rules(rumour={"enabled": False}, watch={"keywords": ["奶茶"], "accounts": [], "severity": "二级"})
    assert evaluate_alerts(db, now, r) == []  # the posts arrived: no Chinese in them for the keyword
    readings.record_reading(db, feed["bo1"], True, TOPIC, "negative", GIST, "monitor1", now)
    [alert_id] = evaluate_alerts(db, now + timedelta(minutes=1), r)
    alert = store.get_alert(db, alert_id)
    assert alert["item_id"] == feed["bo1"] and alert["severity"] == "二级"
    assert json.loads(alert["rules"])[0]["reason"] == "命中关注词「奶茶」"
    assert evaluate_alerts(db, now + timedelta(minutes=2), r) == []  # once
    # a watched account's post was alerted on when it arrived: its reading does not alert again
    r = rules(rumour={"enabled": False}, watch={"keywords": [], "accounts": ["示例账号"], "severity": "二级"})
    readings.record_reading(db, feed["mn1"], False, None, "neutral", "说的是天气", "monitor1", now)
    assert evaluate_alerts(db, now + timedelta(minutes=3), r) == []


def test_the_handover_passes_on_the_posts_still_waiting_for_a_reader(db, now, feed):
    from rumourwatch import handover

    summary = handover.shift_summary(db, now - timedelta(hours=8), now)
    assert summary["unread"] == {"mn": 2, "bo": 1}
    assert "待人工判读的民族文字条目 3 条（蒙古文 2 条、藏文 1 条），未计入舆情比例，见民族文字判读页。" in handover.open_lines(summary)
    for item in ("mn1", "mn2", "bo1"):
        readings.record_reading(db, feed[item], False, None, "neutral", "", "monitor1", now)
    summary = handover.shift_summary(db, now - timedelta(hours=8), now)
    assert summary["unread"] == {} and not any("民族文字" in line for line in handover.open_lines(summary))


def test_the_monitors_are_told_of_new_posts_waiting_for_a_reader_once_an_hour_at_most(db, now, feed, rule_bundle,
                                                                                    smtp_server):
    from workflow_helpers import rules

    from rumourwatch import notify
    from rumourwatch.alerts import workflow_tick

    controller, inbox = smtp_server
    r = rules(notify={"smtp_host": "127.0.0.1", "smtp_port": controller.port, "quiet_hours": "",
                      "monitor_emails": ["monitor@example.org"]})
    tick = workflow_tick(db, now, r)  # the worker's round
    assert tick["readings_waiting"]["items"] == 3
    [(to, msg)] = inbox.messages
    assert to == ["monitor@example.org"] and msg["Subject"] == "【待判读】新增 3 条民族文字条目（蒙古文 2 条、藏文 1 条）"
    body = msg.get_content()
    assert f"#{feed['mn1']} 蒙古文 微博 示例账号 11-23 15:00 发布" in body
    assert f"#{feed['bo1']} 藏文 今日头条 示例账号 11-23 13:00 发布" in body
    assert "目前共有 3 条待判读（蒙古文 2 条、藏文 1 条）" in body and "民族文字判读" in body
    assert workflow_tick(db, now + timedelta(hours=2), r)["readings_waiting"] is None  # nothing new: no mail
    # one more arrives; a reader reads another; the next notice names the new one only, not before the hour
    ids = ingest(db, now, {"id": "mn3", "text": MONGOLIAN + " ᠃", "date": "2026-11-23 16:00"})
    score_pending(db, rule_bundle, now + timedelta(hours=2))
    readings.record_reading(db, feed["mn2"], False, None, "neutral", "", "monitor1", now + timedelta(hours=2))
    assert readings.notify_waiting(db, now + timedelta(hours=2, minutes=5), r)["items"] == 1
    assert readings.notify_waiting(db, now + timedelta(hours=2, minutes=30), r) is None
    notify.deliver_pending(db, now + timedelta(hours=3), r)
    to, msg = inbox.messages[-1]
    assert len(inbox.messages) == 2 and msg["Subject"] == "【待判读】新增 1 条民族文字条目（蒙古文 1 条）"
    assert f"#{ids['mn3']} 蒙古文" in msg.get_content() and "目前共有 3 条待判读（蒙古文 2 条、藏文 1 条）" in msg.get_content()


def test_the_cli_lists_what_waits_and_records_a_reading(tmp_path, now, rule_bundle, monkeypatch):
    path = tmp_path / "cli.db"
    db = store.open_db(path)
    ids = ingest(db, now, {"id": "mn1", "text": MONGOLIAN, "date": "2026-11-23 15:00"})
    score_pending(db, rule_bundle, now)
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    runner = CliRunner()
    out = runner.invoke(cli, ["alerts", "escalate", "--no-deliver"])  # cron: the monitors are told
    assert out.exit_code == 0, out.output
    assert "1 new post(s) in a script the models cannot read wait for a reader: monitors told" in out.output
    out = runner.invoke(cli, ["readings", "list", "--language", "mn"])
    assert out.exit_code == 0, out.output
    assert f"item #{ids['mn1']} [Mongolian] 微博 示例账号 2026-11-23 15:00: {MONGOLIAN[:60]}" in out.output
    out = runner.invoke(cli, ["readings", "add", str(ids["mn1"]), "--health", "--topic", TOPIC,
                              "--polarity", "negative", "--actor", "monitor1"])
    assert out.exit_code == 1 and "needs its gist in Chinese" in out.output
    out = runner.invoke(cli, ["readings", "add", str(ids["mn1"]), "--health", "--topic", TOPIC,
                              "--polarity", "negative", "--gist", GIST, "--actor", "monitor1"])
    assert out.exit_code == 0, out.output
    assert f"reading #1 of item #{ids['mn1']} recorded" in out.output
    out = runner.invoke(cli, ["readings", "list"])
    assert "no item waits for a reader" in out.output
    out = runner.invoke(cli, ["readings", "list", "--read"])
    assert f"item #{ids['mn1']} [Mongolian] health · {TOPIC} · negative by monitor1" in out.output and GIST in out.output
    assert store.get_item(store.open_db(path), ids["mn1"])["polarity"] == "negative"


# --- the dashboard ---------------------------------------------------------------------------

@pytest.fixture
def app_store(tmp_path, monkeypatch, rule_bundle):
    """The dashboard's fixture store with a Mongolian post among its items, scored alone; the
    dashboard pointed at it."""
    path = tmp_path / "readings.db"
    fx.build_store(path)
    item_id = fx.add_scored_item(path, rule_bundle, "mn1", MONGOLIAN, "2026-11-23 11:00")
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return path, item_id


def test_a_monitor_reads_the_waiting_post_on_the_page_and_the_live_line_counts_it(app_store):
    _, item_id = app_store
    live = fx.open_app()
    assert any(w.value.startswith("本期另有 1 条民族文字条目（蒙古文 1 条）模型无法阅读，尚待人工判读")
               for w in live.warning)
    assert fx.EXPECTED_OPINION in [m.value.lstrip("# ") for m in live.markdown]

    at = fx.open_app("app_pages/readings.py")
    assert [m.value for m in at.metric][:1] == ["1"]
    assert any(f"条目 #{item_id} · 微博 · 示例账号" in m.value.replace("\\", "") for m in at.markdown)
    assert MONGOLIAN in [x.value for x in at.text]
    key = f"queue_{item_id}_0"
    at.button(key=f"FormSubmitter:reading_{key}-保存判读").click().run()
    assert "请先选择该条目是否与健康相关，再保存。" in [e.value for e in at.error]  # nothing chosen yet
    at.radio(key=f"reading_health_{key}").set_value(True)
    at.selectbox(key=f"reading_topic_{key}").set_value(TOPIC)
    at.radio(key=f"reading_polarity_{key}").set_value("negative")
    at.button(key=f"FormSubmitter:reading_{key}-保存判读").click().run()
    assert any("需要用中文写明大意" in e.value for e in at.error)  # the gist is missing
    at.text_area(key=f"reading_gist_{key}").set_value(GIST)
    at.button(key=f"FormSubmitter:reading_{key}-保存判读").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"已保存条目 #{item_id} 的判读" in s.value for s in at.success)
    assert "没有待判读的条目：模型无法阅读的条目都已判读。" in [s.value for s in at.success]
    recent = at.dataframe[0].value
    assert list(recent["中文大意"]) == [GIST] and list(recent["情感倾向"]) == ["负面"]

    live = fx.open_app()
    assert not any("民族文字条目" in w.value for w in live.warning)
    # read as a negative health post: it joins the health items' line (5 before: 3 negative)
    assert "共 6 条：负面 66.6%，中性 16.7%，正面 16.7%" in [m.value.lstrip("# ") for m in live.markdown]


def test_the_item_view_shows_the_reading_and_its_gist_to_those_who_cannot_read_the_text(app_store):
    path, item_id = app_store
    at = fx.open_app("app_pages/item.py", item=item_id)
    assert "尚无人工判读：本条未计入舆情比例与报告。" in [c.value for c in at.caption]
    assert any(w.value.startswith("本条主要以蒙古文书写。模型只读中文") for w in at.warning)
    assert [m.value for m in at.metric][:4] == ["未评估"] * 4  # scored, but by no model: not 未评分
    readings.record_reading(store.open_db(path), item_id, True, TOPIC, "negative", GIST, "monitor1", fx.NOW)
    at = fx.open_app("app_pages/item.py", item=item_id)
    assert any(i.value.startswith("人工判读：健康相关，主题 传染病及地方病防控，情感倾向负面（monitor1，") for i in at.info)
    assert f"中文大意：{GIST}" in [x.value for x in at.text]
    assert [m.value for m in at.metric][:4] == ["未评估", "负面", "是", "未评估"]  # the reading's figures
    assert not any("蒙古文" in w.value for w in at.warning)  # read: no longer waiting
    assert any(c.value.startswith("本条主要以蒙古文书写，模型只读中文，未评估本条：上方情感倾向") for c in at.caption)


def test_roles_that_do_not_read_posts_have_no_reading_page(app_store):
    from rumourwatch.auth import PAGE_ROLES, can

    assert PAGE_ROLES["readings"] == {"monitor", "analyst", "admin"}
    assert can("monitor", "readings.record") and can("analyst", "readings.record")
    assert not can("expert", "readings.record") and not can("leader", "readings.record")


def test_the_dashboard_cache_moves_when_a_reading_is_recorded(db, now, feed):
    before = store.data_version(db)
    readings.record_reading(db, feed["mn1"], True, TOPIC, "negative", GIST, "monitor1", now)
    assert store.data_version(db) != before


def test_the_handover_page_lists_the_posts_waiting_for_a_reader(app_store):
    at = fx.open_app("app_pages/handover.py")
    assert any("待人工判读的民族文字条目 1 条（蒙古文 1 条），未计入舆情比例，见民族文字判读页。" in x.value for x in at.text)


def test_a_hotline_tip_in_mongolian_is_listed_unassessed_and_waits_for_a_reader(app_store, rule_bundle):
    """A caller's words typed in Mongolian enter the feed as an item the models cannot score: the
    tips page listed its probability as a number and failed on it (found on the demo)."""
    from rumourwatch import tips

    path, _ = app_store
    db = store.open_db(path)
    done = tips.record_tip(db, channel="12345", text=MONGOLIAN_2, actor=fx.MONITOR, now=fx.NOW, platform="微信公众号")
    score_pending(db, rule_bundle, fx.NOW)
    db.conn.close()
    at = fx.open_app("app_pages/tips.py")
    [table] = [df.value for df in at.dataframe if "同一内容线索数" in df.value.columns]
    assert list(table["谣言概率"]) == ["未评估"]
    at = fx.open_app("app_pages/search.py", q="ᠡᠮᠨᠡᠯᠭᠡ")  # the tables of items say it too
    [found] = [df.value for df in at.dataframe if "已辟谣" in df.value.columns]
    assert list(found["已辟谣"]) == ["未评估", "未评估"]
    at = fx.open_app("app_pages/readings.py")
    assert [m.value for m in at.metric][:1] == ["2"]
    assert any(f"条目 #{done['item_id']} · 微信公众号" in m.value.replace("\\", "") for m in at.markdown)  # newest first


def test_a_row_of_the_waiting_list_is_the_item_read_and_a_reading_opens_its_item(app_store, rule_bundle):
    path, first = app_store
    second = fx.add_scored_item(path, rule_bundle, "bo1", TIBETAN, "2026-11-23 11:30", platform="今日头条",
                                account="藏文账号")
    at = fx.open_app("app_pages/readings.py")

    def shown():
        return [m.value.replace("\\", "") for m in at.markdown if m.value.startswith("**条目")]

    assert shown()[0].startswith(f"**条目 #{second} · 今日头条")  # newest first
    at.session_state["readings_queue_0"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert shown()[0].startswith(f"**条目 #{first} · 微博")  # the row picked below is read above
    readings.record_reading(store.open_db(path), first, False, None, "neutral", "", fx.MONITOR, fx.NOW)
    at = fx.open_app("app_pages/readings.py")
    assert "点击一行打开该条目。" in [c.value for c in at.caption]
    at.session_state["readings_recent_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception and at.query_params["item"] == str(first)
    assert [x.value for x in at.title] == ["条目详情"]


def test_a_store_from_before_readings_opened_read_only_is_still_searched(tmp_path, now, rule_bundle):
    """The dashboard and the benchmarks read a store without migrating it: one written before
    human readings existed is searched by title and text, as before."""
    from rumourwatch import search

    path = tmp_path / "old.db"
    db = store.open_db(path)
    ingest(db, now, {"id": "zh1", "text": CHINESE, "date": "2026-11-23 15:00"})
    score_pending(db, rule_bundle, now)
    db.execute("DROP TABLE human_readings")
    db.conn.commit()
    db.conn.close()
    old = store.open_db(path, read_only=True)
    found = search.run(old, search.parse_query("白醋"), None, None, 0.5)
    assert (found["total"], found["items"][0]["snippet"]) == (1, CHINESE)
    [watched] = search.watched_hits(old, ["白醋"], [], None, None, 0.5)
    assert sum(r["n"] for r in watched["days"]) == 1


def test_the_page_counts_every_waiting_post_when_it_lists_only_the_newest(app_store, rule_bundle, monkeypatch):
    path, _ = app_store
    fx.add_scored_item(path, rule_bundle, "bo1", TIBETAN, "2026-11-23 11:30")
    fx.add_scored_item(path, rule_bundle, "mn2", MONGOLIAN_2, "2026-11-23 11:40")
    listed = readings.pending
    monkeypatch.setattr(readings, "pending", lambda db, language=None: listed(db, language, limit=2))
    at = fx.open_app("app_pages/readings.py")
    assert at.subheader[0].value == "待判读（3 条，最新发布的在前）"
    assert "下面列出最新发布的 2 条；判读之后，更早的条目依次列出。" in [c.value for c in at.caption]
    at.segmented_control(key="readings_language").set_value("bo").run()
    assert at.subheader[0].value == "待判读（1 条，最新发布的在前）"
    assert not any(c.value.startswith("下面列出最新发布的") for c in at.caption)
