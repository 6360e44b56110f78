"""舆情风险点: the topics, accounts and places that keep producing negative or false health items,
sorted out for a period, with the weeks they came back in — on a page, in a CSV and from the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest
from workflow_helpers import OTHER_TEXT, add_item

from dashboard.auth import login_for_test
from rumourwatch import auth, experts, healthdays, risk, store
from rumourwatch.ads import AD_FLAG
from rumourwatch.clarifiers import CLARIFICATION_FLAG
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT

FALSE = ["网传示例牌保健茶能根治糖尿病，停掉胰岛素也没关系，第{}批", "紧急扩散！示例井水喝了能治百病，第{}回",
         "示例偏方三天治好高血压，医院不会告诉你的秘密，第{}版"]


def _feed(db, now):
    """Four weeks of items: 示例养生号 posts a false claim about diabetes every week (a recurring
    risk), 示例网友 one in the first week only; 示例省 is negative often; 示例市 quiet."""
    for week in range(4):
        at = now - timedelta(weeks=week, hours=1)
        add_item(db, FALSE[0].format(week), at, account="示例养生号", topic="糖尿病防治", polarity="negative",
                 user={"province": "示例省"})
        for i in range(3):
            add_item(db, f"{OTHER_TEXT}，第{week}周第{i}条", at - timedelta(hours=i + 1), probability=0.1,
                     account=f"示例市民{i}", topic="糖尿病防治" if i else "全民健身",
                     polarity="negative" if i == 0 else "neutral", user={"province": "示例省" if i else "示例市"})
    add_item(db, FALSE[1].format(1), now - timedelta(weeks=3, hours=2), account="示例网友", topic="健康知识普及",
             user={"province": "示例市"})
    add_item(db, FALSE[2].format(1), now - timedelta(days=40), account="示例养生号", topic="心脑血管疾病防治")


def _points(db, now):
    start, end = store.day_range(now - timedelta(days=29), 30)
    return risk.risk_points(db, start, end, 0.5)


def test_a_topic_that_keeps_producing_false_items_is_a_recurring_risk_point(db, now):
    _feed(db, now)
    points = _points(db, now)
    top = points["topics"][0]
    assert (top["topic"], top["flagged"], top["flagged_weeks"], top["recurring"]) == ("糖尿病防治", 4, 4, True)
    assert top["items"] == 12 and top["negative"] == 4
    once = next(r for r in points["topics"] if r["topic"] == "健康知识普及")
    assert (once["flagged"], once["recurring"]) == (1, False)  # an incident, not yet a pattern
    # compared with the 30 days before: 心脑血管疾病防治 flagged once then, none now
    assert all(r["topic"] != "心脑血管疾病防治" for r in points["topics"])
    table = {row[0]: row for row in risk.rows(points, "topics")}
    assert table["糖尿病防治"][7:11] == ("4/6", "持续", 0, "新出现")  # 25 Oct – 23 Nov touches 6 weeks


def test_an_account_flagged_week_after_week_comes_first_and_a_verdict_is_counted(db, now):
    _feed(db, now)
    first = db.execute("SELECT id FROM items WHERE account = '示例网友'").fetchone()[0]
    experts.record_verdict(db, first, "rumour", "经核实为谣言", "monitor1", now)
    accounts = _points(db, now)["accounts"]
    assert [(a["account"], a["confirmed"]) for a in accounts] == [("示例网友", 1), ("示例养生号", 0)]
    recurring = next(a for a in accounts if a["account"] == "示例养生号")
    assert (recurring["flagged"], recurring["flagged_weeks"], recurring["recurring"]) == (4, 4, True)
    assert all(a["account"] not in ("示例市民0", "示例市民1") for a in accounts)  # nothing flagged


def test_places_are_read_from_the_account_facts(db, now):
    _feed(db, now)
    regions = {r["region"]: r for r in _points(db, now)["regions"]}
    assert (regions["示例省"]["items"], regions["示例省"]["flagged"], regions["示例省"]["recurring"]) == (12, 4, True)
    assert regions["示例市"]["flagged"] == 1 and not regions["示例市"]["recurring"]


def test_ads_and_debunk_platforms_are_no_risk_points(db, now):
    """Both score high on the rumour model (a refuted claim's words, a selling style); ingest flags them."""
    add_item(db, "辟谣：示例牌保健茶不能根治糖尿病，停掉胰岛素很危险", now - timedelta(hours=1),
             account="示例辟谣平台", topic="糖尿病防治")
    add_item(db, "示例牌保健茶限时特价99元，降糖效果好，加微信下单", now - timedelta(hours=2), account="示例微商",
             topic="糖尿病防治")
    for account, flag in (("示例辟谣平台", CLARIFICATION_FLAG), ("示例微商", AD_FLAG)):
        db.execute("UPDATE items SET quality_flags = ? WHERE account = ?", [json.dumps([flag]), account])
    points = _points(db, now)
    assert points["accounts"] == [] and points["topics"] == []


def test_the_csv_opens_in_excel_and_keeps_a_formula_as_text(db, now):
    add_item(db, FALSE[0].format(9), now - timedelta(hours=1), account="=HYPERLINK(\"http://x\")", topic="糖尿病防治")
    text = risk.risk_csv(_points(db, now), "accounts")
    assert text.startswith("\ufeff")
    [row] = list(csv.DictReader(io.StringIO(text[1:])))
    assert row["账号"] == "'=HYPERLINK(\"http://x\")" and row["疑似谣言"] == "1"


def test_the_command_prints_the_tables_and_writes_one_as_csv(tmp_path, now):
    path = tmp_path / "rw.db"
    db = store.open_db(path)
    _feed(db, now)
    db.conn.close()
    day = now.date().isoformat()
    result = CliRunner().invoke(cli, ["--db", str(path), "report", "risk", "--from", "2026-10-25", "--to", day])
    assert result.exit_code == 0, result.output
    assert "持续风险点（2 周及以上出现疑似谣言）：话题 1 个，账号 1 个，地区 1 个。" in result.output
    assert "糖尿病防治\t12\t4\t33.3%\t4\t0\t0\t4/6\t持续" in result.output
    out = tmp_path / "账号.csv"
    result = CliRunner().invoke(cli, ["--db", str(path), "report", "risk", "--from", "2026-10-25", "--to", day,
                                      "--kind", "accounts", "-o", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").count("\n") == 3  # header and two accounts
    refused = CliRunner().invoke(cli, ["--db", str(path), "report", "risk", "-o", str(out)])
    assert refused.exit_code == 2 and "name it with --kind" in refused.output


@pytest.fixture
def page_db(tmp_path, monkeypatch, now):
    path = tmp_path / "risk.db"
    db = store.open_db(path)
    _feed(db, now)
    for name, role in (("monitor1", "monitor"), ("leader1", "leader"), ("analyst1", "analyst")):
        auth.create_user(db, name, "示例密码-Test-1234", role, "test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path


def _page(user, path):
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "risk.py"), default_timeout=30)
    login_for_test(at, user, str(path))
    return at


def test_the_page_shows_the_risk_points_to_a_leader(page_db, now, monkeypatch):
    from dashboard import data

    monkeypatch.setattr(data, "now_utc", lambda: now)
    monkeypatch.setattr(data, "china_today", lambda: now.date())
    at = _page("leader1", page_db)
    at.run()
    assert not at.exception, at.exception
    assert "话题 1 个，账号 1 个，地区 1 个" in at.info[0].value
    topics = at.dataframe[0].value
    assert topics.iloc[0]["话题"] == "糖尿病防治" and topics.iloc[0]["持续风险"] == "持续"
    # the three kinds' tables, and 宣传节点's days ahead and days passed
    assert [d.proto.label for d in at.get("download_button")] == ["导出本表（CSV）"] * 5


def test_a_topics_row_and_a_health_days_row_open_the_topics_items_on_the_search_page(page_db, now, monkeypatch):
    """The page asks 条目检索 for the topic's items (`ui.open_search(topic=…)`, whose address the search
    page reads: test_search); the switch itself is Streamlit's."""
    from dashboard import data, ui

    monkeypatch.setattr(data, "now_utc", lambda: now)
    monkeypatch.setattr(data, "china_today", lambda: now.date())
    opened = []
    monkeypatch.setattr(ui, "open_search", lambda **params: opened.append(params))
    at = _page("leader1", page_db)
    at.run()
    at.session_state["risk_topics_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert opened == [{"topic": "糖尿病防治"}]
    at.session_state["risk_topics_0"] = {"selection": {"rows": [], "columns": [], "cells": []}}
    at.session_state["days_ahead_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    first = healthdays.upcoming(store.open_db(page_db), now.date(), 0.5)[0]
    assert opened[-1] == {"topic": first["topic"]}


def test_an_analyst_is_refused_the_page(page_db):
    at = _page("analyst1", page_db)
    at.run()
    assert not at.dataframe and "无权" in at.error[0].value


def test_the_monthly_notice_lists_what_kept_coming_back_over_three_months(db, now):
    from rumourwatch import reports

    _feed(db, now)
    notice = reports.compute_monthly(db, "2026-11", now=now + timedelta(days=8))
    section = notice.section("risk")
    assert section.title == "八、舆情风险点（近 3 个月）"
    assert [r["topic"] for r in section.data["topics"]] == ["糖尿病防治"]  # the recurring ones only
    assert [r["account"] for r in section.data["accounts"]] == ["示例养生号"]
    md = reports.render_markdown(notice)
    assert "2026-09-01 至 2026-11-30（14 周）中，在 2 周及以上出现疑似谣言的话题、账号与地区" in md
    assert "| 糖尿病防治 | 4 | 0 | 4/14 | 33.3% |" in md
    html = reports.render_html(notice, charts=False)
    assert "<h3>持续风险账号</h3>" in html and "示例养生号" in html
    _, body = reports.summary_text(notice, [])
    assert "持续风险点（2 周及以上出现疑似谣言）：话题 1 个，账号 1 个，地区 1 个。" in body
    assert "舆情风险点" not in reports.render_markdown(reports.compute_weekly(db, "2026-W48", now=now))


def test_an_accounts_record_says_whether_its_false_items_are_a_habit(db, now):
    _feed(db, now)
    habit = risk.account_record(db, "微博", "示例养生号", now, 0.5)
    assert (habit["flagged"], habit["flagged_weeks"], habit["recurring"]) == (5, 5, True)  # 40 days ago too
    assert risk.record_text(habit) == ("该账号近 90 天：健康相关条目 5 条，疑似谣言 5 条（出现于 5 个不同的周，持续风险账号），"
                                       "经核实谣言 0 条。")
    once = risk.account_record(db, "微博", "示例网友", now, 0.5, days=30)
    assert (once["flagged"], once["recurring"], once["confirmed"]) == (1, False, 0)
    item = db.execute("SELECT id FROM items WHERE account = '示例网友'").fetchone()[0]
    experts.record_verdict(db, item, "rumour", "经核实为谣言", "monitor1", now)
    assert risk.account_record(db, "微博", "示例网友", now, 0.5, days=30)["confirmed"] == 1
    experts.record_verdict(db, item, "not_rumour", "复核：并非谣言", "monitor1", now + timedelta(minutes=1))
    assert risk.account_record(db, "微博", "示例网友", now + timedelta(minutes=2), 0.5, days=30)["confirmed"] == 0
    assert risk.record_text(risk.account_record(db, "微博", "示例市民1", now, 0.5)).endswith("疑似谣言 0 条，经核实谣言 0 条。")


def test_the_special_report_gives_the_first_publishers_record(db, now):
    from workflow_helpers import rules

    from rumourwatch import alerts, briefing

    _feed(db, now)
    add_item(db, "紧急扩散！示例牌降糖贴一贴见效，胰岛素可以扔了", now, account="示例养生号", reposts=300)
    [alert_id] = alerts.evaluate_alerts(db, now + timedelta(minutes=5), rules())
    md = briefing.render_markdown(briefing.compute_briefing(db, alert_id, now + timedelta(minutes=5)))
    assert "首发账号记录：该账号近 90 天：健康相关条目 6 条，疑似谣言 6 条（出现于 5 个不同的周，持续风险账号）" in md


def test_a_beijing_week_from_monday_is_one_week(db):
    """Weeks are counted on Beijing dates: Monday 00:00 in Beijing is still Sunday in UTC."""
    from datetime import datetime

    from rumourwatch.records import CST

    start, end = store.day_range(datetime(2026, 11, 23, tzinfo=CST), 7)  # Monday 23 – Sunday 29 November
    assert risk.risk_points(db, start, end, 0.5)["period"]["weeks"] == 1
    start, end = store.day_range(datetime(2026, 11, 23, tzinfo=CST), 8)
    assert risk.risk_points(db, start, end, 0.5)["period"]["weeks"] == 2
