"""Dismissing a burst of false alarms at once: on the 预警 page, or `rumourwatch alerts dismiss`, each
alert closed with the one reason; one closed meanwhile is named and skipped, the others still go."""

from __future__ import annotations

import json

from click.testing import CliRunner
from workflow_helpers import add_item, rules

from rumourwatch import alerts, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.cli import cli

POSTS = ["网传喝板蓝根能预防所有病毒", "板蓝根冲剂又卖断货了", "板蓝根到底能不能防病毒？"]


def _keyword_alerts(db, now) -> list[int]:
    for text in POSTS:
        add_item(db, text, now, probability=0.1)
    return alerts.evaluate_alerts(db, now, rules(watch={"keywords": ["板蓝根"]}))


def test_several_alerts_are_dismissed_with_one_reason_and_a_closed_one_is_set_aside(db, now):
    ids = _keyword_alerts(db, now)
    alerts.dismiss_alert(db, ids[0], "monitor2", now, "已核实：误报")  # another monitor got there first
    result = alerts.dismiss_alerts(db, [ids[1], ids[0], ids[2], ids[1]], "monitor1", now, "误报：营销号重复推送")
    assert result["dismissed"] == [ids[1], ids[2]]
    [(refused_id, exc)] = result["refused"]
    assert refused_id == ids[0] and exc.key == "alert_closed"
    for alert_id in ids[1:]:
        steps = store.alert_steps(db, alert_id)
        assert (steps[-1]["step"], steps[-1]["actor"], steps[-1]["note"]) == ("dismissed", "monitor1",
                                                                              "误报：营销号重复推送")
    assert store.alert_steps(db, ids[0])[-1]["note"] == "已核实：误报"  # the first reason is kept
    for bad, key in (([ids[1]], "dismiss_reason"), ([], "dismiss_none")):
        try:
            alerts.dismiss_alerts(db, bad, "monitor1", now, "" if key == "dismiss_reason" else "误报")
        except WorkflowError as exc:
            assert exc.key == key
        else:
            raise AssertionError(f"{key} not refused")


def test_the_command_dismisses_names_what_it_skipped_and_says_so_in_its_exit_status(tmp_path, now, rules_file):
    path = tmp_path / "rw.db"
    db = store.open_db(path)
    ids = _keyword_alerts(db, now)
    db.conn.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(path), "alerts", "dismiss", *map(str, ids[:2]), "--reason", "误报",
                                 "--actor", "monitor1"])
    assert result.exit_code == 0, result.output
    assert f"dismissed 2 alert(s): #{ids[0]}, #{ids[1]}" in result.output
    result = runner.invoke(cli, ["--db", str(path), "alerts", "dismiss", str(ids[1]), str(ids[2]), "--reason", "误报"])
    assert result.exit_code == 1 and f"#{ids[1]} not dismissed" in result.output
    db = store.open_db(path)
    assert {store.get_alert(db, i)["status"] for i in ids} == {"dismissed"}
    [entry] = [e for e in store.audit_entries(db) if e["action"] == "alert.dismiss"
               and e["target_id"] == str(ids[0])]
    assert entry["actor"] == "monitor1" and json.loads(entry["details"])["reason"] == "误报"
