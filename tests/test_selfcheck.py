"""系统自检 (`rumourwatch check`, rumourwatch.selfcheck): what would fail silently in a deployment is
found and said, and an installation set up as the README says passes.

A fresh store with nothing set up fails on what matters (no administrator, no expert, no channel
for the monitors, no models) and exits 1; one set up completely (accounts, roster covering the 15
topics, units, mailboxes, a real SMTP server that needs a login, backups, the cron jobs run, a
source read) has no warning and exits 0 — and the SMTP server was greeted and logged in to but
received no mail. Each silent failure is then made one at a time and must be named.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from local_servers import free_port

from dashboard.auth import login_for_test
from rumourwatch import auditseal, auth, press, selfcheck, store, totp, trainings
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT, load_settings
from rumourwatch.demo import DEMO_PASSWORD
from rumourwatch.experts import TOPICS
from rumourwatch.nlp.bundle import ModelBundle
from rumourwatch.records import CST, iso

PASSWORD = "a long enough phrase 7"
SMTP_USER, SMTP_PASSWORD = "rw-mailer", "mailer secret 42"


class _Sessions:
    """aiosmtpd handler counting what the server saw: sessions greeted, logins, mails."""

    def __init__(self):
        self.ehlo = 0
        self.mails = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # aiosmtpd's hook
        self.ehlo += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(envelope)
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_login_server():
    """A real SMTP server (aiosmtpd) that wants a login (plain AUTH allowed without TLS, on loopback)."""
    from aiosmtpd.controller import Controller

    handler = _Sessions()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=_authenticator,
                            auth_require_tls=False)
    controller.start()
    yield controller, handler
    controller.stop()


def _rules(path: Path, port: int, **notify) -> Path:
    values = {"webhooks": '[{ url = "https://qyapi.example.org/send?key=x", format = "markdown" }]',
              "monitor_emails": '["mon@example.org"]', "leader_emails": '["boss@example.org"]',
              "admin_emails": '["sec@example.org"]', "smtp_host": '"127.0.0.1"', "smtp_port": str(port),
              "smtp_user": f'"{SMTP_USER}"', "timeout_seconds": "5"}
    values.update(notify)
    path.write_text("[notify]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()), encoding="utf-8")
    return path


def _ready(tmp_path: Path, now: datetime) -> dict:
    """A store, models and rules set up as the README asks; returns the paths."""
    db_path = tmp_path / "rw.db"
    db = store.open_db(db_path)
    models = tmp_path / "models"
    ModelBundle({"rumour": None, "polarity": None, "relevance": None, "debunks": None}).save(models)
    at = (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.transaction(db):
        for k, topic in enumerate(TOPICS):
            store.upsert_expert(db, {"name": f"专家{k}", "institution": "市疾控中心", "specialties": json.dumps([topic]),
                                     "level": "市级", "capacity": 3, "email": f"e{k}@example.org", "active": 1},
                              at)
        store.upsert_units(db, [{"code": "U1", "name": "市疾控中心", "kind": "疾控中心", "region": "城区",
                                 "monthly_minimum": None, "active": 1}], at)
        store.set_checkpoint(db, "feed:news", "pos-1", 3, at)
        store.log_report(db, "daily", "2026-11-22", {}, "pdf", "reports", "all", "sent", None, at=at)
        store.set_workflow_state(db, selfcheck.ESCALATE_MARK, at)
    # this half-year's correspondents' training (seed 002) held and recorded
    trainings.record(db, held_on=now.astimezone(CST).date(), title="通讯员培训", unit_ids=[store.find_unit(db, "U1")["id"]],
                     actor="test", now=now)
    for kind in press.MINIMUMS:  # this month's press conference and media activity, this year's higher event (seed 004)
        press.record(db, held_at=now, topic="发布会", actor="test", now=now, kind=kind)
    auth.create_user(db, "chief", PASSWORD, "admin", "test")
    auth.create_user(db, "wang", PASSWORD, "expert", "test", expert_id=1)
    auth.confirm_two_step(db, "chief", totp.code(auth.begin_two_step(db, "chief"), datetime.now(UTC)))
    db.conn.close()
    result = CliRunner().invoke(cli, ["--db", str(db_path), "backup", str(tmp_path / "rw-backup-1.db")])
    assert result.exit_code == 0, result.output
    return {"db": db_path, "models": models, "rules": tmp_path / "rules.toml"}


def _settings(paths: dict):
    return load_settings(db_path=str(paths["db"]), models_dir=str(paths["models"]))


def _keys(findings, level=None) -> set[str]:
    return {f.key for f in findings if level is None or f.level == level}


def _worded(findings):
    """Each finding worded as the 系统自检 page words it: a template field its params lack fails here."""
    from dashboard.strings import t

    for f in findings:
        assert t(f"selfcheck.{f.key}", **f.params), f.key
    return findings


def _run(paths, rules, now, **kw):
    db = store.open_db(paths["db"])
    try:
        return _worded(selfcheck.run(db, _settings(paths), rules, now=now, **kw))
    finally:
        db.conn.close()


def test_a_fresh_store_fails_on_what_matters_and_exits_1(tmp_path):
    rules = _rules(tmp_path / "rules.toml", 25, webhooks="[]", monitor_emails="[]", leader_emails="[]",
                   admin_emails="[]", smtp_host='""', smtp_user='""')
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "new.db"), "check", "--rules", str(rules), "--json"],
                                env={"RUMOURWATCH_MODELS_DIR": str(tmp_path / "no-models")})
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    _worded([selfcheck.Finding(**f) for f in report["findings"]])
    errors = {f["key"] for f in report["findings"] if f["level"] == "error"}
    warnings = {f["key"] for f in report["findings"] if f["level"] == "warning"}
    assert errors == {"models.missing", "accounts.no_admin", "roster.empty", "notify.no_channel"}
    assert {"store.backup_never", "jobs.escalate_never", "sources.none", "reports.no_units",
            "notify.no_leaders", "notify.no_admins"} <= warnings
    assert report["summary"]["error"] == 4
    missing = next(f for f in report["findings"] if f["key"] == "models.missing")
    assert "no-models" in missing["message"] and "training.train" in missing["message"]


def test_a_ready_installation_passes_and_the_smtp_server_gets_no_mail(tmp_path, smtp_login_server, monkeypatch):
    controller, server = smtp_login_server
    now = datetime.now(UTC)
    # the guide makes the audit key first, so every entry from the first account on is sealed
    monkeypatch.setenv("RUMOURWATCH_AUDIT_KEY_FILE", str(auditseal.new_key_file(tmp_path / "audit.key")))
    paths = _ready(tmp_path, now)
    rules = _rules(paths["rules"], controller.port)
    monkeypatch.setenv("RUMOURWATCH_SMTP_PASSWORD", SMTP_PASSWORD)
    result = CliRunner().invoke(cli, ["--db", str(paths["db"]), "check", "--rules", str(rules)],
                                env={"RUMOURWATCH_MODELS_DIR": str(paths["models"])})
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output, result.output
    assert f"the SMTP server 127.0.0.1:{controller.port} accepted a session (no mail sent)" in result.output
    assert server.ehlo >= 1 and server.mails == []
    # two accounts, the administrator's two-step login (and its recovery codes), a backup
    assert "audit log: 9 of 9 entries sealed, all verify" in result.output, result.output  # the training, press work too
    # a wrong SMTP password is an error naming the server and the refusal; so is no password at all
    monkeypatch.setenv("RUMOURWATCH_SMTP_PASSWORD", "wrong")
    findings = _run(paths, rules, now)
    refused = next(f for f in findings if f.key == "notify.smtp_unreachable")
    assert refused.level == "error" and refused.params["port"] == controller.port
    assert "535" in refused.params["problem"] or "Authentication" in refused.params["problem"]
    monkeypatch.delenv("RUMOURWATCH_SMTP_PASSWORD")
    assert "notify.smtp_password_missing" in _keys(_run(paths, rules, now), "error")
    assert server.mails == []


def test_an_smtp_server_nobody_answers_is_an_error(tmp_path):
    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    port = free_port()  # nothing listens there
    findings = _run(paths, _rules(paths["rules"], port, smtp_user='""'), now)
    unreachable = next(f for f in findings if f.key == "notify.smtp_unreachable")
    assert unreachable.level == "error" and f"127.0.0.1:{port}" in unreachable.message
    # offline (--no-connect) it is not tried
    assert "notify.smtp_unreachable" not in _keys(_run(paths, _rules(paths["rules"], port, smtp_user='""'), now,
                                                        connect=False))


def test_the_demo_password_on_an_account_is_an_error_until_changed(tmp_path):
    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    rules = _rules(paths["rules"], 25, smtp_user='""')
    db = store.open_db(paths["db"])
    db.execute("UPDATE users SET password_hash = ? WHERE username = 'wang'", [auth.hash_password(DEMO_PASSWORD)])
    db.conn.close()
    found = next(f for f in _run(paths, rules, now, connect=False) if f.key == "accounts.demo_password")
    assert found.level == "error" and found.params == {"users": "wang", "count": 1}
    db = store.open_db(paths["db"])
    auth.set_password(db, "wang", "another long phrase 9", "test")
    db.conn.close()
    assert "accounts.demo_password" not in _keys(_run(paths, rules, now, connect=False))


def test_topics_no_expert_covers_are_named(tmp_path):
    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    db = store.open_db(paths["db"])
    db.execute("UPDATE experts SET active = 0 WHERE name IN ('专家3', '专家9')")
    db.conn.close()
    found = next(f for f in _run(paths, _rules(paths["rules"], 25), now, connect=False)
                 if f.key == "roster.topics_uncovered")
    assert found.level == "warning"
    assert found.params == {"topics": f"{TOPICS[3]}、{TOPICS[9]}", "count": 2}
    # an expert account whose roster entry left the pool sees no tasks
    db = store.open_db(paths["db"])
    db.execute("UPDATE experts SET active = 0 WHERE id = 1")
    db.conn.close()
    unlinked = next(f for f in _run(paths, _rules(paths["rules"], 25), now, connect=False)
                    if f.key == "accounts.expert_unlinked")
    assert unlinked.params["users"] == "wang"


def test_a_correspondent_whose_unit_was_closed_is_named(tmp_path):
    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    db = store.open_db(paths["db"])
    with store.transaction(db):
        store.upsert_units(db, [{"code": "C1", "name": "撤并卫生院", "kind": "卫生院", "region": None,
                                 "monthly_minimum": None, "active": 1}], iso(now))
    auth.create_user(db, "zhou", "a-long-password-1", "correspondent", "admin", unit_id=store.find_unit(db, "C1")["id"])
    db.conn.close()
    assert "accounts.correspondent_no_unit" not in _keys(_run(paths, _rules(paths["rules"], 25), now, connect=False),
                                                          "warning")
    db = store.open_db(paths["db"])
    db.execute("UPDATE units SET active = 0 WHERE code = 'C1'")  # the unit merged away; the account stayed
    db.conn.close()
    found = next(f for f in _run(paths, _rules(paths["rules"], 25), now, connect=False)
                 if f.key == "accounts.correspondent_no_unit")
    assert (found.level, found.params) == ("warning", {"users": "zhou", "count": 1})


def test_cron_jobs_that_stopped_are_named(tmp_path):
    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    rules = _rules(paths["rules"], 25, smtp_user='""')
    later = now + timedelta(hours=3)  # three hours on: the 5-minute escalate job has not run since
    keys = _keys(_run(paths, rules, later, connect=False), "warning")
    assert "jobs.escalate_late" in keys and "jobs.daily_report_late" not in keys
    assert "jobs.daily_report_late" in _keys(_run(paths, rules, now + timedelta(days=3), connect=False))
    assert "store.backup_late" in _keys(_run(paths, rules, now + timedelta(days=3), connect=False))
    # `alerts escalate` (as cron runs it) notes its run, and the warning goes
    result = CliRunner().invoke(cli, ["--db", str(paths["db"]), "alerts", "escalate", "--rules", str(rules),
                                      "--no-deliver"])
    assert result.exit_code == 0, result.output
    db = store.open_db(paths["db"])
    ran = datetime.fromisoformat(store.workflow_state(db, selfcheck.ESCALATE_MARK))
    db.conn.close()
    assert abs((ran - datetime.now(UTC)).total_seconds()) < 60
    assert "jobs.escalate_ok" in _keys(_run(paths, rules, ran + timedelta(minutes=10), connect=False), "ok")
    # a retention period nobody applies
    settings = _settings(paths).replace(retention_days=90)
    db = store.open_db(paths["db"])
    found = _keys(_worded(selfcheck.run(db, settings, rules, now=now, connect=False)), "warning")
    db.conn.close()
    assert "jobs.retention_never" in found
    result = CliRunner().invoke(cli, ["--db", str(paths["db"]), "retention", "--days", "90", "--apply"])
    assert result.exit_code == 0, result.output
    db = store.open_db(paths["db"])
    found = _keys(_worded(selfcheck.run(db, settings, rules, now=now + timedelta(hours=1), connect=False)), "ok")
    db.conn.close()
    assert "jobs.retention_ok" in found


def test_notifications_stuck_for_an_hour_are_named_urgent_ones_as_errors(tmp_path):
    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    rules = _rules(paths["rules"], 25, smtp_user='""')
    db = store.open_db(paths["db"])
    two_hours_ago = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.transaction(db):
        store.insert_notification(db, {"created_at": two_hours_ago, "channel": "email", "target": "mon@example.org",
                                       "subject": "预警", "body": "-", "urgent": 0, "event": "alert_new",
                                       "attempts": 3, "next_attempt_at": two_hours_ago,
                                       "last_error": "SMTP 127.0.0.1:25: Connection refused"})
    db.conn.close()
    stuck = next(f for f in _run(paths, rules, now, connect=False) if f.key == "notify.stuck")
    assert stuck.level == "warning" and stuck.params["count"] == 1 and "Connection refused" in stuck.params["error"]
    db = store.open_db(paths["db"])
    db.execute("UPDATE notifications SET urgent = 1")
    db.conn.close()
    assert next(f for f in _run(paths, rules, now, connect=False) if f.key == "notify.stuck").level == "error"


def test_old_models_are_said_to_need_retraining(tmp_path):
    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    manifest = paths["models"] / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["created_at"] = (now - timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest.write_text(json.dumps(data), encoding="utf-8")
    old = next(f for f in _run(paths, _rules(paths["rules"], 25), now, connect=False) if f.area == "models")
    assert old.key == "models.old" and old.params["days"] == 200


def test_every_finding_has_chinese_words_for_the_page():
    """Every key selfcheck.py can report has a selfcheck.<key> string whose fields its params fill."""
    import string

    from dashboard.strings import STRINGS

    tree = ast.parse((REPO_ROOT / "rumourwatch" / "selfcheck.py").read_text(encoding="utf-8"))
    keys = {node.args[1].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding"
            and isinstance(node.args[1], ast.Constant)}
    assert len(keys) >= 40, keys
    zh = STRINGS["zh-CN"]
    missing = sorted(k for k in keys if f"selfcheck.{k}" not in zh)
    assert not missing
    for area in selfcheck.AREAS:
        assert f"selfcheck.area.{area}" in zh
    fields = {k: {f for _, f, _, _ in string.Formatter().parse(zh[f"selfcheck.{k}"]) if f} for k in keys}
    assert fields["accounts.demo_password"] == {"count", "users"}


def test_the_page_shows_the_findings_in_chinese_to_admins_only(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    rules = _rules(paths["rules"], free_port(), smtp_user='""')
    db = store.open_db(paths["db"])
    auth.create_user(db, "mon", PASSWORD, "monitor", "test")
    db.execute("UPDATE users SET password_hash = ? WHERE username = 'mon'", [auth.hash_password(DEMO_PASSWORD)])
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(paths["db"]))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(paths["models"]))
    monkeypatch.setenv("RUMOURWATCH_ALERT_RULES", str(rules))
    app = REPO_ROOT / "dashboard" / "app_pages" / "selfcheck.py"
    for username in ("mon", "chief"):
        at = AppTest.from_file(str(app), default_timeout=60)
        login_for_test(at, username, str(paths["db"]))
        at.run()
        assert not at.exception, at.exception
        texts = [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]  # as shown: Markdown escapes read
        if username == "mon":
            assert texts[0].startswith("当前角色（舆情监测员）无权访问此页面") and not at.metric, texts
            continue
        assert ("1 个账号仍在使用演示系统公开的密码：mon。请立即修改密码（用户管理页或 rumourwatch users "
                "set-password）或停用这些账号。") in texts
        assert any(x.startswith("邮件服务器 127.0.0.1:") and "连接或登录失败" in x for x in texts), texts
        assert at.metric[0].value == "2"  # errors: the password and the SMTP server
        assert [s.value for s in at.subheader][:4] == ["数据库与备份", "模型", "账号", "专家库"]


def test_the_other_silent_failures_are_named(tmp_path, monkeypatch):
    now = datetime.now(UTC)
    paths = _ready(tmp_path, now)
    rules = _rules(paths["rules"], 25, smtp_host='""', smtp_user='""')
    db = store.open_db(paths["db"])
    old = (now - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with store.transaction(db):
        db.execute("UPDATE experts SET email = NULL WHERE name = '专家2'")
        store.set_checkpoint(db, "feed:gone", "pos-9", 1, old)  # read 30 hours ago, quiet limit 6
        store.log_report(db, "daily", "2026-11-23", {}, "pdf", "reports", "email", "failed",
                         "boss@example.org: SMTP 10.0.0.1:25: timed out", at=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        store.log_report(db, "daily", "2026-11-23", {}, "pdf", "reports", "all", "failed", None,
                         at=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_CHROMIUM", str(tmp_path / "no-chromium"))
    Usage = type("Usage", (), {"free": 100 * 1024 ** 2})
    monkeypatch.setattr(selfcheck.shutil, "disk_usage", lambda path: Usage)
    found = {f.key: f for f in _run(paths, rules, now, connect=False)}
    assert found["notify.smtp_missing"].level == "error"
    assert found["notify.smtp_missing"].params == {"monitors": 1, "leaders": 1, "admins": 1, "experts": 14}
    assert found["roster.no_email"].params == {"names": "专家2", "count": 1}
    stalled = found["sources.stalled"]
    assert stalled.level == "error" and stalled.params["sources"] == "feed:gone (not_read)"
    assert stalled.params["total"] == 2
    assert "boss@example.org: SMTP 10.0.0.1:25: timed out" in found["jobs.daily_report_failed"].message
    assert found["reports.no_chromium"].level == "warning"
    assert found["store.disk_full"].level == "error" and found["store.disk_full"].params["free_gb"] == 0.1
    # a sources file broken by hand
    bad = tmp_path / "sources.toml"
    bad.write_text("[[source]]\nspec = 5\n", encoding="utf-8")
    db = store.open_db(paths["db"])
    found = {f.key: f for f in _worded(selfcheck.run(db, _settings(paths).replace(sources_file=str(bad)), rules,
                                                     now=now, connect=False))}
    db.conn.close()
    assert found["sources.file_bad"].level == "error" and "spec 5 must be one of" in found["sources.file_bad"].message
    # a rules file that does not load is one error; what reads it is not checked
    paths["rules"].write_text("[notify\n", encoding="utf-8")
    keys = _keys(_run(paths, paths["rules"], now, connect=False))
    assert "rules.invalid" in keys and not any(k.startswith(("notify.", "jobs.")) for k in keys)
