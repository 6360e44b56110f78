"""人工上报: a monitor raises an alert on a story the rules did not flag (or a higher severity for one
they did), from the item page or the command line; the clocks, steps, audit and notifications
follow as for any alert."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest
from workflow_helpers import OTHER_TEXT, PASSWORD, RUMOUR_TEXT, add_item, rules

from dashboard.auth import login_for_test
from rumourwatch import alerts, auth, experts, store
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT

LOW = "听说每天喝一杯示例牌凉茶能预防流感，家里老人小孩都在喝，大家也试试"  # scored below every rule


def _notify_rules():
    return rules(notify={"webhooks": [{"url": "http://127.0.0.1:9/hook"}]})


def test_a_story_no_rule_flagged_gets_an_alert_with_its_clocks_steps_audit_and_notice(db, now):
    item = add_item(db, LOW, now - timedelta(hours=2), probability=0.3)
    assert alerts.evaluate_alerts(db, now, rules()) == []  # the model's score is under every rule
    result = alerts.raise_alert(db, item, "一级", "  经核实为有害说法，多个社区群在传  ", "monitor1", now, _notify_rules())
    assert result == {"alert_id": result["alert_id"], "created": True, "reopened": False, "upgraded": False}
    a = store.get_alert(db, result["alert_id"])
    assert (a["kind"], a["severity"], a["status"], a["item_id"]) == ("manual", "一级", "open", item)
    assert (a["respond_by"], a["conference_by"]) == ("2026-11-23T13:00:00Z", "2026-11-24T08:00:00Z")  # from now
    assert json.loads(a["rules"]) == [{"rule": "manual", "reason": "人工上报：经核实为有害说法，多个社区群在传"}]
    steps = [(s["step"], s["actor"], s["note"]) for s in store.alert_steps(db, a["id"])]
    assert steps[-1] == ("raised", "monitor1", "一级：经核实为有害说法，多个社区群在传")
    [entry] = [e for e in store.audit_entries(db) if e["action"] == "alert.raise"]
    assert entry["actor"] == "monitor1" and json.loads(entry["details"])["created"] is True
    [notice] = db.execute("SELECT event, subject FROM notifications WHERE alert_id = ?", [a["id"]]).fetchall()
    assert notice[0] == "alert_new" and notice[1].startswith("【一级新预警】")
    assert alerts.story_alert(db, item)["id"] == a["id"]


def test_raising_a_flagged_story_higher_upgrades_its_alert_and_adds_the_reason(db, now):
    item = add_item(db, RUMOUR_TEXT, now, reposts=300)
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    before = store.get_alert(db, alert_id)
    assert before["severity"] != "一级" and before["conference_by"] is None
    result = alerts.raise_alert(db, item, "一级", "领导批示：今日内发布澄清", "monitor1", now + timedelta(hours=1), rules())
    assert result == {"alert_id": alert_id, "created": False, "reopened": False, "upgraded": True}
    a = store.get_alert(db, alert_id)
    assert a["severity"] == "一级" and a["kind"] == before["kind"]  # still the alert the rule raised
    assert a["conference_by"] == "2026-11-24T08:00:00Z"  # 24 h from when the alert was raised
    assert [r["rule"] for r in json.loads(a["rules"])] == ["rumour", "manual"]
    # the same severity again only adds the reason
    again = alerts.raise_alert(db, item, "二级", "补充：又有两个群转发", "monitor1", now + timedelta(hours=2), rules())
    assert again["upgraded"] is False and store.get_alert(db, alert_id)["severity"] == "一级"


def test_raising_a_dismissed_story_reopens_it(db, now):
    item = add_item(db, RUMOUR_TEXT, now, reposts=300)
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    alerts.dismiss_alert(db, alert_id, "monitor1", now, "误报", rules())
    result = alerts.raise_alert(db, item, "三级", "复核后仍需处置", "monitor2", now + timedelta(hours=1), rules())
    assert result["reopened"] is True and result["created"] is False
    a = store.get_alert(db, alert_id)
    assert a["status"] == "open" and a["closed_at"] is None
    steps = [(s["step"], s["actor"]) for s in store.alert_steps(db, alert_id)]
    assert steps[-2:] == [("reopened", "monitor2"), ("raised", "monitor2")]


def test_raising_a_clarified_story_that_spreads_again_reopens_its_alert(db, now):
    from workflow_helpers import ROSTER_CSV

    item = add_item(db, RUMOUR_TEXT, now, reposts=300)
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    li = {e["name"]: e["id"] for e in store.list_experts(db)}["李样本"]
    aid = experts.assign_expert(db, alert_id, li, "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now, actor_expert_id=li)
    cid = experts.save_draft(db, aid, "li", now, "淡盐水不能预防病毒感染", "正文", actor_expert_id=li)
    experts.submit_for_review(db, cid, "li", now, actor_expert_id=li)
    experts.review_clarification(db, cid, "monitor1", now, approve=True)
    experts.publish_clarification(db, cid, "monitor1", now + timedelta(hours=1), "https://example.org/piyao/1")
    assert store.get_alert(db, alert_id)["status"] == "published"
    result = alerts.raise_alert(db, item, "二级", "澄清后仍在多个群传播", "monitor1", now + timedelta(days=2), rules())
    assert result["reopened"] is True and store.get_alert(db, alert_id)["status"] == "open"


@pytest.mark.parametrize("severity,reason,key", [("四级", "理由", "raise_severity"), ("二级", "   ", "raise_reason"),
                                                 ("二级", "长" * 501, "raise_reason_long")])
def test_a_bad_raise_is_refused_with_the_reason_and_records_nothing(db, now, severity, reason, key):
    item = add_item(db, LOW, now, probability=0.3)
    with pytest.raises(alerts.WorkflowError) as exc:
        alerts.raise_alert(db, item, severity, reason, "monitor1", now, rules())
    assert exc.value.key == key
    assert alerts.story_alert(db, item) is None
    assert not any(e["action"] == "alert.raise" for e in store.audit_entries(db))
    with pytest.raises(alerts.WorkflowError, match="item 999 does not exist"):
        alerts.raise_alert(db, 999, "二级", "理由", "monitor1", now, rules())


def test_the_command_raises_an_alert_and_says_which(db_path, now):
    db = store.open_db(db_path)
    item = add_item(db, LOW, now, probability=0.3)
    db.conn.close()
    run = CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "raise", str(item), "--severity", "三级",
                                   "--reason", "电话反映", "--actor", "monitor1"])
    assert run.exit_code == 0, run.output
    assert run.output.strip() == "raised alert #1"
    run = CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "raise", str(item), "--severity", "二级",
                                   "--reason", "扩散加快", "--actor", "monitor1"])
    assert run.output.strip() == "upgraded alert #1"
    run = CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "raise", str(item), "--reason", " "])
    assert run.exit_code != 0 and "needs a reason" in run.output


@pytest.fixture
def page_db(tmp_path, monkeypatch):
    path = tmp_path / "raise.db"
    db = store.open_db(path)
    t = datetime.now(UTC).replace(microsecond=0)
    item = add_item(db, LOW, t - timedelta(hours=1), probability=0.3)
    other = add_item(db, OTHER_TEXT, t - timedelta(hours=1), probability=0.1)
    for name, role in (("monitor1", "monitor"), ("analyst1", "analyst")):
        auth.create_user(db, name, PASSWORD, role, "test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path, item, other


def _item_page(path, username, item_id) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "item.py"), default_timeout=30)
    login_for_test(at, username, str(path))
    at.query_params["item"] = str(item_id)
    at.run()
    return at


def test_a_monitor_raises_an_alert_from_the_item_page_and_the_page_then_names_it(page_db):
    path, item, _ = page_db
    at = _item_page(path, "monitor1", item)
    assert not at.exception, at.exception
    assert not any("本事件已有预警" in i.value for i in at.info)
    at.radio(key="raise_severity").set_value("一级")
    at.text_area(key="raise_reason").input("经核实为有害说法")
    next(b for b in at.button if b.label == "上报预警").click()
    at.run()
    assert not at.exception, at.exception
    db = store.open_db(path)
    a = alerts.story_alert(db, item)
    assert (a["kind"], a["severity"], a["status"]) == ("manual", "一级", "open")
    assert any(f"本事件已有预警 #{a['id']}（一级，待处置，人工上报）" in i.value for i in at.info)
    assert any(b.label == f"打开预警 #{a['id']}" for b in at.button)


def test_a_raise_without_a_reason_says_so_in_chinese_and_an_analyst_has_no_form(page_db):
    path, item, other = page_db
    at = _item_page(path, "monitor1", other)
    next(b for b in at.button if b.label == "上报预警").click()
    at.run()
    assert any("人工上报预警需要填写理由" in e.value for e in at.error)
    assert alerts.story_alert(store.open_db(path), other) is None
    analyst = _item_page(path, "analyst1", item)
    assert not analyst.exception
    assert not any(b.label == "上报预警" for b in analyst.button)
    assert not any(e.label == "人工上报预警" for e in analyst.expander)


def test_an_alert_raised_by_hand_can_be_handled_like_any_other(db, now):
    """Assigning an expert works on it; its kind reads 人工上报 in the ledger."""
    from workflow_helpers import ROSTER_CSV

    from rumourwatch import ledger

    item = add_item(db, LOW, now, probability=0.3)
    alert_id = alerts.raise_alert(db, item, "二级", "电话反映", "monitor1", now, rules())["alert_id"]
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    li = {e["name"]: e["id"] for e in store.list_experts(db)}["李样本"]
    experts.assign_expert(db, alert_id, li, "monitor1", now, rules())
    assert store.get_alert(db, alert_id)["status"] == "assigned"
    text, n = ledger.ledger_csv(db, store.iso(now - timedelta(days=1)), store.iso(now + timedelta(days=1)), now)
    assert n == 1 and "人工上报" in text


def test_an_alert_is_upgraded_by_hand_only_upwards_and_only_on_a_story(db, now):
    add_item(db, RUMOUR_TEXT, now, reposts=300)
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    severity = store.get_alert(db, alert_id)["severity"]
    with pytest.raises(alerts.WorkflowError) as exc:
        alerts.upgrade_alert(db, alert_id, severity, "理由", "monitor1", now, rules())
    assert exc.value.key == "upgrade_not_higher"
    result = alerts.upgrade_alert(db, alert_id, "一级", "研判为重大谣言", "monitor1", now, rules())
    assert result["upgraded"] and result["alert_id"] == alert_id
    assert store.get_alert(db, alert_id)["severity"] == "一级"
    # a dismissed alert raised higher is reopened by the upgrade itself
    other = add_item(db, LOW, now, probability=0.3)
    low = alerts.raise_alert(db, other, "三级", "电话反映", "monitor1", now, rules())["alert_id"]
    alerts.dismiss_alert(db, low, "monitor1", now, "误报", rules())
    assert alerts.upgrade_alert(db, low, "二级", "复核：并非误报", "monitor1", now, rules())["reopened"] is True
    assert store.get_alert(db, low)["status"] == "open"
    store.update_alert(db, low, {"item_id": None})  # as an opinion spike's or a digest's alert
    with pytest.raises(alerts.WorkflowError) as exc:
        alerts.upgrade_alert(db, low, "一级", "理由", "monitor1", now, rules())
    assert exc.value.key == "upgrade_no_story"
    assert store.get_alert(db, low)["severity"] == "二级"


def test_a_monitor_upgrades_an_alert_on_its_page(page_db):
    path, item, _ = page_db
    db = store.open_db(path)
    alert_id = alerts.raise_alert(db, item, "三级", "电话反映", "monitor1", datetime.now(UTC), rules())["alert_id"]
    db.conn.close()
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "alerts.py"), default_timeout=30)
    login_for_test(at, "monitor1", str(path))
    at.query_params["alert"] = str(alert_id)
    at.run()
    assert not at.exception, at.exception
    assert at.radio(key="upgrade_severity").options == ["一级", "二级"]  # only upwards from 三级
    at.radio(key="upgrade_severity").set_value("一级")
    at.text_area(key="upgrade_reason").input("研判为重大谣言，已在多个群传播")
    next(b for b in at.button if b.label == "升级预警").click()
    at.run()
    assert not at.exception, at.exception
    a = store.get_alert(store.open_db(path), alert_id)
    assert a["severity"] == "一级" and a["conference_by"] is not None
    assert any(f"预警 #{alert_id}（一级" in s.value for s in at.subheader)


def test_the_weekly_report_says_how_the_weeks_alerts_arose_hand_raised_ones_too(db, now):
    from rumourwatch import reports

    add_item(db, RUMOUR_TEXT, now, reposts=300)
    alerts.evaluate_alerts(db, now, rules())
    alerts.raise_alert(db, add_item(db, LOW, now, probability=0.3), "三级", "电话反映", "monitor1", now, rules())
    report = reports.compute_weekly(db, "2026-W48", now=now + timedelta(days=1))
    assert "按来源：疑似谣言 1 起，人工上报 1 起。" in reports.alerts_lines(report)
