"""Roster import/export, suggestion with reasons, assignment lifecycle, clarifications, verdicts,
watchlist and takedowns; every action audited; nothing lost when the database is reopened."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from rumourwatch import alerts, experts, store
from rumourwatch.alerts import WorkflowError, escalate_overdue, evaluate_alerts
from rumourwatch.clock import FixedClock
from rumourwatch.records import iso

from workflow_helpers import REWORDED_RUMOUR, ROSTER_CSV, RUMOUR_TEXT, IndexedRuleBundle, add_item, rules


@pytest.fixture
def roster(db, now):
    report = experts.import_roster(db, ROSTER_CSV, "admin", now)
    assert report.errors == [] and report.created == 4
    return {e["name"]: e["id"] for e in store.list_experts(db)}


def _alert(db, now, reposts=600, region_user=None, **kw):
    add_item(db, RUMOUR_TEXT, now, reposts=reposts, user=region_user, **kw)
    [alert_id] = evaluate_alerts(db, now, rules())
    return alert_id


def test_import_reports_each_bad_row_and_keeps_the_good_ones(db, now):
    text = ROSTER_CSV + (
        "赵错误,医师,示例医院,传染病及地方病防控,乡级,示例县,2,,,1\n"
        "孙错误,医师,,不存在的专业,省级,示例省,abc,,not-an-email,1\n"
        "张示例,主任医师,示例国家健康科普中心,感染科,国家级,北京,3,,,1\n")
    report = experts.import_roster(db, text, "admin", now)
    assert report.created == 4
    assert report.errors[0] == "row 6: level must be one of 国家级, 省级, 市级, 县级 (got '乡级')"
    assert report.errors[1].startswith("row 7: institution is required; specialties 不存在的专业 not recognised")
    assert "capacity must be a whole number" in report.errors[1] and "not an email" in report.errors[1]
    assert report.errors[2] == "row 8: same expert as row 2 (name and institution)"
    assert len(store.list_experts(db)) == 4
    assert store.audit_entries(db)[0]["action"] == "experts.import"


def test_import_rejects_a_file_without_the_required_columns(db, now):
    with pytest.raises(WorkflowError, match="lacks column"):
        experts.import_roster(db, "name,title\n张示例,医师\n", "admin", now)


def test_a_roster_kept_as_an_excel_workbook_is_imported_from_its_first_sheet(db, now):
    """The pool's roster as the office keeps it in Excel: numbers (capacity, a phone) are cells, not
    text; a bad row is named by its Excel row number, as a CSV's by its line."""
    from openpyxl import Workbook

    rows = list(csv.reader(io.StringIO(ROSTER_CSV)))
    book = Workbook()
    sheet = book.active
    sheet.append(rows[0])
    for row in rows[1:]:
        sheet.append([int(v) if v.isdigit() else (v or None) for v in row])
    sheet.append(["赵错误", "医师", "示例医院", "传染病及地方病防控", "乡级", "示例县", 2, None, None, 1])
    out = io.BytesIO()
    book.save(out)
    report = experts.import_roster(db, out.getvalue(), "admin", now, name="专家库.xlsx")
    from_csv = experts.import_roster(db, ROSTER_CSV, "admin", now)  # the same experts: updated, not added
    assert (report.created, from_csv.created, from_csv.updated) == (len(rows) - 1, 0, len(rows) - 1)
    assert report.errors == [f"row {len(rows) + 1}: level must be one of 国家级, 省级, 市级, 县级 (got '乡级')"]
    assert {e["capacity"] for e in store.list_experts(db)} <= {1, 2, 3, 4, 5}


def test_an_uploaded_workbook_or_utf16_roster_is_refused_saying_what_it_is(db, now):
    from rumourwatch.uploads import UploadError

    with pytest.raises(UploadError) as caught:
        experts.import_roster(db, b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64, "admin", now, name="roster.csv")
    assert "Excel xlsx" in caught.value.zh
    with pytest.raises(UploadError, match="UTF-16"):
        experts.import_roster(db, ROSTER_CSV.encode("utf-16"), "admin", now, name="roster.csv")
    assert store.list_experts(db) == []
    # the same roster tab-separated (a spreadsheet's text export) reads the same
    report = experts.import_roster(db, ROSTER_CSV.replace(",", "\t").encode("gb18030"), "admin", now,
                                   name="roster.tsv")
    assert (report.created, report.errors) == (4, [])


def test_export_round_trips_and_reimport_updates_in_place(db, now, roster):
    text = experts.export_roster(db)
    assert text.startswith("\ufeff")  # Excel reads the Chinese as UTF-8, not as GB18030 mojibake
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [r["name"] for r in rows] == ["张示例", "李样本", "王虚构", "钱测试"]
    assert rows[0]["specialties"] == "传染病及地方病防控;感染科"
    report = experts.import_roster(db, text.replace(",3,000", ",5,000"), "admin", now)
    assert (report.created, report.updated, report.errors) == (0, 4, [])
    assert store.get_expert(db, roster["张示例"])["capacity"] == 5


def test_a_cell_a_spreadsheet_would_run_or_turn_into_a_number_is_exported_as_text_and_reimported_as_typed(db, now):
    roster = ("name,title,institution,specialties,level,region,capacity,phone,email,active\n"
              '张示例,"=HYPERLINK(""http://evil.example"",""主任"")",示例中心,感染科,国家级,北京,3,+86 000 0000 0000,,1\n')
    experts.import_roster(db, roster, "admin", now)
    text = experts.export_roster(db)
    [row] = list(csv.DictReader(io.StringIO(text[1:])))
    assert (row["title"], row["phone"]) == ("'=HYPERLINK(\"http://evil.example\",\"主任\")", "'+86 000 0000 0000")
    report = experts.import_roster(db, text, "admin", now)
    assert (report.created, report.updated, report.errors) == (0, 1, [])
    [expert] = store.list_experts(db)
    assert (expert["title"], expert["phone"]) == ('=HYPERLINK("http://evil.example","主任")', "+86 000 0000 0000")


def test_sample_roster_in_data_is_valid(db, now):
    from rumourwatch.config import REPO_ROOT

    report = experts.import_roster(db, REPO_ROOT / "data" / "expert_roster_sample.csv", "admin", now)
    assert report.errors == [] and report.created >= 8


def test_suggestion_ranks_by_specialty_level_region_and_load_with_reasons(db, now, roster):
    alert_id = _alert(db, now, region_user={"province": "示例省"})  # 二级, 传染病, 示例省
    ranked = experts.suggest_experts(db, alert_id)
    assert [r["name"] for r in ranked][:2] == ["李样本", "张示例"]
    top = ranked[0]
    assert "专业对口：擅长「传染病及地方病防控」" in top["reasons"]
    assert "级别匹配：省级专家适合二级预警" in top["reasons"]
    assert "同地区：示例省" in top["reasons"]
    assert "当前负荷 0/2" in top["reasons"]
    cardio = next(r for r in ranked if r["name"] == "王虚构")
    assert cardio["score"] < top["score"] and any("专业不完全对口" in x for x in cardio["reasons"])
    dept = next(r for r in ranked if r["name"] == "钱测试")
    assert "专业相关：感染科可解读「传染病及地方病防控」" in dept["reasons"]


def test_full_experts_are_left_out_and_response_history_counts(db, now, roster):
    a1 = _alert(db, now)
    experts.assign_expert(db, a1, roster["钱测试"], "monitor1", now, rules())  # capacity 1 → full
    add_item(db, "示例传言：每天喝三杯示例茶可以预防所有传染病，专家都在喝，快转给家人", now, reposts=600)
    ids = evaluate_alerts(db, now, rules())
    a2 = [i for i in ids if i != a1][0]
    assert "钱测试" not in [r["name"] for r in experts.suggest_experts(db, a2, limit=10)]


def test_lifecycle_offer_accept_draft_review_publish_clarifies_the_cluster(db, now, roster):
    clock = FixedClock(now)
    copy_ids = [add_item(db, RUMOUR_TEXT, now, reposts=300) for _ in range(3)]
    [alert_id] = evaluate_alerts(db, clock(), rules())
    expert_id = roster["李样本"]
    aid = experts.assign_expert(db, alert_id, expert_id, "monitor1", clock(), rules())
    assert store.get_alert(db, alert_id)["status"] == "assigned"
    assert store.get_alert(db, alert_id)["assigned_expert"] == expert_id
    with pytest.raises(WorkflowError, match="another expert"):
        experts.accept_assignment(db, aid, "王虚构", clock(), actor_expert_id=roster["王虚构"])
    clock.advance(minutes=20)
    experts.accept_assignment(db, aid, "li", clock(), actor_expert_id=expert_id)
    with pytest.raises(WorkflowError, match="title and a body"):
        experts.save_draft(db, aid, "li", clock(), "", "")
    cid = experts.save_draft(db, aid, "li", clock(), "淡盐水不能预防病毒感染", "示例澄清正文。", "《健康素养66条》")
    assert experts.save_draft(db, aid, "li", clock(), "淡盐水不能预防示例病毒", "修改后的正文。") == cid
    clock.advance(hours=1)
    experts.submit_for_review(db, cid, "li", clock(), actor_expert_id=expert_id)
    with pytest.raises(WorkflowError, match="cannot review their own"):
        experts.review_clarification(db, cid, "li", clock(), approve=True)
    experts.review_clarification(db, cid, "zhang", clock(), approve=False, note="请补充参考文献")
    assert store.get_alert(db, alert_id)["status"] == "in_progress"
    experts.submit_for_review(db, cid, "li", clock(), actor_expert_id=expert_id)
    experts.review_clarification(db, cid, "zhang", clock(), approve=True)
    with pytest.raises(WorkflowError, match="http"):
        experts.publish_clarification(db, cid, "monitor1", clock(), "not a url")
    clock.advance(minutes=30)
    experts.publish_clarification(db, cid, "monitor1", clock(), "https://example.org/piyao/1")
    alert = store.get_alert(db, alert_id)
    assert alert["status"] == "published" and alert["responded_at"] == iso(clock())
    for item_id in copy_ids:
        c = experts.item_clarification(db, item_id)
        assert c["published_url"] == "https://example.org/piyao/1"
    assert store.get_assignment(db, aid)["status"] == "completed"
    steps = [s["step"] for s in store.alert_steps(db, alert_id)]
    assert steps == ["created", "confirmed", "assigned", "accepted", "drafted", "submitted", "returned", "submitted",
                     "approved", "published"]
    actions = [e["action"] for e in reversed(store.audit_entries(db))]
    for expected in ("assignment.offer", "assignment.accept", "clarification.draft", "clarification.submit",
                     "clarification.return", "clarification.approve", "clarification.publish"):
        assert expected in actions
    # nothing escalates after publication, even long after the deadline
    assert escalate_overdue(db, clock() + timedelta(days=2), rules()) == []
    # the expert's measured response time feeds later suggestions
    assert store.expert_response_hours(db)[expert_id] == [pytest.approx(1 + 20 / 60)]


def test_decline_reassigns_to_the_next_suggestion(db, now, roster):
    alert_id = _alert(db, now)
    first = experts.suggest_experts(db, alert_id)[0]
    aid = experts.assign_expert(db, alert_id, first["expert_id"], "monitor1", now, rules())
    with pytest.raises(WorkflowError, match="needs a reason"):
        experts.decline_assignment(db, aid, "x", now, "", rules=rules())
    new_id = experts.decline_assignment(db, aid, "x", now, "时间冲突", rules=rules())
    new = store.get_assignment(db, new_id)
    assert new["expert_id"] != first["expert_id"] and new["status"] == "offered"
    assert new["assigned_by"] == "system:reassign"
    assert store.get_alert(db, alert_id)["assigned_expert"] == new["expert_id"]
    assert first["expert_id"] not in [r["expert_id"] for r in experts.suggest_experts(db, alert_id, limit=10)]
    # everyone declines: the alert goes back to the monitors
    while new_id is not None:
        new_id = experts.decline_assignment(db, new_id, "x", now, "不擅长", rules=rules())
    assert store.get_alert(db, alert_id)["status"] == "open"
    assert store.get_alert(db, alert_id)["assigned_expert"] is None


def test_unanswered_offer_escalates(db, now, roster):
    clock = FixedClock(now)
    alert_id = _alert(db, now)
    aid = experts.assign_expert(db, alert_id, roster["李样本"], "monitor1", clock(), rules())
    clock.advance(minutes=59)
    assert escalate_overdue(db, clock(), rules()) == []
    clock.advance(minutes=1)
    events = escalate_overdue(db, clock(), rules())
    assert events == [{"alert_id": alert_id, "deadline": "assignment", "assignment_id": aid, "due": iso(clock())}]
    assert store.get_assignment(db, aid)["escalated_at"] == iso(clock())


def test_only_one_active_assignment_per_alert(db, now, roster):
    alert_id = _alert(db, now)
    experts.assign_expert(db, alert_id, roster["李样本"], "monitor1", now, rules())
    with pytest.raises(WorkflowError, match="already has active assignment"):
        experts.assign_expert(db, alert_id, roster["张示例"], "monitor1", now, rules())


def test_dismissing_an_alert_withdraws_its_experts_task_and_tells_them(db, now, roster):
    alert_id = _alert(db, now)
    aid = experts.assign_expert(db, alert_id, roster["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now, actor_expert_id=roster["李样本"])
    alerts.dismiss_alert(db, alert_id, "monitor1", now + timedelta(minutes=5), "误报：讽刺段子")
    got = store.get_assignment(db, aid)
    assert (got["status"], got["cancelled_at"], got["cancelled_by"], got["cancel_reason"]) == (
        "cancelled", iso(now + timedelta(minutes=5)), "monitor1", "误报：讽刺段子")
    # gone from the 专家工作台 queue (the statuses the page lists) and from the expert's load
    assert store.expert_assignments(db, roster["李样本"], ("offered", "accepted", "submitted")) == []
    assert store.expert_loads(db).get(roster["李样本"], 0) == 0
    steps = [(s["step"], s["note"]) for s in store.alert_steps(db, alert_id)]
    assert steps[-2:] == [("dismissed", "误报：讽刺段子"), ("cancelled", f"任务 #{aid}（李样本）随预警排除撤回")]
    [entry] = [e for e in store.audit_entries(db, target_type="assignment") if e["action"] == "assignment.cancel"]
    assert (entry["actor"], entry["target_id"]) == ("monitor1", str(aid))
    [notice] = [n for n in store.list_notifications(db) if n["event"] == "assignment_withdrawn"]
    assert notice["target"] == "li@example.org" and "任务撤回" in notice["subject"]
    assert f"任务 #{aid} 已撤回" in notice["body"] and "误报：讽刺段子" in notice["body"]


def test_a_store_that_cancelled_tasks_before_the_upgrade_gets_when_who_and_why_from_the_audit_log(db_path, now):
    """Assignments cancelled before they kept their own time: the migration takes it, the actor and
    the reason from the audit entry the cancellation wrote, and leaves other assignments alone."""
    db = store.open_db(db_path)
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    alert_id = _alert(db, now)
    cancelled = experts.assign_expert(db, alert_id, ids["李样本"], "monitor1", now, rules())
    alerts.dismiss_alert(db, alert_id, "monitor2", now + timedelta(minutes=7), "误报：旧版本撤回")
    add_item(db, "示例谣言：示例牌保健茶能根治糖尿病，停掉胰岛素也没关系，很多人都好了", now, reposts=600)
    [other] = evaluate_alerts(db, now, rules())
    offered = experts.assign_expert(db, other, ids["张示例"], "monitor1", now, rules())
    with store.transaction(db):  # the schema and rows as the old code left them
        for column in ("cancelled_at", "cancelled_by", "cancel_reason"):
            db.execute(f"ALTER TABLE assignments DROP COLUMN {column}")
        db.execute("DELETE FROM _migrations WHERE name = '0010_assignment_cancellation'")
    assert store.apply_migrations(db) == ["0010_assignment_cancellation"]
    got = store.get_assignment(db, cancelled)
    assert (got["cancelled_at"], got["cancelled_by"], got["cancel_reason"]) == (
        iso(now + timedelta(minutes=7)), "monitor2", "误报：旧版本撤回")
    untouched = store.get_assignment(db, offered)
    assert (untouched["status"], untouched["cancelled_at"], untouched["cancel_reason"]) == ("offered", None, None)


def test_a_withdrawn_task_refuses_accept_draft_and_submit_and_the_alert_stays_dismissed(db, now, roster):
    alert_id = _alert(db, now)
    aid = experts.assign_expert(db, alert_id, roster["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    cid = experts.save_draft(db, aid, "li", now, "淡盐水不能预防病毒感染", "示例澄清正文。")
    alerts.dismiss_alert(db, alert_id, "monitor1", now, "误报")
    with pytest.raises(WorkflowError, match="withdrawn") as refused:
        experts.submit_for_review(db, cid, "li", now)
    assert (refused.value.key, refused.value.params) == ("assignment_cancelled", {"id": aid, "alert": alert_id})
    with pytest.raises(WorkflowError, match="withdrawn"):
        experts.save_draft(db, aid, "li", now, "标题", "正文")
    assert store.get_alert(db, alert_id)["status"] == "dismissed"
    assert store.get_clarification(db, cid)["status"] == "draft"
    # a 非谣言 verdict withdraws an offer the same way: it can no longer be accepted
    add_item(db, "示例谣言：示例牌保健茶能根治糖尿病，停掉胰岛素也没关系，很多人都好了", now, reposts=600)
    [other] = evaluate_alerts(db, now, rules())
    offer = experts.assign_expert(db, other, roster["张示例"], "monitor1", now, rules())
    item_id = store.get_alert(db, other)["item_id"]
    experts.record_verdict(db, item_id, "not_rumour", "属实的健康提示", "monitor1", now)
    with pytest.raises(WorkflowError, match="withdrawn"):
        experts.accept_assignment(db, offer, "zhang", now)
    assert store.get_assignment(db, offer)["status"] == "cancelled"


def test_a_draft_under_review_leaves_the_review_queue_when_its_alert_is_dismissed(db, now, roster):
    alert_id = _alert(db, now)
    aid = experts.assign_expert(db, alert_id, roster["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    cid = experts.save_draft(db, aid, "li", now, "淡盐水不能预防病毒感染", "示例澄清正文。")
    experts.submit_for_review(db, cid, "li", now)
    alerts.dismiss_alert(db, alert_id, "monitor1", now, "误报")
    # a false alarm needs no clarification: nobody is asked to review or publish it
    assert store.clarifications_by_status(db, "in_review") == []
    assert store.get_assignment(db, aid)["status"] == "cancelled"
    with pytest.raises(WorkflowError, match="only one under review"):
        experts.review_clarification(db, cid, "zhang", now, approve=True)
    assert store.get_alert(db, alert_id)["status"] == "dismissed"
    assert store.alert_steps(db, alert_id)[-1]["note"] == f"任务 #{aid}（李样本）随预警排除撤回，澄清稿 #{cid} 撤出审核"


def test_verdicts_label_the_whole_cluster(db, now):
    ids = [add_item(db, RUMOUR_TEXT, now) for _ in range(3)]
    with pytest.raises(WorkflowError, match="verdict must be one of"):
        experts.record_verdict(db, ids[0], "fake", "x", "monitor1", now)
    experts.record_verdict(db, ids[0], "unverifiable", "待核实", "monitor1", now)
    experts.record_verdict(db, ids[1], "rumour", "与权威资料不符", "li", now + timedelta(hours=1))
    labels = store.verdict_labels(db)
    assert sorted(label["item_id"] for label in labels) == ids
    assert {label["verdict"] for label in labels} == {"rumour"}
    assert {label["actor"] for label in labels} == {"li"}


def test_watchlist_and_takedowns(db, now):
    a = [add_item(db, RUMOUR_TEXT, now, account="示例养生号", reposts=100, user={"followers": 5000})
         for _ in range(2)]
    other = add_item(db, "示例谣言：示例水果与示例饮料同吃会中毒，已经有人进医院了，千万别这样吃", now,
                     account="示例转发号", reposts=10)
    experts.record_verdict(db, a[0], "rumour", "已证伪", "monitor1", now)
    experts.record_verdict(db, other, "not_rumour", "属实", "monitor1", now)
    rows = experts.publisher_watchlist(db, now - timedelta(days=1), now + timedelta(days=1))
    assert [(r["account"], r["false_items"], r["clusters"], r["reach"], r["followers"]) for r in rows] == [
        ("示例养生号", 2, 1, 200, 5000)]
    assert experts.publisher_watchlist(db, now + timedelta(hours=1), None) == []
    tid = experts.request_takedown(db, a[0], "monitor1", now, "已致函平台")
    with pytest.raises(WorkflowError, match="already has an open takedown"):
        experts.request_takedown(db, a[0], "monitor1", now)
    experts.record_takedown_outcome(db, tid, "removed", "monitor1", now + timedelta(hours=2))
    with pytest.raises(WorkflowError, match="already removed"):
        experts.record_takedown_outcome(db, tid, "refused", "monitor1", now)
    row = experts.publisher_watchlist(db, None, None)[0]
    assert (row["takedowns_requested"], row["takedowns_removed"]) == (1, 1)
    text = experts.watchlist_csv([row])
    assert text.startswith("\ufeff平台,账号,确认虚假条目数")
    assert "示例养生号,2,1,200,5000" in text
    # an account named like a formula is written as text, not run when the file is opened in Excel
    formula = experts.watchlist_csv([dict(row, account='=HYPERLINK("http://x.example")')])
    assert list(csv.reader(io.StringIO(formula[1:])))[1][1] == '\'=HYPERLINK("http://x.example")'
    assert [e["action"] for e in store.audit_entries(db, target_type="takedown")] == ["takedown.removed",
                                                                                      "takedown.request"]


def test_restarting_mid_workflow_loses_nothing(db_path, now):
    db = store.open_db(db_path)
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    alert_id = _alert(db, now)
    expert = experts.suggest_experts(db, alert_id)[0]["expert_id"]
    aid = experts.assign_expert(db, alert_id, expert, "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    cid = experts.save_draft(db, aid, "li", now, "标题", "正文")
    db.conn.close()  # the app or worker stops here
    db = store.open_db(db_path)
    assert store.get_clarification(db, cid)["body"] == "正文"
    experts.submit_for_review(db, cid, "li", now)
    db.conn.close()
    db = store.open_db(db_path)
    experts.review_clarification(db, cid, "zhang", now, approve=True)
    experts.publish_clarification(db, cid, "monitor1", now, "https://example.org/p/2")
    assert store.get_alert(db, alert_id)["status"] == "published"


def _publish(db, clock, roster, title="淡盐水不能预防示例病毒感染", url="https://example.org/piyao/7", alert_id=None):
    """Alert on RUMOUR_TEXT (unless given), and an expert's clarification through review to publication."""
    if alert_id is None:
        [alert_id] = evaluate_alerts(db, clock(), rules())
    aid = experts.assign_expert(db, alert_id, roster["李样本"], "monitor1", clock(), rules())
    experts.accept_assignment(db, aid, "li", clock(), actor_expert_id=roster["李样本"])
    cid = experts.save_draft(db, aid, "li", clock(), title, "示例澄清正文。")
    experts.submit_for_review(db, cid, "li", clock(), actor_expert_id=roster["李样本"])
    experts.review_clarification(db, cid, "zhang", clock(), approve=True)
    experts.publish_clarification(db, cid, "monitor1", clock(), url)
    return cid


def test_the_clarified_item_and_its_copies_read_already_debunked_whatever_the_claims_wording(db, now, roster):
    """User testing: the alert's own item read 已辟谣 否 right under its 已澄清 banner while a reworded
    repeat read 是: the claim the expert stated resembles the reworded post more than the item it
    answers. A clarification covers its item's cluster (the banner's rule) whatever the similarity:
    from its publication on, and after every re-score."""
    from rumourwatch.score import score_items

    clock = FixedClock(now)
    bundle = IndexedRuleBundle()
    original = add_item(db, RUMOUR_TEXT, now, reposts=600)
    copy = add_item(db, RUMOUR_TEXT, now, reposts=300)
    reworded = add_item(db, REWORDED_RUMOUR, now)
    assert store.get_item(db, copy)["cluster_id"] == store.get_item(db, original)["cluster_id"]
    [alert_id] = evaluate_alerts(db, clock(), rules())
    score_items(db, bundle, [original, copy, reworded], clock())
    assert store.summary_counts(db)["already_debunked"] == 0
    aid = experts.assign_expert(db, alert_id, roster["李样本"], "monitor1", clock(), rules())
    experts.accept_assignment(db, aid, "li", clock(), actor_expert_id=roster["李样本"])
    cid = experts.save_draft(db, aid, "li", clock(), "淡盐水不能预防示例病毒感染", "示例澄清正文。",
                             claim="喝淡盐水预防示例病毒，快转给老人")  # closer to the reworded post
    experts.submit_for_review(db, cid, "li", clock(), actor_expert_id=roster["李样本"])
    experts.review_clarification(db, cid, "zhang", clock(), approve=True)
    clock.advance(minutes=30)
    experts.publish_clarification(db, cid, "monitor1", clock(), "https://example.org/piyao/9")

    for item_id in (original, copy):  # at once, before the worker scores anything again
        got = store.get_item(db, item_id)
        assert (got["already_debunked"], got["debunk_clarification_id"]) == (1, cid)
    assert store.summary_counts(db)["already_debunked"] == 2  # the live page's 已辟谣 count

    clock.advance(minutes=5)
    score_items(db, bundle, [original, copy, reworded], clock())  # the worker re-scores them
    for item_id in (original, copy, reworded):
        got = store.get_item(db, item_id)
        assert (got["already_debunked"], got["debunk_clarification_id"]) == (1, cid)
        last = db.execute("SELECT debunk_title, debunk_url FROM scores WHERE item_id = ? ORDER BY id DESC LIMIT 1",
                          [item_id]).fetchone()
        assert tuple(last) == ("淡盐水不能预防示例病毒感染", "https://example.org/piyao/9")
    assert experts.item_clarification(db, original).get("similar") is None  # its own cluster's
    assert store.summary_counts(db)["already_debunked"] == 3


def test_a_store_clarified_before_the_fix_reads_already_debunked_once_migrated(db_path, now):
    """A store whose clarification was published before publishing marked its cluster: the upgrade
    marks it, so alert 13's own item does not keep reading 否 under its banner until re-scored."""
    db = store.open_db(db_path)
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    clock = FixedClock(now)
    original = add_item(db, RUMOUR_TEXT, now, reposts=600)
    copy = add_item(db, RUMOUR_TEXT, now, reposts=300)
    other = add_item(db, REWORDED_RUMOUR, now)
    cid = _publish(db, clock, ids)
    with store.transaction(db):  # as the old code left it, and the migration not yet run
        db.execute("UPDATE items SET already_debunked = 0, debunk_clarification_id = NULL")
        db.execute("DELETE FROM _migrations WHERE name = '0009_clarified_clusters_debunked'")
    assert store.apply_migrations(db) == ["0009_clarified_clusters_debunked"]
    for item_id in (original, copy):
        got = store.get_item(db, item_id)
        assert (got["already_debunked"], got["debunk_clarification_id"]) == (1, cid)
    assert store.get_item(db, other)["already_debunked"] == 0  # another cluster: the scorer decides



def test_a_reworded_repeat_of_a_claim_clarified_here_shows_that_clarification(db, now, roster):
    """Not a near copy (another cluster), so the cluster rule does not cover it; the scorer matches
    it to the claim the experts clarified, and the item and its alert point the monitor there."""
    from rumourwatch.score import score_items

    clock = FixedClock(now)
    bundle = IndexedRuleBundle()
    original = add_item(db, RUMOUR_TEXT, now, reposts=600)
    reworded = REWORDED_RUMOUR
    early = add_item(db, reworded, now)  # scored below before anything was published
    score_items(db, bundle, [early], clock())
    clock.advance(hours=1)
    cid = _publish(db, clock, roster)
    clock.advance(hours=1)
    later = add_item(db, reworded, clock())
    unrelated = add_item(db, "示例市今天新增示例病毒感染十例，请市民做好个人防护、勤洗手", clock())
    assert store.get_item(db, later)["cluster_id"] != store.get_item(db, original)["cluster_id"]
    assert experts.item_clarification(db, later) is None  # the cluster rule alone misses it

    score_items(db, bundle, [original, later, unrelated], clock())
    got = store.get_item(db, later)
    assert got["already_debunked"] == 1 and got["debunk_clarification_id"] == cid
    shown = experts.item_clarification(db, later)
    assert shown["id"] == cid and shown["similar"] is True and 0.33 <= shown["similarity"] < 1
    assert shown["published_url"] == "https://example.org/piyao/7"
    # the score row keeps what the monitor is shown: the clarification, not an article
    last = db.execute("SELECT debunk_title, debunk_url FROM scores WHERE item_id = ? ORDER BY id DESC LIMIT 1",
                      [later]).fetchone()
    assert tuple(last) == ("淡盐水不能预防示例病毒感染", "https://example.org/piyao/7")
    # its own cluster's clarification is not "similar"; the original matches its own claim exactly
    assert experts.item_clarification(db, original).get("similar") is None
    assert store.get_item(db, original)["debunk_clarification_id"] == cid
    # news about the virus is not a repeat of the claim
    assert store.get_item(db, unrelated)["already_debunked"] != 1
    assert experts.item_clarification(db, unrelated) is None

    # a score computed before the publication did not know of it; re-scoring now does
    assert store.get_item(db, early)["debunk_clarification_id"] is None
    score_items(db, bundle, [early], clock())
    assert store.get_item(db, early)["debunk_clarification_id"] == cid


def test_the_claim_the_expert_states_decides_which_later_posts_repeat_it(db, now, roster):
    """The alert's item wraps its claim in a chain-letter formula that other rumours share; matched on
    the item's text, a different rumour in the same formula would show this clarification."""
    from rumourwatch.score import score_items

    clock = FixedClock(now)
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, clock(), rules())
    aid = experts.assign_expert(db, alert_id, roster["李样本"], "monitor1", clock(), rules())
    experts.accept_assignment(db, aid, "li", clock(), actor_expert_id=roster["李样本"])
    with pytest.raises(WorkflowError, match="too short"):
        experts.save_draft(db, aid, "li", clock(), "淡盐水不能预防示例病毒", "正文", claim="[泪]淡盐水 @某人")
    cid = experts.save_draft(db, aid, "li", clock(), "淡盐水不能预防示例病毒", "正文",
                             claim="喝淡盐水可以预防示例病毒感染")
    experts.save_draft(db, aid, "li", clock(), "淡盐水不能预防示例病毒感染", "修改后的正文")  # keeps the claim
    assert store.get_clarification(db, cid)["claim"] == "喝淡盐水可以预防示例病毒感染"
    experts.submit_for_review(db, cid, "li", clock(), actor_expert_id=roster["李样本"])
    experts.review_clarification(db, cid, "zhang", clock(), approve=True)
    experts.publish_clarification(db, cid, "monitor1", clock(), "https://example.org/piyao/8")

    clock.advance(hours=1)
    other_rumour = add_item(db, "紧急扩散！吃大蒜可以彻底预防示例病毒感染，医院不会告诉你，家里有老人的赶紧转给他们看",
                            clock())
    tagged = add_item(db, "#喝淡盐水可以预防示例病毒感染# 真的假的？家里老人天天在喝", clock())
    score_items(db, IndexedRuleBundle(), [other_rumour, tagged], clock())
    assert store.get_item(db, tagged)["debunk_clarification_id"] == cid  # the claim, as its #topic#
    assert store.get_item(db, other_rumour)["debunk_clarification_id"] is None  # same formula, other claim
    assert experts.item_clarification(db, other_rumour) is None


def test_the_worker_marks_recent_repeats_as_soon_as_a_clarification_is_published(db, now, roster):
    """A repeat that stopped spreading gets no new reactions, so it would never be re-scored: the
    worker looks for repeats among the last 48 hours' items once per new publication."""
    from rumourwatch.worker import Worker

    clock = FixedClock(now)
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    recent = add_item(db, REWORDED_RUMOUR, now - timedelta(hours=2))
    old = add_item(db, REWORDED_RUMOUR + "。", now - timedelta(days=3))
    [alert_id] = evaluate_alerts(db, clock(), rules())
    worker = Worker(db, [], IndexedRuleBundle(), clock=clock)
    worker.poll_once()  # everything scored by the bundle; nothing is published yet
    assert store.get_item(db, recent)["debunk_clarification_id"] is None
    cid = _publish(db, clock, roster, alert_id=alert_id)
    clock.advance(minutes=5)
    stats = worker.poll_once()
    assert stats.scored == 2  # the recent repeat, and the clarified item itself
    assert store.get_item(db, recent)["debunk_clarification_id"] == cid
    assert store.get_item(db, old)["debunk_clarification_id"] is None  # outside the 48 hours
    assert worker.poll_once().scored == 0  # once per publication


def test_a_not_rumour_verdict_from_the_alert_page_dismisses_the_alert_once(db, now):
    ids = [add_item(db, RUMOUR_TEXT, now, reposts=300) for _ in range(3)]
    [alert_id] = evaluate_alerts(db, now, rules())
    experts.record_verdict(db, ids[0], "not_rumour", "属实的健康提示", "monitor1", now, alert_id)
    steps = [s["step"] for s in store.alert_steps(db, alert_id)]
    assert steps == ["created", "verdict:not_rumour", "dismissed"]  # the verdict step is not doubled
    assert store.get_alert(db, alert_id)["status"] == "dismissed"
    # a later verdict on the closed alert is still recorded on it, and closes nothing twice
    experts.record_verdict(db, ids[1], "not_rumour", "复核无误", "monitor1", now + timedelta(minutes=5), alert_id)
    assert [s["step"] for s in store.alert_steps(db, alert_id)][-1] == "verdict:not_rumour"
    assert store.list_alerts(db, "active") == []
