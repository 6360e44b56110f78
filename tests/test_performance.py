"""专家履职情况: per expert, the tasks of a period and how they went, with the flags an admin renewing
the pool would look at (an active expert who took no task, declines most offers, lets offers lapse)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from click.testing import CliRunner
from workflow_helpers import ROSTER_CSV, add_item, rules

from rumourwatch import alerts, auth, experts, performance, store
from rumourwatch.cli import cli
from rumourwatch.clock import FixedClock

RUMOURS = ["网传示例井水喝了能治百病，大家快去打水", "网传每天吃十个示例柿子可以降血糖，不用打针吃药",
           "网传示例疫苗打完会改变基因，孩子千万不要去接种", "网传示例新药一针根治高血压，医院不告诉你",
           "网传示例茶叶水洗眼睛能治近视，三天见效"]


def _month_of_work(db, now):
    """李样本 accepts and publishes one task on time and has a draft returned once; 王虚构 declines
    three of three; 钱测试 lets two offers lapse; 张示例 reviews for others; nobody else does anything."""
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    auth.create_user(db, "li", "示例密码-Test-1234", "expert", "test", expert_id=ids["李样本"])
    auth.create_user(db, "zhang", "示例密码-Test-1234", "expert", "test", expert_id=ids["张示例"])
    clock = FixedClock(now)
    for text in RUMOURS:
        add_item(db, text, now, reposts=600)
    alert_ids = alerts.evaluate_alerts(db, now, rules())
    r = rules()
    # 李样本: accepted after 30 minutes, returned once in review, then published before the deadline
    aid = experts.assign_expert(db, alert_ids[0], ids["李样本"], "monitor1", clock(), r)
    experts.accept_assignment(db, aid, "li", clock.advance(minutes=30), actor_expert_id=ids["李样本"])
    cid = experts.save_draft(db, aid, "li", clock.advance(minutes=30), "示例井水不能治病", "示例澄清正文。")
    experts.submit_for_review(db, cid, "li", clock(), actor_expert_id=ids["李样本"])
    experts.review_clarification(db, cid, "zhang", clock.advance(minutes=10), approve=False, note="请补充出处")
    experts.save_draft(db, aid, "li", clock.advance(minutes=10), "示例井水不能治病", "示例澄清正文，附出处。")
    experts.submit_for_review(db, cid, "li", clock(), actor_expert_id=ids["李样本"])
    experts.review_clarification(db, cid, "zhang", clock.advance(minutes=10), approve=True)
    experts.publish_clarification(db, cid, "monitor1", clock.advance(minutes=10), "https://example.org/piyao/1")
    # 王虚构 declines three offers
    for alert_id in alert_ids[1:4]:
        a = experts.assign_expert(db, alert_id, ids["王虚构"], "monitor1", clock(), r)
        experts.decline_assignment(db, a, "wang", clock(), "不在本人专业范围", actor_expert_id=ids["王虚构"],
                                   reassign=False)
    # 钱测试 never answers two offers: each is escalated past the acceptance deadline
    for alert_id in alert_ids[1:3]:
        experts.assign_expert(db, alert_id, ids["钱测试"], "monitor1", clock(), r)
        alerts.escalate_overdue(db, clock.advance(hours=2), r)
    return ids


def test_each_expert_shows_the_periods_tasks_and_the_flags_to_look_at(db, now):
    ids = _month_of_work(db, now)
    start, end = store.day_range(now - timedelta(days=29), 30)
    rows = {r["name"]: r for r in performance.performance(db, start, end)}
    li = rows["李样本"]
    assert (li["offered"], li["accepted"], li["published"], li["on_time"], li["returned"]) == (1, 1, 1, 1, 1)
    assert li["accept_hours"] == 0.5 and li["flags"] == []
    assert li["last_accepted"] == "2026-11-23T08:30:00Z"
    assert (rows["王虚构"]["offered"], rows["王虚构"]["declined"], rows["王虚构"]["flags"]) == (3, 3, ["idle", "declines"])
    assert (rows["钱测试"]["lapsed"], rows["钱测试"]["flags"]) == (2, ["idle", "lapses"])
    assert (rows["张示例"]["reviewed"], rows["张示例"]["flags"]) == (2, [])  # reviewing others counts as taking part
    assert next(iter(rows)) == "李样本"  # the one who published first
    # a period before any of it, when nobody was asked: nothing counted, and nobody flagged idle
    before = store.day_range(now - timedelta(days=60), 30)
    assert all(r["flags"] == [] and not r["offered"] for r in performance.performance(db, *before))
    # an expert taken out of the pool with nothing in the period is not listed
    store.set_expert_active(db, ids["张示例"], False, "2026-11-24T00:00:00Z")
    assert "张示例" not in {r["name"] for r in performance.performance(db, *before)}


def test_the_csv_says_it_in_chinese_for_excel(db, now):
    _month_of_work(db, now)
    start, end = store.day_range(now - timedelta(days=29), 30)
    text = performance.performance_csv(performance.performance(db, start, end))
    assert text.startswith("\ufeff")
    rows = {r["专家"]: r for r in csv.DictReader(io.StringIO(text[1:]))}
    assert rows["王虚构"]["提示"] == "期内未承担任务；多数指派被谢绝"
    assert (rows["李样本"]["最近一次接受任务"], rows["李样本"]["接受中位用时（小时）"]) == ("2026-11-23 16:30", "0.5")


def test_the_command_prints_writes_and_refuses_a_missing_folder(tmp_path, now):
    path = tmp_path / "rw.db"
    db = store.open_db(path)
    _month_of_work(db, now)
    db.conn.close()
    base = ["--db", str(path), "experts", "performance", "--from", "2026-11-01", "--to", "2026-11-30"]
    result = CliRunner().invoke(cli, [*base, "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["钱测试"]["flags"] == ["idle", "lapses"]
    out = tmp_path / "perf.csv"
    result = CliRunner().invoke(cli, [*base, "--csv", str(out)])
    assert result.exit_code == 0 and "王虚构" in out.read_text(encoding="utf-8")
    assert "[idle, declines]" in result.output
    result = CliRunner().invoke(cli, [*base, "--csv", str(tmp_path / "no" / "perf.csv")])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_the_published_clarifications_self_check_is_counted_per_expert(db, now):
    """稿件自查 in 专家履职情况: 李样本's one clarification ("示例澄清正文，附出处。") lacks most of what the
    standard asks; a second, complete one is counted clean."""
    ids = _month_of_work(db, now)
    start, end = store.day_range(now - timedelta(days=29), 30)
    li = {r["name"]: r for r in performance.performance(db, start, end, vocab=None)}["李样本"]
    assert li["clean"] == 0
    assert li["common_warnings"] == "未填写所澄清的说法 1、未列出依据 1、未写明适用人群 1"  # the three most often left
    untouched = max(a["id"] for a in store.list_alerts(db))  # the 茶叶水 rumour's alert, offered to nobody
    aid = experts.assign_expert(db, untouched, ids["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now, actor_expert_id=ids["李样本"])
    cid = experts.save_draft(
        db, aid, "li", now, "示例茶叶水洗眼睛能治近视？没有科学依据",
        "网传“示例茶叶水洗眼睛能治近视，三天见效”。这一说法没有科学依据。茶叶水不能改变眼轴长度，"
        "反复冲洗还可能刺激眼睛、引起感染。儿童青少年近视要到正规医院检查，遵医嘱配镜。"
        "预防近视，请多到户外活动，读写时保持正确姿势，少看电子屏幕。",
        "国家卫生健康委《儿童青少年近视防控适宜技术指南》", claim="茶叶水洗眼睛能治近视")
    experts.submit_for_review(db, cid, "li", now, actor_expert_id=ids["李样本"])
    experts.review_clarification(db, cid, "zhang", now, approve=True)
    experts.publish_clarification(db, cid, "monitor1", now, "https://example.org/piyao/2")
    li = {r["name"]: r for r in performance.performance(db, start, end)}["李样本"]
    assert (li["published"], li["clean"]) == (2, 1)
    rows = {r["专家"]: r for r in csv.DictReader(io.StringIO(performance.performance_csv([li])[1:]))}
    assert rows["李样本"]["自查无提示"] == "1" and rows["李样本"]["常见自查提示"] == li["common_warnings"]
