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
