"""Users, passwords, sessions, lockout and the role permission map (rumourwatch/auth.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rumourwatch import auth, store

PW = "correct horse 9"
POLICY = auth.Policy(session_idle_minutes=30, max_login_failures=3, lockout_minutes=15)
PRODUCTION_N = auth.SCRYPT_N


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch):
    # Cheaper scrypt keeps the suite fast; hashes carry their own cost, so verification is unchanged.
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    monkeypatch.setattr(auth, "_DUMMY_HASH", None)


def test_production_cost_is_memory_hard(monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", PRODUCTION_N)
    scheme, n, r, p, salt, key = auth.hash_password(PW).split("$")
    assert scheme == "scrypt" and int(n) >= 2 ** 14 and int(r) >= 8
    assert auth.verify_password(PW, "$".join([scheme, n, r, p, salt, key]))


@pytest.fixture
def users(db, now):
    for name, role in [("root", "admin"), ("mon", "monitor"), ("exp", "expert"), ("ana", "analyst"),
                       ("boss", "leader")]:
        auth.create_user(db, name, PW, role, "test", expert_id=7 if role == "expert" else None, now=now)
    return db


def test_password_is_stored_only_as_a_salted_scrypt_hash(db, now):
    auth.create_user(db, "alice", PW, "monitor", "test", now=now)
    auth.create_user(db, "bob", PW, "monitor", "test", now=now)
    hashes = [r[0] for r in db.execute("SELECT password_hash FROM users ORDER BY username")]
    assert all(h.startswith("scrypt$") and PW not in h for h in hashes)
    assert hashes[0] != hashes[1]  # same password, different salt
    dump = "\n".join(db.conn.iterdump())
    assert PW not in dump


def test_login_with_right_password_gives_a_session_for_that_user(users, now):
    token, user = auth.login(users, "exp", PW, POLICY, now=now)
    assert user == {"id": user["id"], "username": "exp", "role": "expert", "expert_id": 7, "unit_id": None,
                    "display_name": None,
                    "two_step": False}
    assert auth.session_user(users, token, POLICY, now=now + timedelta(minutes=5))["username"] == "exp"
    # The store holds only a hash of the token.
    assert not users.execute("SELECT count(*) FROM sessions WHERE token_hash = ?", [token]).fetchone()[0]


def test_username_is_case_insensitive_but_password_is_not(users, now):
    assert auth.login(users, "MON", PW, POLICY, now=now)[1]["username"] == "mon"
    with pytest.raises(auth.AuthError) as exc:
        auth.login(users, "mon", PW.upper(), POLICY, now=now)
    assert exc.value.reason == "bad_credentials"


def test_unknown_user_and_wrong_password_get_the_same_answer(users, now):
    with pytest.raises(auth.AuthError) as unknown:
        auth.login(users, "nobody", PW, POLICY, now=now)
    with pytest.raises(auth.AuthError) as wrong:
        auth.login(users, "mon", "wrong password", POLICY, now=now)
    assert unknown.value.reason == wrong.value.reason == "bad_credentials"
    assert str(unknown.value) == str(wrong.value)


def test_lockout_after_repeated_failures_then_unlock_after_the_lockout_time(users, now):
    for _ in range(POLICY.max_login_failures - 1):
        with pytest.raises(auth.AuthError) as exc:
            auth.login(users, "mon", "nope nope", POLICY, now=now)
        assert exc.value.reason == "bad_credentials"
    with pytest.raises(auth.AuthError) as exc:
        auth.login(users, "mon", "nope nope", POLICY, now=now)
    assert exc.value.reason == "locked"
    assert exc.value.until == "2026-11-23T08:15:00Z"
    # Even the right password is refused while locked.
    with pytest.raises(auth.AuthError) as exc:
        auth.login(users, "mon", PW, POLICY, now=now + timedelta(minutes=14))
    assert exc.value.reason == "locked"
    token, _ = auth.login(users, "mon", PW, POLICY, now=now + timedelta(minutes=16))
    assert token
    actions = [e["action"] for e in store.audit_entries(users, actor="mon")]
    assert actions.count("login.failed") == 4 and actions[0] == "login"
    assert store.audit_entries(users, actor="system")[0]["action"] == "user.locked"


def test_a_successful_login_resets_the_failure_count(users, now):
    for _ in range(POLICY.max_login_failures - 1):
        with pytest.raises(auth.AuthError):
            auth.login(users, "mon", "nope nope", POLICY, now=now)
    auth.login(users, "mon", PW, POLICY, now=now)
    with pytest.raises(auth.AuthError) as exc:
        auth.login(users, "mon", "nope nope", POLICY, now=now)
    assert exc.value.reason == "bad_credentials"  # not locked: the count started again


def test_idle_session_expires_and_activity_keeps_it_alive(users, now):
    token, _ = auth.login(users, "ana", PW, POLICY, now=now)
    # Active every 20 minutes: still logged in after an hour.
    for minutes in (20, 40, 60):
        assert auth.session_user(users, token, POLICY, now=now + timedelta(minutes=minutes))
    assert auth.session_user(users, token, POLICY, now=now + timedelta(minutes=60 + 31)) is None
    # Once expired it stays expired.
    assert auth.session_user(users, token, POLICY, now=now + timedelta(minutes=92)) is None
    row = users.execute("SELECT end_reason FROM sessions").fetchone()
    assert row[0] == "idle"
    assert store.audit_entries(users, actor="ana")[0]["action"] == "session.expired"


def test_a_self_refreshing_page_checks_the_session_without_keeping_it_alive(users, now):
    token, _ = auth.login(users, "ana", PW, POLICY, now=now)
    # the live page checks every few seconds for half an hour: that is not activity
    for minutes in (10, 20, 30):
        assert auth.session_active(users, token, POLICY, now=now + timedelta(minutes=minutes))
    assert not auth.session_active(users, token, POLICY, now=now + timedelta(minutes=31))
    assert users.execute("SELECT ended_at FROM sessions").fetchone()[0] is None  # ended by the next real run
    assert auth.session_user(users, token, POLICY, now=now + timedelta(minutes=31)) is None
    assert auth.session_end_reason(users, token) == "idle"
    other, _ = auth.login(users, "boss", PW, POLICY, now=now)
    assert auth.session_end_reason(users, other) is None  # still running
    auth.logout(users, other, now=now)
    assert not auth.session_active(users, other, POLICY, now=now)
    assert auth.session_end_reason(users, other) == "logout"
    assert not auth.session_active(users, None, POLICY, now=now)
    assert not auth.session_active(users, "made-up-token", POLICY, now=now)


def test_logout_ends_the_session(users, now):
    token, _ = auth.login(users, "boss", PW, POLICY, now=now)
    auth.logout(users, token, now=now)
    assert auth.session_user(users, token, POLICY, now=now) is None
    assert store.audit_entries(users, actor="boss")[0]["action"] == "logout"


def test_unknown_or_missing_token_is_no_session(users, now):
    assert auth.session_user(users, None, POLICY, now=now) is None
    assert auth.session_user(users, "made-up-token", POLICY, now=now) is None


def test_disabling_a_user_ends_their_sessions_and_blocks_login(users, now):
    token, _ = auth.login(users, "mon", PW, POLICY, now=now)
    auth.set_disabled(users, "mon", True, "root", now=now)
    assert auth.session_user(users, token, POLICY, now=now) is None
    with pytest.raises(auth.AuthError) as exc:
        auth.login(users, "mon", PW, POLICY, now=now)
    assert exc.value.reason == "disabled"
    auth.set_disabled(users, "mon", False, "root", now=now)
    assert auth.login(users, "mon", PW, POLICY, now=now)[0]


def test_role_change_and_password_change_end_open_sessions(users, now):
    token, _ = auth.login(users, "mon", PW, POLICY, now=now)
    auth.set_role(users, "mon", "analyst", "root", now=now)
    assert auth.session_user(users, token, POLICY, now=now) is None
    token, user = auth.login(users, "mon", PW, POLICY, now=now)
    assert user["role"] == "analyst"
    auth.set_password(users, "mon", "another pass 2", "root", now=now)
    assert auth.session_user(users, token, POLICY, now=now) is None
    with pytest.raises(auth.AuthError):
        auth.login(users, "mon", PW, POLICY, now=now)
    assert auth.login(users, "mon", "another pass 2", POLICY, now=now)[0]


def test_every_user_change_is_audited_with_actor_and_time(users, now):
    auth.set_role(users, "mon", "leader", "root", now=now)
    auth.set_disabled(users, "mon", True, "root", now=now)
    auth.set_password(users, "ana", "brand new pw", "root", now=now)
    auth.unlock(users, "ana", "root", now=now)
    entries = store.audit_entries(users, actor="root")
    assert [(e["action"], e["target_id"]) for e in entries] == [
        ("user.unlock", "ana"), ("user.password", "ana"), ("user.disable", "mon"), ("user.role", "mon")]
    assert json.loads(entries[-1]["details"]) == {"from": "monitor", "to": "leader", "expert_id": None}
    assert all(e["at"] == "2026-11-23T08:00:00Z" for e in entries)
    assert all("brand new pw" not in (e["details"] or "") for e in store.audit_entries(users))


def test_the_last_active_admin_cannot_be_disabled_or_demoted(users, now):
    with pytest.raises(auth.AuthError, match="last active admin"):
        auth.set_disabled(users, "root", True, "root", now=now)
    with pytest.raises(auth.AuthError, match="last active admin"):
        auth.set_role(users, "root", "leader", "root", now=now)
    auth.create_user(users, "root2", PW, "admin", "root", now=now)
    auth.set_role(users, "root", "leader", "root2", now=now)


@pytest.mark.parametrize("name,password,role,reason", [
    ("a", PW, "monitor", "bad_username"),
    ("has space", PW, "monitor", "bad_username"),
    ("<script>", PW, "monitor", "bad_username"),
    ("ok_name", "short", "monitor", "weak_password"),
    ("ok_name", " padded password ", "monitor", "weak_password"),
    ("ok_name", "12345678", "monitor", "weak_password"),
    ("ok_name", "Password1", "monitor", "weak_password"),
    ("ok_name", "qwertyuiop", "monitor", "weak_password"),
    ("ok_name", "abababab", "monitor", "weak_password"),
    ("ok_name", "98765432", "monitor", "weak_password"),
    ("zhangwei", "ZhangWei@2024", "monitor", "weak_password"),
    ("zhangwei", "2024zhangwei!", "monitor", "weak_password"),
    ("ok_name", PW, "superuser", "bad_role"),
])
def test_bad_new_accounts_are_refused_with_the_reason(db, name, password, role, reason):
    with pytest.raises(auth.AuthError) as exc:
        auth.create_user(db, name, password, role, "test")
    assert exc.value.reason == reason
    assert store.count_users(db) == 0


def test_duplicate_username_is_refused_case_insensitively(users):
    with pytest.raises(auth.AuthError, match="already exists") as exc:
        auth.create_user(users, "ROOT", PW, "monitor", "test")
    assert exc.value.reason == "user_exists"


def test_tampered_hash_never_verifies():
    stored = auth.hash_password(PW)
    assert auth.verify_password(PW, stored)
    assert not auth.verify_password(PW, stored[:-4] + "AAA=")
    assert not auth.verify_password(PW, "plain-text-password")
    assert not auth.verify_password(PW, "md5$abc$def$1$x$y")


def test_permission_map_matches_the_roles():
    assert auth.can("monitor", "verdicts.manage") and auth.can("monitor", "assignments.manage")
    assert not auth.can("monitor", "users.manage")
    assert auth.can("expert", "assignments.own") and not auth.can("expert", "monitor.view")
    assert auth.can("analyst", "labels.manage") and auth.can("analyst", "monitor.view")
    assert not auth.can("analyst", "verdicts.manage")  # read-only on the monitor
    assert auth.can("leader", "reports.view") and not auth.can("leader", "rules.manage")
    for permission in auth.ALL_PERMISSIONS:
        assert auth.can("admin", permission)
    assert not auth.can(None, "item.view") and not auth.can("hacker", "item.view")


def test_pages_per_role_and_unknown_pages_are_admin_only():
    assert auth.page_allowed("leader", "reports") and not auth.page_allowed("leader", "rules")
    assert not auth.page_allowed("leader", "live")
    assert auth.page_allowed("expert", "workbench") and not auth.page_allowed("expert", "live")
    assert auth.page_allowed("admin", "users") and not auth.page_allowed("monitor", "users")
    assert not auth.page_allowed("monitor", "some-new-page") and auth.page_allowed("admin", "some-new-page")


def test_require_refuses_with_reason(users, now):
    _, user = auth.login(users, "boss", PW, POLICY, now=now)
    assert auth.require(user, "reports.view") is user
    with pytest.raises(auth.AuthError) as exc:
        auth.require(user, "rules.manage")
    assert exc.value.reason == "forbidden"
    with pytest.raises(auth.AuthError) as exc:
        auth.require(None, "reports.view")
    assert exc.value.reason == "login_required"


def _alert_with_assignment(db, item_id: int, cluster_id, expert_id: int, status: str) -> None:
    at = "2026-11-23T08:00:00Z"
    db.execute("INSERT OR IGNORE INTO experts (id, name, institution, specialties, level, created_at, updated_at) "
               "VALUES (?, ?, '测试医院', '[]', '市级', ?, ?)", [expert_id, f"专家{expert_id}", at, at])
    cur = db.execute("INSERT INTO alerts (dedupe_key, kind, rules, severity, cluster_id, item_id, created_at, "
                     "updated_at, respond_by) VALUES (?, 'rumour', '[]', '二级', ?, ?, ?, ?, ?)",
                     [f"test:{item_id}:{expert_id}:{status}", cluster_id, item_id, at, at, at])
    db.execute("INSERT INTO assignments (alert_id, expert_id, status, assigned_by, assigned_at, due_at) "
               "VALUES (?, ?, ?, 'mon', ?, ?)", [cur.lastrowid, expert_id, status, at, at])


def test_an_expert_may_open_only_items_of_their_own_open_assignments(users, now):
    from rumourwatch import ingest
    from rumourwatch.sources.base import RawItem

    texts = ["网传喝醋可以软化血管，专家提醒不可信", "网传喝醋可以软化血管，专家提醒不可信！", "隔夜菜致癌的说法被夸大",
             "手机辐射导致脑瘤的传言"]
    with store.transaction(users):
        ingest.ingest_events(users, [RawItem({"id": f"i{n}", "text": t, "date": "2026-11-23 09:00"})
                                     for n, t in enumerate(texts)], "test", now)
    ids = {r[0]: r[1] for r in users.execute("SELECT external_id, id FROM items")}
    cluster = users.execute("SELECT cluster_id FROM items WHERE id = ?", [ids["i0"]]).fetchone()[0]
    assert cluster is not None and cluster == users.execute(
        "SELECT cluster_id FROM items WHERE id = ?", [ids["i1"]]).fetchone()[0]
    _alert_with_assignment(users, ids["i0"], cluster, 7, "accepted")      # exp (expert_id 7)
    _alert_with_assignment(users, ids["i2"], None, 7, "declined")
    _alert_with_assignment(users, ids["i3"], None, 8, "accepted")         # someone else's
    exp = auth.login(users, "exp", PW, POLICY, now=now)[1]
    assert auth.may_view_item(users, exp, ids["i0"])
    assert auth.may_view_item(users, exp, ids["i1"])       # a copy in the same cluster
    assert not auth.may_view_item(users, exp, ids["i2"])   # declined
    assert not auth.may_view_item(users, exp, ids["i3"])   # another expert's
    mon = auth.login(users, "mon", PW, POLICY, now=now)[1]
    assert all(auth.may_view_item(users, mon, i) for i in ids.values())
    boss = auth.login(users, "boss", PW, POLICY, now=now)[1]
    assert not auth.may_view_item(users, boss, ids["i0"])  # leaders read reports, not raw items
    assert not auth.may_view_item(users, None, ids["i0"])


def test_a_password_is_refused_for_what_makes_it_guessable_and_a_good_one_is_kept(db):
    """The reason is named: the dashboard and the CLI say which rule the password broke."""
    for password, key in (("11111111", "password_common"), ("1qaz2wsx3edc", "password_common"),
                          ("woaini1314", "password_common"), ("wang.li2025", "password_username")):
        with pytest.raises(auth.AuthError) as exc:
            auth.create_user(db, "wang.li", password, "monitor", "test")
        assert exc.value.key == key, password
    # the name inside a longer phrase, or other words beside the digits, is a password like any
    for name, ok in (("li.na", "li.na likes tea 7"), ("zhangwei", "zhangwei-monitor"), ("wu", "示例密码-Test-1234")):
        auth.create_user(db, name, ok, "monitor", "test")
    auth.create_user(db, "wang.li", "tea at four, 2 sugars", "monitor", "test")
    with pytest.raises(auth.AuthError) as exc:
        auth.set_password(db, "wang.li", "WANG.LI#1", "test")  # a change is held to the same rules
    assert exc.value.key == "password_username"
    assert auth.authenticate(db, "wang.li", "tea at four, 2 sugars")["username"] == "wang.li"



def test_an_administrator_logs_a_user_out_everywhere_without_disabling_the_account(users, now):
    first, _ = auth.login(users, "mon", PW, now=now)
    second, _ = auth.login(users, "mon", PW, now=now + timedelta(minutes=2))
    other, _ = auth.login(users, "ana", PW, now=now + timedelta(minutes=3))
    auth.login(users, "boss", PW, now=now - timedelta(hours=2))  # idle for longer than the limit: not online
    online = auth.open_sessions(users, now=now + timedelta(minutes=5))
    assert [(s["username"], s["role"]) for s in online] == [("ana", "analyst"), ("mon", "monitor"), ("mon", "monitor")]
    assert auth.end_sessions(users, "mon", "root", now=now + timedelta(minutes=5)) == 2
    for token in (first, second):
        assert auth.session_user(users, token, now=now + timedelta(minutes=6)) is None
        assert auth.session_end_reason(users, token) == "ended_by_admin"
    assert auth.session_user(users, other, now=now + timedelta(minutes=6))["username"] == "ana"
    [entry] = store.audit_entries(users, actions=["session.end"])
    assert (entry["actor"], entry["target_id"], json.loads(entry["details"])) == ("root", "mon", {"sessions": 2})
    assert auth.login(users, "mon", PW, now=now + timedelta(minutes=7))[1]["username"] == "mon"  # not disabled
    with pytest.raises(auth.AuthError):
        auth.end_sessions(users, "nobody", "root", now=now)
