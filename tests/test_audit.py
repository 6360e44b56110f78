"""The audit log read back (rumourwatch.audit, `rumourwatch audit`): every action the software
records has a Chinese name and a kind, conditions hold before the limit, and an export is a CSV
Excel cannot run and is itself recorded."""

from __future__ import annotations

import ast
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from rumourwatch import audit, store
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT
from rumourwatch.records import iso

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 Beijing time

# record_audit calls whose action is computed, and every action each can write; a new computed one
# must be listed here (with its Chinese names in rumourwatch.audit) for the test to pass
COMPUTED = {
    ("rumourwatch/alerts.py", "f'alert.{step}'"): ["alert.info_released", "alert.conference_held"],
    ("rumourwatch/experts.py", "f'takedown.{outcome}'"): ["takedown.removed", "takedown.refused"],
    ("rumourwatch/media.py", "action"): ["media.cancel", "media.withdraw"],
    ("dashboard/data.py", "action"): ["model.promote", "model.discard", "model.retrain", "model.rollback"],
    ("rumourwatch/source_config.py", "action"): ["source.add", "source.enable", "source.disable", "source.remove"],
}


def _recorded_in_code() -> tuple[set[str], set[str], set]:
    """The action codes and target types the code base passes to store.record_audit, and the
    computed action arguments it has (file, source)."""
    actions, targets, computed = set(), set(), set()

    def strings(node) -> list[str] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            a, b = strings(node.body), strings(node.orelse)
            return None if a is None or b is None else a + b
        return None

    for path in [*(REPO_ROOT / "rumourwatch").rglob("*.py"), *(REPO_ROOT / "dashboard").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "record_audit"):
                continue
            found = strings(node.args[2])
            if found is None:
                computed.add((str(path.relative_to(REPO_ROOT)), ast.unparse(node.args[2])))
            else:
                actions.update(found)
            if len(node.args) > 3 and strings(node.args[3]):
                targets.update(strings(node.args[3]))
    return actions, targets, computed


def test_every_action_the_code_records_has_a_chinese_name_and_a_kind():
    actions, targets, computed = _recorded_in_code()
    assert computed == set(COMPUTED)
    for codes in COMPUTED.values():
        actions.update(codes)
    assert len(actions) > 60
    assert sorted(actions - set(audit.ACTION_ZH)) == []  # a code shown to admins as a code
    assert sorted(set(audit.ACTION_ZH) - actions) == []  # a name for nothing the code records
    assert [c for c in actions if audit.group_of(c) == "other"] == []
    assert sorted(targets - set(audit.TARGET_ZH)) == []
    assert len(set(audit.ACTION_ZH.values())) == len(audit.ACTION_ZH)  # no two actions read alike


def test_kinds_and_names_of_actions():
    assert audit.group_of("user.locked") == "signin" and audit.group_of("user.role") == "accounts"
    assert audit.group_of("login.failed") == "signin" and audit.group_of("alert.dismiss") == "alerts"
    assert audit.group_of("users.purge") == "other"  # not "user.": a name, not a prefix of letters
    assert audit.action_text("users.purge") == "users.purge"  # a newer version's code, as stored
    known = ["alert.dismiss", "login", "login.failed", "user.locked", "user.role"]
    assert audit.matching_actions(known, None, None) is None
    assert audit.matching_actions(known, "signin", None) == ["login", "login.failed", "user.locked"]
    assert audit.matching_actions(known, None, "失败") == ["login.failed"]
    assert audit.matching_actions(known, None, "LOGIN") == ["login", "login.failed"]
    assert audit.matching_actions(known, "accounts", "失败") == []
    assert audit.target_text("alert", "12") == "预警 #12"
    assert audit.target_text("user", "mon") == "账号 mon"
    assert audit.target_text("audit", None) == "审计日志"
    assert audit.target_text(None, None) == ""


@pytest.fixture
def db(tmp_path):
    db = store.open_db(tmp_path / "audit.db")

    def entry(hours_ago, actor, action, target_type=None, target_id=None, details=None):
        with store.transaction(db):
            store.record_audit(db, actor, action, target_type, target_id, details,
                               at=iso(NOW - timedelta(hours=hours_ago)))

    entry(24 * 40, "mon", "login", "user", "mon")
    entry(50, "=HYPERLINK(\"http://x\")", "login.failed", "user", "=HYPERLINK(\"http://x\")",
          {"reason": "unknown_user"})
    entry(30, "root", "user.disable", "user", "ana")
    for k in range(20):
        entry(10 - k / 10, "system", "alert.create", "alert", 100 + k, {"severity": "三级"})
    entry(1, "mon", "alert.dismiss", "alert", 7, {"reason": "误报：转载官方通报"})
    return db


def test_search_applies_every_condition_before_the_limit(db):
    week = audit.AuditQuery(start=iso(NOW - timedelta(days=7)), end=iso(NOW))
    rows, total = audit.search(db, week, limit=5)
    assert total == 23 and len(rows) == 5
    assert rows[0]["action"] == "alert.dismiss" and rows[-1]["action"] == "alert.create"
    rows, total = audit.search(db, audit.AuditQuery(start=week.start, end=week.end, group="signin"), limit=5)
    assert [r["action"] for r in rows] == ["login.failed"] and total == 1  # the login 40 days ago is out
    rows, total = audit.search(db, audit.AuditQuery(contains="停用"), limit=5)
    assert [(r["actor"], r["target_id"]) for r in rows] == [("root", "ana")]
    rows, _ = audit.search(db, audit.AuditQuery(target_type="alert", target_id="7"), limit=5)
    assert [r["action"] for r in rows] == ["alert.dismiss"]
    assert audit.search(db, audit.AuditQuery(actor="mon", contains="create"), limit=5) == ([], 0)


def test_an_export_is_a_csv_excel_cannot_run_and_is_recorded(db):
    query = audit.AuditQuery(start=iso(NOW - timedelta(days=7)), end=iso(NOW), group="signin")
    text, n, total = audit.export(db, query, "root", NOW, limit=10)
    assert (n, total) == (1, 1)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == list(audit.CSV_HEADER)
    assert rows[1] == ["2026-11-21 10:00:00", "'=HYPERLINK(\"http://x\")", "登录失败", "login.failed", "账号",
                       "账号 =HYPERLINK(\"http://x\")", '{"reason": "unknown_user"}']
    last = store.audit_entries(db, limit=1)[0]
    assert (last["actor"], last["action"], last["at"]) == ("root", "audit.export", iso(NOW))
    assert json.loads(last["details"]) == {"conditions": {"start": query.start, "end": query.end, "group": "signin"},
                                          "rows": 1, "matched": 1}
    # more than the export holds: the newest, and how many there were
    text, n, total = audit.export(db, audit.AuditQuery(group="alerts"), "root", NOW, limit=4)
    assert (n, total) == (4, 21)
    assert [r[3] for r in list(csv.reader(io.StringIO(text[1:])))[1:]] == ["alert.dismiss"] + ["alert.create"] * 3


def test_cli_prints_finds_and_exports_the_log(db, tmp_path):
    path = str(tmp_path / "audit.db")

    def run(*args):
        return CliRunner().invoke(cli, ["--db", path, "audit", *args])

    result = run("--from", "2026-11-01", "--to", "2026-11-23", "--action", "排除")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        '2026-11-23 11:00:00  mon  alert.dismiss 排除预警  预警 #7  {"reason": "误报：转载官方通报"}']
    assert "1 of 1 matching entries of 2026-11-01 – 2026-11-23 (Beijing time)" in result.stderr
    result = run("--from", "2026-10-01", "--to", "2026-11-23", "--kind", "signin", "--json")
    assert [(e["action"], e["action_zh"]) for e in json.loads(result.stdout)] == [
        ("login.failed", "登录失败"), ("login", "登录")]
    result = run("--from", "2026-11-01", "--to", "2026-11-23", "--limit", "2")
    assert len(result.stdout.splitlines()) == 2 and "2 of 23 matching" in result.stderr
    out = tmp_path / "log.csv"
    result = run("--from", "2026-11-01", "--to", "2026-11-23", "--target-type", "alert", "--csv", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 21 audit entries of 2026-11-01 – 2026-11-23 (Beijing time)" in result.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 22
    assert store.audit_entries(db, actions=["audit.export"])[0]["actor"].startswith("cli")
    result = run("--kind", "everything")
    assert result.exit_code == 2 and "'everything' is not one of" in result.output
    result = run("--from", "2026-11-23", "--to", "2026-11-01")
    assert result.exit_code == 2 and "2026-11-23 is after 2026-11-01" in result.output


# --- security notices to the administrators -------------------------------------------------------

@pytest.fixture
def accounts(tmp_path, monkeypatch):
    from rumourwatch import auth

    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    db = store.open_db(tmp_path / "accounts.db")
    for name, role in (("root", "admin"), ("mon", "monitor"), ("ana", "analyst")):
        auth.create_user(db, name, "right pw 1", role, "test", now=NOW - timedelta(days=1))
    return db


def _fail(db, username, at, times=1):
    from rumourwatch import auth

    for k in range(times):
        with pytest.raises(auth.AuthError):
            auth.authenticate(db, username, "wrong pw", auth.Policy(max_login_failures=3),
                              at + timedelta(seconds=k))


def _security_rules(**notify):
    from workflow_helpers import rules

    return rules(notify={"admin_emails": ["sec@example.org", "it@example.org"], "quiet_hours": "00:00-23:59",
                         "webhooks": [{"url": "http://127.0.0.1:9/hook"}], "monitor_emails": ["mon@example.org"],
                         **notify})


def test_a_lockout_mails_the_administrators_at_once_and_only_them_once(accounts):
    db = accounts
    _fail(db, "mon", NOW - timedelta(minutes=10), times=3)  # the third locks the account
    told = audit.notify_security(db, NOW, _security_rules())
    assert told["entries"] == 4  # three failures and the lockout
    sent = store.list_notifications(db, "pending", limit=10)
    assert sorted(n["target"] for n in sent) == ["it@example.org", "sec@example.org"]  # no group bot, no monitor
    assert {(n["channel"], n["urgent"], n["next_attempt_at"]) for n in sent} == {("email", 1, iso(NOW))}
    subject, body = sent[0]["subject"], sent[0]["body"]
    assert subject == "【安全提醒】账号 mon 因多次输错密码被锁定"
    assert body.splitlines()[0] == "账号锁定：mon，连续输错 3 次，锁定至 2026-11-23 12:05（2026-11-23 11:50）"
    assert body.splitlines()[1] == "登录失败 3 次（2026-11-23 11:50 起）：mon 3 次（密码错误）"
    assert "审计日志" in body
    assert audit.notify_security(db, NOW + timedelta(minutes=5), _security_rules()) is None  # told once


def test_failed_logins_are_told_when_they_reach_the_threshold_within_the_hour(accounts):
    db = accounts
    r = _security_rules(security_failed_logins=5)
    _fail(db, "mon", NOW - timedelta(hours=3), times=2)  # long before the hour: not counted
    for k, name in enumerate(["admin", "test", "root1", "ana"]):
        _fail(db, name, NOW - timedelta(minutes=30 - k))
    assert audit.notify_security(db, NOW, r) is None  # 4 within the hour
    _fail(db, '<b>x</b>' + "很长的名字" * 10, NOW - timedelta(minutes=1))
    told = audit.notify_security(db, NOW, r)
    assert told["entries"] == 5
    [mail, _] = store.list_notifications(db, "pending", limit=10)
    assert mail["subject"] == "【安全提醒】近 1 小时登录失败 5 次"
    line = mail["body"].splitlines()[0]
    assert line.startswith("登录失败 5 次（2026-11-23 11:30 起）：admin 1 次（无此账号）、")
    long_name = "<b>x</b>很长的名字很长的名字很长的名字很长的名字很长的…"  # cut to 32 characters: typed by anyone
    assert len(long_name) == 32
    assert line.endswith("ana 1 次（密码错误）、" + long_name + " 1 次（无此账号）")
    assert audit.notify_security(db, NOW, _security_rules(security_failed_logins=0)) is None  # nothing new
    # a threshold of 0 tells lockouts, never failures alone
    _fail(db, "nobody", NOW + timedelta(minutes=1), times=20)
    assert audit.notify_security(db, NOW + timedelta(minutes=30), _security_rules(security_failed_logins=0)) is None


def test_a_new_administrator_a_role_raised_to_admin_and_a_restore_are_told(accounts):
    from rumourwatch import auth

    db = accounts
    auth.create_user(db, "wang", "right pw 1", "monitor", "root", now=NOW - timedelta(minutes=20))
    auth.set_role(db, "ana", "leader", "root", now=NOW - timedelta(minutes=15))
    assert audit.notify_security(db, NOW, _security_rules()) is None  # no administrator among them
    auth.create_user(db, "zhao", "right pw 1", "admin", "root", now=NOW - timedelta(minutes=10))
    auth.set_role(db, "mon", "admin", "cli:ops", now=NOW - timedelta(minutes=5))
    with store.transaction(db):
        store.record_audit(db, "cli:ops", "restore", "database", "backups/2026-11-22.db", {"items": 10},
                           at=iso(NOW - timedelta(minutes=1)))
    audit.notify_security(db, NOW, _security_rules())
    mail = store.list_notifications(db, "pending", limit=10)[0]
    assert mail["subject"] == "【安全提醒】新增管理员账号 zhao；账号 mon 改为管理员；数据库已从备份恢复"
    assert mail["body"].splitlines()[:3] == [
        "新增管理员账号：zhao（操作人 root，2026-11-23 11:50）",
        "角色改为管理员：mon（原为舆情监测员，操作人 cli:ops，2026-11-23 11:55）",
        "数据库已从备份 backups/2026-11-22.db 恢复（操作人 cli:ops，2026-11-23 11:59）"]


def test_a_login_by_a_recovery_code_is_told_and_an_ordinary_one_is_not(accounts):
    """A recovery code in use means a lost phone — or someone holding the password and a code: the
    administrators hear of it at once; the everyday logins around it are no news."""
    from rumourwatch import auth, totp

    db = accounts
    auth.create_user(db, "wang", "Right-pw-for-wang-1", "monitor", "root", now=NOW - timedelta(minutes=30))
    secret = auth.begin_two_step(db, "wang", now=NOW - timedelta(minutes=30))
    codes = auth.confirm_two_step(db, "wang", totp.code(secret, NOW - timedelta(minutes=30)),
                                  now=NOW - timedelta(minutes=30))["recovery_codes"]
    later = NOW - timedelta(minutes=10)
    auth.login(db, "wang", "Right-pw-for-wang-1", now=later, code=totp.code(secret, later))
    assert audit.notify_security(db, NOW - timedelta(minutes=9), _security_rules()) is None  # an ordinary login
    auth.login(db, "wang", "Right-pw-for-wang-1", now=NOW - timedelta(minutes=2), code=codes[0])
    told = audit.notify_security(db, NOW, _security_rules())
    assert told is not None
    [mail, _] = store.list_notifications(db, "pending", limit=10)
    assert mail["subject"] == "【安全提醒】账号 wang 以恢复码登录"
    assert mail["body"].splitlines()[0] == (
        "以两步验证恢复码登录：wang（2026-11-23 11:58，剩余恢复码 9 个）。如非本人（手机丢失）所为，"
        "请在“用户管理”页重置其两步验证并修改密码")
    assert audit.notify_security(db, NOW + timedelta(minutes=1), _security_rules()) is None  # told once


def test_without_an_administrators_mailbox_nothing_is_queued_or_marked(accounts):
    db = accounts
    _fail(db, "mon", NOW - timedelta(minutes=10), times=3)
    assert audit.notify_security(db, NOW, _security_rules(admin_emails=[])) is None
    assert store.list_notifications(db, "pending", limit=10) == []
    assert audit.notify_security(db, NOW, _security_rules())["entries"] == 4  # set later, within the hour


def test_the_worker_round_and_cron_mail_the_notice_through_smtp(accounts, tmp_path, smtp_server):
    from rumourwatch.alerts import workflow_tick

    controller, inbox = smtp_server
    r = _security_rules(smtp_host="127.0.0.1", smtp_port=controller.port, webhooks=[])
    _fail(accounts, "mon", NOW - timedelta(minutes=10), times=3)
    tick = workflow_tick(accounts, NOW, r)
    assert tick["security"]["entries"] == 4
    assert sorted(to for to, _ in inbox.messages) == [["it@example.org"], ["sec@example.org"]]
    assert inbox.messages[0][1]["Subject"] == "【安全提醒】账号 mon 因多次输错密码被锁定"
    # cron's `alerts escalate` does the same for what came after
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(f'[notify]\nadmin_emails = ["sec@example.org"]\nsmtp_host = "127.0.0.1"\n'
                          f'smtp_port = {controller.port}\nquiet_hours = ""\n', encoding="utf-8")
    _fail(accounts, "ana", datetime.now(UTC) - timedelta(minutes=1), times=3)
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "accounts.db"), "alerts", "escalate",
                                      "--rules", str(rules_file)])
    assert result.exit_code == 0, result.output
    assert "security notice on 4 sign-in or account record(s): administrators mailed" in result.output
    assert inbox.messages[-1][1]["Subject"] == "【安全提醒】账号 ana 因多次输错密码被锁定"


def test_the_database_refuses_to_change_or_delete_an_audit_entry(db):
    import sqlite3

    before = store.count_audit_entries(db)
    for statement in ("UPDATE audit_log SET actor = 'someone else' WHERE action = 'alert.dismiss'",
                      "DELETE FROM audit_log WHERE action LIKE 'login%'"):
        with pytest.raises(sqlite3.DatabaseError, match="the audit log is append-only"):
            db.execute(statement)
    assert store.count_audit_entries(db) == before
    assert store.audit_entries(db, actions=["alert.dismiss"])[0]["actor"] == "mon"
    with store.transaction(db):  # appending is what it is for
        store.record_audit(db, "root", "backup", "database", "b.db")
    assert store.count_audit_entries(db) == before + 1
