"""舆情专报: the special report on one alert's event for the leaders — what it is, how far it spread,
what the public says, and how it was handled — in Markdown, HTML and PDF, from the alert page and
the command line."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import timedelta

import pytest
from click.testing import CliRunner
from docx import Document
from workflow_helpers import ROSTER_CSV, RUMOUR_TEXT, add_item, rules

from rumourwatch import alerts, briefing, experts, ledger, reports, store
from rumourwatch.cli import cli
from rumourwatch.clock import FixedClock

HOSTILE = "<script>alert('x')</script>"


def _story(db, now):
    """One rumour copied by three accounts over two hours, doubted in two of its reactions, handled:
    an expert accepted it, information was released within the clock, one copy was taken down."""
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    li = {e["name"]: e["id"] for e in store.list_experts(db)}["李样本"]
    first = add_item(db, RUMOUR_TEXT + HOSTILE, now, reposts=300, account="示例养生号", reactions=[
        ("repost", now + timedelta(minutes=5), "谣言，别信"),
        ("repost", now + timedelta(minutes=6), "转发微博"),  # a bare repost: no words of its own
        ("repost", now + timedelta(minutes=7), "//@示例养生号: 紧急扩散！"),  # only the quoted chain
        ("comment", now + timedelta(minutes=20), "真的假的？我奶奶天天喝"),
        ("comment", now + timedelta(hours=1, minutes=10), "已经转给家里人了")])
    add_item(db, RUMOUR_TEXT, now + timedelta(hours=1), reposts=40, account="示例网友甲")
    copy = add_item(db, RUMOUR_TEXT, now + timedelta(hours=2), reposts=5, account="示例网友乙", platform="微信")
    [alert_id] = alerts.evaluate_alerts(db, now + timedelta(hours=2), rules())
    clock = FixedClock(now + timedelta(hours=2))
    aid = experts.assign_expert(db, alert_id, li, "monitor1", clock(), rules())
    experts.accept_assignment(db, aid, "li", clock.advance(minutes=15), actor_expert_id=li)
    alerts.record_step(db, alert_id, "info_released", "monitor1", clock.advance(hours=1), "官方账号已发布提示")
    tid = experts.request_takedown(db, copy, "monitor1", clock(), "致函平台")
    experts.record_takedown_outcome(db, tid, "removed", "monitor1", clock.advance(minutes=30))
    return alert_id, first


def test_the_report_says_how_far_the_story_spread_and_what_the_public_says(db, now):
    alert_id, _ = _story(db, now)
    b = briefing.compute_briefing(db, alert_id, now + timedelta(hours=6), note="建议今日发布澄清。")
    s = b.spread
    assert (s["items"], s["accounts"], s["platforms"]) == (3, 3, {"微博": 2, "微信": 1})
    assert s["first_item"]["account"] == "示例养生号"
    # by Beijing hour: one copy in each of 16:00, 17:00, 18:00, the reactions where they came
    hours = {p["at"]: (p["items"], p["reactions"]) for p in s["timeline"]["bins"]}
    assert s["timeline"]["unit"] == "hour"
    assert hours == {"11-23 16:00": (1, 4), "11-23 17:00": (1, 1), "11-23 18:00": (1, 0)}
    assert s["top"][0]["account"] == "示例养生号" and s["top"][0]["reactions"] == 302  # 300 reposts, 2 comments
    r = b.reaction
    # five reactions, three with words of their own, two of them doubting
    assert (r["n"], r["worded"], r["doubting"]) == (5, 3, 2)
    assert [q["text"] for q in r["doubting_quotes"]] == ["谣言，别信", "真的假的？我奶奶天天喝"]
    assert r["latest_quotes"][0]["text"] == "已经转给家里人了"
    md = briefing.render_markdown(b)
    assert "共 3 条相关条目，涉及 3 个账号；平台分布：微博 2、微信 1。" in md
    assert "含质疑、辟谣类表述 2 条，占有内容互动的 66.7%" in md
    assert "u1-r0" not in md and "user" not in md  # reactors are quoted, never named
    assert md.index("## 五、研判意见") > md.index("## 四、处置情况") and "> 建议今日发布澄清。" in md


def test_the_report_says_how_the_event_was_handled(db, now):
    alert_id, _ = _story(db, now)
    h = briefing.compute_briefing(db, alert_id, now + timedelta(hours=6)).handling
    respond, conference = h["clocks"]
    assert (respond["due"], respond["done"], respond["outcome"]) == ("2026-11-23 23:00", "2026-11-23 19:15", "按时")
    assert conference["outcome"] == "不需要"  # below 一级
    [assigned] = h["assignments"]
    assert (assigned["expert"], assigned["status"]) == ("李样本（示例省疾病预防控制中心）", "已接受")
    [takedown] = h["takedowns"]
    assert (takedown["platform"], takedown["status"], takedown["outcome_at"]) == ("微信", "已删除", "2026-11-23 19:45")
    assert [s["step"] for s in h["steps"]] == ["生成预警", "监测员确认", "指派专家", "专家接受", "已发布信息"]
    assert h["steps"][0]["actor"] == "系统" and h["steps"][-1]["note"] == "官方账号已发布提示"
    assert h["clarifications"] == []
    md = briefing.render_markdown(briefing.compute_briefing(db, alert_id, now + timedelta(hours=6)))
    assert "| 信息发布 | 2026-11-23 23:00 | 2026-11-23 19:15 | 按时 |" in md
    assert "## 五、" not in md  # no assessment given, no empty section


def test_an_overdue_clock_is_reported_as_missed(db, now):
    add_item(db, RUMOUR_TEXT, now, reposts=300)
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    b = briefing.compute_briefing(db, alert_id, now + timedelta(hours=7))
    assert b.handling["clocks"][0]["outcome"] == "超时未完成"
    assert "尚未指派专家。" in briefing.render_markdown(b)


def test_scraped_text_and_the_note_are_escaped_in_html(db, now):
    alert_id, _ = _story(db, now)
    html = briefing.render_html(briefing.compute_briefing(db, alert_id, now + timedelta(hours=6),
                                                         note="<b>注意</b>"))
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert "<b>注意</b>" not in html and "&lt;b&gt;注意&lt;/b&gt;" in html
    assert 'src="data:image/png;base64,' in html  # the timeline chart, inline
    assert "javascript:" not in html


def test_a_watched_keywords_digest_lists_the_stories_it_gathered(db, now):
    r = rules(rumour={"enabled": False}, watch={"keywords": ["板蓝根"], "digest_after": 1})
    texts = ["网传喝板蓝根能预防所有病毒，一天三包", "板蓝根冲剂卖断货，药店门口排长队，示例市",
             "专家：板蓝根不能预防新型病毒，别再囤了，示例医院"]
    for i, text in enumerate(texts):
        add_item(db, text, now + timedelta(minutes=i), probability=0.1)
    ids = alerts.evaluate_alerts(db, now + timedelta(minutes=5), r)
    digest = next(i for i in ids if json.loads(store.get_alert(db, i)["metrics"] or "{}").get("keyword"))
    b = briefing.compute_briefing(db, digest, now + timedelta(minutes=10), rules=r)
    assert b.spread is None and b.reaction is None  # no single story
    made = b.overview["made_of"]
    assert made["kind"] == "digest" and len(made["rows"]) == 2
    md = briefing.render_markdown(b)
    assert "关注词「板蓝根」" in md and "合并的最新事件" in md and "## 三、处置情况" in md
    assert "专家：板蓝根不能预防新型病毒" in md


def test_a_topic_spike_lists_its_most_spread_negative_items(db, now):
    r = rules(rumour={"enabled": False},
              opinion_spike={"enabled": True, "min_items": 10, "min_increase": 0.2, "dimensions": ["topic"]})
    for i in range(20):
        add_item(db, f"示例基线条目第{i}号，今天天气晴朗，市民在公园散步", now - timedelta(hours=30, minutes=i),
                 topic="心理健康促进", polarity="negative" if i < 2 else "neutral")
    alerts.evaluate_alerts(db, now, r)
    for i in range(12):
        add_item(db, f"示例近期条目第{i}号，医院排队太久让人崩溃", now - timedelta(hours=1, minutes=i),
                 topic="心理健康促进", polarity="negative" if i % 2 else "neutral", reposts=i * 10)
    [spike] = alerts.evaluate_alerts(db, now + timedelta(minutes=11), r)
    made = briefing.compute_briefing(db, spike, now + timedelta(minutes=20), rules=r).overview["made_of"]
    assert made["kind"] == "spike" and len(made["rows"]) == 6  # the six negative ones of the window
    assert [row["reactions"] for row in made["rows"]] == [110, 90, 70, 50, 30, 10]  # most spread first


def test_an_unknown_alert_or_an_overlong_note_is_refused_with_the_reason(db, now):
    with pytest.raises(briefing.BriefingError, match="alert #404 does not exist"):
        briefing.compute_briefing(db, 404, now)
    add_item(db, RUMOUR_TEXT, now, reposts=300)
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    with pytest.raises(briefing.BriefingError, match="at most 4000"):
        briefing.compute_briefing(db, alert_id, now, note="很" * 4001)


def test_a_long_story_is_charted_by_beijing_day(db, now):
    for day in range(5):
        add_item(db, RUMOUR_TEXT, now + timedelta(days=day, hours=17), reposts=300)  # 01:00 Beijing, next day
    [alert_id] = alerts.evaluate_alerts(db, now + timedelta(days=5), rules())
    timeline = briefing.compute_briefing(db, alert_id, now + timedelta(days=5)).spread["timeline"]
    assert timeline["unit"] == "day"
    assert [p["at"] for p in timeline["bins"]] == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27",
                                                   "2026-11-28"]


def _pdf_text(path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    return "".join(out.stdout.split())


def test_the_command_writes_the_report_as_pdf_and_markdown(tmp_path, now):
    path = tmp_path / "rw.db"
    db = store.open_db(path)
    alert_id, _ = _story(db, now)
    db.conn.close()
    note = tmp_path / "研判.txt"
    note.write_text("建议由省疾控中心专家发布澄清。", encoding="utf-8")
    out = tmp_path / "专报.md"
    result = CliRunner().invoke(cli, ["--db", str(path), "alerts", "briefing", str(alert_id), "--note-file",
                                      str(note), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 舆情专报") and "建议由省疾控中心专家发布澄清。" in text
    missing = CliRunner().invoke(cli, ["--db", str(path), "alerts", "briefing", "999", "-o", str(tmp_path / "x.md")])
    assert missing.exit_code == 1 and "alert #999 does not exist" in missing.output
    assert not (tmp_path / "x.md").exists()
    if not shutil.which("pdftotext") or not shutil.which("chromium"):
        pytest.fail("the PDF check needs chromium and poppler-utils (make system-deps installs both)")
    pdf = tmp_path / "专报.pdf"
    result = CliRunner().invoke(cli, ["--db", str(path), "alerts", "briefing", str(alert_id), "-o", str(pdf)])
    assert result.exit_code == 0, result.output
    printed = _pdf_text(pdf)
    assert "舆情专报" in printed and "共3条相关条目" in printed and "质疑、辟谣类互动" in printed


def _mail_rules(port, leaders=("leader@example.org",)):
    return rules(notify={"smtp_host": "127.0.0.1", "smtp_port": port, "timeout_seconds": 5,
                         "leader_emails": list(leaders)})


def test_the_report_is_mailed_to_the_leaders_and_recorded_as_a_step(db, now, smtp_server):
    controller, inbox = smtp_server
    alert_id, _ = _story(db, now)
    later = now + timedelta(hours=6)
    result = briefing.send_briefing(db, alert_id, "monitor1", later, "建议今日发布澄清。",
                                    _mail_rules(controller.port, ["leader@example.org", "deputy@example.org"]))
    assert result == {"sent": ["leader@example.org", "deputy@example.org"], "failed": []}
    assert sorted(to[0] for to, _ in inbox.messages) == ["deputy@example.org", "leader@example.org"]
    _, mail = inbox.messages[0]
    assert mail["Subject"] == f"【舆情专报】预警 #{alert_id}（三级）{RUMOUR_TEXT[:29]}…"
    body = mail.get_body(("plain",)).get_content()
    assert "共 3 条相关条目" in body and "其中质疑、辟谣类 2 条（66.7%）" in body and "建议今日发布澄清。" in body
    [pdf, word] = list(mail.iter_attachments())  # to read, and for the office to edit into its own 专报
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
    assert pdf.get_filename().startswith(f"舆情专报_预警{alert_id}_")
    assert word.get_content_type() == reports.DOCX_MIME and word.get_filename() == pdf.get_filename()[:-3] + "docx"
    assert "建议今日发布澄清。" in [p.text for p in Document(io.BytesIO(word.get_content())).paragraphs]
    step = store.alert_steps(db, alert_id)[-1]
    assert (step["step"], step["actor"], step["note"]) == (
        "briefing_sent", "monitor1", "专报已发送：leader@example.org、deputy@example.org")
    [audit] = [a for a in store.audit_entries(db) if a["action"] == "alert.briefing_sent"]
    assert audit["actor"] == "monitor1"
    # the office's ledger says when the leaders were sent it
    text, _ = ledger.ledger_csv(db, *store.day_range(now, 1), later)
    [row] = list(csv.DictReader(io.StringIO(text[1:])))
    assert row["专报报送时间"] == "2026-11-23 22:00"
    # and the week's report counts it

    week = reports.compute_weekly(db, reports.parse_week("2026-W48"), now=later)
    assert "其中 1 起已向领导报送舆情专报。" in reports.alerts_lines(week)


def test_a_mailbox_that_cannot_be_reached_is_named_and_recorded(db, now):
    from local_servers import free_port

    alert_id, _ = _story(db, now)
    with pytest.raises(briefing.BriefingError, match="sent to 0 of 1; leader@example.org: SMTP"):
        briefing.send_briefing(db, alert_id, "monitor1", now + timedelta(hours=6), None, _mail_rules(free_port()))
    step = store.alert_steps(db, alert_id)[-1]
    assert step["step"] == "briefing_failed" and "leader@example.org 未送达" in step["note"]


def test_with_no_leader_address_nothing_is_sent_or_recorded(db, now):
    alert_id, _ = _story(db, now)
    steps = len(store.alert_steps(db, alert_id))
    with pytest.raises(briefing.BriefingError, match="no leader's e-mail address"):
        briefing.send_briefing(db, alert_id, "monitor1", now, None, _mail_rules(25, leaders=()))
    assert len(store.alert_steps(db, alert_id)) == steps


def test_the_command_mails_the_report_to_the_addresses_given(tmp_path, now, smtp_server):
    controller, inbox = smtp_server
    path = tmp_path / "rw.db"
    db = store.open_db(path)
    alert_id, _ = _story(db, now)
    db.conn.close()
    rules_path = tmp_path / "rules.toml"
    rules_path.write_text(f'[notify]\nsmtp_host = "127.0.0.1"\nsmtp_port = {controller.port}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(path), "alerts", "briefing", str(alert_id), "--send", "--to",
                                      "chief@example.org", "--actor", "monitor1", "--rules", str(rules_path)])
    assert result.exit_code == 0, result.output
    assert "mailed to chief@example.org" in result.output
    assert [to for to, _ in inbox.messages] == [["chief@example.org"]]
    assert store.alert_steps(store.open_db(path), alert_id)[-1]["step"] == "briefing_sent"
    unsent = CliRunner().invoke(cli, ["--db", str(path), "alerts", "briefing", str(alert_id), "--to", "x@example.org"])
    assert unsent.exit_code == 2 and "use it with --send" in unsent.output


def test_the_words_the_public_keeps_using_are_listed_without_moods_or_numbers(db, now):
    says = ["[抓狂]淡盐水根本不能预防病毒", "淡盐水漱口有用吗[疑问]", "我家老人每天喝淡盐水 2020",
            "淡盐水喝多了血压高", "医生说淡盐水没用", "别再转淡盐水了[怒]", "淡盐水能杀病毒？", "又是淡盐水",
            "孩子学校也在传淡盐水", "淡盐水这个说法哪来的", "请卫健委出来说说淡盐水"]
    add_item(db, RUMOUR_TEXT, now, reposts=300,
             reactions=[("comment", now + timedelta(minutes=i), w) for i, w in enumerate(says)])
    [alert_id] = alerts.evaluate_alerts(db, now + timedelta(hours=1), rules())
    words = briefing.compute_briefing(db, alert_id, now + timedelta(hours=1)).reaction["hot_words"]
    assert words[0] == "淡盐水" and len(words) <= briefing.HOT_WORDS
    assert not any(w in ("抓狂", "疑问", "怒", "2020") for w in words)
    assert briefing.hot_words(says[:9]) == []  # too few to call anything a trend


def test_an_open_alert_no_expert_has_taken_proposes_pool_experts(db, now):
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    add_item(db, RUMOUR_TEXT, now, reposts=300)
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    suggested = briefing.compute_briefing(db, alert_id, now).handling["suggested"]
    assert len(suggested) == 3 and suggested[0]["expert"] == "李样本（教授，示例省疾病预防控制中心，省级）"  # the ranking the alert page shows
    assert suggested[0]["reasons"].startswith("专业对口：擅长「传染病及地方病防控」")
    md = briefing.render_markdown(briefing.compute_briefing(db, alert_id, now))
    assert "### 建议指派的专家" in md
    # once an expert is offered the task, the report names the assignment instead
    experts.assign_expert(db, alert_id, store.list_experts(db)[0]["id"], "monitor1", now, rules())
    assert briefing.compute_briefing(db, alert_id, now).handling["suggested"] == []
