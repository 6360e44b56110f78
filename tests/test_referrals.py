"""交办属地单位 (seed 001 item 5: 属地管理、分级负责): a monitor hands an alert's event to the unit where
it happened, with what to do and a time to report back by; the unit's correspondent replies on
信息报送, and every step is a step of the alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from workflow_helpers import PASSWORD, rules, run_page, seed_workflow_db

from rumourwatch import alerts, auth, ledger, referrals, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.config import REPO_ROOT

PAGES = str(REPO_ROOT / "dashboard" / "app_pages") + "/"
UNITS = [
    {"code": "U1", "name": "城区卫生健康局", "kind": "县区卫健局", "region": "城区", "monthly_minimum": None, "active": 1},
    {"code": "U2", "name": "示例县卫生健康局", "kind": "县区卫健局", "region": "示例县", "monthly_minimum": None,
     "active": 1},
    {"code": "U3", "name": "已撤并卫生院", "kind": "乡镇卫生院", "region": "示例县", "monthly_minimum": None, "active": 0},
]
ASK = "请核实该说法在辖区的传播情况，向询问的居民做好解释，并反馈核实情况和处置措施。"


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    path = tmp_path / "ref.db"
    now = datetime.now(UTC).replace(microsecond=0)
    info = seed_workflow_db(path, now)
    db = store.open_db(path)
    with store.transaction(db):
        store.upsert_units(db, UNITS, "2026-11-01T00:00:00Z")
    info["units"] = {u["code"]: store.find_unit(db, u["code"]) for u in UNITS}
    auth.create_user(db, "corr1", PASSWORD, "correspondent", "test", unit_id=info["units"]["U2"]["id"])
    auth.create_user(db, "corr2", PASSWORD, "correspondent", "test", unit_id=info["units"]["U1"]["id"])
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path, info, now


def _steps(db, alert_id: int) -> list[tuple]:
    return [(s["step"], s["actor"], s["note"]) for s in store.alert_steps(db, alert_id) if s["step"].startswith("refer")]


def test_an_alert_is_referred_replied_to_and_both_steps_join_its_record(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    alert_id, unit = info["alerts"][0], info["units"]["U2"]
    made = referrals.refer(db, alert_id, unit["id"], ASK, actor="monitor1", now=now, hours=4)
    assert (made["status"], made["unit_name"], made["request"]) == ("referred", "示例县卫生健康局", ASK)
    assert made["due_at"] == (now + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert referrals.state(made, now) == "waiting" and referrals.state(made, now + timedelta(hours=5)) == "overdue"
    # asked twice of the same unit while it has not answered: refused, nothing written
    with pytest.raises(WorkflowError) as refused:
        referrals.refer(db, alert_id, unit["id"], ASK, actor="monitor1", now=now)
    assert refused.value.key == "referral_waiting"
    # another unit cannot answer for it
    with pytest.raises(WorkflowError) as refused:
        referrals.reply(db, made["id"], "已核实", actor="corr2", now=now, unit_id=info["units"]["U1"]["id"])
    assert refused.value.key == "referral_other_unit"
    answer = "经核实，该说法系网络转发，辖区未发生所述事件；已在居民群内发布解释，并请社区医生答复询问。"
    done = referrals.reply(db, made["id"], answer, actor="corr1", now=now + timedelta(hours=5), unit_id=unit["id"])
    assert (done["status"], done["reply"], done["replied_by"]) == ("replied", answer, "corr1")
    assert referrals.state(done, now + timedelta(hours=6)) == "replied_late"  # answered after its 4 hours
    assert _steps(db, alert_id) == [("referred", "monitor1", f"示例县卫生健康局：{ASK}"),
                                    ("referral_replied", "corr1", f"示例县卫生健康局：{answer}")]
    audit = [(e["action"], e["actor"]) for e in store.audit_entries(db, target_type="alert", target_id=str(alert_id))]
    assert ("alert.refer", "monitor1") in audit and ("alert.referral_reply", "corr1") in audit
    with pytest.raises(WorkflowError) as refused:
        referrals.reply(db, made["id"], "再补充", actor="corr1", now=now, unit_id=unit["id"])
    assert refused.value.key == "referral_done" and refused.value.params["referral_status"] == "replied"
    # once answered, the unit may be asked again
    again = referrals.refer(db, alert_id, unit["id"], "请反馈后续处置情况。", actor="monitor1", now=now)
    assert again["status"] == "referred"


@pytest.mark.parametrize("change,key", [
    (lambda info: {"unit_id": info["units"]["U3"]["id"]}, "referral_unit"),
    (lambda info: {"unit_id": 999}, "referral_unit"),
    (lambda info: {"request": "  "}, "referral_request_missing"),
    (lambda info: {"request": "查" * 501}, "referral_text_long"),
    (lambda info: {"hours": 0}, "referral_hours"),
    (lambda info: {"alert_id": 99999}, "no_alert"),
])
def test_a_referral_that_cannot_be_made_is_refused_saying_why_and_nothing_is_written(seeded, change, key):
    path, info, now = seeded
    db = store.open_db(path)
    args = {"alert_id": info["alerts"][0], "unit_id": info["units"]["U2"]["id"], "request": ASK, "hours": 24}
    args.update(change(info))
    with pytest.raises(WorkflowError) as refused:
        referrals.refer(db, args["alert_id"], args["unit_id"], args["request"], actor="monitor1", now=now,
                        hours=args["hours"])
    assert refused.value.key == key
    assert store.list_referrals(db) == []


def test_a_closed_alert_is_not_referred_and_a_withdrawn_referral_cannot_be_answered(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    made = referrals.refer(db, info["alerts"][1], info["units"]["U1"]["id"], ASK, actor="monitor1", now=now)
    gone = referrals.withdraw(db, made["id"], actor="monitor1", now=now, reason="交错单位")
    assert (gone["status"], gone["withdraw_reason"]) == ("withdrawn", "交错单位")
    with pytest.raises(WorkflowError) as refused:
        referrals.reply(db, made["id"], "已核实", actor="corr2", now=now, unit_id=info["units"]["U1"]["id"])
    assert refused.value.key == "referral_done"
    alerts.dismiss_alert(db, info["alerts"][0], "monitor1", now, "误报")
    with pytest.raises(WorkflowError) as refused:
        referrals.refer(db, info["alerts"][0], info["units"]["U1"]["id"], ASK, actor="monitor1", now=now)
    assert refused.value.key == "referral_alert_closed"


def test_the_units_of_the_alerts_region_are_offered_first():
    units = [{"code": "U1", "region": "城区"}, {"code": "U2", "region": "示例县"}, {"code": "U3", "region": None}]
    assert [u["code"] for u in referrals.suggested_units(units, {"region": "示例省示例县"})] == ["U2", "U1", "U3"]
    assert [u["code"] for u in referrals.suggested_units(units, {"region": None})] == ["U1", "U2", "U3"]


def _page(page: str, username: str, path, query=None):
    at = run_page(page, username, path, query)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_monitor_refers_from_the_alert_and_the_unit_replies_on_its_page(seeded):
    path, info, _now = seeded
    alert_id = info["alerts"][0]
    at = _page("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert "交办属地单位" in [s.value for s in at.subheader]
    at.selectbox(key="refer_unit").set_value(next(u for u in store.list_units(store.open_db(path, read_only=True))
                                                  if u["code"] == "U2"))
    at.selectbox(key="refer_hours").set_value(4)
    next(b for b in at.button if b.label == "交办").click()
    at.run()
    assert any("请写明交办事项" in e.value for e in at.error)  # the request is needed
    at.text_area(key="refer_request").set_value(ASK)
    next(b for b in at.button if b.label == "交办").click()
    at.run()
    assert not at.exception and any("已完成：交办" in s.value for s in at.success)
    table = next(df.value for df in at.dataframe if "交办事项" in df.value.columns)
    assert list(table["单位"]) == ["示例县卫生健康局"] and list(table["状态"]) == ["待反馈"]

    # the county's correspondent sees it first on 信息报送, with the story, and replies
    unit = _page("submissions.py", "corr1", path)
    assert next(s.value for s in unit.subheader) == "交办事项"
    head = next(m.value for m in unit.markdown if m.value.startswith("**交办 #"))
    assert f"预警 #{alert_id}" in head and "前反馈" in head
    assert ASK in [x.value for x in unit.text]
    # the other unit's correspondent does not see it
    other = _page("submissions.py", "corr2", path)
    assert any("目前没有交给本单位的事项" in i.value for i in other.info)
    [form_key] = [k for k in unit.session_state if str(k).startswith("ref_reply_text_")]
    unit.text_area(key=form_key).set_value("经核实，辖区未发生所述事件，已在居民群内解释。")
    next(b for b in unit.button if b.label == "反馈").click()
    unit.run()
    assert any("已反馈交办" in s.value for s in unit.success)
    assert any("目前没有交给本单位的事项" in i.value for i in unit.info)

    at = _page("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    table = next(df.value for df in at.dataframe if "交办事项" in df.value.columns)
    assert list(table["状态"]) == ["已反馈"] and list(table["反馈内容"]) == ["经核实，辖区未发生所述事件，已在居民群内解释。"]
    steps = next(df.value for df in at.dataframe if "操作" in df.value.columns or "步骤" in df.value.columns)
    assert {"交办属地单位", "属地单位反馈"} <= set(steps.iloc[:, 1])


def test_the_reports_count_the_referrals_answered_in_time_late_and_not_at_all(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    from rumourwatch import reports
    from rumourwatch.records import CST

    a, b = info["alerts"]
    county, city = info["units"]["U2"], info["units"]["U1"]
    quick = referrals.refer(db, a, county["id"], ASK, actor="monitor1", now=now, hours=4)
    referrals.reply(db, quick["id"], "已核实并处置。", actor="corr1", now=now + timedelta(hours=1), unit_id=county["id"])
    referrals.refer(db, b, city["id"], ASK, actor="monitor1", now=now, hours=2)  # never answered
    gone = referrals.refer(db, b, county["id"], ASK, actor="monitor1", now=now, hours=2)
    referrals.withdraw(db, gone["id"], actor="monitor1", now=now)  # not counted
    month = now.astimezone(CST).strftime("%Y-%m")
    lines = reports.alerts_lines(reports.compute_monthly(db, month, now=now + timedelta(hours=3)))
    assert "本月交办属地单位核实处置 2 件：按时反馈 1 件，超时反馈 0 件，逾期未反馈 1 件。超时或逾期未反馈的单位：城区卫生健康局。" in lines
    # before the second one's time ran out it was not yet late
    lines = reports.alerts_lines(reports.compute_monthly(db, month, now=now + timedelta(hours=1, minutes=30)))
    assert "本月交办属地单位核实处置 2 件：按时反馈 1 件，超时反馈 0 件，逾期未反馈 0 件。" in lines
    # the week's summary says it too, in its own words for the period
    week = now.astimezone(CST).strftime("%G-W%V")
    lines = reports.alerts_lines(reports.compute_weekly(db, week, now=now + timedelta(hours=3)))
    assert any(line.startswith("本周交办属地单位核实处置 2 件：按时反馈 1 件") for line in lines)


def test_the_office_enters_a_reply_given_by_telephone_or_withdraws_a_referral_sent_to_the_wrong_unit(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    alert_id = info["alerts"][0]
    wrong = referrals.refer(db, alert_id, info["units"]["U1"]["id"], ASK, actor="monitor1", now=now)
    right = referrals.refer(db, alert_id, info["units"]["U2"]["id"], ASK, actor="monitor1", now=now)
    db.conn.close()
    at = _page("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    at.selectbox(key="referral_pick").set_value(next(r for r in at.selectbox(key="referral_pick").options
                                                     if r.startswith(f"#{wrong['id']} ")))
    at.text_area(key="referral_office_text").set_value("交错单位，改交示例县")
    next(b for b in at.button if b.label == "撤回交办").click()
    at.run()
    assert not at.exception and any("已完成：撤回交办" in s.value for s in at.success)
    at.text_area(key="referral_office_text").set_value("电话反馈：经核实辖区未发生所述事件。")
    next(b for b in at.button if b.label == "登记反馈").click()
    at.run()
    db = store.open_db(path, read_only=True)
    got = {r["id"]: (r["status"], r["replied_by"], r["reply"] or r["withdraw_reason"]) for r in store.list_referrals(db)}
    assert got == {wrong["id"]: ("withdrawn", None, "交错单位，改交示例县"),
                   right["id"]: ("replied", "monitor1", "电话反馈：经核实辖区未发生所述事件。")}


def test_a_unit_that_has_not_reported_back_in_time_is_chased_once_through_the_monitors(seeded):
    """escalate_overdue (the worker's round, `alerts escalate`) treats a referral past its time like an
    expert's task: once, a step of the alert (which the monitors' notices announce) and a mail to the
    monitors, not the leaders: chasing a county bureau is the office's work. One answered in time,
    or withdrawn, is left alone."""
    path, info, now = seeded
    db = store.open_db(path)
    r = rules(notify={"monitor_emails": ["monitor@example.org"], "leader_emails": ["leader@example.org"]})
    a, b = info["alerts"]
    late = referrals.refer(db, a, info["units"]["U2"]["id"], ASK, actor="monitor1", now=now, hours=2)
    answered = referrals.refer(db, b, info["units"]["U1"]["id"], ASK, actor="monitor1", now=now, hours=2)
    referrals.reply(db, answered["id"], "已核实。", actor="corr2", now=now + timedelta(hours=1),
                    unit_id=info["units"]["U1"]["id"])
    gone = referrals.refer(db, b, info["units"]["U2"]["id"], ASK, actor="monitor1", now=now, hours=2)
    referrals.withdraw(db, gone["id"], actor="monitor1", now=now)
    assert [e for e in alerts.escalate_overdue(db, now + timedelta(hours=1), r) if e["deadline"] == "referral"] == []
    events = [e for e in alerts.escalate_overdue(db, now + timedelta(hours=3), r) if e["deadline"] == "referral"]
    assert [(e["alert_id"], e["referral_id"]) for e in events] == [(a, late["id"])]
    assert [e for e in alerts.escalate_overdue(db, now + timedelta(hours=4), r) if e["deadline"] == "referral"] == []
    [step] = [s for s in store.alert_steps(db, a) if s["step"] == "escalated:referral"]
    assert step["note"].startswith(f"交办 #{late['id']}（示例县卫生健康局）超时未反馈")
    mails = [n for n in store.list_notifications(db) if n["channel"] == "email" and "属地单位交办" in n["subject"]]
    assert [m["target"] for m in mails] == ["monitor@example.org"]
    assert "示例县卫生健康局" in mails[0]["body"] and ASK in mails[0]["body"]
    assert ledger.step_text("escalated:referral") == "超时督办（属地单位交办）"


def test_the_special_report_lists_what_each_unit_was_asked_and_answered(seeded):
    from rumourwatch import briefing

    path, info, now = seeded
    db = store.open_db(path)
    alert_id = info["alerts"][0]
    made = referrals.refer(db, alert_id, info["units"]["U2"]["id"], ASK, actor="monitor1", now=now, hours=4)
    referrals.reply(db, made["id"], "经核实，辖区未发生所述事件。", actor="corr1", now=now + timedelta(hours=1),
                    unit_id=info["units"]["U2"]["id"])
    report = briefing.compute_briefing(db, alert_id, now + timedelta(hours=2), "", rules())
    text = briefing.render_markdown(report)
    assert "交办属地单位核实" in text
    assert "| 示例县卫生健康局 |" in text and "| 已反馈 | 经核实，辖区未发生所述事件。 |" in text


def test_a_unit_with_a_mailbox_is_mailed_its_referral_and_chased_there_too(seeded, tmp_path):
    """A county bureau whose correspondent is not logged in learns of it by mail: the request, the time
    to report back by and the alert, urgent for a 二级 event; the chase goes to the unit as well."""
    path, info, now = seeded
    db = store.open_db(path)
    units_csv = tmp_path / "units.csv"
    units_csv.write_text("code,name,kind,region,email\nU2,示例县卫生健康局,县区卫健局,示例县,office@county.example.org\n"
                         "U9,无效邮箱单位,医院,示例县,not-an-address\n", encoding="utf-8")
    from rumourwatch import reports

    written, problems = reports.import_units(db, units_csv)
    assert written == 1 and problems == ["line 3: email 'not-an-address' is not one mail address"]
    r = rules(notify={"monitor_emails": ["monitor@example.org"]})
    alert_id = info["alerts"][0]
    severity = store.get_alert(db, alert_id)["severity"]
    referrals.refer(db, alert_id, info["units"]["U2"]["id"], ASK, actor="monitor1", now=now, hours=4, rules=r)
    [mail] = [n for n in store.list_notifications(db) if n["event"] == "referral"]
    assert mail["target"] == "office@county.example.org" and mail["channel"] == "email"
    assert mail["subject"].startswith(f"【交办】预警 #{alert_id}（{severity}）请于 ")
    assert ASK in mail["body"] and "信息报送" in mail["body"]
    assert mail["urgent"] == int(severity in r["notify"]["urgent_severities"])
    # a unit without a mailbox: nothing queued for it
    referrals.refer(db, alert_id, info["units"]["U1"]["id"], ASK, actor="monitor1", now=now, rules=r)
    assert len([n for n in store.list_notifications(db) if n["event"] == "referral"]) == 1
    alerts.escalate_overdue(db, now + timedelta(hours=5), r)
    chased = {n["target"] for n in store.list_notifications(db) if "属地单位交办" in n["subject"]}
    assert chased == {"monitor@example.org", "office@county.example.org"}
