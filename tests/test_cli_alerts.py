"""`rumourwatch alerts list/evaluate/escalate`: the JSON contract and cron behaviour."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from rumourwatch import alerts, store
from rumourwatch.cli import cli
from rumourwatch.records import iso

from workflow_helpers import RUMOUR_TEXT, add_item, rules

CONTRACT_KEYS = {"id", "severity", "cluster_id", "created_at", "respond_by", "conference_by", "status",
                 "assigned_expert"}


def _seed(db_path, created):
    db = store.open_db(db_path)
    add_item(db, RUMOUR_TEXT, created, reposts=6000)  # 一级
    add_item(db, "示例谣言：示例牌保健茶能根治糖尿病，停掉胰岛素也没关系，很多人都好了", created, reposts=600,
             topic="糖尿病防治")  # 二级
    ids = alerts.evaluate_alerts(db, created, rules())
    db.conn.close()
    return ids


def test_list_json_contract(db_path):
    created = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    ids = _seed(db_path, created)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert sorted(r["id"] for r in rows) == sorted(ids)
    assert all(CONTRACT_KEYS <= set(r) for r in rows)
    by_severity = {r["severity"]: r for r in rows}
    top, second = by_severity["一级"], by_severity["二级"]
    assert top["respond_by"] == iso(created + timedelta(hours=5))
    assert top["conference_by"] == iso(created + timedelta(hours=24))
    assert second["conference_by"] is None
    assert top["status"] == "open" and top["assigned_expert"] is None
    assert isinstance(top["cluster_id"], int)


def test_list_filters_by_status_and_rejects_unknown_status(db_path):
    _seed(db_path, datetime.now(timezone.utc) - timedelta(hours=1))
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(db_path), "alerts", "list", "--status", "published", "--json"])
    assert out.exit_code == 0 and json.loads(out.output) == []
    assert len(json.loads(runner.invoke(cli, ["--db", str(db_path), "alerts", "list", "--status", "open",
                                              "--json"]).output)) == 2
    bad = runner.invoke(cli, ["--db", str(db_path), "alerts", "list", "--status", "later"])
    assert bad.exit_code != 0 and "unknown status 'later'" in bad.output


def test_escalate_is_idempotent_and_keeps_failed_notifications(db_path, tmp_path):
    created = datetime.now(timezone.utc) - timedelta(hours=6)
    _seed(db_path, created)
    r = rules(notify={"webhooks": [{"url": "http://127.0.0.1:9/hook", "format": "text"}], "quiet_hours": ""})
    rules_file = alerts.save_rules(r, tmp_path / "rules.toml")
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(db_path), "alerts", "escalate", "--rules", str(rules_file)])
    assert out.exit_code == 0, out.output
    assert out.output.count("escalated alert #") == 2 and "respond_by was due" in out.output
    assert "failed (will be retried)" in out.output
    again = runner.invoke(cli, ["--db", str(db_path), "alerts", "escalate", "--rules", str(rules_file)])
    assert "escalated alert" not in again.output
    overdue = json.loads(runner.invoke(cli, ["--db", str(db_path), "alerts", "list", "--status", "overdue",
                                             "--json"]).output)
    assert len(overdue) == 2 and all(r["overdue"] for r in overdue)
    db = store.open_db(db_path)
    assert store.list_notifications(db, "pending")  # kept for a later run


def test_evaluate_command_reports_what_changed(db_path):
    db = store.open_db(db_path)
    add_item(db, RUMOUR_TEXT, datetime.now(timezone.utc), reposts=600)
    db.conn.close()
    out = CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "evaluate"])
    assert out.exit_code == 0 and out.output.startswith("1 alert(s) created or updated")


def test_every_help_ends_with_an_example():
    runner = CliRunner()
    for args in (["alerts"], ["alerts", "list"], ["alerts", "escalate"], ["alerts", "evaluate"], ["experts"],
                 ["experts", "import"], ["experts", "export"], ["experts", "suggest"]):
        out = runner.invoke(cli, [*args, "--help"]).output
        assert "Example:" in out, args


def test_escalate_also_reminds_an_expert_whose_accepted_task_is_nearly_due(db_path, tmp_path):
    from workflow_helpers import ROSTER_CSV

    from rumourwatch import experts

    created = datetime.now(timezone.utc) - timedelta(hours=4, minutes=10)  # the 5-hour deadline is 50 min away
    ids = _seed(db_path, created)
    db = store.open_db(db_path)
    experts.import_roster(db, ROSTER_CSV, "admin", created)
    li = next(e["id"] for e in store.list_experts(db) if e["name"] == "李样本")
    aid = experts.assign_expert(db, ids[1], li, "monitor1", created, rules())
    experts.accept_assignment(db, aid, "li", created + timedelta(minutes=5), actor_expert_id=li)
    db.conn.close()
    rules_file = alerts.save_rules(rules(notify={"quiet_hours": ""}), tmp_path / "rules.toml")
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(db_path), "alerts", "escalate", "--rules", str(rules_file), "--no-deliver"])
    assert out.exit_code == 0, out.output
    assert f"reminded the expert of assignment #{aid} (alert #{ids[1]}): due in" in out.output
    again = runner.invoke(cli, ["--db", str(db_path), "alerts", "escalate", "--rules", str(rules_file), "--no-deliver"])
    assert "reminded" not in again.output
