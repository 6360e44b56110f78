"""不可用时段: an expert on leave, travelling or at a conference is not suggested, not assigned and not
handed a declined task; the expert records it on the workbench, an admin on 专家库 or the command
line; taking no task while away is not flagged in 专家履职情况."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest
from workflow_helpers import (
    PASSWORD,
    ROSTER_CSV,
    RUMOUR_TEXT,
    add_item,
    rules,
    seed_workflow_db,
)

from dashboard.auth import login_for_test
from rumourwatch import alerts, auth, experts, performance, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT
from rumourwatch.records import iso


def _pool(db, now):
    experts.import_roster(db, ROSTER_CSV, "admin", now - timedelta(days=1))
    return {e["name"]: e["id"] for e in store.list_experts(db)}


def _alert(db, now):
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    return alert_id


def _suggested(db, alert_id, now):
    return [s["name"] for s in experts.suggest_experts(db, alert_id, 10, now=now)]


def test_an_expert_away_now_or_within_five_hours_is_passed_over_and_cannot_be_assigned(db, now):
    ids = _pool(db, now)
    alert_id = _alert(db, now)
    everyone = _suggested(db, alert_id, now)
    assert "张示例" in everyone and "李样本" in everyone
    experts.add_absence(db, ids["张示例"], now - timedelta(days=1), now + timedelta(days=3), "休假", "zhang", now,
                        actor_expert_id=ids["张示例"])
    experts.add_absence(db, ids["李样本"], now + timedelta(hours=3), now + timedelta(hours=9), "外出开会", "admin", now)
    experts.add_absence(db, ids["王虚构"], now + timedelta(hours=6), now + timedelta(days=1), "", "admin", now)
    left = _suggested(db, alert_id, now)
    assert "张示例" not in left and "李样本" not in left  # away now / before the 5-hour clock runs out
    assert "王虚构" in left  # away only after it
    assert left == [n for n in everyone if n not in ("张示例", "李样本")]
    assert set(experts.unavailable_experts(db, now)) == {ids["张示例"], ids["李样本"]}

    with pytest.raises(WorkflowError) as refused:
        experts.assign_expert(db, alert_id, ids["李样本"], "monitor1", now, rules())
    assert refused.value.key == "expert_away"
    assert refused.value.params == {"name": "李样本", "at": "2026-11-23T11:00:00Z",
                                         "until": "2026-11-23T17:00:00Z", "reason": "外出开会"}
    assert store.alert_assignments(db, alert_id) == []
    # once the conference is over, she is suggested again
    assert "李样本" in _suggested(db, alert_id, now + timedelta(hours=9))


def test_a_declined_task_is_not_reassigned_to_an_expert_who_is_away(db, now):
    ids = _pool(db, now)
    alert_id = _alert(db, now)
    first = experts.suggest_experts(db, alert_id, 1, now=now)[0]
    task = experts.assign_expert(db, alert_id, first["expert_id"], "monitor1", now, rules())
    runner_up = _suggested(db, alert_id, now)[0]
    experts.add_absence(db, ids[runner_up], now, now + timedelta(days=2), "出差", "admin", now)
    new_task = experts.decline_assignment(db, task, first["name"], now + timedelta(minutes=10), "时间冲突",
                                          rules=rules())
    assert store.get_assignment(db, new_task)["expert_id"] not in (first["expert_id"], ids[runner_up])


def test_an_absence_names_the_tasks_it_meets_and_removing_it_is_audited(db, now):
    ids = _pool(db, now)
    alert_id = _alert(db, now)
    task = experts.assign_expert(db, alert_id, ids["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, task, "li", now + timedelta(minutes=10), actor_expert_id=ids["李样本"])
    done = experts.add_absence(db, ids["李样本"], now + timedelta(minutes=20), now + timedelta(days=1), "家中有事",
                               "li", now + timedelta(minutes=15), actor_expert_id=ids["李样本"])
    assert [t["assignment_id"] for t in done["open_tasks"]] == [task]
    [row] = experts.absences(db, now, ids["李样本"])
    assert (row["reason"], row["expert_name"]) == ("家中有事", "李样本")
    with pytest.raises(WorkflowError) as other:
        experts.remove_absence(db, row["id"], "zhang", now, actor_expert_id=ids["张示例"])
    assert other.value.key == "not_your_absence"
    experts.remove_absence(db, row["id"], "li", now + timedelta(minutes=30), actor_expert_id=ids["李样本"])
    assert experts.absences(db, now) == []
    audit = [(e["action"], json.loads(e["details"])["reason"]) for e in store.audit_entries(db)
             if e["action"].startswith("expert.absence")]
    assert audit == [("expert.absence_remove", "家中有事"), ("expert.absence_add", "家中有事")]


@pytest.mark.parametrize(("start", "end", "reason", "key"), [
    (timedelta(hours=5), timedelta(hours=1), "", "absence_order"),
    (timedelta(days=-3), timedelta(days=-1), "", "absence_past"),
    (timedelta(0), timedelta(days=400), "", "absence_long"),
    (timedelta(0), timedelta(days=1), "字" * 201, "absence_reason_long"),
])
def test_an_absence_that_cannot_be_right_is_refused_and_nothing_is_kept(db, now, start, end, reason, key):
    ids = _pool(db, now)
    with pytest.raises(WorkflowError) as refused:
        experts.add_absence(db, ids["张示例"], now + start, now + end, reason, "admin", now)
    assert refused.value.key == key
    assert experts.absences(db, now - timedelta(days=30)) == []


def test_an_expert_sets_only_their_own_absence(db, now):
    ids = _pool(db, now)
    with pytest.raises(WorkflowError) as refused:
        experts.add_absence(db, ids["张示例"], now, now + timedelta(days=1), "", "li", now, actor_expert_id=ids["李样本"])
    assert refused.value.key == "not_your_absence"


def test_taking_no_task_while_away_for_most_of_the_period_is_not_flagged(db, now):
    ids = _pool(db, now)
    start, end = now - timedelta(days=10), now
    alert_id = _alert(db, now - timedelta(days=5))
    experts.assign_expert(db, alert_id, ids["李样本"], "monitor1", now - timedelta(days=5), rules())
    # 张示例 away 6 of the 10 days, in two overlapping entries; 钱测试 away 1 day
    experts.add_absence(db, ids["张示例"], now - timedelta(days=8), now - timedelta(days=4), "", "admin", start)
    experts.add_absence(db, ids["张示例"], now - timedelta(days=6), now - timedelta(days=2), "", "admin", start)
    experts.add_absence(db, ids["钱测试"], now - timedelta(days=3), now - timedelta(days=2), "", "admin", start)
    rows = {r["name"]: r for r in performance.performance(db, iso(start), iso(end))}
    assert rows["张示例"]["away_days"] == 6.0 and rows["张示例"]["flags"] == []
    assert rows["钱测试"]["away_days"] == 1.0 and rows["钱测试"]["flags"] == [performance.IDLE]
    assert "不可用天数" in performance.performance_csv(list(rows.values())).splitlines()[0]


def test_the_commands_add_list_and_remove_an_absence(db_path):
    db = store.open_db(db_path)
    ids = _pool(db, datetime.now(UTC))
    db.conn.close()
    base = ["--db", str(db_path), "experts", "away"]
    run = CliRunner().invoke(cli, [*base, "add", str(ids["王虚构"]), "--from", "2099-01-02 08:00",
                                   "--to", "2099-01-05 08:00", "--reason", "出差", "--actor", "admin"])
    assert run.exit_code == 0, run.output
    assert run.output.strip() == "absence #1 recorded"
    run = CliRunner().invoke(cli, [*base, "list", "--json"])
    [row] = json.loads(run.output)
    assert (row["expert_name"], row["starts_at"], row["ends_at"], row["reason"]) == (
        "王虚构", "2099-01-02T00:00:00Z", "2099-01-05T00:00:00Z", "出差")  # China time in, UTC stored
    run = CliRunner().invoke(cli, [*base, "add", str(ids["王虚构"]), "--from", "2099-01-05 08:00",
                                   "--to", "2099-01-02 08:00"])
    assert run.exit_code != 0 and "must end after it starts" in run.output
    run = CliRunner().invoke(cli, [*base, "remove", "1", "--actor", "admin"])
    assert run.output.strip() == "absence #1 removed"
    assert CliRunner().invoke(cli, [*base, "list"]).output.strip() == "no expert is away"


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    path = tmp_path / "away.db"
    now = datetime.now(UTC).replace(microsecond=0)
    info = seed_workflow_db(path, now)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path, info, now


def _page(page, username, path, **query) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / page), default_timeout=30)
    login_for_test(at, username, str(path))
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, at.exception
    return at


def test_an_expert_records_leave_on_the_workbench_and_the_monitor_sees_why_they_are_not_suggested(seeded):
    path, info, _ = seeded
    at = _page("workbench.py", "li", path)
    assert any("当前没有登记的不可用时段" in c.value for c in at.caption)
    at.text_input(key="away_reason_0").input("外出开会")
    next(b for b in at.button if b.label == "登记不可用时段").click()
    at.run()
    assert not at.exception, at.exception
    assert any("已登记不可用时段" in s.value for s in at.success)
    db = store.open_db(path)
    [row] = experts.absences(db, datetime.now(UTC))
    assert (row["expert_name"], row["reason"]) == ("李样本", "外出开会")
    db.conn.close()

    alert_page = _page("alerts.py", "monitor1", path, alert=info["alerts"][0])
    assert any("未列入推荐" in c.value and "李样本" in c.value for c in alert_page.caption)
    assert not any(b.label.startswith("指派给 李样本") for b in alert_page.button)

    pool = _page("expert_pool.py", "admin1", path)
    roster = next(df.value for df in pool.dataframe if "在库" in df.value.columns)
    assert roster.set_index("姓名").loc["李样本", "在库"].startswith("在库，不可用至")
    assert roster.set_index("姓名").loc["张示例", "在库"] == "是"


def test_an_admin_records_an_experts_absence_on_the_pool_page(seeded):
    path, info, _ = seeded
    at = _page("expert_pool.py", "admin1", path)
    at.selectbox(key="away_expert_0").set_value(info["experts"]["王虚构"])
    at.text_input(key="away_reason_0").input("休假")
    next(b for b in at.button if b.label == "登记不可用时段").click()
    at.run()
    assert not at.exception, at.exception
    db = store.open_db(path)
    [row] = experts.absences(db, datetime.now(UTC))
    assert (row["expert_id"], row["created_by"]) == (info["experts"]["王虚构"], "admin1")
    next(b for b in at.button if b.label == "取消该时段").click()
    at.run()
    assert experts.absences(db, datetime.now(UTC)) == []


def test_an_expert_user_needs_an_account_linked_to_the_pool(tmp_path, monkeypatch):
    path = tmp_path / "nolink.db"
    db = store.open_db(path)
    auth.create_user(db, "lone", PASSWORD, "expert", "test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    at = _page("workbench.py", "lone", path)
    assert not any(b.label == "登记不可用时段" for b in at.button)


def test_an_offered_task_is_passed_on_when_its_expert_goes_away_and_an_accepted_one_is_named(db, now):
    """An expert known to be away is not waited for: the offer goes to the next suggestion at once;
    an accepted task stays with them, named, for a monitor to withdraw."""
    ids = _pool(db, now)
    offered_alert = _alert(db, now)
    offered = experts.assign_expert(db, offered_alert, ids["李样本"], "monitor1", now, rules())
    done = experts.add_absence(db, ids["李样本"], now + timedelta(minutes=30), now + timedelta(days=2), "出差",
                               "li", now + timedelta(minutes=5), actor_expert_id=ids["李样本"])
    assert store.get_assignment(db, offered)["status"] == "declined"
    [passed] = done["passed_on"]
    assert passed["assignment_id"] == offered and passed["to"] is not None
    new = store.get_assignment(db, passed["to"])
    assert new["expert_id"] != ids["李样本"] and new["status"] == "offered"
    steps = [(s["step"], s["actor"], s["note"]) for s in store.alert_steps(db, offered_alert)]
    assert ("declined", "system:away", f"任务 #{offered}：专家不可用：出差") in steps
    assert done["open_tasks"] == []


def test_a_monitor_withdraws_a_task_from_an_away_expert_and_assigns_another(db, now):
    ids = _pool(db, now)
    alert_id = _alert(db, now)
    task = experts.assign_expert(db, alert_id, ids["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, task, "li", now + timedelta(minutes=5), actor_expert_id=ids["李样本"])
    assert experts.away_before_due(db, store.get_assignment(db, task), now) is None
    experts.add_absence(db, ids["李样本"], now + timedelta(hours=1), now + timedelta(days=1), "家中有事", "admin", now)
    away = experts.away_before_due(db, store.get_assignment(db, task), now + timedelta(minutes=10))
    assert away["reason"] == "家中有事"  # the 预警 page warns: the expert leaves before the task is due
    with pytest.raises(WorkflowError) as caught:
        experts.withdraw_assignment(db, task, "monitor1", now, "  ", rules())
    assert caught.value.key == "withdraw_reason"
    with pytest.raises(WorkflowError) as caught:  # still theirs: nobody else can be offered it yet
        experts.assign_expert(db, alert_id, ids["张示例"], "monitor1", now, rules())
    assert caught.value.key == "assign_active"
    experts.withdraw_assignment(db, task, "monitor1", now + timedelta(minutes=15), "专家家中有事，改派", rules())
    a = store.get_assignment(db, task)
    assert (a["status"], a["cancelled_by"], a["cancel_reason"]) == ("cancelled", "monitor1", "专家家中有事，改派")
    alert = store.get_alert(db, alert_id)
    assert (alert["status"], alert["assigned_expert"]) == ("open", None)
    with pytest.raises(WorkflowError) as caught:  # the expert's own copy of the task is closed to them
        experts.save_draft(db, task, "li", now, "标题", "正文", actor_expert_id=ids["李样本"])
    assert caught.value.key == "assignment_cancelled"
    mail = db.execute("SELECT subject, body FROM notifications WHERE event = 'assignment_withdrawn'").fetchone()
    assert "已撤回改派" in mail[0] and "撤回原因：专家家中有事，改派" in mail[1]
    new = experts.assign_expert(db, alert_id, ids["张示例"], "monitor1", now + timedelta(minutes=16), rules())
    assert store.get_alert(db, alert_id)["assigned_expert"] == ids["张示例"] and new != task
    assert ("withdrawn", "monitor1") in [(s["step"], s["actor"]) for s in store.alert_steps(db, alert_id)]
    with pytest.raises(WorkflowError) as caught:
        experts.withdraw_assignment(db, task, "monitor1", now, "再撤一次", rules())
    assert caught.value.key == "withdraw_closed"


def test_the_alert_page_warns_of_an_away_assignee_and_withdraws_the_task(seeded):
    path, info, now = seeded
    alert_id = info["alerts"][0]
    db = store.open_db(path)
    task = experts.assign_expert(db, alert_id, info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, task, "li", now)
    experts.add_absence(db, info["experts"]["李样本"], now + timedelta(hours=1), now + timedelta(days=1), "出差",
                        "admin1", now)
    db.conn.close()
    at = _page("alerts.py", "monitor1", path, alert=alert_id)
    [warning] = [w.value for w in at.warning if "起不可用" in w.value]
    assert warning.startswith("李样本 于") and "（出差）" in warning and "请撤回改派" in warning
    assert not any(b.label.startswith("指派给") for b in at.button)  # the task is still 李样本's
    at.text_input(key="withdraw_reason").input("专家出差，改派")
    next(b for b in at.button if b.label == f"撤回任务 #{task}").click()
    at.run()
    assert not at.exception, at.exception
    assert any(f"撤回任务 #{task}" in s.value for s in at.success)
    assert any(b.label.startswith("指派给 张示例") for b in at.button)  # suggestions again, without 李样本
    assert not any(b.label.startswith("指派给 李样本") for b in at.button)
    steps = next(df.value for df in at.dataframe if "操作人" in df.value.columns)
    assert "撤回改派" in set(steps["步骤"])
