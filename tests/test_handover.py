"""值班交接: a monitor's shift — what it saw and did, what it leaves open with the clocks due next,
what waits on someone else — handed to the next monitor with a note, pushed to the group bot, shown
on the live page until the next monitor confirms it; on the 值班交接 page and from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest
from workflow_helpers import (
    OTHER_TEXT,
    PASSWORD,
    ROSTER_CSV,
    RUMOUR_TEXT,
    add_item,
    rules,
)

from dashboard.auth import login_for_test
from rumourwatch import alerts, auth, experts, handover, notify, store, tips
from rumourwatch.alerts import WorkflowError
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT
from rumourwatch.records import iso

LOW = "听说每天喝一杯示例牌凉茶能预防流感，家里老人小孩都在喝，大家也试试"  # scored below every rule


def _expert(db, name):
    return next(e["id"] for e in store.list_experts(db) if e["name"] == name)


def _shift(db, now):
    """A night shift from now − 8 h: alert B (raised before it, overdue now, its clarification waiting
    for review), alert A (raised in it, 3 hours left, offered to an expert who has not accepted),
    alert C (raised and dismissed in it), a verdict, a takedown request and a tip."""
    experts.import_roster(db, ROSTER_CSV, "admin", now - timedelta(hours=12))
    item_b = add_item(db, LOW, now - timedelta(hours=11), probability=0.3)
    b = alerts.raise_alert(db, item_b, "三级", "电话反映", "monitor0", now - timedelta(hours=10), rules())["alert_id"]
    [task_b] = [experts.assign_expert(db, b, _expert(db, "张示例"), "monitor0", now - timedelta(hours=9), rules())]
    experts.accept_assignment(db, task_b, "张示例", now - timedelta(hours=8, minutes=30))
    draft = experts.save_draft(db, task_b, "张示例", now - timedelta(hours=7), "示例凉茶不能预防流感", "正文",
                               claim="每天喝一杯示例牌凉茶能预防流感")
    experts.submit_for_review(db, draft, "张示例", now - timedelta(hours=6), rules=rules())

    item_a = add_item(db, RUMOUR_TEXT, now - timedelta(hours=2), reposts=600)
    [a] = alerts.evaluate_alerts(db, now - timedelta(hours=2), rules())
    experts.assign_expert(db, a, _expert(db, "李样本"), "monitor1", now - timedelta(minutes=30), rules())

    item_c = add_item(db, OTHER_TEXT, now - timedelta(hours=3), probability=0.2)
    c = alerts.raise_alert(db, item_c, "三级", "疑似", "monitor1", now - timedelta(hours=3), rules())["alert_id"]
    alerts.dismiss_alert(db, c, "monitor1", now - timedelta(hours=1), "天气新闻，误报", rules())

    experts.record_verdict(db, item_a, "rumour", "与已发布辟谣一致", "monitor1", now - timedelta(minutes=90))
    experts.request_takedown(db, item_a, "monitor1", now - timedelta(hours=4))
    tips.record_tip(db, channel="12320", text="网传喝醋能软化血管", actor="monitor1", now=now - timedelta(minutes=45),
                    received_at=now - timedelta(minutes=50))
    experts.add_absence(db, _expert(db, "王虚构"), now + timedelta(hours=2), now + timedelta(days=2), "出差",
                        "admin", now - timedelta(hours=1))
    return {"a": a, "b": b, "c": c, "item_a": item_a, "draft": draft}


def test_the_shift_says_what_it_saw_did_and_leaves_open_most_urgent_first(db, now):
    ids = _shift(db, now)
    s = handover.shift_summary(db, now - timedelta(hours=8), now)
    assert [(r["id"], r["kind"]) for r in s["alerts_raised"]] == [(ids["c"], "manual"), (ids["a"], "rumour")]
    assert s["actions"]["raised"] == 1 and s["actions"]["dismissed"] == 1 and s["actions"]["assigned"] == 1
    assert s["actions"]["submitted"] == 1 and "created" not in s["actions"]  # the rule's own step is no one's action
    assert set(s["actors"]) == {"monitor1", "张示例"}  # monitor0's steps were before the shift
    assert s["verdicts"] == {"rumour": 1}
    assert s["takedowns"] == {"requested": 1, "removed": 0, "refused": 0}
    assert s["tips"] == 1
    assert s["items"]["items"] == 3  # A, C and the tip's item; B's item came before the shift

    # open: B overdue first, then A with 3 hours left; C was dismissed
    assert [a["id"] for a in s["open_alerts"]] == [ids["b"], ids["a"]]
    b, a = s["open_alerts"]
    assert b["overdue"] and b["clock"] == "respond_by" and b["hours_left"] == -5.0 and b["expert"] == "张示例"
    assert not a["overdue"] and a["due_next_shift"] and a["hours_left"] == 3.0
    [offered] = s["offered"]
    assert (offered["alert_id"], offered["expert"], offered["hours_left"]) == (ids["a"], "李样本", 0.5)
    assert [(r["clarification_id"], r["status"]) for r in s["reviews"]] == [(ids["draft"], "in_review")]
    assert [d["item_id"] for d in s["takedowns_pending"]] == [ids["item_a"]]

    shift = "\n".join(handover.shift_lines(s))
    assert "新生成预警 2 起（二级 1，三级 1）" in shift
    assert "研判结论：确认谣言 1" in shift and "删除请求：新发 1 项" in shift and "公众举报 1 条" in shift
    left = handover.open_lines(s)
    assert left[0] == "未结预警 2 起，其中已超时 1 起，8 小时内到期 1 起："
    assert left[1].startswith(f"  #{ids['b']} 三级 人工上报 审核中，专家 张示例：信息发布时限")
    assert "超时 5.0 小时" in left[1] and "剩 3.0 小时" in left[2]
    assert any("待专家接受的指派 1 项" in line for line in left)
    assert any("澄清稿待审核 1 篇" in line for line in left)
    assert any("待平台答复的删除请求 1 项" in line for line in left)
    assert "下一班不可用的专家：王虚构（11-23 18:00 至 11-25 16:00，出差）。" in left


def test_a_quiet_source_is_handed_over(db, now):
    store.set_checkpoint(db, "weibo-scraper", "page:40", 120, iso(now - timedelta(hours=9)))
    store.mark_polled(db, "weibo-scraper", iso(now - timedelta(minutes=5)))
    s = handover.shift_summary(db, now - timedelta(hours=8), now, quiet_hours=6)
    assert [(x["source"], x["state"]) for x in s["sources"]] == [("weibo-scraper", "quiet")]
    assert "数据源 weibo-scraper 异常：自 11-23 07:00 起没有新条目。" in handover.open_lines(s)
    assert handover.shift_summary(db, now - timedelta(hours=8), now)["sources"] == []  # not judged without the hours


def test_a_handover_waits_for_the_next_monitor_and_is_confirmed_once(db, now):
    ids = _shift(db, now)
    assert handover.default_since(db, now) == now - timedelta(hours=8)  # no handover yet
    hid = handover.write_handover(db, "monitor1", now, "  #A 已电话催李样本，09:00 前回复  ")
    assert handover.default_since(db, now + timedelta(hours=8)) == now  # the next shift starts at it
    assert handover.default_since(db, now + timedelta(hours=30)) == now + timedelta(hours=22)  # too old: 8 h

    assert handover.pending_handover(db, "monitor1", now) is None  # not shown to its author
    pending = handover.pending_handover(db, "monitor2", now + timedelta(minutes=5))
    assert pending["id"] == hid and pending["note"] == "#A 已电话催李样本，09:00 前回复"
    assert len(pending["summary"]["open_alerts"]) == 2

    with pytest.raises(WorkflowError) as own:
        handover.receive_handover(db, hid, "monitor1", now)
    assert own.value.key == "handover_own"
    row = handover.receive_handover(db, hid, "monitor2", now + timedelta(minutes=5))
    assert (row["received_by"], row["received_at"]) == ("monitor2", "2026-11-23T08:05:00Z")
    assert handover.pending_handover(db, "monitor3", now + timedelta(minutes=6)) is None
    with pytest.raises(WorkflowError) as twice:
        handover.receive_handover(db, hid, "monitor3", now + timedelta(minutes=6))
    assert twice.value.key == "handover_received" and twice.value.params["user"] == "monitor2"
    actions = [(e["action"], e["actor"]) for e in store.audit_entries(db) if e["target_type"] == "handover"]
    assert actions == [("handover.receive", "monitor2"), ("handover.write", "monitor1")]

    # the record keeps the shift as it was: dismissing B later does not change what was handed over
    alerts.dismiss_alert(db, ids["b"], "monitor2", now + timedelta(hours=1), "已核实不实，另案处理", rules())
    [past] = handover.history(db)
    assert (past["open_alerts"], past["overdue"], past["alerts_raised"]) == (2, 1, 2)
    text = handover.handover_lines(handover.handover(db, hid))
    assert text[0] == "值班交接：monitor1，11-23 16:00（北京时间）" and text[-1] == "#A 已电话催李样本，09:00 前回复"


def test_an_unconfirmed_handover_stops_showing_after_a_day(db, now):
    handover.write_handover(db, "monitor1", now, "")
    assert handover.pending_handover(db, "monitor2", now + timedelta(hours=23)) is not None
    assert handover.pending_handover(db, "monitor2", now + timedelta(hours=25)) is None


@pytest.mark.parametrize(("since", "note", "key"), [
    (timedelta(hours=-1), "", "handover_since_future"),
    (timedelta(days=8), "", "handover_span"),
    (timedelta(hours=8), "字" * 2001, "handover_note_long"),
])
def test_a_handover_that_cannot_be_right_is_refused_and_nothing_is_kept(db, now, since, note, key):
    with pytest.raises(WorkflowError) as refused:
        handover.write_handover(db, "monitor1", now, note, since=now - since)
    assert refused.value.key == key
    assert store.list_handovers(db) == []


def test_the_handover_reaches_the_monitors_group_bot(db, now, webhook):
    _shift(db, now)
    r = rules(notify={"quiet_hours": "", "webhooks": [
        {"url": f"http://127.0.0.1:{webhook.server_port}/cgi-bin/webhook/send?key=test", "format": "markdown"}]})
    handover.write_handover(db, "monitor1", now, "#A 已电话催李样本", rules=r)
    assert notify.deliver_pending(db, now, r)["sent"] == 1
    [payload] = webhook.received
    content = payload["markdown"]["content"]
    assert "【值班交接】monitor1 11-23 16:00" in content
    assert "未结预警 2 起，其中已超时 1 起" in content and "#A 已电话催李样本" in content


def test_the_commands_show_write_list_and_receive(db_path, now):
    db = store.open_db(db_path)
    ids = _shift(db, now)
    db.conn.close()
    base = ["--db", str(db_path), "handover"]
    run = CliRunner().invoke(cli, [*base, "show", "--hours", "8", "--now", iso(now), "--json"])
    assert run.exit_code == 0, run.output
    assert [a["id"] for a in json.loads(run.output)["open_alerts"]] == [ids["b"], ids["a"]]
    run = CliRunner().invoke(cli, [*base, "write", "--note", "夜班无特别事项", "--actor", "monitor1", "--now", iso(now)])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("handover #1\n值班交接：monitor1") and "夜班无特别事项" in run.output
    run = CliRunner().invoke(cli, [*base, "receive", "1", "--actor", "monitor1"])
    assert run.exit_code != 0 and "monitor1's own" in run.output
    run = CliRunner().invoke(cli, [*base, "receive", "1", "--actor", "monitor2"])
    assert run.output.strip() == "handover #1 from monitor1 received by monitor2"
    run = CliRunner().invoke(cli, [*base, "list", "--json"])
    [row] = json.loads(run.output)
    assert (row["author"], row["received_by"], row["open_alerts"], row["overdue"]) == ("monitor1", "monitor2", 2, 1)
    run = CliRunner().invoke(cli, [*base, "show", "--since", "yesterday"])
    assert run.exit_code != 0 and "unreadable" in run.output


@pytest.fixture
def page_db(tmp_path, monkeypatch):
    path = tmp_path / "handover.db"
    db = store.open_db(path)
    t = datetime.now(UTC).replace(microsecond=0)
    item = add_item(db, RUMOUR_TEXT, t - timedelta(hours=1), reposts=600)
    [alert_id] = alerts.evaluate_alerts(db, t - timedelta(hours=1), rules())
    for name, role in (("monitor1", "monitor"), ("monitor2", "monitor"), ("leader1", "leader")):
        auth.create_user(db, name, PASSWORD, role, "test")
    handover.write_handover(db, "monitor1", t - timedelta(minutes=10), "预警已电话报告值班领导，等待批示")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path, item, alert_id


def _page(path, username, page="handover.py") -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / page), default_timeout=30)
    login_for_test(at, username, str(path))
    at.run()
    return at


def test_the_next_monitor_confirms_on_the_page_and_hands_over_in_turn(page_db):
    path, _, alert_id = page_db
    at = _page(path, "monitor2")
    assert not at.exception, at.exception
    assert any("monitor1" in w.value and "尚未有人确认接班" in w.value for w in at.warning)
    assert any("等待批示" in x.value for x in at.text)
    next(b for b in at.button if b.label == "确认接班").click()
    at.run()
    assert not at.exception, at.exception
    assert not any("尚未有人确认接班" in w.value for w in at.warning)
    db = store.open_db(path)
    assert store.list_handovers(db)[0]["received_by"] == "monitor2"

    assert [m.value for m in at.metric][3] == "0"  # the shift started at the handover: no alert raised since
    assert at.dataframe[0].value.iloc[0]["编号"] == str(alert_id)
    at.text_area(key="handover_note_0").input("白班：预警已按批示处置")
    next(b for b in at.button if b.label == "提交交接").click()
    at.run()
    assert not at.exception, at.exception
    latest = store.list_handovers(db)[0]
    assert (latest["author"], latest["note"]) == ("monitor2", "白班：预警已按批示处置")
    assert any("已提交交接" in s.value for s in at.success)


def test_the_live_page_shows_the_handover_until_it_is_confirmed(page_db):
    path, _, _ = page_db
    at = _page(path, "monitor2", "live.py")
    assert not at.exception, at.exception
    assert any("monitor1" in w.value and "尚未确认接班" in w.value for w in at.warning)
    assert any(b.label == "查看交接并确认接班" for b in at.button)
    own = _page(path, "monitor1", "live.py")  # its author is not asked to confirm it
    assert not any("尚未确认接班" in w.value for w in own.warning)
    handover.receive_handover(store.open_db(path), 1, "monitor2", datetime.now(UTC))
    at.run()
    assert not any("尚未确认接班" in w.value for w in at.warning)


def test_the_next_shift_takes_over_the_referrals_units_have_not_answered_and_their_reports(db, now):
    """交办 awaiting a unit's reply (the overdue counted) and the units' reports awaiting a decision
    are handed over like the experts' tasks: the next monitor chases them."""
    from rumourwatch import referrals, submissions

    ids = _shift(db, now)
    with store.transaction(db):
        store.upsert_units(db, [{"code": "U1", "name": "城区卫生健康局", "kind": "县区卫健局", "region": None,
                                 "monthly_minimum": None, "active": 1}], iso(now))
    unit = store.find_unit(db, "U1")
    referrals.refer(db, ids["b"], unit["id"], "请核实并反馈。", actor="monitor1", now=now - timedelta(hours=6), hours=4)
    answered = referrals.refer(db, ids["a"], unit["id"], "请核实。", actor="monitor1", now=now - timedelta(hours=1))
    referrals.reply(db, answered["id"], "已核实。", actor="corr", now=now, unit_id=unit["id"])
    submissions.submit(db, unit_id=unit["id"], kind="work", title="开展科普讲座", content="本周开展科普讲座两场。",
                       actor="corr", now=now - timedelta(hours=3))
    s = handover.shift_summary(db, now - timedelta(hours=8), now)
    assert [(r["alert_id"], r["unit"], r["hours_left"]) for r in s["referrals_pending"]] == [
        (ids["b"], "城区卫生健康局", -2.0)]
    left = handover.open_lines(s)
    assert "待属地单位反馈的交办 1 项，其中已超时 1 项：" in left
    assert f"  预警 #{ids['b']} 交办 城区卫生健康局，反馈时限 11-23 14:00（超时 2.0 小时）" in left
    assert "待处理的单位报送信息 1 条（最早于 11-23 13:00 报送），见信息报送页。" in left
