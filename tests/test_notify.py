"""Notifications reach a real local HTTP server and a real local SMTP server (aiosmtpd); a server
that is down is retried with backoff and logged, never lost; quiet hours hold non-urgent ones."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from local_servers import free_port, start_webhook
from workflow_helpers import RUMOUR_TEXT, add_item, rules

from rumourwatch import notify, store
from rumourwatch.alerts import escalate_overdue, evaluate_alerts
from rumourwatch.clock import FixedClock
from rumourwatch.records import iso


def _rules(hook_url=None, smtp_port=None, **notify_overrides):
    cfg = {"quiet_hours": "", "retry_base_seconds": 60, "retry_max_seconds": 900, "timeout_seconds": 5,
           "monitor_emails": ["monitor@example.org"], "leader_emails": ["leader@example.org"]}
    if hook_url:
        cfg["webhooks"] = [{"url": hook_url, "format": "markdown"}]
    if smtp_port:
        cfg.update(smtp_host="127.0.0.1", smtp_port=smtp_port)
    cfg.update(notify_overrides)
    return rules(notify=cfg)


def test_new_alert_reaches_the_group_bot_and_the_monitors_mailbox(db, now, webhook, smtp_server):
    controller, inbox = smtp_server
    r = _rules(f"http://127.0.0.1:{webhook.server_port}/cgi-bin/webhook/send?key=test", controller.port)
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, now, r)
    counts = notify.deliver_pending(db, now, r)
    assert counts == {"sent": 2, "failed": 0, "deferred": 0}
    [payload] = webhook.received
    assert payload["msgtype"] == "markdown"
    assert f"预警 #{alert_id}（二级）" in payload["markdown"]["content"]
    [(to, msg)] = inbox.messages
    assert to == ["monitor@example.org"]
    assert f"#{alert_id}" in msg["Subject"] and "信息发布时限" in msg.get_content()
    assert all(n["status"] == "sent" for n in store.list_notifications(db))
    assert {e["ok"] for e in store.delivery_log(db)} == {1}
    assert notify.deliver_pending(db, now, r) == {"sent": 0, "failed": 0, "deferred": 0}  # nothing sent twice


def test_text_format_webhook():
    payload = notify.webhook_payload("主题", "第一行\n第二行", "text")
    assert payload == {"msgtype": "text", "text": {"content": "主题\n第一行\n第二行"}}


def test_a_down_server_is_retried_with_backoff_and_delivered_later(db, now):
    dead_port = free_port()  # nothing listens here
    r = _rules(f"http://127.0.0.1:{dead_port}/hook", None, monitor_emails=[])
    clock = FixedClock(now)
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    evaluate_alerts(db, clock(), r)
    tries = []
    for minutes in (0, 1, 3, 7, 15):  # base 60 s: waits of 1, 2, 4, 8 min between failures
        clock.set(now + timedelta(minutes=minutes))
        tries.append(notify.deliver_pending(db, clock(), r)["failed"])
        clock.advance(seconds=30)
        assert notify.deliver_pending(db, clock(), r)["failed"] == 0  # not yet due
    assert tries == [1, 1, 1, 1, 1]
    [n] = store.list_notifications(db)
    assert n["status"] == "pending" and n["attempts"] == 5
    assert n["next_attempt_at"] == iso(now + timedelta(minutes=15 + 15))  # 16 min capped at 900 s
    log = store.delivery_log(db)
    assert len(log) == 5 and all(not e["ok"] and "cannot reach" in e["detail"] for e in log)
    # the server comes back: a later run (a new process, same database) delivers it
    server = start_webhook(dead_port)
    try:
        assert notify.deliver_pending(db, now + timedelta(minutes=30), r) == {"sent": 1, "failed": 0, "deferred": 0}
    finally:
        server.shutdown()
        server.server_close()
    assert len(server.received) == 1
    assert store.list_notifications(db)[0]["status"] == "sent"


def test_bot_error_code_counts_as_a_failure(db, now, webhook):
    webhook.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    r = _rules(f"http://127.0.0.1:{webhook.server_port}/hook", None, monitor_emails=[])
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    evaluate_alerts(db, now, r)
    assert notify.deliver_pending(db, now, r) == {"sent": 0, "failed": 1, "deferred": 0}
    assert "93000" in store.delivery_log(db)[0]["detail"]


def test_smtp_down_is_logged_and_kept(db, now):
    r = _rules(None, free_port(), leader_emails=[])
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    evaluate_alerts(db, now, r)
    assert notify.deliver_pending(db, now, r) == {"sent": 0, "failed": 1, "deferred": 0}
    [n] = store.list_notifications(db, "pending")
    assert n["channel"] == "email" and "SMTP 127.0.0.1" in n["last_error"]


def test_quiet_hours_hold_non_urgent_alerts_but_not_urgent_ones(db, webhook):
    night = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)  # 23:00 China time
    r = _rules(f"http://127.0.0.1:{webhook.server_port}/hook", None, monitor_emails=[], quiet_hours="22:00-07:00")
    add_item(db, RUMOUR_TEXT, night, reposts=600)  # 二级: not urgent
    add_item(db, "示例谣言：吃示例保健品三天就能治好高血压，不用再吃药了，赶快告诉家人朋友", night, reposts=6000)  # 一级
    evaluate_alerts(db, night, r)
    assert notify.deliver_pending(db, night, r)["sent"] == 1
    assert [p["markdown"]["content"].count("一级") > 0 for p in webhook.received] == [True]
    morning = datetime(2026, 11, 23, 23, 0, tzinfo=timezone.utc)  # 07:00 China time
    held = store.list_notifications(db, "pending")
    assert [n["next_attempt_at"] for n in held] == [iso(morning)]
    assert notify.deliver_pending(db, morning, r)["sent"] == 1


def test_escalation_goes_to_leaders_at_night(db, now, smtp_server):
    controller, inbox = smtp_server
    r = _rules(None, controller.port, quiet_hours="00:00-23:59")
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, now, r)
    later = now + timedelta(hours=5)
    escalate_overdue(db, later, r)
    notify.deliver_pending(db, later, r)
    recipients = sorted(to[0] for to, _ in inbox.messages)
    assert recipients == ["leader@example.org", "monitor@example.org"]
    assert all("超时督办" in m["Subject"] for _, m in inbox.messages)


THREE_RUMOURS = ("示例谣言：村口的示例井水喝了能治百病，大家快去打水，晚了就没了",
                 "网传每天吃十个示例柿子可以降血糖，糖尿病人从此不用打针吃药",
                 "紧急通知：示例疫苗打完会改变基因，孩子千万不要去接种，转给家长群")


def test_one_failure_per_target_per_run_then_the_rest_wait_for_the_next_run(db, now):
    dead = f"http://127.0.0.1:{free_port()}/hook"
    r = _rules(dead, None, monitor_emails=[])
    for text in THREE_RUMOURS:
        add_item(db, text, now, reposts=6000)  # 一级: urgent, so each goes on its own
    assert len(evaluate_alerts(db, now, r)) == 3
    assert notify.deliver_pending(db, now, r) == {"sent": 0, "failed": 1, "deferred": 2}
    assert len(store.delivery_log(db)) == 1
    assert len(store.list_notifications(db, "pending")) == 3  # none lost


def test_notifications_due_together_go_to_a_target_combined_and_urgent_ones_alone(db, now, webhook, smtp_server,
                                                                                  monkeypatch):
    """A group bot takes about 20 messages a minute: a burst of alerts is one message, not one each."""
    controller, inbox = smtp_server
    r = _rules(f"http://127.0.0.1:{webhook.server_port}/hook", controller.port)
    for text in THREE_RUMOURS:
        add_item(db, text, now, reposts=600)  # 二级
    add_item(db, "示例谣言：吃示例保健品三天就能治好高血压，不用再吃药了，赶快告诉家人朋友", now, reposts=6000)  # 一级
    ids = evaluate_alerts(db, now, r)
    assert notify.deliver_pending(db, now, r) == {"sent": 8, "failed": 0, "deferred": 0}
    # to the bot: the 一级 alert alone, first, then the three others in one message
    assert len(webhook.received) == 2
    urgent, batch = (p["markdown"]["content"] for p in webhook.received)
    assert "一级" in urgent and "通知汇总" not in urgent
    assert batch.startswith("### 【通知汇总】共 3 条")
    assert [a for a in ids if f"预警 #{a}（" in batch] == [a for a in ids if f"预警 #{a}（" not in urgent]
    assert len(inbox.messages) == 2 and inbox.messages[1][1]["Subject"].startswith("【通知汇总】共 3 条")
    assert all(n["status"] == "sent" for n in store.list_notifications(db))
    assert sum("3 条合并发送" in e["detail"] for e in store.delivery_log(db)) == 6  # each one's log says how it went
    # a message has a size a bot accepts: past it, the burst goes in as many messages as needed
    webhook.received.clear()
    for text in ("网传示例新药一针根治高血压，医院不告诉你", "网传示例茶叶水洗眼睛能治近视，三天见效",
                 "网传示例果汁能代替胰岛素，糖尿病人喝了就好"):
        add_item(db, text, now, reposts=600)
    evaluate_alerts(db, now, r)
    hook = sorted((n for n in store.list_notifications(db, "pending") if n["channel"] == "webhook"),
                  key=lambda n: n["id"])
    size = [len(f"{n['subject']}\n{n['body']}\n\n".encode()) for n in hook]
    monkeypatch.setattr(notify, "BATCH_BYTES", 200 + size[0] + size[1])  # room for two of the three
    notify.deliver_pending(db, now, r)
    heads = [p["markdown"]["content"].split("\n")[0] for p in webhook.received]
    assert len(heads) == 2 and heads[0].startswith("### 【通知汇总】共 2 条")
    assert heads[1] == "### " + hook[2]["subject"]  # the third alone, as it was queued


def test_a_draft_waiting_for_review_or_publication_is_announced_and_a_returned_one_reaches_its_author(
        db, now, webhook, smtp_server):
    """The alert's 5-hour clock does not wait on someone happening to open the workbench."""
    from workflow_helpers import ROSTER_CSV

    from rumourwatch import experts

    controller, inbox = smtp_server
    r = _rules(f"http://127.0.0.1:{webhook.server_port}/hook", controller.port)
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    li = next(e["id"] for e in store.list_experts(db) if e["name"] == "李样本")
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, now, r)
    aid = experts.assign_expert(db, alert_id, li, "monitor1", now, r)
    experts.accept_assignment(db, aid, "li", now, actor_expert_id=li)
    cid = experts.save_draft(db, aid, "li", now, "淡盐水不能预防示例病毒感染", "示例澄清正文。")
    notify.deliver_pending(db, now, r)
    webhook.received.clear()
    inbox.messages.clear()

    def sent():
        notify.deliver_pending(db, now, r)
        bot = [p["markdown"]["content"].split("\n")[0] for p in webhook.received]
        mail = [(to[0], m["Subject"], m.get_content()) for to, m in inbox.messages]
        webhook.received.clear()
        inbox.messages.clear()
        return bot, mail

    experts.submit_for_review(db, cid, "li", now, actor_expert_id=li, rules=r)
    bot, mail = sent()
    head = f"澄清稿 #{cid}「淡盐水不能预防示例病毒感染」（预警 #{alert_id}，二级）"
    assert bot == [f"### 【待审核】{head}"] and [(to, s) for to, s, _ in mail] == [("monitor@example.org", f"【待审核】{head}")]
    experts.review_clarification(db, cid, "zhang", now, approve=False, note="请补充权威出处", rules=r)
    bot, mail = sent()
    [(to, subject, body)] = mail
    assert bot == [] and (to, subject) == ("li@example.org", f"【退回修改】{head}")
    assert "审核意见：请补充权威出处" in body
    experts.submit_for_review(db, cid, "li", now, actor_expert_id=li, rules=r)
    sent()
    experts.review_clarification(db, cid, "zhang", now, approve=True, rules=r)
    bot, mail = sent()
    assert bot == [f"### 【待发布】{head}已审核通过"] and mail[0][0] == "monitor@example.org"
    assert "请发布并在专家工作台记录发布链接" in mail[0][2]


def test_an_expert_is_reminded_once_an_hour_before_an_accepted_task_is_due_unless_the_draft_is_in(
        db, now, smtp_server):
    from workflow_helpers import ROSTER_CSV

    from rumourwatch import alerts, experts

    controller, inbox = smtp_server
    r = _rules(None, controller.port, monitor_emails=[], quiet_hours="00:00-23:59")  # a reminder is never held back
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    add_item(db, "示例谣言：吃示例保健品三天就能治好糖尿病，不用再打胰岛素了", now, reposts=600)
    late, done = evaluate_alerts(db, now, r)
    tasks = {}
    for alert_id, name, user in ((late, "李样本", "li"), (done, "张示例", "zhang")):
        tasks[name] = experts.assign_expert(db, alert_id, ids[name], "monitor1", now, r)
        experts.accept_assignment(db, tasks[name], user, now, actor_expert_id=ids[name])
    cid = experts.save_draft(db, tasks["张示例"], "zhang", now, "示例保健品不能治糖尿病", "示例澄清正文。")
    experts.submit_for_review(db, cid, "zhang", now, actor_expert_id=ids["张示例"], rules=r)
    assert alerts.remind_due(db, now + timedelta(hours=3, minutes=59), r) == []  # the deadline is 5 h on
    [reminder] = alerts.remind_due(db, now + timedelta(hours=4, minutes=10), r)
    assert (reminder["assignment_id"], reminder["minutes"]) == (tasks["李样本"], 50)
    assert alerts.remind_due(db, now + timedelta(hours=4, minutes=30), r) == []  # once
    notify.deliver_pending(db, now + timedelta(hours=4, minutes=10), r)
    [(to, msg)] = inbox.messages
    assert to == ["li@example.org"] and msg["Subject"].startswith(f"【即将超时】预警 #{late}")
    assert "还剩约 50 分钟" in msg.get_content()
    assert store.alert_steps(db, late)[-1]["step"] == "reminded"
    # no reminders when the rules say 0
    add_item(db, "网传示例新药一针根治高血压，医院不告诉你", now, reposts=600)
    [third] = evaluate_alerts(db, now, r)
    aid = experts.assign_expert(db, third, ids["王虚构"], "monitor1", now, r)
    experts.accept_assignment(db, aid, "wang", now, actor_expert_id=ids["王虚构"])
    off = _rules(None, controller.port, monitor_emails=[])
    off["clocks"]["remind_hours"] = 0.0
    assert alerts.remind_due(db, now + timedelta(hours=4, minutes=30), off) == []


def test_a_test_message_goes_to_every_channel_and_says_which_failed(tmp_path, smtp_server, webhook):
    """发送测试通知: every group bot and mailbox of the rules gets a test message now, directly; the
    results name the channel that failed and why; nothing is queued; the audit entry leaves the
    bot's key out."""
    from click.testing import CliRunner

    from rumourwatch import store as store_mod
    from rumourwatch.cli import cli

    controller, inbox = smtp_server
    dead = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key=secret-key"
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(
        "[notify]\n"
        f'webhooks = [{{ url = "http://127.0.0.1:{webhook.server_port}/send?key=abc", format = "markdown" }}, '
        f'{{ url = "{dead}", format = "text" }}]\n'
        'monitor_emails = ["mon@example.org", "duty@example.org"]\nleader_emails = ["boss@example.org"]\n'
        'admin_emails = ["duty@example.org"]\n'
        f'smtp_host = "127.0.0.1"\nsmtp_port = {controller.port}\ntimeout_seconds = 3\nquiet_hours = "00:00-23:59"\n',
        encoding="utf-8")
    db_path = tmp_path / "rw.db"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "test-notify", "--rules", str(rules_file)])
    assert result.exit_code == 1, result.output  # one bot is down
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"ok     webhook http://127.0.0.1:{webhook.server_port}/send?key=abc  (webhooks): ")
    assert lines[1].startswith(f"FAILED webhook {dead}  (webhooks): ") and "refused" in lines[1].lower()
    assert lines[2:] == ["ok     email   mon@example.org  (monitor_emails): SMTP accepted for mon@example.org",
                         "ok     email   duty@example.org  (monitor_emails, admin_emails): SMTP accepted for duty@example.org",
                         "ok     email   boss@example.org  (leader_emails): SMTP accepted for boss@example.org"]
    assert "4 of 5 channel(s) reached" in result.stderr
    # sent now, in quiet hours, each mailbox once; the bot got the markdown message
    assert sorted(to[0] for to, _ in inbox.messages) == ["boss@example.org", "duty@example.org", "mon@example.org"]
    assert {m["Subject"] for _, m in inbox.messages} == {"【测试】健康谣言监测平台通知测试"}
    assert webhook.received[0]["msgtype"] == "markdown" and "测试消息" in webhook.received[0]["markdown"]["content"]
    db = store_mod.open_db(db_path)
    assert store_mod.list_notifications(db) == []  # never queued, so never retried
    [entry] = store_mod.audit_entries(db, actions=["notify.test"])
    assert "secret-key" not in entry["details"] and "abc" not in entry["details"]
    assert [r["ok"] for r in json.loads(entry["details"])["results"]] == [True, False, True, True, True]


def test_a_test_message_with_no_channel_is_refused(db, now):
    from rumourwatch.alerts import WorkflowError, validate_rules

    with pytest.raises(WorkflowError) as exc:
        notify.send_test(db, validate_rules({}), now, "root")
    assert exc.value.key == "notify_test_nothing"
