"""事前舆情风险评估 (rumourwatch.assessment; seed 001: "做好事前舆论研判和风险评估"): a subject's items
of the last 30 days and today, its false claims, the experts and clarifications at hand, a level
with its reasons, the document, and what followed the day."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import dashboard_fixtures as dfx
import pytest
import report_fixtures as rfx
from click.testing import CliRunner
from test_submissions import page_env  # noqa: F401  (the page's store)
from workflow_helpers import add_scored_items

from rumourwatch import assessment, auth, store
from rumourwatch.assessment import AssessmentError
from rumourwatch.cli import cli
from rumourwatch.records import CST, iso
from rumourwatch.search import SearchError

NOW = rfx.NOW          # Monday 23 November 2026, 16:00 in Beijing
TODAY = date(2026, 11, 23)
TOPIC = "健康知识普及"  # the fixture's experts are heart doctors: none speaks to it
WORD = "门诊共济"


def cst(m, d, h=10) -> datetime:
    return datetime(2026, m, d, h, tzinfo=CST)


def _words(tag: str, i: int) -> str:
    """Thirty characters no other item shares in order: each item its own story."""
    seed = sum(map(ord, tag)) * 1009 + i * 7919
    return "".join(chr(0x4E00 + (seed + k * 2027) % 20000) for k in range(30))


def add(db, tag: str, rows: list[tuple[datetime, float, str]], word: str = WORD, topic: str = TOPIC,
        debunked: tuple[int, ...] = (), account=None, texts: list[str] | None = None) -> list[int]:
    """Items mentioning `word`, each (Beijing time, rumour probability, polarity); `debunked`: the
    indexes already debunked; `account(i)`: the account of the i-th."""
    records = [{"id": f"{tag}{i}", "platform": "微博", "account": account(i) if account else f"{tag}号{i}",
                "url": f"https://example.org/{tag}/{i}", "date": at.strftime("%Y-%m-%d %H:%M"),
                "text": texts[i] if texts else f"{word}{_words(tag, i)}"}
               for i, (at, _, _) in enumerate(rows)]
    return add_scored_items(db, f"as-{tag}", records, [{"rumour_probability": p, "polarity": pol, "topic": topic,
                                                        "already_debunked": int(i in debunked)}
                                                       for i, (_, p, pol) in enumerate(rows)], NOW)


@pytest.fixture
def rdb():
    db = store.open_db(memory=True)
    rfx.build_all(db)
    # the 23 days before the last week (24 October – 15 November): 10 items, one a day from 6 November
    add(db, "b", [(cst(11, 6 + i), 0.1, "neutral") for i in range(10)])
    # the last full week (16–22 November): 40 items, 8 of them negative
    add(db, "w", [(cst(11, 16 + i % 7, 9 + i % 8), 0.1, "negative" if i < 8 else "neutral") for i in range(40)])
    # today so far: 3 items, all flagged, in stories of their own; the first already debunked
    add(db, "t", [(cst(11, 23, 8 + i), 0.9, "neutral") for i in range(3)], debunked=(0,))
    # a flagged item 31 days ago: outside the window
    add(db, "old", [(cst(10, 23), 0.95, "negative")])
    return db


def made(db, **kw) -> assessment.Assessment:
    args = {"title": "门诊共济保障机制改革政策发布", "query": WORD, "topic": None, "event_day": date(2026, 11, 30),
            "now": NOW, "threshold": 0.5}
    return assessment.compute(db, **(args | kw))


def test_an_assessment_reads_the_subjects_month_its_false_claims_and_says_why_its_level(rdb):
    a = made(rdb)
    v, r = a.volume, a.rumours
    assert (a.window["first"], a.window["last"]) == ("2026-10-24", "2026-11-23")
    assert (v["items"], v["stories"], v["today"]) == (53, 53, 3)          # the 31-day-old one left out
    assert (v["recent"], v["recent_mean"], v["before"], v["before_mean"]) == (40, 5.7, 10, 0.4)
    assert v["change"] == round((40 / 7) / (10 / 23) * 100 - 100)         # +1214 %
    assert v["negative"] == 8 and v["negative_share"] == 15.1             # 8 of 53
    assert (r["items"], r["stories"], r["debunked"], r["open"]) == (3, 3, 1, 2)
    # the three today are likeliest first; the debunked one says so
    assert [s["debunked"] for s in r["top"]].count(True) == 1 and all(s["p"] == 0.9 for s in r["top"])
    codes = {s["code"]: s["weight"] for s in a.signals}
    # 2 stories not debunked (under 3: weight 1), 40 items in the week at 13× the days before (under 100
    # items: weight 1), negative 15.1 % against the whole feed's; no repeat account, no alert
    assert codes["open_stories"] == 1 and codes["rising"] == 1
    assert v["feed_negative_share"] == 16.2 and "negative" not in codes  # (the fixture's feed is as negative)
    assert a.level == "medium"
    assert [s["text"] for s in a.signals] == ["尚未辟谣的疑似谣言事件 2 个（3 个及以上为高风险信号）",
                                              "热度上升：近 7 天日均为此前的 13.1 倍（40 条）"]
    # the topic is the one the items fall under; no expert of the fixture's pool speaks to it
    assert (a.resources["topic"], a.resources["inferred"], a.resources["experts_n"]) == (TOPIC, True, 0)
    assert any("专家库中尚无覆盖“健康知识普及”的在库专家" in x for x in a.advice)
    assert a.advice[-1].startswith("2026 年 11 月 30 日前后将检索词设为监测关注词")


def test_the_level_follows_its_rules(rdb):
    # a third undebunked story today makes the false claims alone a high risk
    add(rdb, "x", [(cst(11, 23, 12), 0.8, "neutral")])
    a = made(rdb)
    assert a.rumours["open"] == 3 and {"code": "open_stories", "weight": 2}.items() <= a.signals[0].items()
    assert a.level == "high"
    # the same words under a topic no item has: nothing found, nothing raised
    quiet = made(rdb, topic="控烟")
    assert (quiet.volume["items"], quiet.signals, quiet.level) == (0, [], "low")
    assert quiet.resources["topic"] == "控烟" and not quiet.resources["inferred"]
    assert "统计区间内没有相关条目" in assessment.render_markdown(quiet)
    # a subject far more negative than the feed: 20 negative items of another policy this week
    add(rdb, "n", [(cst(11, 17 + i % 5), 0.1, "negative") for i in range(20)], word="药品集采")
    sour = made(rdb, query="药品集采")
    assert [s["text"] for s in sour.signals][-1:] == ["负面占比 100.0%，为同期全部条目（30.0%）的 3.3 倍（负面 20 条）"]
    # the rules themselves, at their edges (23 days before the last 7)
    base = {"recent": 0, "before": 0, "before_days": 23, "negative": 0, "negative_share": None,
            "feed_negative_share": 5.0}
    calm = {"open": 0, "serious_alerts": 0, "open_alerts": 0, "accounts": []}
    sig = assessment._signals
    assert sig(base | {"recent": 19, "before": 1}, calm) == []                          # too few
    assert sig(base | {"recent": 21, "before": 47}, calm) == []                         # 1.47×: too slow
    assert [s["weight"] for s in sig(base | {"recent": 21, "before": 46}, calm)] == [1]  # 1.5×
    assert [s["weight"] for s in sig(base | {"recent": 20}, calm)] == [1]               # new
    assert [s["weight"] for s in sig(base | {"recent": 100, "before": 100}, calm)] == [2]  # 3.3×
    assert [s["weight"] for s in sig(base | {"recent": 99}, calm)] == [1]
    assert sig(base | {"negative": 9, "negative_share": 10.0}, calm) == []                           # too few
    assert sig(base | {"negative": 10, "negative_share": 9.9}, calm) == []                           # under 2×
    assert [s["code"] for s in sig(base | {"negative": 10, "negative_share": 10.0}, calm)] == ["negative"]
    assert [s["weight"] for s in sig(base, calm | {"open_alerts": 1})] == [1]
    assert [s["weight"] for s in sig(base, calm | {"open_alerts": 1, "serious_alerts": 1})] == [2]
    one = [{"code": "c", "weight": 1}]
    assert [assessment.level_of(x) for x in ([], one, one * 2, one * 3, [{"weight": 2}])] == \
        ["low", "medium", "medium", "high", "high"]


def test_accounts_posting_the_claims_again_and_the_storys_alert_are_named(rdb):
    # one account posts two flagged items; a story with an open 一级 alert
    ids = add(rdb, "r", [(cst(11, 20), 0.8, "neutral"), (cst(11, 21), 0.85, "neutral")], account=lambda i: "同一账号")
    cluster = rdb.execute("SELECT cluster_id FROM items WHERE id = ?", [ids[1]]).fetchone()[0]
    if cluster is None:
        with store.transaction(rdb):
            rdb.execute("UPDATE items SET cluster_id = ? WHERE id = ?", [ids[1] + 100000, ids[1]])
        cluster = ids[1] + 100000
    with store.transaction(rdb):
        rdb.execute("""INSERT INTO alerts (dedupe_key, kind, rules, severity, cluster_id, item_id, title, status,
                       created_at, updated_at, respond_by) VALUES (?, 'rumour', '[]', '一级', ?, ?, 't', 'open', ?, ?, ?)""",
                    [f"cluster:{cluster}", cluster, ids[1], iso(NOW), iso(NOW), iso(NOW + timedelta(hours=5))])
    a = made(rdb)
    assert a.rumours["accounts"] == [{"platform": "微博", "account": "同一账号", "items": 2}]
    assert (a.rumours["open_alerts"], a.rumours["serious_alerts"]) == (1, 1)
    assert {s["code"] for s in a.signals} >= {"accounts", "serious_alerts"} and a.level == "high"
    top = next(s for s in a.rumours["top"] if s["item_id"] == ids[1])
    assert top["alert"]["severity"] == "一级"
    text = assessment.render_markdown(a)
    assert "同一账号" in text and "一级 待处置" in text and "未办结的一级、二级预警 1 个" in text
    assert any("应在2026 年 11 月 30 日前办结或统一口径" in x for x in a.advice)


def test_a_subject_that_cannot_be_assessed_is_refused_saying_why(rdb):
    cases = [({"title": " "}, "assessment_title_missing"), ({"title": "长" * 61}, "assessment_text_long"),
             ({"query": None}, "assessment_subject_missing"), ({"query": "  "}, "assessment_subject_missing"),
             ({"topic": "养生"}, "assessment_topic"), ({"note": "长" * 2001}, "assessment_text_long"),
             ({"event_day": "2026-11-30"}, "assessment_day")]
    for kw, key in cases:
        with pytest.raises(AssessmentError) as exc:
            made(rdb, **kw)
        assert exc.value.key == key, kw
    with pytest.raises(SearchError):
        made(rdb, query="-宠物")  # only words to leave out, and no topic
    # a topic alone is a subject
    assert made(rdb, query=None, topic=TOPIC).volume["items"] > 53


def test_kept_assessments_are_read_against_what_followed_their_day(rdb):
    a = made(rdb, event_day=date(2026, 11, 16), note="建议提前发布政策解读")
    n = assessment.save(rdb, a, actor="mon", now=NOW)
    again = assessment.saved(rdb, n)
    assert (again.id, again.title, again.level, again.signals, again.note) == (n, a.title, a.level, a.signals, a.note)
    entry = store.audit_entries(rdb, limit=1)[0]
    assert (entry["actor"], entry["action"], entry["target_type"], entry["target_id"]) == \
        ("mon", "assessment.save", "assessment", str(n))
    details = entry["details"] if isinstance(entry["details"], dict) else json.loads(entry["details"])
    assert (details["title"], details["level"], details["event_day"]) == (a.title, a.level, "2026-11-16")
    assert [r["id"] for r in store.list_assessments(rdb)] == [n]
    with pytest.raises(AssessmentError) as exc:
        assessment.saved(rdb, n + 1)
    assert exc.value.key == "assessment_missing"
    # one saved by mistake is taken off the list with its reason, kept, audited
    wrong = assessment.save(rdb, made(rdb, title="保存有误"), actor="mon", now=NOW)
    for reason, key in (("", "assessment_reason_missing"), ("长" * 201, "assessment_text_long")):
        with pytest.raises(AssessmentError) as exc:
            assessment.remove(rdb, wrong, reason=reason, actor="mon", now=NOW)
        assert exc.value.key == key
    removed = assessment.remove(rdb, wrong, reason="重复保存", actor="mon", now=NOW)
    assert (removed["removed_by"], removed["remove_reason"]) == ("mon", "重复保存")
    assert [r["id"] for r in store.list_assessments(rdb)] == [n] and not store.assessments_between(rdb, "2026-11-30", "2026-11-30")
    assert store.audit_entries(rdb, limit=1)[0]["action"] == "assessment.remove"
    with pytest.raises(AssessmentError) as exc:
        assessment.remove(rdb, wrong, reason="再删一次", actor="mon", now=NOW)
    assert exc.value.key == "assessment_missing"
    row = store.get_assessment(rdb, n)
    # before its day, on it, three days into it, and its whole week
    assert assessment.aftermath(rdb, row, date(2026, 11, 15), 0.5) == {"state": "ahead"}
    assert assessment.aftermath(rdb, row, date(2026, 11, 16), 0.5) == {"state": "running"}
    partial = assessment.aftermath(rdb, row, date(2026, 11, 19), 0.5)
    # 16–18 November: the week's items i with i % 7 in 0..2 (18 of 40); before, 9–15 November: 7 of the 10
    assert (partial["state"], partial["days"], partial["items"], partial["before"]) == ("partial", 3, 18, 7)
    done = assessment.aftermath(rdb, row, TODAY, 0.5)
    assert (done["state"], done["first"], done["last"], done["items"], done["before"]) == \
        ("done", "2026-11-16", "2026-11-22", 40, 7)
    assert done["change"] == round(40 / 7 / 1 * 100 - 100) and done["negative_share"] == 20.0
    assert done["before_negative_share"] == 0.0 and (done["flagged"], done["before_flagged"]) == (0, 0)
    assert assessment.aftermath(rdb, row, date(2026, 12, 20), 0.5) == done  # its first week, however late read
    assert assessment.aftermath_text(done) == "条目 40 条（日均+471%），疑似谣言 0 条（此前 0 条）"
    assert "11 月 16 日起 3 天（11 月 16 日 至 11 月 18 日）与此前 7 天相比" in \
        assessment.render_markdown(again, partial)  # (the days before are a whole week, whatever has passed)
    text = assessment.render_markdown(again, done)
    assert "事后对照" in text and "11 月 16 日起 7 天（11 月 16 日 至 11 月 22 日）" in text
    assert "建议提前发布政策解读" in text


def test_the_document_prints_the_same_figures_in_every_format(rdb, tmp_path):
    from docx import Document

    a = made(rdb, title="<b>政策</b>发布", note="研判：<script>x</script>")
    md = assessment.render_markdown(a)
    html = assessment.render_html(a)
    assessment.render(a, "docx", tmp_path / "a.docx")
    doc = Document(tmp_path / "a.docx")
    words = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells])
    level = f"风险等级：{assessment.LEVEL_ZH[a.level]}。"
    for text in (md, html, words):
        assert "事前舆情风险评估" in text and level in text
        assert "相关条目 53 条，涉及 53 个事件" in text and "尚未辟谣 2 个" in text
        assert "疑似谣言事件（按谣言概率，最多 10 个）" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;政策" in html
    assert len(doc.tables) == 1 and len(doc.tables[0].rows) == 4  # the header and the three stories
    # the daily chart: in the HTML (so the PDF) and the Word file, not in Markdown; the page draws its own
    assert html.count("data:image/png;base64,") == 1 and len(doc.inline_shapes) == 1
    assert "虚线右侧为近 7 天与今日。" in html and "虚线右侧" not in md
    days = a.volume["daily"]
    assert (len(days), days[0]["day"], days[-1]["day"]) == (31, "2026-10-24", "2026-11-23")
    assert (days[-1]["n"], days[-1]["flagged"], sum(d["n"] for d in days)) == (3, 3, 53)
    assert assessment.default_filename(a, "docx") == "事前舆情风险评估_b政策b发布_20261130.docx"  # (no < > / in a name)


def test_the_command_assesses_writes_the_document_and_keeps_it(tmp_path, monkeypatch):
    from rumourwatch import clock

    path = tmp_path / "cli.db"
    db = store.open_db(path)
    rfx.build_all(db)
    add(db, "t", [(cst(11, 23, 8 + i), 0.9, "neutral") for i in range(3)])
    db.conn.close()
    monkeypatch.setattr(clock, "system_clock", lambda: NOW)
    runner = CliRunner()
    base = ["--db", str(path), "assess", WORD, "--title", "政策发布", "--day", "2026-11-30"]
    out = runner.invoke(cli, [*base, "-o", str(tmp_path / "a.docx"), "--save", "--actor", "mon"])
    assert out.exit_code == 0, out.output
    assert "风险等级：较高。尚未辟谣的疑似谣言事件 3 个" in out.output and "saved as assessment #1" in out.output
    assert (tmp_path / "a.docx").stat().st_size > 5000
    bad = runner.invoke(cli, [*base, "-o", str(tmp_path / "a.txt")])
    assert bad.exit_code == 2 and "a.txt is not a .docx, .pdf, .html or .md file" in bad.output
    bad = runner.invoke(cli, [*base[:-1], "2026-11-31"])
    assert bad.exit_code == 2 and "'2026-11-31' is not a date" in bad.output
    bad = runner.invoke(cli, ["--db", str(path), "assess", "--title", "x", "--day", "2026-11-30"])
    assert bad.exit_code == 1 and "needs words to find its subject's items, or a topic" in bad.output
    listed = runner.invoke(cli, [*base, "--json"])
    assert json.loads(listed.output)["rumours"]["open"] == 3
    db = store.open_db(path)
    assert [r["made_by"] for r in store.list_assessments(db)] == ["mon"]


def click(at, label: str) -> None:
    """Press the page's button `label` and run the page again."""
    next(b for b in at.button if b.label == label).click()
    at.run()


def test_the_risk_page_assesses_keeps_and_lists(page_env):  # noqa: F811
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test

    def page(user: str) -> AppTest:
        at = AppTest.from_file(str(dfx.APP.parent / "app_pages" / "risk.py"), default_timeout=30)
        login_for_test(at, user)
        at.run()
        assert not at.exception, at.exception
        return at

    at = page(dfx.MONITOR)
    assert at.tabs[-1].label == "事前研判"
    assert any("还没有保存的事前研判" in i.value for i in at.info)
    at.text_input(key="assess_query_0").set_value("白醋")
    click(at, "开始研判")
    assert [e.value for e in at.error] == ["操作未完成：请填写评估事项（拟出台的政策、拟组织的活动或拟推进的工作）。"]
    at.text_input(key="assess_title_0").set_value("高血压防治指南宣传活动")
    click(at, "开始研判")
    assert not at.exception and not at.error
    lead = [b.value for b in (*at.error, *at.warning, *at.success) if b.value.startswith("风险等级：")]
    assert len(lead) == 1 and lead[0].endswith("（高血压防治指南宣传活动）")
    stories = next(df.value for df in at.dataframe if "辟谣情况" in df.value.columns)
    assert len(stories) >= 1 and all("白醋" in text for text in stories["内容"])
    click(at, "保存研判记录")
    assert any("已保存事前研判 #1：高血压防治指南宣传活动" in s.value for s in at.success)
    kept = next(df.value for df in at.dataframe if "事后 7 天" in df.value.columns)
    assert list(kept["评估事项"]) == ["高血压防治指南宣传活动"] and list(kept["事后 7 天"]) == ["未到"]
    # a kept one opens as it was made, with its document
    at.session_state["assess_kept_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert [b.value for b in (*at.error, *at.warning, *at.success) if b.value.startswith("风险等级：")] == lead
    assert not any("事后对照" in m.value for m in at.markdown)  # (not before its day)
    next(b for b in at.button if b.label == "生成文件" and b.key and "kept" in b.key).click()
    at.run()
    assert any(b.proto.label.startswith("下载 事前舆情风险评估_高血压防治指南宣传活动_")
               for b in at.get("download_button"))
    # assessed again on today's data: the form filled with its subject
    click(at, "按此事项重新研判")
    assert (at.text_input(key="assess_title_2").value, at.text_input(key="assess_query_2").value) == \
        ("高血压防治指南宣传活动", "白醋")
    assert at.date_input(key="assess_day_2").value == date(2026, 11, 30)  # its planned day (a week after the 23rd)
    assert not at.exception and not any("Session State" in w.value for w in at.warning)
    db = store.open_db(page_env)
    assert db.execute("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0] == "assessment.save"
    auth.create_user(db, "boss", dfx.MONITOR_PASSWORD, "leader", "test")
    db.conn.close()
    # a leader assesses and reads, and keeps nothing
    at = page("boss")
    at.text_input(key="assess_title_0").set_value("[流感](javascript:x)疫苗接种宣传")
    at.text_input(key="assess_query_0").set_value("流感疫苗")
    click(at, "开始研判")
    assert not at.exception
    [lead] = [b.value for b in (*at.error, *at.warning, *at.success) if b.value.startswith("风险等级：")]
    assert lead.endswith("（\\[流感\\]\\(javascript\\:x\\)疫苗接种宣传）")  # shown as typed, no link
    assert not any(b.label == "保存研判记录" for b in at.button)
    at.session_state["assess_kept_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not any(b.label == "删除该研判" for b in at.button)  # (nor removes one)
    # the monitor removes the kept one, saying why
    at = page(dfx.MONITOR)
    at.session_state["assess_kept_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    click(at, "删除该研判")
    assert [e.value for e in at.error] == ["操作未完成：删除事前研判时请写明原因。"]
    at.text_input(key="assess_remove_reason").set_value("保存有误")
    click(at, "删除该研判")
    assert any("已删除事前研判 #1" in s.value for s in at.success)
    assert any("还没有保存的事前研判" in i.value for i in at.info)


def test_the_monthly_notice_tells_what_followed_the_months_assessed_days(rdb):
    from rumourwatch import reports

    assessment.save(rdb, made(rdb, title="门诊共济政策发布", event_day=date(2026, 11, 16)), actor="mon", now=NOW)
    assessment.save(rdb, made(rdb, title="十二月的活动", event_day=date(2026, 12, 3)), actor="mon", now=NOW)
    line = ("事前研判：11 月 16 日 门诊共济政策发布（研判风险中等）：其后 7 天相关条目 40 条（日均较此前 7 天 +471%），"
            "疑似谣言 0 条（此前 0 条），负面占比 20.0%（此前 0.0%）。")
    notice = reports.compute_monthly(rdb, "2026-11", now=NOW)
    assert line in reports.risk_lines(notice)
    assert not any("十二月的活动" in x for x in reports.risk_lines(notice))  # (its day is December's)
    for text in (reports.render_markdown(notice), reports.render_html(notice, charts=False)):
        assert line in text
    # read on the day itself, the month's notice says its aftermath comes later
    early = reports.compute_monthly(rdb, "2026-11", now=datetime(2026, 11, 16, 9, tzinfo=CST))
    assert "事前研判：11 月 16 日 门诊共济政策发布（研判风险中等）：计划日期未到或为今日，事后情况下月通报。" in \
        reports.risk_lines(early)
    # a notice saved before the assessments were listed renders as it did
    saved = reports.Report.from_json(notice.to_json())
    saved.section("risk").data.pop("assessments")
    assert not any(x.startswith("事前研判") for x in reports.risk_lines(saved))
    # a weekly has no risk section, and no such line; it names those of the next week ahead of them
    weekly = reports.compute_weekly(rdb, "2026-W48", now=NOW)  # 23–29 November: 3 December is the week after
    assert "事前研判：" not in reports.render_markdown(weekly)
    line = "下周做过事前研判的事项：12 月 3 日 十二月的活动（研判风险中等）。请发布前后加强监测。"
    assert line in reports.volume_lines(weekly) and line in reports.render_html(weekly, charts=False)
    assert not any("事前研判" in x for x in reports.volume_lines(reports.compute_weekly(rdb, "2026-W47", now=NOW)))


def test_the_monitors_are_told_the_day_before_an_assessed_day_once(rdb, smtp_server):
    from workflow_helpers import rules

    from rumourwatch.alerts import workflow_tick
    from rumourwatch.records import UTC

    controller, inbox = smtp_server
    r = rules(notify={"smtp_host": "127.0.0.1", "smtp_port": controller.port, "quiet_hours": "",
                      "monitor_emails": ["monitor@example.org"]})
    assessment.save(rdb, made(rdb, event_day=date(2026, 11, 26)), actor="mon", now=NOW)
    assessment.save(rdb, made(rdb, title="只按话题", query=None, topic=TOPIC, event_day=date(2026, 11, 27)),
                    actor="mon", now=NOW)

    def told():  # (the fixture's overdue alerts are escalated in the same rounds)
        return [(to, msg) for to, msg in inbox.messages if msg["Subject"].startswith("【事前研判】")]

    # two days before (the 24th in Beijing): nothing
    assert workflow_tick(rdb, datetime(2026, 11, 24, 2, 0, tzinfo=UTC), r)["assessments"] == []
    # the day before (the 25th, 09:00 in Beijing); its words not yet watched
    tick = workflow_tick(rdb, datetime(2026, 11, 25, 1, 0, tzinfo=UTC), r)
    assert [a["title"] for a in tick["assessments"]] == ["门诊共济保障机制改革政策发布"]
    [(to, msg)] = told()
    assert to == ["monitor@example.org"] and msg["Subject"] == "【事前研判】明日：门诊共济保障机制改革政策发布（风险中等）"
    body = msg.get_content()
    assert "明日（11 月 26 日）是“门诊共济保障机制改革政策发布”的计划日期，事前研判风险中等（2026-11-23 16:00，mon）。" in body
    assert "研判依据：尚未辟谣的疑似谣言事件 2 个" in body and "检索词“门诊共济”尚未设为监测关注词" in body
    # once: later rounds that day say nothing more
    assert workflow_tick(rdb, datetime(2026, 11, 25, 9, 0, tzinfo=UTC), r)["assessments"] == []
    # the next day's, by topic alone, with its words watched by no one (it has none)
    r["watch"]["keywords"] = [WORD]
    tick = workflow_tick(rdb, datetime(2026, 11, 26, 1, 0, tzinfo=UTC), r)
    assert [a["title"] for a in tick["assessments"]] == ["只按话题"]
    assert "本研判按话题“健康知识普及”进行" in told()[-1][1].get_content() and len(told()) == 2
    # one whose words are watched by then says so
    assessment.save(rdb, made(rdb, title="再次发布", event_day=date(2026, 11, 28)), actor="mon", now=NOW)
    workflow_tick(rdb, datetime(2026, 11, 27, 1, 0, tzinfo=UTC), r)
    assert "检索词“门诊共济”已设为监测关注词" in told()[-1][1].get_content() and len(told()) == 3


def test_the_media_focus_names_what_the_subjects_items_talk_about_not_its_own_words(rdb):
    worries = ["医保个人账户改革后退休职工担心个人账户划入减少，门诊报销比例不够 #医保改革# 全文",
               "个人账户的钱变少了，退休职工看门诊怎么办？报销比例能提高吗 收起",
               "家里老人担心个人账户划入减少，门诊慢性病报销比例到底多少"]
    calm = ["医保改革后门诊费用纳入统筹报销，普通门诊报销比例提高，定点医院可直接结算",
            "门诊统筹报销政策解读：定点医院直接结算，报销比例五成起"]
    add(rdb, "f", [(cst(11, 18, 8 + i % 10), 0.1, "negative" if i % 2 else "neutral") for i in range(24)],
        word="医保改革", texts=["医保改革：" + (worries if i % 2 else calm)[i % (3 if i % 2 else 2)] + f"（{i}）"
                                + " #医保改革# ...全文" for i in range(24)])  # (as a folded post on Weibo)
    focus = made(rdb, query="医保改革").volume["focus"]
    assert focus["read"] == 24, focus
    assert {"个人账户", "报销", "门诊"} <= set(focus["words"]), focus
    assert not any(w in "医保改革" for w in focus["words"] + focus["negative"])  # the subject's own words
    assert not {"全文", "收起", "##"} & set(focus["words"] + focus["negative"])  # the platforms' words, marks
    assert {"个人账户", "退休职工"} <= set(focus["negative"]) and "定点医院" not in focus["negative"]  # only the worried ones' words
    text = assessment.render_markdown(made(rdb, query="医保改革"))
    assert "媒体焦点（最新 24 条相关条目中突出的词）：" in text and "负面条目的关注点：" in text


def test_a_young_installation_claims_no_rise_it_cannot_measure():
    db = store.open_db(memory=True)  # the feed began on the 17th: no days before the last week
    add(db, "y", [(cst(11, 17 + i % 6), 0.1, "neutral") for i in range(30)])
    a = made(db)
    assert (a.volume["recent"], a.volume["before_days"], a.volume["change"]) == (30, 0, None)
    assert not a.signals and a.level == "low"
    assert "近 7 天日均 4.3 条；平台此前尚无数据，无法判断热度变化。" in assessment.render_markdown(a)
    # two days of data before the week: the baseline is those two days, not 23 mostly empty ones
    add(db, "z", [(cst(11, 14), 0.1, "neutral"), (cst(11, 15), 0.1, "neutral")])
    a = made(db)
    assert (a.volume["before"], a.volume["before_days"], a.volume["before_mean"]) == (2, 2, 1.0)
    assert [s["text"] for s in a.signals] == ["热度上升：近 7 天日均为此前的 4.3 倍（30 条）"]

